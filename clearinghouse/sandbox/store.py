"""The sandbox's state in one SQLite file, so that modes, settings, answers, the log, claims,
reports, ERAs and enrollments survive a restart.

One connection serves every request thread, behind a lock: a sandbox answers a handful of
requests at a time, and one writer at a time keeps idempotency simple (a repeated key waits
for the first request's answer instead of racing it). Times are epoch seconds.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

VENDORS = ("waystar", "availity", "change_healthcare", "claim_md", "sandbox")
MODES = ("healthy", "slow", "failing", "timeout", "down")

# token_ttl_s None: each vendor's documented lifetime (Change Healthcare 3600 s, Availity 300 s).
DEFAULT_SETTINGS: dict[str, float | int | None] = {
    "era_delay_s": 5,  # an accepted claim's ERA becomes available this long after acceptance
    "enrollment_delay_s": 10,  # an enrollment stays SUBMITTED this long, then is decided
    "slow_s": 3,  # slow mode's delay when the mode order gives none
    "timeout_hold_s": 120,  # timeout mode holds a connection this long, then drops it
    "token_ttl_s": None,
    "coverage_pending_polls": 1,  # Availity coverage polls answered "In Progress" first
    "throttle_polls": 0,  # the next N Availity coverage polls answer 429
    "retry_after_s": 1,  # the Retry-After of those 429s
}
_INTEGER_SETTINGS = {"coverage_pending_polls", "throttle_polls"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS modes (
    vendor TEXT PRIMARY KEY, mode TEXT NOT NULL, slow_s REAL, timeout_hold_s REAL,
    changed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, vendor TEXT NOT NULL,
    account TEXT NOT NULL, kind TEXT NOT NULL, idempotency_key TEXT NOT NULL,
    claim_ids TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    vendor TEXT NOT NULL, key TEXT NOT NULL, response TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (vendor, key));
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, vendor TEXT NOT NULL, account TEXT NOT NULL,
    expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY AUTOINCREMENT, vendor TEXT NOT NULL, account TEXT NOT NULL,
    claim_id TEXT NOT NULL, submission_id TEXT NOT NULL, received_at REAL NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL, status_code TEXT NOT NULL DEFAULT '',
    charge TEXT NOT NULL,
    payer_claim_number TEXT NOT NULL, service_date TEXT NOT NULL, service_date_end TEXT,
    result TEXT NOT NULL DEFAULT '', paid TEXT, era_report_id INTEGER, era_at REAL);
CREATE INDEX IF NOT EXISTS claims_lookup ON claims (vendor, account, claim_id);
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT, vendor TEXT NOT NULL, account TEXT NOT NULL,
    name TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL, created_at REAL NOT NULL,
    available_at REAL NOT NULL, deleted_at REAL, meta TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS reports_mailbox ON reports (vendor, account, available_at);
CREATE TABLE IF NOT EXISTS claim_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT, vendor TEXT NOT NULL, account TEXT NOT NULL,
    claim_id TEXT NOT NULL, status TEXT NOT NULL, messages TEXT NOT NULL,
    fileid TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS enrollments (
    id TEXT PRIMARY KEY, vendor TEXT NOT NULL, account TEXT NOT NULL, payer_id TEXT NOT NULL,
    request TEXT NOT NULL, created_at REAL NOT NULL, decide_at REAL NOT NULL,
    outcome TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS coverages (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, created_at REAL NOT NULL,
    polls INTEGER NOT NULL DEFAULT 0, answer TEXT NOT NULL);
"""

# Tables emptied by a reset; settings stay (a test harness sets them once).
STATE_TABLES = (
    "modes",
    "counters",
    "log",
    "idempotency",
    "tokens",
    "claims",
    "reports",
    "claim_responses",
    "enrollments",
    "coverages",
)


def iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat(timespec="seconds")


class Store:
    def __init__(self, data_dir: Path | str):
        self.path = Path(data_dir) / "sandbox.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside BEGIN IMMEDIATE .. COMMIT, held by this thread alone."""
        with self._lock:
            if self._db.in_transaction:  # nested: the outer block commits
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- settings and modes -------------------------------------------------------------------

    def settings(self) -> dict[str, float | int | None]:
        with self.transaction() as db:
            stored = {
                row["key"]: json.loads(row["value"]) for row in db.execute("SELECT * FROM settings")
            }
        return {**DEFAULT_SETTINGS, **{k: v for k, v in stored.items() if k in DEFAULT_SETTINGS}}

    def setting(self, key: str) -> float | int | None:
        return self.settings()[key]

    def update_settings(self, values: dict[str, object]) -> dict[str, float | int | None]:
        clean: dict[str, float | int | None] = {}
        for key, value in values.items():
            if key not in DEFAULT_SETTINGS:
                known = ", ".join(DEFAULT_SETTINGS)
                raise ValueError(f"unknown setting {key!r}; the settings are {known}")
            if value is None and key == "token_ttl_s":
                clean[key] = None
                continue
            number = _number(key, value)
            whole = key in _INTEGER_SETTINGS or number.is_integer()
            clean[key] = int(number) if whole else number
        with self.transaction() as db:
            for key, value in clean.items():
                db.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, json.dumps(value)),
                )
        return self.settings()

    def modes(self) -> dict[str, dict]:
        settings = self.settings()
        with self.transaction() as db:
            rows = {row["vendor"]: row for row in db.execute("SELECT * FROM modes")}
        modes = {}
        for vendor in VENDORS:
            row = rows.get(vendor)
            modes[vendor] = {
                "mode": row["mode"] if row else "healthy",
                "slow_s": row["slow_s"]
                if row and row["slow_s"] is not None
                else settings["slow_s"],
                "timeout_hold_s": row["timeout_hold_s"]
                if row and row["timeout_hold_s"] is not None
                else settings["timeout_hold_s"],
            }
        return modes

    def mode(self, vendor: str) -> dict:
        return self.modes()[vendor]

    def set_mode(
        self, vendor: str, mode: str, *, slow_s: float | None = None, timeout_hold_s=None
    ) -> None:
        if vendor not in VENDORS:
            raise ValueError(f"unknown vendor {vendor!r}; the vendors are {', '.join(VENDORS)}")
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; the modes are {', '.join(MODES)}")
        slow = None if slow_s is None else _number("slow_s", slow_s)
        hold = None if timeout_hold_s is None else _number("timeout_hold_s", timeout_hold_s)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO modes (vendor, mode, slow_s, timeout_hold_s, changed_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (vendor) DO UPDATE SET mode = excluded.mode, "
                "slow_s = excluded.slow_s, timeout_hold_s = excluded.timeout_hold_s, "
                "changed_at = excluded.changed_at",
                (vendor, mode, slow, hold, time.time()),
            )

    def reset(self) -> None:
        with self.transaction() as db:
            for table in STATE_TABLES:
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM sqlite_sequence")

    # --- numbering, log, idempotency ----------------------------------------------------------

    def next_number(self, name: str) -> int:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) "
                "ON CONFLICT (name) DO UPDATE SET value = value + 1",
                (name,),
            )
            return db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0]

    def add_log(
        self,
        *,
        vendor: str,
        account: str,
        kind: str,
        idempotency_key: str,
        claim_ids: list[str],
        outcome: str,
        detail: str = "",
    ) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO log (at, vendor, account, kind, idempotency_key, claim_ids, outcome, "
                "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    vendor,
                    account,
                    kind,
                    idempotency_key,
                    json.dumps(claim_ids),
                    outcome,
                    detail,
                ),
            )
            return int(cursor.lastrowid or 0)

    def log(
        self, *, kind: str = "", vendor: str = "", limit: int | None = None, newest_first=False
    ) -> list[dict]:
        where, params = [], []
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if vendor:
            where.append("vendor = ?")
            params.append(vendor)
        sql = "SELECT * FROM log" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY id DESC" if newest_first or limit else " ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.transaction() as db:
            rows = db.execute(sql, params).fetchall()
        entries = [
            {
                "id": row["id"],
                "at": iso(row["at"]),
                "vendor": row["vendor"],
                "account": row["account"],
                "kind": row["kind"],
                "idempotency_key": row["idempotency_key"],
                "claim_ids": json.loads(row["claim_ids"]),
                "outcome": row["outcome"],
                "detail": row["detail"],
            }
            for row in rows
        ]
        return entries if newest_first or not limit else entries[::-1]

    def remembered_answer(self, vendor: str, key: str) -> dict | None:
        with self.transaction() as db:
            row = db.execute(
                "SELECT response FROM idempotency WHERE vendor = ? AND key = ?", (vendor, key)
            ).fetchone()
        return json.loads(row["response"]) if row else None

    def remember_answer(self, vendor: str, key: str, response: dict) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO idempotency (vendor, key, response, at) "
                "VALUES (?, ?, ?, ?)",
                (vendor, key, json.dumps(response), time.time()),
            )

    # --- tokens -------------------------------------------------------------------------------

    def add_token(self, token: str, vendor: str, account: str, expires_at: float) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM tokens WHERE expires_at < ?", (time.time() - 3600,))
            db.execute(
                "INSERT INTO tokens (token, vendor, account, expires_at) VALUES (?, ?, ?, ?)",
                (token, vendor, account, expires_at),
            )

    def token_account(self, vendor: str, token: str) -> str | None:
        """The account a live token of this vendor belongs to; None when unknown or expired."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT account FROM tokens WHERE token = ? AND vendor = ? AND expires_at > ?",
                (token, vendor, time.time()),
            ).fetchone()
        return row["account"] if row else None

    # --- claims, reports, responses -----------------------------------------------------------

    def add_claim(self, **values: object) -> int:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.transaction() as db:
            cursor = db.execute(
                f"INSERT INTO claims ({columns}) VALUES ({marks})",
                tuple(values.values()),
            )
            return int(cursor.lastrowid or 0)

    def set_claim_result(
        self, claim_row: int, *, result: str, paid: str, era_report_id: int, era_at: float
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE claims SET result = ?, paid = ?, era_report_id = ?, era_at = ? "
                "WHERE id = ?",
                (result, paid, era_report_id, era_at, claim_row),
            )

    def latest_claim(self, vendor: str, account: str, claim_id: str) -> sqlite3.Row | None:
        with self.transaction() as db:
            return db.execute(
                "SELECT * FROM claims WHERE vendor = ? AND account = ? AND claim_id = ? "
                "ORDER BY id DESC LIMIT 1",
                (vendor, account, claim_id),
            ).fetchone()

    def add_report(
        self,
        *,
        vendor: str,
        account: str,
        kind: str,
        text: str,
        available_at: float,
        name_format: str = "{id}",
        meta: dict | None = None,
    ) -> sqlite3.Row:
        """Put a file in the account's mailbox; `name_format` gets the report's number."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO reports (vendor, account, name, kind, text, created_at, "
                "available_at, meta) VALUES (?, ?, '', ?, ?, ?, ?, ?)",
                (vendor, account, kind, text, time.time(), available_at, json.dumps(meta or {})),
            )
            report_id = int(cursor.lastrowid or 0)
            db.execute(
                "UPDATE reports SET name = ? WHERE id = ?",
                (name_format.format(id=report_id), report_id),
            )
            return db.execute("SELECT * FROM reports WHERE id = ?", (report_id,)).fetchone()

    def mailbox(
        self, vendor: str, account: str, *, kind: str = "", after_id: int = 0
    ) -> list[sqlite3.Row]:
        """Reports that are available now and not deleted, oldest first."""
        sql = (
            "SELECT * FROM reports WHERE vendor = ? AND account = ? AND available_at <= ? "
            "AND deleted_at IS NULL AND id > ?"
        )
        params: list[object] = [vendor, account, time.time(), after_id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        with self.transaction() as db:
            return db.execute(sql + " ORDER BY id", params).fetchall()

    def report(self, vendor: str, account: str, name: str) -> sqlite3.Row | None:
        with self.transaction() as db:
            return db.execute(
                "SELECT * FROM reports WHERE vendor = ? AND account = ? AND name = ? "
                "AND available_at <= ? AND deleted_at IS NULL",
                (vendor, account, name, time.time()),
            ).fetchone()

    def delete_report(self, report_id: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE reports SET deleted_at = ? WHERE id = ?", (time.time(), report_id))

    def add_claim_response(
        self, *, vendor: str, account: str, claim_id: str, status: str, messages: str, fileid: str
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO claim_responses (vendor, account, claim_id, status, messages, fileid, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (vendor, account, claim_id, status, messages, fileid, time.time()),
            )

    def claim_responses(self, vendor: str, account: str, after_id: int) -> list[sqlite3.Row]:
        with self.transaction() as db:
            return db.execute(
                "SELECT * FROM claim_responses WHERE vendor = ? AND account = ? AND id > ? "
                "ORDER BY id",
                (vendor, account, after_id),
            ).fetchall()

    # --- enrollments and coverages ------------------------------------------------------------

    def add_enrollment(self, **values: object) -> None:
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO enrollments ({columns}) VALUES ({marks})",
                tuple(values.values()),
            )

    def enrollment(self, vendor: str, account: str, enrollment_id: str) -> sqlite3.Row | None:
        with self.transaction() as db:
            return db.execute(
                "SELECT * FROM enrollments WHERE id = ? AND vendor = ? AND account = ?",
                (enrollment_id, vendor, account),
            ).fetchone()

    def add_coverage(self, coverage_id: str, account: str, answer: dict) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO coverages (id, account, created_at, answer) VALUES (?, ?, ?, ?)",
                (coverage_id, account, time.time(), json.dumps(answer)),
            )

    def poll_coverage(self, coverage_id: str, account: str) -> tuple[int, dict] | None:
        """Count one more poll; (polls before this one, the stored answer)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT * FROM coverages WHERE id = ? AND account = ?", (coverage_id, account)
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE coverages SET polls = polls + 1 WHERE id = ?", (coverage_id,))
            return row["polls"], json.loads(row["answer"])

    def take_throttle(self) -> bool:
        """Use up one of the `throttle_polls`; True when this poll is to be throttled."""
        with self.transaction():
            left = int(self.setting("throttle_polls") or 0)
            if left <= 0:
                return False
            self.update_settings({"throttle_polls": left - 1})
            return True

    # --- the control page's numbers -----------------------------------------------------------

    def counts(self) -> dict[str, int]:
        now = time.time()
        with self.transaction() as db:

            def one(sql: str, *params: object) -> int:
                return int(db.execute(sql, params).fetchone()[0])

            return {
                "claims_accepted": one("SELECT COUNT(*) FROM claims WHERE status = 'accepted'"),
                "claims_rejected": one("SELECT COUNT(*) FROM claims WHERE status = 'rejected'"),
                "eras_available": one(
                    "SELECT COUNT(*) FROM reports WHERE kind = '835' AND available_at <= ?", now
                ),
                "eras_scheduled": one(
                    "SELECT COUNT(*) FROM reports WHERE kind = '835' AND available_at > ?", now
                ),
                "reports_waiting": one(
                    "SELECT COUNT(*) FROM reports WHERE deleted_at IS NULL AND available_at <= ?",
                    now,
                ),
                "enrollments_pending": one(
                    "SELECT COUNT(*) FROM enrollments WHERE decide_at > ?", now
                ),
                "log_entries": one("SELECT COUNT(*) FROM log"),
            }


def _number(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{key} must be a number of seconds or a count, not {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{key} must be a number, not {value!r}") from None
    if not 0 <= number <= 86_400:
        raise ValueError(f"{key} must be between 0 and 86400, not {value!r}")
    return number

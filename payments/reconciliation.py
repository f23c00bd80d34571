"""Bank deposit reconciliation: read a bank's deposit CSV and propose which pending insurance
payments each deposit line pays in.

The CSV has the columns `date`, `amount` and `description` (any order, any case, other
columns ignored). Banks print the payer's trace number somewhere in the description
("HCCLAIMPMT ... TRN*1*0012345678*1512345678\\"), so a line matches a pending payment when
the payment's check/ACH number (for automatic payments the ERA's TRN02 trace number) stands
in the description as a whole word, leading zeros aside, and the amounts are equal.

Nothing here writes: the page shows the proposals, and the ones the user keeps ticked go to
`payments.services.payments_mark_deposited`. The file itself is never stored.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from billing.models import Organization
from payments.models import InsurancePayment

COLUMNS = ("date", "amount", "description")
MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 10_000
MAX_ERRORS = 10
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%m-%d-%Y")
CENT = Decimal("0.01")
# A hint that a trace number is on a payment of another amount is only given for trace
# numbers this long: short check numbers ("1001") occur in descriptions by chance.
MIN_HINT_TRACE = 5
_CHUNK = 500
_WORDS = re.compile(r"[A-Za-z0-9]+")
_WORDS_WITH_DASHES = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")

PENDING = InsurancePayment.DepositStatus.PENDING


class BankCsvError(ValueError):
    """The file cannot be read as a bank deposit CSV: one message per problem."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(" ".join(messages))


@dataclass(frozen=True)
class DepositLine:
    line: int  # line number in the file, the header being line 1
    date: datetime.date
    amount: Decimal
    description: str

    @property
    def amount_text(self) -> str:
        """ "$1,234.50", or "-$12.00" for a debit."""
        return f"{'-' if self.amount < 0 else ''}${abs(self.amount):,.2f}"


@dataclass(frozen=True)
class Proposal:
    deposit: DepositLine
    payment: InsurancePayment


@dataclass(frozen=True)
class Unmatched:
    deposit: DepositLine
    reason: str


@dataclass
class Reconciliation:
    proposals: list[Proposal] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return len(self.proposals) + len(self.unmatched)

    @property
    def proposed_total(self) -> Decimal:
        return sum((p.payment.paid_amount for p in self.proposals), Decimal("0.00"))

    @property
    def unmatched_total(self) -> Decimal:
        return sum(
            (u.deposit.amount for u in self.unmatched if u.deposit.amount > 0), Decimal("0.00")
        )


# --- reading ----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BankCsvError(["The file is not a text CSV file."])


def parse_date(text: str) -> datetime.date | None:
    text = text.strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def parse_amount(text: str) -> Decimal | None:
    """ "1,234.50", "$1234.5", "(12.00)" and "-12.00" (a debit); None when not an amount of
    whole cents."""
    text = text.strip().replace(",", "").replace("$", "").replace(" ", "")
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(CENT, rounding="ROUND_DOWN"):
        return None
    if abs(amount) >= Decimal("10000000000"):
        return None
    amount = amount.quantize(CENT)
    return -amount if negative else amount


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield reader.line_num, row
    except csv.Error as error:
        raise BankCsvError([f"Line {reader.line_num}: not valid CSV ({error})."]) from None


def read_bank_csv(data: bytes) -> list[DepositLine]:
    """The deposit lines of a bank CSV; raises BankCsvError, naming the lines, when the file
    is empty, lacks a column, or has a date or amount it cannot read."""
    if len(data) > MAX_BYTES:
        raise BankCsvError([f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB."])
    text = _decode(data)
    if not text.strip():
        raise BankCsvError(["The file is empty."])
    rows = _rows(text)
    _, header = next(rows)
    names = [name.strip().lower() for name in header]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise BankCsvError(
            [
                "The first line must name the columns date, amount and description; "
                f"missing: {', '.join(missing)}."
            ]
        )
    index = {column: names.index(column) for column in COLUMNS}
    lines: list[DepositLine] = []
    errors: list[str] = []
    for number, row in rows:
        if len(lines) >= MAX_LINES:
            raise BankCsvError([f"The file has more than {MAX_LINES:,} lines: split it."])
        cells = {column: (row[i] if i < len(row) else "") for column, i in index.items()}
        date = parse_date(cells["date"])
        amount = parse_amount(cells["amount"])
        if date is None:
            errors.append(f'Line {number}: the date "{cells["date"].strip()}" is not a date.')
        if amount is None:
            errors.append(
                f'Line {number}: the amount "{cells["amount"].strip()}" is not an amount.'
            )
        if date is not None and amount is not None:
            lines.append(DepositLine(number, date, amount, " ".join(cells["description"].split())))
    if errors:
        more = len(errors) - MAX_ERRORS
        raise BankCsvError(errors[:MAX_ERRORS] + ([f"… and {more} more."] if more > 0 else []))
    if not lines:
        raise BankCsvError(["The file has a header but no deposit lines."])
    return lines


# --- matching ---------------------------------------------------------------------------


def _words(description: str) -> set[str]:
    """The description's words as written and upper-cased, with and without leading
    zeros: the check/ACH numbers it may hold."""
    words: set[str] = set()
    for text in (description, description.upper()):
        for pattern in (_WORDS, _WORDS_WITH_DASHES):
            words.update(pattern.findall(text))
    return words | {word.lstrip("0") for word in words if word.lstrip("0")}


def trace_in(trace: str | None, description: str) -> bool:
    """Whether the trace number stands in the description as a whole word (case and
    leading zeros aside)."""
    core = (trace or "").strip().upper().lstrip("0")
    if not core:
        return False
    pattern = rf"(?<![A-Z0-9])0*{re.escape(core)}(?![A-Z0-9])"
    return re.search(pattern, description.upper()) is not None


def _chunks(values: Iterable, size: int = _CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _candidates(organization: Organization, lines: list[DepositLine]) -> list[InsurancePayment]:
    """Live payments whose check/ACH number is a word of a description (any status: an
    already deposited one explains a line), and pending ones of a deposit's amount (their
    numbers may carry leading zeros the description drops)."""
    payments = (
        InsurancePayment.objects.for_organization(organization)
        .live()
        .exclude(ach_check_number__isnull=True)
        .exclude(ach_check_number="")
        .select_related("era")
    )
    found: dict[int, InsurancePayment] = {}
    words = set().union(*(_words(line.description) for line in lines))
    amounts = {line.amount for line in lines if line.amount > 0}
    for chunk in _chunks(words):
        found.update((p.pk, p) for p in payments.filter(ach_check_number__in=chunk))
    for chunk in _chunks(amounts):
        found.update(
            (p.pk, p) for p in payments.filter(deposit_status=PENDING, paid_amount__in=chunk)
        )
    return list(found.values())


def _describe(payment: InsurancePayment) -> str:
    return f"${payment.paid_amount:,} from {payment.payer_name} paid {payment.paid_date:%m/%d/%Y}"


def match_deposits(organization: Organization, lines: list[DepositLine]) -> Reconciliation:
    """Each deposit line proposed against the one pending payment with its trace number and
    amount, or listed as unmatched with the reason. A payment is proposed once."""
    result = Reconciliation()
    by_amount: dict[Decimal, list[InsurancePayment]] = {}
    by_trace: dict[str, list[InsurancePayment]] = {}
    for payment in _candidates(organization, lines):
        by_amount.setdefault(payment.paid_amount, []).append(payment)
        core = (payment.ach_check_number or "").strip().upper().lstrip("0")
        by_trace.setdefault(core, []).append(payment)
    taken: dict[int, int] = {}  # payment id -> the line it was proposed for
    for line in lines:
        if line.amount <= 0:
            result.unmatched.append(Unmatched(line, "Not a deposit (the amount is not positive)."))
            continue
        pool = {p.pk: p for p in by_amount.get(line.amount, [])}
        for word in _words(line.description):
            pool.update((p.pk, p) for p in by_trace.get(word.upper().lstrip("0"), []))
        traced = sorted(
            (p for p in pool.values() if trace_in(p.ach_check_number, line.description)),
            key=lambda p: (p.paid_date, p.pk),
        )
        same = [p for p in traced if p.paid_amount == line.amount]
        pending = [p for p in same if p.deposit_status == PENDING]
        free = [p for p in pending if p.pk not in taken]
        if len(free) == 1:
            taken[free[0].pk] = line.line
            result.proposals.append(Proposal(line, free[0]))
            continue
        if len(free) > 1:
            reason = (
                f"{len(free)} pending payments have this trace number and amount: "
                "mark the right one deposited from the list."
            )
        elif pending:
            reason = f"Its payment is already proposed for line {taken[pending[0].pk]}."
        elif same:
            reason = f"Already deposited: {_describe(same[0])}."
        else:
            other = [
                p
                for p in traced
                if p.deposit_status == PENDING
                and len((p.ach_check_number or "").strip().lstrip("0")) >= MIN_HINT_TRACE
            ]
            if other:
                reason = (
                    f"Trace number {other[0].ach_check_number} is on a pending payment of "
                    f"{_describe(other[0])}: the amounts differ."
                )
            else:
                reason = "No pending payment has a trace number in the description and this amount."
        result.unmatched.append(Unmatched(line, reason))
    return result

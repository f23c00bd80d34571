"""The control API (JSON, no auth, loopback only) and the small page at /_control/.

    GET  /_control/state                  modes, settings, counts
    POST /_control/mode                   {"vendor": "...", "mode": "...", "slow_s": 3,
                                           "timeout_hold_s": 120}; vendor "all" sets every face
    GET  /_control/log?kind=&vendor=&limit=
    POST /_control/reset                  forget claims, files, tokens, answers, log, modes
                                          (settings stay)
    POST /_control/settings               {"era_delay_s": 0, "enrollment_delay_s": 0, ...}
    GET  /_control/                       the page: modes with buttons, the last 50 log entries

The page's forms post the same endpoints as HTML forms and are redirected back (303).
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from clearinghouse.sandbox.store import DEFAULT_SETTINGS, MODES, VENDORS, Store
from clearinghouse.sandbox.web import BadRequest, Request, Response, json_response

LOOPBACK_PREFIXES = ("127.", "::1", "::ffff:127.")
PAGE_LOG_ENTRIES = 50

VENDOR_NAMES = {
    "waystar": "Waystar",
    "availity": "Availity",
    "change_healthcare": "Change Healthcare",
    "claim_md": "Claim.MD",
    "sandbox": "Sandbox",
}
SETTING_HELP = {
    "era_delay_s": "seconds from acceptance to the 835",
    "enrollment_delay_s": "seconds an enrollment stays pending",
    "slow_s": "slow mode's delay",
    "timeout_hold_s": "timeout mode holds a connection this long",
    "token_ttl_s": "OAuth token lifetime (blank: the vendor's own)",
    "coverage_pending_polls": "Availity polls answered In Progress",
    "throttle_polls": "next Availity polls answered 429",
    "retry_after_s": "Retry-After of those 429s",
}


def handle(store: Store, request: Request, path: str) -> Response:
    if not request.client_host.startswith(LOOPBACK_PREFIXES):
        return json_response(403, {"error": "the control API answers loopback clients only"})
    as_form = request.content_type == "application/x-www-form-urlencoded"
    try:
        if path in ("", "/") and request.method == "GET":
            return _page(store, request)
        if path == "/state" and request.method == "GET":
            return json_response(200, state(store))
        if path == "/log" and request.method == "GET":
            entries = store.log(
                kind=request.query.get("kind", ""),
                vendor=request.query.get("vendor", ""),
                limit=_limit(request.query.get("limit", "")),
            )
            return json_response(200, {"entries": entries})
        if path == "/mode" and request.method == "POST":
            body = _body(request, as_form)
            vendor, mode = str(body.get("vendor", "")), str(body.get("mode", ""))
            vendors = VENDORS if vendor == "all" else (vendor,)
            for one in vendors:
                store.set_mode(
                    one,
                    mode,
                    slow_s=_optional(body.get("slow_s")),
                    timeout_hold_s=_optional(body.get("timeout_hold_s")),
                )
            answer = {"modes": store.modes()} if vendor == "all" else store.mode(vendor)
            return _done(as_form, answer if vendor == "all" else {"vendor": vendor, **answer})
        if path == "/settings" and request.method == "POST":
            body = _body(request, as_form)
            if as_form:  # a blank field: the default for token_ttl_s, else left alone
                body = {k: v or None for k, v in body.items() if v or k == "token_ttl_s"}
            return _done(as_form, store.update_settings(body))
        if path == "/reset" and request.method == "POST":
            store.reset()
            return _done(as_form, {"status": "reset", **state(store)})
    except (ValueError, BadRequest) as error:
        return json_response(400, {"error": str(error)})
    return json_response(404, {"error": f"no control endpoint {request.method} {path}"})


def state(store: Store) -> dict:
    return {
        "vendors": list(VENDORS),
        "modes": store.modes(),
        "settings": store.settings(),
        "counts": store.counts(),
    }


def _body(request: Request, as_form: bool) -> dict:
    if as_form:
        return {k: v[0] for k, v in parse_qs(request.text, keep_blank_values=True).items()}
    return request.json()


def _done(as_form: bool, answer: dict) -> Response:
    if as_form:
        return Response(303, b"", "text/plain", {"Location": "/_control/"})
    return json_response(200, answer)


def _optional(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a number of seconds")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number of seconds") from None


def _limit(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise ValueError("limit must be a whole number")
    return int(text)


# --- the page ---------------------------------------------------------------------------------


def _page(store: Store, request: Request) -> Response:
    host = request.header("host") or "127.0.0.1"
    modes = store.modes()
    settings = store.settings()
    counts = store.counts()
    entries = store.log(limit=PAGE_LOG_ENTRIES, newest_first=True)
    e = html.escape

    rows = []
    for vendor in VENDORS:
        current = modes[vendor]
        now = current["mode"]
        buttons = "".join(
            f'<form method="post" action="/_control/mode">'
            f'<input type="hidden" name="vendor" value="{vendor}">'
            f'<input type="hidden" name="mode" value="{mode}">'
            f'<button type="submit" class="mode-{mode}{" current" if mode == now else ""}"'
            f"{' aria-pressed=true' if mode == now else ''}>{mode}</button></form>"
            for mode in MODES
        )
        extra = ""
        if current["mode"] == "slow":
            extra = f' <span class="muted">{current["slow_s"]:g} s</span>'
        elif current["mode"] == "timeout":
            extra = f' <span class="muted">holds {current["timeout_hold_s"]:g} s</span>'
        rows.append(
            f'<tr data-vendor="{vendor}"><th scope="row">{e(VENDOR_NAMES[vendor])}</th>'
            f"<td><code>http://{e(host)}/{vendor}</code></td>"
            f'<td><span class="badge mode-{current["mode"]}" data-testid="mode-{vendor}">'
            f"{current['mode']}</span>{extra}</td>"
            f'<td class="buttons">{buttons}</td></tr>'
        )

    setting_fields = "".join(
        f'<label><span>{e(name)}</span><input name="{name}" inputmode="decimal" size="6" '
        f'value="{"" if settings[name] is None else f"{settings[name]:g}"}" '
        f'title="{e(SETTING_HELP[name])}"><small>{e(SETTING_HELP[name])}</small></label>'
        for name in DEFAULT_SETTINGS
    )
    tiles = "".join(
        f'<div class="tile"><b>{value}</b><span>{e(name.replace("_", " "))}</span></div>'
        for name, value in counts.items()
    )
    if entries:
        log_rows = "".join(
            f"<tr><td class=nowrap>{e(entry['at'].replace('T', ' ').replace('+00:00', 'Z'))}</td>"
            f"<td>{e(entry['vendor'])}</td><td>{e(entry['kind'])}</td>"
            f'<td><span class="badge outcome-{e(entry["outcome"])}">'
            f"{e(entry['outcome'])}</span></td>"
            f"<td>{e(', '.join(entry['claim_ids']))}</td>"
            f"<td>{_key(entry['idempotency_key'])}</td>"
            f"<td class=muted>{e(entry['account'])}</td>"
            f"<td class=detail>{e(entry['detail'])}</td></tr>"
            for entry in entries
        )
        log_table = (
            '<div class="scroll"><table class="grid log"><thead><tr>'
            "<th>Time (UTC)</th><th>Vendor</th><th>Kind</th>"
            "<th>Outcome</th><th>Claim ids</th><th>Idempotency key</th><th>Account</th>"
            f"<th>Detail</th></tr></thead><tbody>{log_rows}</tbody></table></div>"
        )
    else:
        log_table = (
            '<p class="empty">Nothing yet: transactions appear here as the vendor faces '
            "accept them.</p>"
        )
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox clearinghouse</title>
<style>{CSS}</style></head>
<body>
<header><h1>Sandbox clearinghouse</h1>
<p class="muted">Every vendor face of this sandbox, its mode, and what it accepted.
JSON control API: <code>/_control/state</code>, <code>/_control/log</code>,
<code>/_control/mode</code>, <code>/_control/settings</code>, <code>/_control/reset</code>.</p>
</header>
<section><h2>Vendor faces</h2>
<div class="scroll"><table class="grid faces"><thead><tr><th>Vendor</th><th>Base URL</th>
<th>Mode</th><th>Set mode</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>
<form method="post" action="/_control/mode" class="inline">
<input type="hidden" name="vendor" value="all"><input type="hidden" name="mode" value="healthy">
<button type="submit">All healthy</button></form>
</section>
<section><h2>Counts</h2><div class="tiles">{tiles}</div></section>
<section><h2>Settings</h2>
<form method="post" action="/_control/settings" class="settings">{setting_fields}
<button type="submit">Save settings</button></form></section>
<section><h2>Log <small class="muted">(last {PAGE_LOG_ENTRIES}, newest first)</small></h2>
{log_table}
<div class="actions"><a href="/_control/">Refresh</a>
<form method="post" action="/_control/reset" class="inline"
 onsubmit="return confirm('Forget every claim, file, enrollment and log entry?')">
<button type="submit" class="danger">Reset the sandbox</button></form></div>
</section>
</body></html>
"""
    return Response(200, body.encode(), "text/html; charset=utf-8")


def _key(key: str) -> str:
    return f"<code>{html.escape(key)}</code>" if key else '<span class="muted">none</span>'


CSS = """
:root { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; }
body { margin: 0 auto; padding: 16px 24px 40px; max-width: 1200px; background: #f7f8fa; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
code { font-size: 12px; background: #eef1f4; padding: 1px 4px; border-radius: 3px; }
.muted, small { color: #616e7c; }
table.grid { border-collapse: collapse; width: 100%; background: #fff; }
table.grid th, table.grid td { border-bottom: 1px solid #e4e7eb; padding: 5px 8px;
  text-align: left; vertical-align: middle; }
table.grid thead th { background: #eef1f4; font-weight: 600; font-size: 12px; }
.scroll { overflow-x: auto; }
td.buttons { white-space: nowrap; }
td.buttons form, form.inline { display: inline; }
td.buttons button { margin-right: 4px; }
button { font: inherit; font-size: 12px; padding: 3px 9px; border: 1px solid #9aa5b1;
  background: #fff; border-radius: 4px; cursor: pointer; }
button:hover { background: #eef1f4; }
button.current { background: #1f2933; color: #fff; border-color: #1f2933; }
button.danger { border-color: #ba2525; color: #ba2525; }
form.inline button { margin-top: 8px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  background: #e4e7eb; }
.mode-healthy.badge, .outcome-accepted, .outcome-active, .outcome-approved,
.outcome-answered, .outcome-submitted { background: #e3f9e5; color: #0e5814; }
.mode-slow.badge, .outcome-partially_accepted { background: #fffbea; color: #8d2b0b; }
.mode-failing.badge, .mode-timeout.badge, .mode-down.badge, .outcome-rejected,
.outcome-invalid_member_id, .outcome-error { background: #ffe3e3; color: #8a041a; }
.tiles { display: flex; flex-wrap: wrap; gap: 8px; }
.tile { background: #fff; border: 1px solid #e4e7eb; border-radius: 4px; padding: 6px 12px;
  min-width: 120px; }
.tile b { display: block; font-size: 18px; }
.tile span { color: #616e7c; font-size: 12px; }
form.settings { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr));
  gap: 6px 16px; background: #fff; border: 1px solid #e4e7eb; padding: 10px 12px; }
form.settings label { display: grid; grid-template-columns: 170px 70px; gap: 0 8px;
  align-items: center; }
form.settings label small { grid-column: 1 / span 2; font-size: 11px; }
form.settings input { font: inherit; font-size: 12px; padding: 2px 4px; text-align: right; }
form.settings button { justify-self: start; align-self: center; }
table.log td { font-size: 12px; }
td.detail { min-width: 240px; max-width: 420px; overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
.empty { background: #fff; border: 1px dashed #cbd2d9; padding: 16px; color: #616e7c; }
div.actions { display: flex; gap: 16px; align-items: baseline; margin-top: 12px; }
div.actions form.inline button { margin-top: 0; }
"""

"""Template filters of the ERA pages: code meanings and signed money."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from payments import era_codes

register = template.Library()

register.filter("carc", era_codes.carc)
register.filter("rarc", era_codes.rarc)
register.filter("cas_group", era_codes.group)
register.filter("clp_status", era_codes.claim_status)
register.filter("plb_reason", era_codes.provider_adjustment_reason)


@register.filter
def money(value: Decimal | str | None) -> str:
    """$1,234.56, -$12.00 written with a real minus sign (U+2212), or an em dash for nothing."""
    if value is None or value == "":
        return "\u2014"
    amount = Decimal(value).quantize(Decimal("0.01"))
    text = f"${intcomma(f'{abs(amount):.2f}')}"
    return f"\u2212{text}" if amount < 0 else text

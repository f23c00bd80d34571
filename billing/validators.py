from __future__ import annotations

import re

from django.core.exceptions import ValidationError


def npi_check_digit_ok(npi: str) -> bool:
    """The NPI's last digit is a Luhn check digit over '80840' followed by its first nine."""
    if not re.fullmatch(r"\d{10}", npi or ""):
        return False
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def validate_npi(value: str) -> None:
    if not re.fullmatch(r"\d{10}", value or ""):
        raise ValidationError("An NPI is exactly 10 digits.", code="npi_format")
    if not npi_check_digit_ok(value):
        raise ValidationError("This NPI fails the NPI check digit.", code="npi_check_digit")


def validate_tax_id(value: str) -> None:
    if not re.fullmatch(r"\d{2}-?\d{7}", value or ""):
        raise ValidationError("A tax id (EIN) is 9 digits, as 12-3456789.", code="tax_id")


def validate_time_zone(value: str) -> None:
    from zoneinfo import available_timezones

    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.", code="time_zone")

"""X12 interchange control numbers, per organization and clearinghouse."""

from __future__ import annotations

from django.db import transaction

from billing.models import Organization
from clearinghouse.models import ClearinghouseConfig, ControlNumberSequence

ISA13_MAX = 999_999_999


class ControlNumbersExhausted(RuntimeError):
    pass


def next_control_number(*, organization: Organization, clearinghouse: ClearinghouseConfig) -> int:
    """The next ISA13/GS06 for files sent to `clearinghouse`: unique and increasing.

    The sequence row is created if missing (a conflicting insert from another worker is
    ignored) and then locked, so concurrent callers queue on the row and each gets its own
    number. The number is taken in the caller's transaction when there is one: if that
    rolls back, the number was never used and is handed out again.
    """
    with transaction.atomic():
        ControlNumberSequence.objects.bulk_create(
            [ControlNumberSequence(organization=organization, clearinghouse=clearinghouse)],
            ignore_conflicts=True,
        )
        sequence = ControlNumberSequence.objects.select_for_update().get(
            organization=organization, clearinghouse=clearinghouse
        )
        if sequence.last_value >= ISA13_MAX:
            raise ControlNumbersExhausted(
                f"{clearinghouse} has used every interchange control number (999,999,999)."
            )
        sequence.last_value += 1
        sequence.save(update_fields=["last_value"])
        return sequence.last_value

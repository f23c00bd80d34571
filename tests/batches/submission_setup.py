"""Ready claims for submission batches, made in bulk, and a sandbox-backed failover pair."""

from __future__ import annotations

from billing.models import Claim
from tests.clearinghouse.pair import sandbox_pair as clearinghouse_pair
from tests.clearinghouse.test_export_837p import _claim


def sandbox_pair(org, sandbox):
    """(primary, secondary, payer) of `tests.clearinghouse.pair.sandbox_pair`, with a
    three-second transaction timeout."""
    pair = clearinghouse_pair(org, sandbox, transaction_timeout_ms=3000)
    return pair.primary, pair.secondary, pair.payer


def ready_claims(org, payer, count: int) -> list[Claim]:
    """`count` Ready claims of one encounter (claim numbers differ), inserted in bulk."""
    template = _claim(org, payer)
    charges = list(template.charges.all())
    claims = Claim.objects.bulk_create(
        [
            Claim(
                organization=org,
                encounter=template.encounter,
                payer=payer,
                coverage=template.coverage,
                claim_number=f"B{n:07d}",
                status=Claim.Status.READY,
                total=template.total,
            )
            for n in range(1, count)
        ],
        batch_size=1000,
    )
    Claim.charges.through.objects.bulk_create(
        [Claim.charges.through(claim_id=c.pk, charge_id=ch.pk) for c in claims for ch in charges],
        batch_size=2000,
    )
    return [template, *claims]

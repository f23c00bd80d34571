"""Ready claims for submission batches, made in bulk, and a sandbox-backed failover pair."""

from __future__ import annotations

from billing.models import Claim
from clearinghouse.models import FailoverSettings
from tests import factories
from tests.clearinghouse.test_export_837p import _claim


def sandbox_pair(org, sandbox):
    """The sandbox face as the primary, Waystar's face as the secondary, one payer enrolled
    with both; returns (primary, secondary, payer)."""
    org.address_line1, org.city, org.state, org.zip_code = "1 Main St", "Camp Hill", "PA", "17011"
    org.phone = "(717) 555-0100"
    org.save()
    primary = factories.ClearinghouseConfigFactory(
        organization=org,
        vendor="sandbox",
        display_name="Sandbox",
        base_url=sandbox.vendor_url("sandbox"),
    )
    secondary = factories.ClearinghouseConfigFactory(
        organization=org,
        vendor="waystar",
        display_name="Waystar",
        base_url=sandbox.vendor_url("waystar"),
        account_id="svc-demo",
    )
    secondary.set_credentials({"secret": "s3cret-value"})
    secondary.save()
    payer = factories.PayerFactory(organization=org, name="Acme Health")
    for config, epid in ((primary, "SBX01"), (secondary, "WAY02")):
        factories.PayerEnrollmentFactory(
            organization=org,
            payer=payer,
            clearinghouse=config,
            enrollment_status="active",
            electronic_payer_id=epid,
            covers_270=True,
        )
    FailoverSettings.objects.create(
        organization=org,
        primary=primary,
        secondary=secondary,
        failure_threshold=2,
        transaction_timeout_ms=3000,
    )
    return primary, secondary, payer


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

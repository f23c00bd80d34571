"""A failover pair on the sandbox clearinghouse: its own face as the primary, its Waystar
face as the secondary, one payer enrolled with both (837P and 270) under different
electronic payer ids (SBX01 and WAY02), so a test can tell where a file was built for."""

from __future__ import annotations

from dataclasses import dataclass

from billing.models import Payer
from clearinghouse.models import ClearinghouseConfig, FailoverSettings
from tests import factories


@dataclass(frozen=True)
class Pair:
    primary: ClearinghouseConfig
    secondary: ClearinghouseConfig
    payer: Payer
    settings: FailoverSettings


def sandbox_pair(
    org,
    sandbox,
    *,
    primary_name: str = "Sandbox",
    payer_name: str = "Acme Health",
    **thresholds,
) -> Pair:
    org.address_line1, org.city, org.state, org.zip_code = "1 Main St", "Camp Hill", "PA", "17011"
    org.phone = "(717) 555-0100"
    org.save()
    primary = factories.ClearinghouseConfigFactory(
        organization=org,
        vendor="sandbox",
        display_name=primary_name,
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
    payer = factories.PayerFactory(organization=org, name=payer_name)
    for config, epid in ((primary, "SBX01"), (secondary, "WAY02")):
        factories.PayerEnrollmentFactory(
            organization=org,
            payer=payer,
            clearinghouse=config,
            enrollment_status="active",
            electronic_payer_id=epid,
            covers_270=True,
        )
    settings = FailoverSettings.objects.create(
        organization=org,
        primary=primary,
        secondary=secondary,
        **{"failure_threshold": 2, "transaction_timeout_ms": 2000, **thresholds},
    )
    return Pair(primary, secondary, payer, settings)

"""Demo clearinghouses, enrollments and failover setup, called by `manage.py seed_demo` per
organization.

Failover: Waystar is the primary and Availity the secondary, both sandbox faces; most payers
are active with both for 837P and 270, so a simulated (or real) Waystar outage fails over.
Two payer routes: a Medicaid line hard-pinned to Availity, and a commercial payer forced to
Availity with fallback to Waystar. Simulated health failures are allowed (a demo).
"""

from __future__ import annotations

import datetime
import random
import re

from django.conf import settings
from django.utils import timezone

from billing.models import Organization, Payer, User
from clearinghouse.models import (
    ClearinghouseConfig,
    FailoverSettings,
    PayerEnrollment,
    PayerRoute,
    Vendor,
)

# vendor, display name, BAA on file: Change Healthcare has none, so the failover pages can
# show a vendor that is gated until its BAA is acknowledged.
CONFIGS = [
    (Vendor.SANDBOX, "Sandbox Clearinghouse", True),
    (Vendor.WAYSTAR, "Waystar", True),
    (Vendor.AVAILITY, "Availity", True),
    (Vendor.CHANGE_HEALTHCARE, "Change Healthcare", False),
    (Vendor.CLAIM_MD, "Claim.MD", True),
]
S = PayerEnrollment.Status


def seed_organization(organization: Organization, actor: User) -> str:
    if ClearinghouseConfig.objects.for_organization(organization).exists():
        return ""
    rng = random.Random(f"clearinghouse-{organization.slug}")
    today = timezone.localdate()
    now = timezone.now()
    configs = {}
    for vendor, name, baa in CONFIGS:
        config = ClearinghouseConfig(
            organization=organization,
            vendor=vendor,
            display_name=name,
            base_url=f"{settings.SANDBOX_CLEARINGHOUSE_URL}/{vendor}",
            submitter_id=f"{organization.slug[:6].upper()}{rng.randint(1000, 9999)}",
            account_id=f"demo-{organization.slug}-{vendor}",
            baa_on_file=baa,
            baa_signed_on=today - datetime.timedelta(days=400) if baa else None,
            baa_acknowledged_by=actor if baa else None,
            baa_acknowledged_at=now if baa else None,
        )
        # Distinct per organization: Claim.MD (and the sandbox's face of it) knows an
        # account by its key alone, so a shared key would share one mailbox.
        config.set_credentials({"secret": f"demo-secret-{organization.slug}-{vendor}"})
        config.save()
        configs[vendor] = config

    enrollments = []
    payers = list(Payer.objects.for_organization(organization).order_by("name"))
    # Waystar: most payers live, the rest in every other state, so the list shows them all.
    waystar_states = [S.ACTIVE] * 6 + [S.PENDING, S.REJECTED, S.INACTIVE, S.EXPIRED]
    for i, payer in enumerate(payers):
        created = now - datetime.timedelta(days=300 - i * 7, hours=rng.randint(0, 8))
        enrolled = (created - datetime.timedelta(days=20)).date()
        enrollments.append(
            _enrollment(
                organization,
                payer,
                configs[Vendor.SANDBOX],
                S.ACTIVE,
                created,
                actor,
                enrolled_on=enrolled,
                covers_835=True,
                covers_270=True,
                covers_276=True,
            )
        )
        status = waystar_states[i % len(waystar_states)]
        enrollments.append(
            _enrollment(
                organization,
                payer,
                configs[Vendor.WAYSTAR],
                status,
                created + datetime.timedelta(hours=1),
                actor,
                enrolled_on=None if status in (S.PENDING, S.REJECTED) else enrolled,
                effective_to=enrolled + datetime.timedelta(days=200)
                if status == S.EXPIRED
                else None,
                covers_270=status == S.ACTIVE,
                notes="Payer asked for a signed EFT form." if status == S.REJECTED else "",
            )
        )
        # Availity, the secondary: most payers active for 837P, 270 and 276, so traffic can
        # fail over; a few pending, and a few not enrolled (failing over refuses for them).
        if i % 5 != 4:
            enrollments.append(
                _enrollment(
                    organization,
                    payer,
                    configs[Vendor.AVAILITY],
                    S.PENDING if i % 7 == 3 else S.ACTIVE,
                    created + datetime.timedelta(hours=2),
                    actor,
                    electronic_payer_id=_availity_payer_id(payer),
                    covers_837p=True,
                    covers_270=True,
                    covers_276=True,
                )
            )
        if i % 4 == 1:
            enrollments.append(
                _enrollment(
                    organization,
                    payer,
                    configs[Vendor.CLAIM_MD],
                    S.ACTIVE,
                    created + datetime.timedelta(hours=3),
                    actor,
                    enrolled_on=enrolled,
                    covers_837p=False,
                    covers_835=True,
                )
            )
    PayerEnrollment.objects.bulk_create(enrollments)
    routes = _failover(organization, actor, configs, payers, enrollments, now)
    return (
        f"{len(configs)} clearinghouse configurations, {len(enrollments)} payer enrollments, "
        f"failover Waystar -> Availity with {routes} payer routes"
    )


def _availity_payer_id(payer: Payer) -> str:
    """Availity's own routing id for the payer (not the payer's id), so a routed file shows
    which vendor it was built for."""
    return re.sub(r"[^A-Z0-9]", "", payer.name.upper())[:6] + payer.payer_id[-3:]


def _failover(organization, actor, configs, payers, enrollments, now) -> int:
    waystar, availity = configs[Vendor.WAYSTAR], configs[Vendor.AVAILITY]
    FailoverSettings.objects.create(
        organization=organization,
        primary=waystar,
        secondary=availity,
        health_check_interval_s=60,
        failure_threshold=3,
        recovery_cooldown_s=300,
        transaction_timeout_ms=15000,
        allow_simulated_failures=True,
        updated_by=actor,
        updated_at=now,
    )
    active = {
        (e.payer.pk, e.clearinghouse.vendor)
        for e in enrollments
        if e.enrollment_status == S.ACTIVE and e.covers_837p
    }
    on_availity = [p for p in payers if (p.pk, Vendor.AVAILITY) in active]
    both = [p for p in on_availity if (p.pk, Vendor.WAYSTAR) in active]
    medicaid = [
        p for p in on_availity if p.claim_filing_indicator == Payer.FilingIndicator.MEDICAID
    ]
    pinned = (medicaid or on_availity[-1:])[:1]  # the seed's example: a Medicaid line on Availity
    forced = [p for p in both if p not in pinned][:1]
    routes = [
        PayerRoute(
            organization=organization,
            payer=payer,
            forced_vendor=availity,
            allow_failover=allow_failover,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        for group, allow_failover in ((pinned, False), (forced, True))
        for payer in group
    ]
    PayerRoute.objects.bulk_create(routes)
    return len(routes)


def _enrollment(organization, payer, config, status, created, actor, **fields) -> PayerEnrollment:
    fields.setdefault("electronic_payer_id", payer.payer_id)
    fields.setdefault("enrolled_on", created.date() if status == S.ACTIVE else None)
    return PayerEnrollment(
        organization=organization,
        payer=payer,
        clearinghouse=config,
        enrollment_status=status,
        created_by=actor,
        created_at=created,
        updated_at=created,
        effective_from=fields.get("enrolled_on"),
        **fields,
    )

"""Demo clearinghouses and enrollments, called by `manage.py seed_demo` per organization."""

from __future__ import annotations

import datetime
import random

from django.conf import settings
from django.utils import timezone

from billing.models import Organization, Payer, User
from clearinghouse.models import ClearinghouseConfig, PayerEnrollment, Vendor

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
        if i % 3 == 0:
            enrollments.append(
                _enrollment(
                    organization,
                    payer,
                    configs[Vendor.AVAILITY],
                    S.ACTIVE if i % 2 == 0 else S.PENDING,
                    created + datetime.timedelta(hours=2),
                    actor,
                    electronic_payer_id=payer.name.split()[0].upper()[:10],
                    covers_837p=False,
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
    return f"{len(configs)} clearinghouse configurations, {len(enrollments)} payer enrollments"


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

"""837P files from the practice's claims, for one clearinghouse.

The clearinghouse decides the payload: each claim carries the electronic payer id of its
payer's active 837P enrollment with that clearinghouse, so a file is built only after
routing has chosen the clearinghouse.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from billing.models import Claim, Coverage, Organization, Patient, Payer
from clearinghouse.control_numbers import next_control_number
from clearinghouse.models import ClearinghouseConfig, PayerEnrollment, TransactionType
from edi import models as x12
from edi.errors import X12Error
from edi.x837p import write_837p

RESPONSIBILITY = {1: "P", 2: "S", 3: "T"}


@dataclass
class ClaimFile:
    """An interchange and what went into it; `skipped` says why each left-out claim was."""

    text: str = ""
    control_number: int | None = None
    claims: list[Claim] = field(default_factory=list)
    skipped: list[tuple[Claim, str]] = field(default_factory=list)


def receiver_id(clearinghouse: ClearinghouseConfig) -> str:
    """ISA08: the clearinghouse's interchange id (its vendor code, at most 15 characters)."""
    return re.sub(r"[^A-Z0-9]", "", clearinghouse.vendor.upper())[:15]


def sender_id(organization: Organization, clearinghouse: ClearinghouseConfig) -> str:
    """ISA06: the submitter id the clearinghouse gave us, else the billing NPI."""
    return (clearinghouse.submitter_id or organization.billing_npi or str(organization.pk))[:15]


def build_837p(
    *,
    organization: Organization,
    clearinghouse: ClearinghouseConfig,
    claims: Iterable[Claim],
    usage: str = "P",
) -> ClaimFile:
    """One interchange with the claims that can go to `clearinghouse`.

    A claim is left out (and listed in `skipped` with the reason) when its payer has no
    active 837P enrollment there or when the claim's data cannot make a valid 837P (the
    `edi` writer names the field). A control number is taken only when the file has claims.
    """
    result = ClaimFile()
    phone = _digits(organization.phone)
    if len(phone) < 10:
        reason = "the organization has no phone number for the 837P submitter contact (PER)"
        result.skipped = [(claim, reason) for claim in claims]
        return result
    enrollment_ids = dict(
        PayerEnrollment.objects.for_organization(organization)
        .filter(clearinghouse=clearinghouse)
        .active_for(TransactionType.CLAIM_837P)
        .values_list("payer_id", "electronic_payer_id")
    )
    created = timezone.now().replace(microsecond=0, tzinfo=None)
    submitter = x12.Submitter(
        name=organization.name[:60],
        identifier=sender_id(organization, clearinghouse),
        contact=x12.Contact(name="Billing office", phone=phone),
    )
    receiver = x12.Receiver(
        name=clearinghouse.display_name[:60], identifier=receiver_id(clearinghouse)
    )
    built: list[x12.Claim] = []
    for claim in claims:
        electronic_payer_id = enrollment_ids.get(claim.payer_id)
        if electronic_payer_id is None:
            result.skipped.append(
                (claim, f"{claim.payer} has no active 837P enrollment with {clearinghouse}")
            )
            continue
        try:
            x12_claim = claim_to_x12(organization, claim, electronic_payer_id)
            _check_alone(x12_claim, submitter, receiver, created)
        except (X12Error, ValueError) as error:
            result.skipped.append((claim, str(error)))
            continue
        built.append(x12_claim)
        result.claims.append(claim)
    if not built:
        return result
    result.control_number = next_control_number(
        organization=organization, clearinghouse=clearinghouse
    )
    envelope = x12.Envelope(
        sender_id=submitter.identifier,
        receiver_id=receiver.identifier,
        control_number=result.control_number,
        group_control_number=result.control_number,
        created=created,
        usage=usage,
    )
    batch = x12.ProfessionalClaims(
        reference=f"{organization.pk}-{result.control_number}",
        created=created,
        submitter=submitter,
        receiver=receiver,
        claims=built,
    )
    result.text = write_837p(envelope, [batch])
    return result


def _check_alone(
    claim: x12.Claim, submitter: x12.Submitter, receiver: x12.Receiver, created: datetime.datetime
) -> None:
    """Write the claim in a throwaway file, so one bad claim is skipped instead of
    failing the whole interchange."""
    envelope = x12.Envelope(
        sender_id=submitter.identifier,
        receiver_id=receiver.identifier,
        control_number=1,
        group_control_number=1,
        created=created,
    )
    batch = x12.ProfessionalClaims(
        reference="check", created=created, submitter=submitter, receiver=receiver, claims=[claim]
    )
    write_837p(envelope, [batch])


def claim_to_x12(organization: Organization, claim: Claim, electronic_payer_id: str) -> x12.Claim:
    encounter = claim.encounter
    coverage = claim.coverage
    patient = encounter.patient
    provider = encounter.provider
    lines = [charge for charge in claim.charges.all() if charge.status != charge.Status.VOID]
    if not lines:
        raise ValueError(f"Claim {claim.claim_number} has no service lines")
    other_payers, adjudications = _other_payers(claim)
    service_lines = [
        x12.ServiceLine(
            procedure_code=charge.procedure_code,
            charge=charge.amount,
            service_date=encounter.date_of_service,
            units=charge.units.normalize(),
            modifiers=tuple(charge.modifiers or ()),
            diagnosis_pointers=tuple(charge.diagnosis_pointers),
            control_number=str(charge.pk),
            adjudications=adjudications.get(charge.pk, []),
        )
        for charge in lines
    ]
    is_self = coverage.relationship == Coverage.Relationship.SELF
    subscriber = x12.Subscriber(
        last_name=patient.last_name if is_self else coverage.subscriber_last_name,
        first_name=patient.first_name if is_self else coverage.subscriber_first_name,
        member_id=coverage.member_id,
        payer_responsibility=RESPONSIBILITY[coverage.order],
        claim_filing_indicator=claim.payer.claim_filing_indicator,
        group_number=coverage.group_number,
        address=_address(patient) if is_self else None,
        birth_date=patient.birth_date if is_self else coverage.subscriber_birth_date,
        gender=patient.sex if is_self else "U",  # the subscriber's sex is not on the card
    )
    return x12.Claim(
        billing_provider=x12.BillingProvider(
            name=organization.name[:60],
            npi=organization.billing_npi,
            tax_id=_digits(organization.tax_id),
            address=_address(organization),
        ),
        subscriber=subscriber,
        payer=x12.Payer(
            name=claim.payer.name[:60],
            payer_id=electronic_payer_id,
            address=_address(claim.payer) if claim.payer.address_line1 else None,
        ),
        patient=None
        if is_self
        else x12.Patient(
            relationship=coverage.relationship,
            last_name=patient.last_name,
            first_name=patient.first_name,
            address=_address(patient),
            birth_date=patient.birth_date,
            gender=patient.sex,
        ),
        patient_control_number=claim.claim_number,
        total_charge=sum((line.charge for line in service_lines), start=type(lines[0].amount)(0)),
        place_of_service=encounter.place_of_service,
        diagnoses=[code.replace(".", "") for code in encounter.diagnosis_codes],
        service_lines=service_lines,
        frequency_code=claim.frequency_code,
        payer_claim_control_number=claim.payer_claim_control_number,
        rendering_provider=x12.RenderingProvider(
            last_name=provider.last_name,
            first_name=provider.first_name,
            npi=provider.npi,
            taxonomy_code=provider.taxonomy_code,
        ),
        other_payers=other_payers,
    )


def _other_payers(
    claim: Claim,
) -> tuple[list[x12.OtherPayer], dict[int, list[x12.LineAdjudication]]]:
    """The 2320/2330 loops of a secondary claim, and its 2430 line adjudications per charge
    id, from the earlier payers' adjudications the claim carries (`Claim.other_payers`)."""
    others: list[x12.OtherPayer] = []
    by_charge: dict[int, list[x12.LineAdjudication]] = {}
    for other in claim.other_payers or []:
        adjudicated = datetime.date.fromisoformat(other["adjudication_date"])
        for line in other.get("lines", []):
            by_charge.setdefault(line["charge"], []).append(
                x12.LineAdjudication(
                    payer_id=other["payer_id"],
                    paid_amount=Decimal(line["paid"]),
                    procedure_code=line["procedure_code"],
                    modifiers=tuple(line["modifiers"]),
                    paid_units=Decimal(line["units"]),
                    adjudication_date=adjudicated,
                    adjustments=_cas(line["adjustments"]),
                )
            )
        others.append(
            x12.OtherPayer(
                responsibility=other["responsibility"],
                relationship=other["relationship"],
                group_number=other["group_number"],
                claim_filing_indicator=other["claim_filing_indicator"],
                insured_last_name=other["insured_last_name"],
                insured_first_name=other["insured_first_name"],
                insured_id=other["insured_id"],
                payer_name=other["payer_name"],
                payer_id=other["payer_id"],
                paid_amount=Decimal(other["paid"]),
                remaining_patient_liability=Decimal(other["patient_responsibility"]),
                adjustments=_cas(other["adjustments"]),
                # 2330B DTP*573 only when no line carries the adjudication date (2430).
                adjudication_date=None if other.get("lines") else adjudicated,
                payer_claim_control_number=other["payer_claim_control_number"],
            )
        )
    return others, by_charge


def _cas(adjustments: list[dict]) -> list[x12.Adjustment]:
    return [
        x12.Adjustment(group=a["group"], reason=a["reason"], amount=Decimal(a["amount"]))
        for a in adjustments
    ]


def _address(owner: Organization | Patient | Payer) -> x12.Address:
    return x12.Address(
        line1=owner.address_line1,
        line2=owner.address_line2,
        city=owner.city,
        state=owner.state,
        postal_code=owner.zip_code,
    )


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")

"""837P professional claims (005010X222A1).

Hierarchy written: 2000A billing provider > 2000B subscriber (with 2010BB payer) > 2000C
patient when the patient is not the subscriber; claims (2300) hang under the patient's level.
The writer opens a new level whenever the next claim's provider, subscriber/payer or
patient differs from the previous claim's, so claims keep their order and the reader can
hand every claim back with its own provider, subscriber, payer and patient.

Beyond element checks, the writer refuses claims a payer would reject outright: an NPI with a
wrong check digit, CLM02 that is not the sum of the line charges, a diagnosis pointer past
the diagnoses, a replacement or void (frequency 7/8) without the payer's claim number, a
subscriber who is the patient without address, birth date and gender.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from edi.elements import amount, d8, npi_is_valid, parse_period, rd8, time_text
from edi.envelope import Kind, TransactionSet, read_interchanges, write_interchange
from edi.errors import X12ValueError
from edi.models import (
    Address,
    BillingProvider,
    Claim,
    Contact,
    Envelope,
    LineAdjudication,
    OtherPayer,
    Parsed,
    Patient,
    Payer,
    ProfessionalClaims,
    Receiver,
    RenderingProvider,
    ServiceLine,
    Submitter,
    Subscriber,
)
from edi.segments import (
    Body,
    Cursor,
    read_address,
    read_adjustments,
    read_contact,
    read_created,
    required_date,
    runs,
)
from edi.tokenizer import DEFAULT_SEPARATORS, Segment, Separators

KIND = Kind("837", "HC", "005010X222A1", accepted_versions=("005010X222A2",))

MAX_DIAGNOSES = 12
MAX_LINES = 50


def write_837p(
    envelope: Envelope,
    batches: Sequence[ProfessionalClaims],
    *,
    separators: Separators = DEFAULT_SEPARATORS,
    line_break: str = "\n",
) -> str:
    bodies = [_body(batch) for batch in batches]
    return write_interchange(envelope, KIND, bodies, separators=separators, line_break=line_break)


def read_837p(text: str) -> Parsed[ProfessionalClaims]:
    warnings: list[str] = []
    transaction_sets, envelopes = read_interchanges(text, KIND, warnings)
    return Parsed([_batch(ts, warnings) for ts in transaction_sets], envelopes, warnings)


# --- writing ---------------------------------------------------------------------------------


def _body(batch: ProfessionalClaims) -> Body:
    if not batch.claims:
        raise X12ValueError(f"837P {batch.reference}: there are no claims to send")
    body = Body(context=f"837P {batch.reference}")
    created = batch.created
    body.add(
        "BHT",
        "0019",
        batch.purpose,
        batch.reference,
        created.date(),
        time_text(created),
        batch.claim_type,
    )
    body.context = "1000A submitter"
    submitter = batch.submitter
    body.add("NM1", "41", "2", submitter.name, None, None, None, None, "46", submitter.identifier)
    body.contact("IC", submitter.contact)
    body.context = "1000B receiver"
    receiver = batch.receiver
    body.add("NM1", "40", "2", receiver.name, None, None, None, None, "46", receiver.identifier)
    for provider, provider_claims in runs(batch.claims, lambda c: c.billing_provider):
        provider_hl = _billing_provider(body, provider)
        for subscriber_claims in _subscriber_groups(provider_claims):
            subscriber, payer = subscriber_claims[0].subscriber, subscriber_claims[0].payer
            has_patients = any(c.patient is not None for c in subscriber_claims)
            subscriber_hl = body.hl(provider_hl, "22", has_patients)
            self_claims = [c for c in subscriber_claims if c.patient is None]
            _subscriber(body, subscriber, payer, is_patient=bool(self_claims))
            for claim in self_claims:
                _claim(body, claim)
            dependents = [c for c in subscriber_claims if c.patient is not None]
            for patient, patient_claims in runs(dependents, lambda c: c.patient):
                body.hl(subscriber_hl, "23", False)
                assert patient is not None
                _patient(body, patient)
                for claim in patient_claims:
                    _claim(body, claim)
    return body


def _subscriber_groups(claims: list[Claim]) -> list[list[Claim]]:
    """Claims that share one 2000B: same subscriber and payer, in a row. A claim billed for
    the subscriber cannot follow one billed for a dependent in the same 2000B (2300 comes
    before 2000C), so such a claim opens a new one."""
    groups: list[list[Claim]] = []
    for claim in claims:
        last = groups[-1][-1] if groups else None
        if (
            last is None
            or (last.subscriber, last.payer) != (claim.subscriber, claim.payer)
            or (last.patient is not None and claim.patient is None)
        ):
            groups.append([])
        groups[-1].append(claim)
    return groups


def _billing_provider(body: Body, p: BillingProvider) -> str:
    body.context = f"2010AA billing provider {p.name}"
    _check_npi(p.npi, "billing provider")
    provider_hl = body.hl("", "20", True)
    if p.taxonomy_code:
        body.add("PRV", "BI", "PXC", p.taxonomy_code)
    body.add(
        "NM1",
        "85",
        "1" if p.is_person else "2",
        p.name,
        p.first_name if p.is_person else None,
        None,
        None,
        None,
        "XX",
        p.npi,
    )
    body.address(p.address)
    body.add("REF", p.tax_id_qualifier, p.tax_id)
    return provider_hl


def _subscriber(body: Body, s: Subscriber, payer: Payer, *, is_patient: bool) -> None:
    body.context = f"2000B subscriber {s.member_id}"
    if is_patient and (s.address is None or s.birth_date is None or not s.gender):
        raise X12ValueError(
            f"{body.context}: the subscriber is the patient, so 2010BA needs the "
            "subscriber's address, birth date and gender",
            field="DMG",
        )
    body.add(
        "SBR",
        s.payer_responsibility,
        "18" if is_patient else None,
        s.group_number,
        s.group_name,
        None,
        None,
        None,
        None,
        s.claim_filing_indicator,
    )
    body.add(
        "NM1",
        "IL",
        "1",
        s.last_name,
        s.first_name,
        s.middle_name,
        None,
        s.suffix,
        "MI",
        s.member_id,
    )
    if s.address:
        body.address(s.address)
    if s.birth_date:
        body.add("DMG", "D8", d8(s.birth_date), s.gender)
    body.context = f"2010BB payer {payer.payer_id}"
    body.add("NM1", "PR", "2", payer.name, None, None, None, None, "PI", payer.payer_id)
    if payer.address:
        body.address(payer.address)


def _patient(body: Body, p: Patient) -> None:
    body.context = f"2000C patient {p.last_name}"
    body.add("PAT", p.relationship)
    body.add("NM1", "QC", "1", p.last_name, p.first_name, p.middle_name, None, p.suffix)
    body.address(p.address)
    body.add("DMG", "D8", d8(p.birth_date), p.gender)


def _claim(body: Body, c: Claim) -> None:
    body.context = f"claim {c.patient_control_number}"
    _check_claim(body.context, c)
    body.add(
        "CLM",
        c.patient_control_number,
        c.total_charge,
        None,
        None,
        (c.place_of_service, "B", c.frequency_code),
        c.provider_signature,
        c.assignment,
        c.benefits_assignment,
        c.release_of_information,
    )
    if c.payer_claim_control_number:
        body.add("REF", "F8", c.payer_claim_control_number)
    body.add(
        "HI",
        *(("ABK" if i == 0 else "ABF", code) for i, code in enumerate(c.diagnoses)),
    )
    if c.rendering_provider:
        _rendering(body, c.rendering_provider)
    for other in c.other_payers:
        _other_payer(body, c, other)
    for number, line in enumerate(c.service_lines, 1):
        body.context = f"claim {c.patient_control_number}, 2400 line {number}"
        _line(body, number, line)


def _check_claim(context: str, c: Claim) -> None:
    if not c.diagnoses or len(c.diagnoses) > MAX_DIAGNOSES:
        raise X12ValueError(f"{context}: a claim carries 1 to 12 diagnoses, not {len(c.diagnoses)}")
    if not c.service_lines or len(c.service_lines) > MAX_LINES:
        raise X12ValueError(
            f"{context}: a claim carries 1 to 50 service lines, not {len(c.service_lines)}"
        )
    lines_total = sum((line.charge for line in c.service_lines), Decimal(0))
    if lines_total != c.total_charge:
        raise X12ValueError(
            f"{context}: CLM02 (total claim charge) {c.total_charge} is not the sum of the "
            f"service line charges ({lines_total})",
            field="CLM02",
        )
    if c.frequency_code in ("7", "8") and not c.payer_claim_control_number:
        raise X12ValueError(
            f"{context}: a replacement or void (frequency {c.frequency_code}) needs the payer's "
            "claim control number (REF*F8)",
            field="REF02",
        )
    for number, line in enumerate(c.service_lines, 1):
        if not 1 <= len(line.diagnosis_pointers) <= 4 or any(
            not 1 <= p <= len(c.diagnoses) for p in line.diagnosis_pointers
        ):
            raise X12ValueError(
                f"{context}, line {number}: SV107 diagnosis pointers {line.diagnosis_pointers} "
                f"must be 1 to 4 positions among the claim's {len(c.diagnoses)} diagnoses",
                field="SV107",
            )
        if len(line.modifiers) > 4:
            raise X12ValueError(f"{context}, line {number}: at most 4 procedure modifiers")


def _check_npi(npi: str, what: str) -> None:
    if not npi_is_valid(npi):
        raise X12ValueError(
            f"NM109 ({what} NPI) {npi!r} is not a valid NPI (10 digits with a Luhn check digit)",
            field="NM109",
        )


def _rendering(body: Body, r: RenderingProvider) -> None:
    _check_npi(r.npi, "rendering provider")
    first = r.first_name if r.is_person else None
    entity_type = "1" if r.is_person else "2"
    body.add("NM1", "82", entity_type, r.last_name, first, None, None, None, "XX", r.npi)
    if r.taxonomy_code:
        body.add("PRV", "PE", "PXC", r.taxonomy_code)


def _other_payer(body: Body, c: Claim, o: OtherPayer) -> None:
    body.context = f"claim {c.patient_control_number}, 2320 other payer {o.payer_id}"
    body.add(
        "SBR",
        o.responsibility,
        o.relationship,
        o.group_number,
        None,
        None,
        None,
        None,
        None,
        o.claim_filing_indicator,
    )
    body.adjustments(o.adjustments)
    if o.paid_amount is not None:
        body.add("AMT", "D", o.paid_amount)
    if o.remaining_patient_liability is not None:
        body.add("AMT", "EAF", o.remaining_patient_liability)
    body.add("OI", None, None, o.benefits_assignment, None, None, o.release_of_information)
    body.add(
        "NM1",
        "IL",
        "1",
        o.insured_last_name,
        o.insured_first_name,
        None,
        None,
        None,
        "MI",
        o.insured_id,
    )
    body.add("NM1", "PR", "2", o.payer_name, None, None, None, None, "PI", o.payer_id)
    if o.adjudication_date:
        body.add("DTP", "573", "D8", d8(o.adjudication_date))
    if o.payer_claim_control_number:
        body.add("REF", "F8", o.payer_claim_control_number)


def _line(body: Body, number: int, line: ServiceLine) -> None:
    body.add("LX", number)
    body.add(
        "SV1",
        ("HC", line.procedure_code, *line.modifiers),
        line.charge,
        line.unit_code,
        line.units,
        line.place_of_service,
        None,
        tuple(str(p) for p in line.diagnosis_pointers),
    )
    if line.service_date_end and line.service_date_end != line.service_date:
        body.add("DTP", "472", "RD8", rd8(line.service_date, line.service_date_end))
    else:
        body.add("DTP", "472", "D8", d8(line.service_date))
    if line.control_number:
        body.add("REF", "6R", line.control_number)
    for adjudication in line.adjudications:
        body.add(
            "SVD",
            adjudication.payer_id,
            adjudication.paid_amount,
            ("HC", adjudication.procedure_code, *adjudication.modifiers),
            None,
            adjudication.paid_units,
        )
        body.adjustments(adjudication.adjustments)
        body.add("DTP", "573", "D8", d8(adjudication.adjudication_date))


# --- reading ---------------------------------------------------------------------------------


def _batch(ts: TransactionSet, warnings: list[str]) -> ProfessionalClaims:
    cur = Cursor(ts.segments, warnings)
    bht = cur.expect("BHT", what="beginning of hierarchical transaction")
    submitter_nm1 = cur.expect("NM1", "41", what="submitter name")
    contact = cur.take("PER", "IC")
    cur.take_all("PER")
    receiver_nm1 = cur.expect("NM1", "40", what="receiver name")
    if contact is None:
        cur.warn(submitter_nm1, "the submitter's EDI contact (PER*IC) is missing")
    batch = ProfessionalClaims(
        reference=bht.get(3),
        created=read_created(bht),
        purpose=bht.get(2),
        claim_type=bht.get(6),
        submitter=Submitter(
            name=submitter_nm1.get(3),
            identifier=submitter_nm1.get(9),
            contact=read_contact(contact) if contact else Contact(),
        ),
        receiver=Receiver(name=receiver_nm1.get(3), identifier=receiver_nm1.get(9)),
        claims=[],
    )
    providers: dict[str, BillingProvider] = {}
    subscribers: dict[str, tuple[BillingProvider, Subscriber, Payer]] = {}
    while (hl := cur.peek()) is not None:
        if hl.tag != "HL":
            cur.warn(cur.next(), "segment outside any HL level; skipped")
            continue
        cur.next()
        level, parent = hl.get(3), hl.get(2)
        if level == "20":
            providers[hl.get(1)] = _read_billing_provider(cur)
        elif level == "22":
            provider = providers.get(parent)
            if provider is None:
                raise hl.error(f"HL02 {parent!r} is not a billing provider level (20)")
            subscriber, payer = _read_subscriber(cur)
            subscribers[hl.get(1)] = (provider, subscriber, payer)
            batch.claims += _read_claims(cur, provider, subscriber, payer, None)
        elif level == "23":
            if parent not in subscribers:
                raise hl.error(f"HL02 {parent!r} is not a subscriber level (22)")
            provider, subscriber, payer = subscribers[parent]
            patient = _read_patient(cur, hl)
            batch.claims += _read_claims(cur, provider, subscriber, payer, patient)
        else:
            cur.warn(hl, f"unknown hierarchical level {level!r}; skipped")
            _skip_level(cur)
    return batch


def _skip_level(cur: Cursor) -> None:
    while (seg := cur.peek()) is not None and seg.tag != "HL":
        cur.next()


def _read_billing_provider(cur: Cursor) -> BillingProvider:
    taxonomy = ""
    nm1 = n3 = n4 = tax = None
    while (seg := cur.peek()) is not None and seg.tag != "HL":
        cur.next()
        if seg.tag == "PRV" and seg.get(1) == "BI":
            taxonomy = seg.get(3)
        elif seg.tag == "NM1":
            if nm1 is not None:  # 2010AB pay-to and 2010AC pay-to plan: not modelled
                _skip_until(cur, ("HL",))
                break
            nm1 = seg
        elif seg.tag == "N3" and n3 is None:
            n3 = seg
        elif seg.tag == "N4" and n4 is None:
            n4 = seg
        elif seg.tag == "REF" and seg.get(1) in ("EI", "SY"):
            tax = seg
    if nm1 is None or nm1.get(1) != "85":
        raise cur.segments[cur.position - 1].error("the billing provider name (NM1*85) is missing")
    is_person = nm1.get(2) == "1"
    if tax is None:
        cur.warn(nm1, "the billing provider's tax id (REF*EI/SY) is missing")
    return BillingProvider(
        name=nm1.get(3),
        first_name=nm1.get(4) if is_person else "",
        is_person=is_person,
        npi=nm1.get(9),
        tax_id=tax.get(2) if tax else "",
        tax_id_qualifier=tax.get(1) if tax else "EI",
        address=read_address(n3, n4) or Address(line1="", city=""),
        taxonomy_code=taxonomy,
    )


def _skip_until(cur: Cursor, tags: tuple[str, ...]) -> None:
    while (seg := cur.peek()) is not None and seg.tag not in tags:
        cur.next()


def _name_block(cur: Cursor) -> dict[str, Segment]:
    """An NM1 and the N3/N4/DMG/REF/PER right after it, by tag (first of each)."""
    block = {"NM1": cur.next()}
    while (seg := cur.peek()) is not None and seg.tag in ("N3", "N4", "DMG", "REF", "PER"):
        block.setdefault(seg.tag, cur.next())
    return block


def _read_subscriber(cur: Cursor) -> tuple[Subscriber, Payer]:
    sbr = cur.expect("SBR", what="subscriber information")
    cur.take("PAT")
    subscriber_block = payer_block = None
    while cur.at("NM1"):
        entity = cur.segments[cur.position].get(1)
        block = _name_block(cur)
        if entity == "IL":
            subscriber_block = block
        elif entity == "PR":
            payer_block = block
    if subscriber_block is None or payer_block is None:
        raise sbr.error("the subscriber (NM1*IL) or payer (NM1*PR) name is missing")
    nm1, dmg = subscriber_block["NM1"], subscriber_block.get("DMG")
    subscriber = Subscriber(
        last_name=nm1.get(3),
        first_name=nm1.get(4),
        middle_name=nm1.get(5),
        suffix=nm1.get(7),
        member_id=nm1.get(9),
        payer_responsibility=sbr.get(1),
        group_number=sbr.get(3),
        group_name=sbr.get(4),
        claim_filing_indicator=sbr.get(9),
        address=read_address(subscriber_block.get("N3"), subscriber_block.get("N4")),
        birth_date=cur.date(dmg, 2, "birth date") if dmg else None,
        gender=dmg.get(3) if dmg else "",
    )
    payer_nm1 = payer_block["NM1"]
    payer = Payer(
        name=payer_nm1.get(3),
        payer_id=payer_nm1.get(9),
        address=read_address(payer_block.get("N3"), payer_block.get("N4")),
    )
    return subscriber, payer


def _read_patient(cur: Cursor, hl: Segment) -> Patient:
    pat = cur.expect("PAT", what="patient information")
    block = _name_block(cur) if cur.at("NM1", "QC") else None
    if block is None:
        raise hl.error("the patient name (NM1*QC) is missing")
    nm1, dmg = block["NM1"], block.get("DMG")
    birth_date = required_date(dmg, 2, "the patient's birth date (DMG02)", missing_at=nm1)
    return Patient(
        relationship=pat.get(1),
        last_name=nm1.get(3),
        first_name=nm1.get(4),
        middle_name=nm1.get(5),
        suffix=nm1.get(7),
        address=read_address(block.get("N3"), block.get("N4")) or Address(line1="", city=""),
        birth_date=birth_date,
        gender=dmg.get(3) if dmg else "",
    )


def _read_claims(
    cur: Cursor,
    provider: BillingProvider,
    subscriber: Subscriber,
    payer: Payer,
    patient: Patient | None,
) -> list[Claim]:
    claims = []
    while (seg := cur.peek()) is not None and seg.tag != "HL":
        if seg.tag != "CLM":
            cur.warn(cur.next(), "unexpected segment before the claim (CLM); skipped")
            continue
        claims.append(_read_claim(cur, provider, subscriber, payer, patient))
    return claims


def _read_claim(
    cur: Cursor,
    provider: BillingProvider,
    subscriber: Subscriber,
    payer: Payer,
    patient: Patient | None,
) -> Claim:
    clm = cur.next()
    location = clm.components(5)
    payer_claim_number = ""
    diagnoses: list[str] = []
    rendering = None
    others: list[OtherPayer] = []
    lines: list[ServiceLine] = []
    while (seg := cur.peek()) is not None and seg.tag not in ("CLM", "HL"):
        if seg.tag == "SBR":
            others.append(_read_other_payer(cur))
            continue
        if seg.tag == "LX":
            lines.append(_read_line(cur))
            continue
        cur.next()
        if seg.tag == "REF" and seg.get(1) == "F8":
            payer_claim_number = seg.get(2)
        elif seg.tag == "HI" and seg.component(1, 1) in ("ABK", "BK"):
            diagnoses += [
                seg.component(p, 2)
                for p in range(1, 13)
                if seg.component(p, 1) in ("ABK", "BK", "ABF", "BF")
            ]
        elif seg.tag == "NM1" and seg.get(1) == "82":
            prv = cur.take("PRV", "PE")
            rendering = RenderingProvider(
                last_name=seg.get(3),
                first_name=seg.get(4),
                is_person=seg.get(2) == "1",
                npi=seg.get(9),
                taxonomy_code=prv.get(3) if prv else "",
            )
    return Claim(
        billing_provider=provider,
        subscriber=subscriber,
        payer=payer,
        patient=patient,
        patient_control_number=clm.get(1),
        total_charge=amount(clm, 2),
        place_of_service=location[0] if location else "",
        frequency_code=location[2] if len(location) > 2 else "",
        provider_signature=clm.get(6),
        assignment=clm.get(7),
        benefits_assignment=clm.get(8),
        release_of_information=clm.get(9),
        payer_claim_control_number=payer_claim_number,
        diagnoses=diagnoses,
        rendering_provider=rendering,
        other_payers=others,
        service_lines=lines,
    )


def _read_other_payer(cur: Cursor) -> OtherPayer:
    sbr = cur.next()
    other = OtherPayer(
        responsibility=sbr.get(1),
        relationship=sbr.get(2),
        group_number=sbr.get(3),
        claim_filing_indicator=sbr.get(9),
        insured_last_name="",
        insured_id="",
        payer_name="",
        payer_id="",
    )
    in_payer = False
    while (seg := cur.peek()) is not None and seg.tag not in ("SBR", "LX", "CLM", "HL"):
        cur.next()
        tag, qualifier = seg.tag, seg.get(1)
        if tag == "CAS":
            other.adjustments += read_adjustments(seg)
        elif tag == "AMT" and qualifier == "D":
            other.paid_amount = amount(seg, 2)
        elif tag == "AMT" and qualifier == "EAF":
            other.remaining_patient_liability = amount(seg, 2)
        elif tag == "OI":
            other.benefits_assignment, other.release_of_information = seg.get(3), seg.get(6)
        elif tag == "NM1":
            in_payer = qualifier == "PR"
            if qualifier == "IL":
                other.insured_last_name, other.insured_first_name = seg.get(3), seg.get(4)
                other.insured_id = seg.get(9)
            elif in_payer:
                other.payer_name, other.payer_id = seg.get(3), seg.get(9)
        elif tag == "DTP" and qualifier == "573" and in_payer:
            other.adjudication_date = cur.date(seg, 3, "adjudication date")
        elif tag == "REF" and qualifier == "F8" and in_payer:
            other.payer_claim_control_number = seg.get(2)
    if not other.payer_id:
        cur.warn(sbr, "the other payer's name (2330B NM1*PR) is missing from this 2320 loop")
    return other


def _read_line(cur: Cursor) -> ServiceLine:
    lx = cur.next()
    sv1 = cur.take("SV1")
    if sv1 is None:
        raise lx.error("the service line (SV1) is missing after LX")
    procedure = sv1.components(1)
    start = end = None
    control_number = ""
    adjudications: list[LineAdjudication] = []
    while (seg := cur.peek()) is not None and seg.tag not in ("LX", "CLM", "HL"):
        cur.next()
        if seg.tag == "DTP" and seg.get(1) == "472":
            start, end = parse_period(seg.get(3))
        elif seg.tag == "REF" and seg.get(1) == "6R":
            control_number = seg.get(2)
        elif seg.tag == "SVD":
            adjudications.append(_read_adjudication(cur, seg))
    if start is None:
        raise sv1.error("the service line has no valid service date (DTP*472)")
    pointers = tuple(int(p) for p in sv1.components(7) if p.isdigit())
    return ServiceLine(
        procedure_code=procedure[1] if len(procedure) > 1 else "",
        modifiers=tuple(procedure[2:6]),
        charge=amount(sv1, 2),
        unit_code=sv1.get(3),
        units=amount(sv1, 4),
        place_of_service=sv1.get(5),
        diagnosis_pointers=pointers,
        service_date=start,
        service_date_end=end,
        control_number=control_number,
        adjudications=adjudications,
    )


def _read_adjudication(cur: Cursor, svd: Segment) -> LineAdjudication:
    procedure = svd.components(3)
    adjustments = []
    dtp = None
    while (seg := cur.peek()) is not None and seg.tag in ("CAS", "DTP", "AMT"):
        cur.next()
        if seg.tag == "CAS":
            adjustments += read_adjustments(seg)
        elif seg.tag == "DTP" and seg.get(1) == "573":
            dtp = seg
    return LineAdjudication(
        payer_id=svd.get(1),
        paid_amount=amount(svd, 2),
        procedure_code=procedure[1] if len(procedure) > 1 else "",
        modifiers=tuple(procedure[2:6]),
        paid_units=amount(svd, 5),
        adjudication_date=required_date(dtp, 3, "2430 DTP*573 (adjudication date)", missing_at=svd),
        adjustments=adjustments,
    )

"""Typed values of every transaction this package writes and reads.

Money is `Decimal` (amounts carry at most two decimal places when written), dates are
`datetime.date`, creation stamps naive `datetime.datetime` as the file states them. Writers take
these objects and readers return equal ones: `read_x(write_x(envelope, items))` gives back
`items` and `[envelope]`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

# --- envelope and reading results ------------------------------------------------------------


@dataclass(kw_only=True)
class Envelope:
    """ISA and GS values of one interchange with one functional group.

    Control numbers are the caller's: ISA13 must be unique per sender and receiver, GS06 per
    sender. `application_sender`/`application_receiver` (GS02/GS03) default to the ISA ids.
    """

    sender_id: str
    receiver_id: str
    control_number: int  # ISA13 / IEA02
    group_control_number: int  # GS06 / GE02
    created: datetime.datetime
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    application_sender: str = ""
    application_receiver: str = ""
    usage: str = "P"  # ISA15: P production, T test
    acknowledgment_requested: bool = False  # ISA14 (TA1)

    def __post_init__(self) -> None:
        self.application_sender = self.application_sender or self.sender_id
        self.application_receiver = self.application_receiver or self.receiver_id


@dataclass
class Parsed[T]:
    """What a reader found: one item per ST/SE transaction set, in file order."""

    transactions: list[T]
    envelopes: list[Envelope]
    warnings: list[str]


# --- shared parts ----------------------------------------------------------------------------


@dataclass(kw_only=True)
class Address:
    line1: str
    line2: str = ""
    city: str
    state: str = ""
    postal_code: str = ""


@dataclass(kw_only=True)
class Contact:
    """A PER segment: a name and up to three ways to reach it."""

    name: str = ""
    phone: str = ""
    extension: str = ""
    email: str = ""
    fax: str = ""
    url: str = ""


@dataclass(kw_only=True)
class Party:
    """An organization or person named by NM1 with an identifier (payer, provider, receiver)."""

    name: str  # organization name, or last name when is_person
    identifier: str = ""  # NM109
    id_qualifier: str = ""  # NM108: XX NPI, PI payer id, 46 ETIN, FI tax id ...
    first_name: str = ""
    is_person: bool = False


@dataclass(kw_only=True)
class Person:
    """A subscriber, patient or dependent named by NM1."""

    last_name: str
    first_name: str = ""
    middle_name: str = ""
    suffix: str = ""
    id_qualifier: str = ""  # MI member id, II, HN, MR, 34 ...
    identifier: str = ""


@dataclass(kw_only=True)
class Member(Person):
    """A person with the demographics eligibility and status transactions carry."""

    birth_date: datetime.date | None = None
    gender: str = ""  # F, M, U
    address: Address | None = None


@dataclass(kw_only=True)
class Adjustment:
    """One CAS reason: group (CO, PR, OA, PI, CR), reason code, amount, optional quantity."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


# --- 837P: professional claims ----------------------------------------------------------------


@dataclass(kw_only=True)
class Submitter:
    """1000A: who sends the file, with the EDI contact the receiver calls."""

    name: str
    identifier: str  # ETIN the receiver assigned
    contact: Contact


@dataclass(kw_only=True)
class Receiver:
    """1000B: the clearinghouse or payer the file is sent to (NM108 46, its ETIN)."""

    name: str
    identifier: str


@dataclass(kw_only=True)
class BillingProvider:
    """2000A/2010AA."""

    name: str  # organization name, or last name when is_person
    npi: str
    tax_id: str
    address: Address
    first_name: str = ""
    is_person: bool = False
    tax_id_qualifier: str = "EI"  # EI employer id, SY social security number
    taxonomy_code: str = ""  # PRV*BI*PXC


@dataclass(kw_only=True)
class Subscriber:
    """2000B SBR + 2010BA: the insured, and this payer's place in the order of payment."""

    last_name: str
    member_id: str
    first_name: str = ""
    middle_name: str = ""
    suffix: str = ""
    payer_responsibility: str = "P"  # SBR01: P primary, S secondary, T tertiary
    claim_filing_indicator: str = "CI"  # SBR09: CI commercial, MB Medicare B, MC Medicaid ...
    group_number: str = ""
    group_name: str = ""
    address: Address | None = None  # required when the subscriber is the patient
    birth_date: datetime.date | None = None
    gender: str = ""


@dataclass(kw_only=True)
class Payer:
    """2010BB: `payer_id` is the electronic payer id of the clearinghouse the claim goes through."""

    name: str
    payer_id: str
    address: Address | None = None


@dataclass(kw_only=True)
class Patient:
    """2000C/2010CA, only when the patient is not the subscriber."""

    relationship: str  # PAT01: 01 spouse, 19 child, 20 employee, 21 unknown, 53, G8 other ...
    last_name: str
    address: Address
    birth_date: datetime.date
    gender: str
    first_name: str = ""
    middle_name: str = ""
    suffix: str = ""


@dataclass(kw_only=True)
class RenderingProvider:
    """2310B."""

    last_name: str
    npi: str
    first_name: str = ""
    is_person: bool = True
    taxonomy_code: str = ""


@dataclass(kw_only=True)
class LineAdjudication:
    """2430: how an earlier payer adjudicated a service line (secondary claims)."""

    payer_id: str  # SVD01, the 2330B payer identifier
    paid_amount: Decimal
    procedure_code: str
    paid_units: Decimal
    adjudication_date: datetime.date  # DTP*573
    modifiers: tuple[str, ...] = ()
    adjustments: list[Adjustment] = field(default_factory=list)


@dataclass(kw_only=True)
class ServiceLine:
    """2400: LX, SV1 and DTP*472."""

    procedure_code: str
    charge: Decimal
    service_date: datetime.date
    units: Decimal = Decimal(1)
    modifiers: tuple[str, ...] = ()
    unit_code: str = "UN"  # UN units, MJ minutes
    diagnosis_pointers: tuple[int, ...] = (1,)
    service_date_end: datetime.date | None = None
    place_of_service: str = ""  # SV105, only when it differs from the claim's
    control_number: str = ""  # REF*6R line item control number
    adjudications: list[LineAdjudication] = field(default_factory=list)


@dataclass(kw_only=True)
class OtherPayer:
    """2320 with 2330A (the other insured) and 2330B (the other payer), for COB claims."""

    responsibility: str  # SBR01 of that payer: P, S, T ...
    insured_last_name: str
    insured_id: str
    payer_name: str
    payer_id: str
    insured_first_name: str = ""
    relationship: str = "18"  # SBR02: the patient's relationship to that insured
    group_number: str = ""
    claim_filing_indicator: str = "CI"
    paid_amount: Decimal | None = None  # AMT*D
    remaining_patient_liability: Decimal | None = None  # AMT*EAF
    adjustments: list[Adjustment] = field(default_factory=list)  # claim-level CAS
    adjudication_date: datetime.date | None = None  # 2330B DTP*573
    payer_claim_control_number: str = ""  # 2330B REF*F8
    benefits_assignment: str = "Y"  # OI03
    release_of_information: str = "Y"  # OI06


@dataclass(kw_only=True)
class Claim:
    """2300 CLM, with the provider, subscriber, payer and patient it is billed for."""

    billing_provider: BillingProvider
    subscriber: Subscriber
    payer: Payer
    patient_control_number: str  # CLM01, comes back as CLP01 on the 835
    total_charge: Decimal
    place_of_service: str
    diagnoses: list[str]  # ICD-10-CM without the dot; the first is the principal one
    service_lines: list[ServiceLine]
    patient: Patient | None = None  # None: the subscriber is the patient
    frequency_code: str = "1"  # 1 original, 7 replacement, 8 void
    provider_signature: str = "Y"  # CLM06
    assignment: str = "A"  # CLM07: A assigned, B lab services only, C not assigned
    benefits_assignment: str = "Y"  # CLM08
    release_of_information: str = "Y"  # CLM09: Y, I informed consent
    payer_claim_control_number: str = ""  # REF*F8, required to replace or void (7/8)
    rendering_provider: RenderingProvider | None = None
    other_payers: list[OtherPayer] = field(default_factory=list)


@dataclass(kw_only=True)
class ProfessionalClaims:
    """One 837P transaction set."""

    reference: str  # BHT03, echoed by the 999 and the 277CA
    created: datetime.datetime
    submitter: Submitter
    receiver: Receiver
    claims: list[Claim]
    purpose: str = "00"  # BHT02: 00 original, 18 reissue
    claim_type: str = "CH"  # BHT06: CH chargeable, RP reporting (encounters)


# --- 835: remittance advice -------------------------------------------------------------------


@dataclass(kw_only=True)
class BankTransfer:
    """BPR06..BPR15 of an ACH payment: routing (ABA) and account numbers."""

    sender_routing: str
    sender_account: str
    receiver_routing: str
    receiver_account: str
    originating_company_id: str = ""  # BPR10


@dataclass(kw_only=True)
class ServicePayment:
    """2110: SVC with its dates, adjustments and remarks."""

    procedure_code: str
    charge: Decimal
    paid: Decimal
    qualifier: str = "HC"
    modifiers: tuple[str, ...] = ()
    revenue_code: str = ""
    units: Decimal | None = None  # SVC05 units paid
    service_date: datetime.date | None = None  # DTM*472, or DTM*150 for a period
    service_date_end: datetime.date | None = None  # DTM*151
    adjustments: list[Adjustment] = field(default_factory=list)
    control_number: str = ""  # REF*6R, the 837 line item control number
    allowed_amount: Decimal | None = None  # AMT*B6
    remark_codes: tuple[str, ...] = ()  # LQ*HE


@dataclass(kw_only=True)
class ClaimPayment:
    """2100: CLP. A reversal (status 22) carries negative amounts."""

    patient_control_number: str  # CLP01 = CLM01 of the claim
    status_code: str  # 1/2/3 processed as primary/secondary/tertiary, 4 denied, 22 reversal ...
    charge: Decimal
    paid: Decimal
    filing_indicator: str  # CLP06
    payer_claim_control_number: str  # CLP07
    patient: Person  # NM1*QC
    patient_responsibility: Decimal | None = None  # CLP05
    facility_type: str = ""  # CLP08 (place of service for professional claims)
    frequency_code: str = ""  # CLP09
    adjustments: list[Adjustment] = field(default_factory=list)
    insured: Person | None = None  # NM1*IL when the insured is not the patient
    statement_from: datetime.date | None = None  # DTM*232
    statement_to: datetime.date | None = None  # DTM*233
    received_date: datetime.date | None = None  # DTM*050
    services: list[ServicePayment] = field(default_factory=list)


@dataclass(kw_only=True)
class ProviderAdjustment:
    """One PLB reason and amount. A positive amount reduces the payment."""

    provider_id: str  # PLB01
    fiscal_period_end: datetime.date  # PLB02
    reason_code: str  # PLB03-1: WO overpayment recovery, L6 interest, 72 authorized return ...
    amount: Decimal
    reference: str = ""  # PLB03-2


@dataclass(kw_only=True)
class Remittance:
    """One ERA: one 835 ST/SE, one payment (or notification) from one payer to one payee."""

    payment_amount: Decimal  # BPR02
    payment_method: str  # BPR04: ACH, CHK, NON (no payment), BOP, FWT
    payment_date: datetime.date | None  # BPR16, or DTM*405 when BPR16 is missing/invalid
    trace_number: str  # TRN02: check or EFT trace number
    payer_id: str  # TRN03
    payer_name: str
    payee_name: str
    payee_id_qualifier: str  # XX NPI, FI tax id, XV plan id
    payee_id: str
    handling_code: str = "I"  # BPR01: I remittance with payment, H notification only ...
    credit_debit: str = "C"
    payment_format: str = ""  # BPR05: CCP, CTX
    bank: BankTransfer | None = None
    production_date: datetime.date | None = None  # DTM*405
    payer_address: Address | None = None
    payer_contact: Contact | None = None  # PER*BL, the payer's technical contact
    payee_address: Address | None = None
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list, compare=False)

    @property
    def era_id(self) -> tuple[str, str, str]:
        """(payer id, TRN02, payee id): TRN02 is unique only within one payer and payee."""
        return (self.payer_id, self.trace_number, self.payee_id)

    @property
    def payee_npi(self) -> str:
        return self.payee_id if self.payee_id_qualifier == "XX" else ""

    @property
    def payee_tax_id(self) -> str:
        return self.payee_id if self.payee_id_qualifier == "FI" else ""

    @property
    def is_notification(self) -> bool:
        """A zero-pay notification (BPR01 H / method NON): adjudications, no money moves."""
        return self.handling_code == "H" or self.payment_method == "NON"


# --- 999: implementation acknowledgment -------------------------------------------------------


@dataclass(kw_only=True)
class ElementNote:
    """IK4: an element in error."""

    position: int  # IK401-1
    error_code: str  # IK403
    component: int | None = None  # IK401-2
    reference_number: str = ""  # IK402
    bad_value: str = ""  # IK404


@dataclass(kw_only=True)
class SegmentNote:
    """IK3: a segment in error, with its element notes."""

    segment_id: str
    position: int  # IK302: position in the transaction set, ST = 1
    loop_id: str = ""
    error_code: str = ""  # IK304
    elements: list[ElementNote] = field(default_factory=list)


@dataclass(kw_only=True)
class TransactionAck:
    """AK2..IK5: the verdict on one transaction set of the acknowledged group."""

    transaction_set: str  # AK201, e.g. 837
    control_number: str  # AK202 = ST02 of that transaction set
    status: str  # IK501: A accepted, E accepted with errors, R rejected ...
    version: str = ""  # AK203
    error_codes: tuple[str, ...] = ()  # IK502..IK506
    segment_errors: list[SegmentNote] = field(default_factory=list)


@dataclass(kw_only=True)
class ImplementationAck:
    """One 999 transaction set: the acknowledgment of one functional group."""

    functional_id: str  # AK101, e.g. HC
    group_control_number: int  # AK102 = GS06 of the acknowledged group
    version: str  # AK103
    status: str  # AK901: A, E, P partially accepted, R rejected ...
    transaction_count: int  # AK902
    received_count: int  # AK903
    accepted_count: int  # AK904
    transactions: list[TransactionAck] = field(default_factory=list)
    error_codes: tuple[str, ...] = ()  # AK905..AK909


# --- 277 / 277CA: claim status ----------------------------------------------------------------


@dataclass(kw_only=True)
class Status:
    """STC01 (category:code:entity) and what comes with it."""

    category: str  # A1 received, A2 accepted, A3/A7 rejected, F0..F4 finalized, P1..P5 pending
    code: str
    entity: str = ""
    effective_date: datetime.date | None = None  # STC02
    action_code: str = ""  # STC03 (277CA): WQ accepted, U rejected
    charge: Decimal | None = None  # STC04
    paid: Decimal | None = None  # STC05
    message: str = ""  # STC12


@dataclass(kw_only=True)
class ClaimAck:
    """277CA 2000D/2200D: one claim of the acknowledged file."""

    patient: Person
    patient_control_number: str  # TRN02 = CLM01
    statuses: list[Status]
    service_date: datetime.date
    service_date_end: datetime.date | None = None
    payer_claim_control_number: str = ""  # REF*1K
    clearinghouse_trace: str = ""  # REF*D9


@dataclass(kw_only=True)
class ProviderAck:
    """277CA 2000C/2200C: a billing provider and its claims.

    Provider-level statuses carry no STC02 date: pyx12's X214 map marks it unused.
    """

    provider: Party
    trace_number: str  # TRN*1 of 2200C
    statuses: list[Status]
    claims: list[ClaimAck] = field(default_factory=list)
    accepted_quantity: int | None = None  # QTY*QA
    rejected_quantity: int | None = None  # QTY*QC
    accepted_amount: Decimal | None = None  # AMT*YU
    rejected_amount: Decimal | None = None  # AMT*YY


@dataclass(kw_only=True)
class ClaimAcknowledgment:
    """One 277CA (005010X214) transaction set."""

    reference: str  # BHT03
    created: datetime.datetime
    source: Party  # 2100A information source (NM101 AY clearinghouse or PR payer)
    receipt_trace: str  # 2200A TRN02
    received_date: datetime.date  # DTP*050
    processed_date: datetime.date  # DTP*009
    receiver: Party  # 2100B information receiver (the submitter), qualifier 46
    batch_trace: str  # 2200B TRN02: the 837's BHT03
    receiver_statuses: list[Status]
    providers: list[ProviderAck] = field(default_factory=list)
    source_entity: str = "AY"  # NM101 of 2100A: AY clearinghouse, PR payer
    accepted_quantity: int | None = None  # QTY*90
    rejected_quantity: int | None = None  # QTY*AA
    accepted_amount: Decimal | None = None  # AMT*YU
    rejected_amount: Decimal | None = None  # AMT*YY


# --- 276 / 277 (X212): claim status inquiry and response --------------------------------------


@dataclass(kw_only=True)
class ServiceInquiry:
    """2210D/E in a 276, 2220D/E in a 277: one service line of the claim."""

    procedure_code: str
    charge: Decimal
    qualifier: str = "HC"
    modifiers: tuple[str, ...] = ()
    paid: Decimal | None = None  # 277 only
    revenue_code: str = ""
    units: Decimal | None = None  # SVC07
    control_number: str = ""  # REF*FJ
    service_date: datetime.date | None = None
    service_date_end: datetime.date | None = None
    statuses: list[Status] = field(default_factory=list)  # 277 only


@dataclass(kw_only=True)
class ClaimInquiry:
    """One claim asked about (276) or answered (277): a TRN with its references and dates."""

    subscriber: Member
    trace_number: str  # TRN02: the 276's TRN*1, echoed as TRN*2 in the 277
    patient: Member | None = None  # the dependent (2000E), when not the subscriber
    payer_claim_control_number: str = ""  # REF*1K
    bill_type: str = ""  # REF*BLT (institutional)
    patient_control_number: str = ""  # REF*EJ = CLM01
    charge: Decimal | None = None  # AMT*T3 (276)
    service_date: datetime.date | None = None
    service_date_end: datetime.date | None = None
    statuses: list[Status] = field(default_factory=list)  # 277 only
    services: list[ServiceInquiry] = field(default_factory=list)


@dataclass(kw_only=True)
class ProviderClaims:
    """2000C: a service provider and the claims asked about or answered for it."""

    provider: Party
    claims: list[ClaimInquiry] = field(default_factory=list)
    trace_number: str = ""  # 277: provider-level TRN*1, when the provider itself is answered
    statuses: list[Status] = field(default_factory=list)  # 277: provider-level STC


@dataclass(kw_only=True)
class ClaimStatusExchange:
    """One 276 request or 277 (005010X212) response transaction set."""

    reference: str  # BHT03
    created: datetime.datetime
    payer: Party  # 2100A, qualifier PI
    receiver: Party  # 2100B information receiver, qualifier 46
    providers: list[ProviderClaims]


# --- 270 / 271: eligibility -------------------------------------------------------------------


@dataclass(kw_only=True)
class Benefit:
    """EB with its MSG lines."""

    code: str  # EB01: 1 active coverage, 6 inactive, A co-insurance, B co-payment, C deductible
    coverage_level: str = ""  # EB02: IND, FAM ...
    service_types: tuple[str, ...] = ()  # EB03, repeated
    insurance_type: str = ""  # EB04
    plan_description: str = ""  # EB05
    time_period: str = ""  # EB06
    amount: Decimal | None = None  # EB07
    percent: Decimal | None = None  # EB08
    quantity_qualifier: str = ""  # EB09
    quantity: Decimal | None = None  # EB10
    authorization_required: str = ""  # EB11: Y, N, U
    in_network: str = ""  # EB12: Y, N, U, W
    messages: tuple[str, ...] = ()  # MSG01


@dataclass(kw_only=True)
class RequestError:
    """AAA: why a part of the request could not be answered."""

    reason: str  # AAA03: 72 invalid member id, 75 subscriber not found, 42 unable to respond ...
    follow_up: str = ""  # AAA04: C please correct and resubmit, N resubmission not allowed ...
    valid: str = "N"  # AAA01


@dataclass(kw_only=True)
class EligibilityInquiry:
    """One question of a 270 (2000C, or 2000D for a dependent), or its answer in a 271."""

    subscriber: Member
    trace_number: str  # TRN02
    trace_originator: str  # TRN03: '1' + EIN, or '9' + an id of the provider's choice
    dependent: Member | None = None
    service_date: datetime.date | None = None  # DTP*291 (270)
    service_types: tuple[str, ...] = ("30",)  # EQ01 (270)
    eligibility_begin: datetime.date | None = None  # DTP*346 (271)
    eligibility_end: datetime.date | None = None  # DTP*347 (271)
    benefits: list[Benefit] = field(default_factory=list)  # 271
    errors: list[RequestError] = field(default_factory=list)  # 271 AAA


@dataclass(kw_only=True)
class Eligibility:
    """One 270 request or 271 response transaction set."""

    reference: str  # BHT03
    created: datetime.datetime
    payer: Party  # 2100A information source, qualifier PI
    provider: Party  # 2100B information receiver, qualifier XX
    inquiries: list[EligibilityInquiry]
    payer_errors: list[RequestError] = field(default_factory=list)  # 271 2100A AAA
    provider_errors: list[RequestError] = field(default_factory=list)  # 271 2100B AAA


# --- 278: services review (prior authorization) -----------------------------------------------


@dataclass(kw_only=True)
class ReviewDecision:
    """HCR: A1 certified in total, A2 partial, A3 not certified, A4 pended, A6 modified ..."""

    action: str
    certification_number: str = ""  # HCR02
    reason: str = ""  # HCR03


@dataclass(kw_only=True)
class ReviewService:
    """2000F: one requested professional service (SV1)."""

    procedure_code: str
    units: Decimal = Decimal(1)
    modifiers: tuple[str, ...] = ()
    charge: Decimal | None = None
    service_date: datetime.date | None = None  # DTP*472
    service_date_end: datetime.date | None = None
    decision: ReviewDecision | None = None  # responses


@dataclass(kw_only=True)
class ServiceReview:
    """One 278 (005010X217) request, or the response to it (`decision` set)."""

    reference: str  # BHT03
    created: datetime.datetime
    umo: Party  # 2010A utilization management organization (the payer)
    requester: Party  # 2010B, qualifier XX
    subscriber: Member
    trace_number: str  # 2000E TRN02
    trace_originator: str  # TRN03
    service_type: str  # UM03: 1 medical care, 2 surgical, 3 consultation ...
    diagnoses: list[str]
    services: list[ReviewService]
    dependent: Member | None = None
    request_category: str = "HS"  # UM01: HS health services review, SC specialty care, AR admission
    certification_type: str = "I"  # UM02: I initial, R renewal, S revised, 3 cancel, 4 extension
    place_of_service: str = ""  # UM04-1
    event_date: datetime.date | None = None  # DTP*AAH
    event_date_end: datetime.date | None = None
    service_provider: Party | None = None  # 2010EA NM1*SJ
    decision: ReviewDecision | None = None  # HCR of 2000E, responses only

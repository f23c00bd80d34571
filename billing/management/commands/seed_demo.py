"""`manage.py seed_demo`: two demo practices with a year and a half of billing history.

Everything comes from fixed seeds (`random.Random` and Faker) and dates relative to today,
so two fresh databases seeded on the same day hold the same rows. Running it again adds
nothing: an organization that already has payers or patients keeps what it has, and only
the demo users, their passwords and memberships are brought back in line.

Each organization's rows are written inside its own `tenant_context`, one organization
at a time, with `bulk_create` (a fresh SQLite database takes a few seconds).
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from faker import Faker

from billing.models import (
    Appointment,
    Charge,
    Claim,
    ClaimStatusChange,
    Coverage,
    Employer,
    Encounter,
    LedgerEntry,
    Membership,
    Organization,
    Patient,
    Payer,
    PlaceOfService,
    Provider,
    Role,
    Sex,
    User,
)
from billing.permissions import BILLING_CLERK_ROLE, BILLING_MANAGER_ROLE, ORG_ADMIN_ROLE
from billing.roles import builtin_role
from billing.tenancy import tenant_context
from billing.validators import npi_check_digit_ok

PASSWORD = "demo"
CENT = Decimal("0.01")
HISTORY_DAYS = 547  # about 18 months of encounters, ending yesterday
LOGIN_LINE = "Log in as admin, manager, clerk or other (password: demo)"

MEDICARE, MEDICAID, COMMERCIAL, MILITARY, SUPPLEMENT = (
    "medicare",
    "medicaid",
    "commercial",
    "military",
    "supplement",
)
FILING_INDICATOR = {
    MEDICARE: Payer.FilingIndicator.MEDICARE_B,
    MEDICAID: Payer.FilingIndicator.MEDICAID,
    COMMERCIAL: Payer.FilingIndicator.COMMERCIAL,
    MILITARY: Payer.FilingIndicator.TRICARE,
    SUPPLEMENT: Payer.FilingIndicator.COMMERCIAL,
}
ADVANTAGE_PAYERS = ("61101", "14163", "60054", "87726")  # sell Medicare Advantage plans


def npi_from_stem(stem: str) -> str:
    """The NPI made of a 9-digit stem and the check digit that fits it."""
    for digit in "0123456789":
        if npi_check_digit_ok(stem + digit):
            return stem + digit
    raise AssertionError("unreachable: exactly one check digit fits every stem")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def share(total: Decimal, low: int, high: int, rng: random.Random) -> Decimal:
    """A random share of `total` between low and high per mille, to the cent."""
    return money(total * rng.randint(low, high) / 1000)


# --- what the two practices look like -------------------------------------------------


@dataclass(frozen=True)
class PayerSpec:
    payer_id: str
    name: str
    plan: str
    member_id: str
    weight: int

    @classmethod
    def of(cls, payer_id: str, weight: int) -> PayerSpec:
        name, plan, member_id = PAYERS[payer_id]
        return cls(payer_id, name, plan, member_id, weight)


@dataclass(frozen=True)
class ProviderSpec:
    credential: str
    taxonomy_code: str
    sex: str
    role: str  # what the visit builders assign to them: "pcp", "surgeon", "therapist"...


@dataclass(frozen=True)
class Practice:
    slug: str
    name: str
    time_zone: str
    npi_stem: str
    tax_id: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    zip_code: str
    phone: str
    employer_collections_enabled: bool
    prefix: str  # account numbers DFP000001, claim numbers DFP-C000001
    seed: int
    specialty: str  # "primary_care" or "orthopedics"
    payers: tuple[tuple[str, int], ...]  # (payer id, weight)
    providers: tuple[ProviderSpec, ...]
    provider_npi_stems: tuple[str, ...]
    towns: tuple[tuple[str, str, str], ...]  # (city, state, ZIP) near the practice
    area_codes: tuple[str, ...]
    employers: tuple[tuple[str, bool], ...]  # (name, is_tpa)
    patients: int
    encounters: int
    future_appointments: int


# payer id: (name, kind of plan, member id pattern for Faker's bothify; "MBI" for Medicare)
PAYERS = {
    "60054": ("Aetna", COMMERCIAL, "W#########"),
    "87726": ("UnitedHealthcare", COMMERCIAL, "9########"),
    "62308": ("Cigna", COMMERCIAL, "U########01"),
    "61101": ("Humana", COMMERCIAL, "H########"),
    "47198": ("Anthem Blue Cross of California", COMMERCIAL, "XEA#########"),
    "84980": ("Blue Cross Blue Shield of Texas", COMMERCIAL, "ZGP#########"),
    "00621": ("Blue Cross Blue Shield of Illinois", COMMERCIAL, "XOF#########"),
    "94036": ("Blue Shield of California", COMMERCIAL, "XEB#########"),
    "00590": ("Florida Blue", COMMERCIAL, "H#########"),
    "54771": ("Highmark Blue Cross Blue Shield", COMMERCIAL, "YKH#########"),
    "12502": ("Medicare Part B - Novitas Solutions (JL)", MEDICARE, "MBI"),
    "01112": ("Medicare Part B - Noridian (JE)", MEDICARE, "MBI"),
    "06102": ("Medicare Part B - NGS (J6 Illinois)", MEDICARE, "MBI"),
    "617591011CMSP": ("Texas Medicaid (TMHP)", MEDICAID, "#########"),
    "20554": ("Molina Healthcare of Texas", MEDICAID, "1########"),
    "68069": ("Ambetter (Centene)", COMMERCIAL, "U7#######"),
    "14163": ("WellCare", COMMERCIAL, "########"),
    "57106": ("TRICARE East", MILITARY, "###########"),
    "06111": ("Oxford Health Plans", COMMERCIAL, "########01"),
    "39026": ("UMR", COMMERCIAL, "########"),
    "41124": ("Meritain Health", COMMERCIAL, "M#########"),
    "44054": ("GEHA", COMMERCIAL, "########"),
    "71412": ("Mutual of Omaha", SUPPLEMENT, "#########"),
}
# payer id: claims mailing address (address, city, state, ZIP)
PAYER_ADDRESSES = {
    "60054": ("PO Box 981106", "El Paso", "TX", "79998"),
    "87726": ("PO Box 740800", "Atlanta", "GA", "30374"),
    "62308": ("PO Box 188061", "Chattanooga", "TN", "37422"),
    "61101": ("PO Box 14601", "Lexington", "KY", "40512"),
    "47198": ("PO Box 60007", "Los Angeles", "CA", "90060"),
    "84980": ("PO Box 660044", "Dallas", "TX", "75266"),
    "00621": ("PO Box 805107", "Chicago", "IL", "60680"),
    "94036": ("PO Box 272540", "Chico", "CA", "95927"),
    "00590": ("PO Box 1798", "Jacksonville", "FL", "32231"),
    "54771": ("PO Box 890089", "Camp Hill", "PA", "17089"),
    "12502": ("PO Box 3702", "Mechanicsburg", "PA", "17055"),
    "01112": ("PO Box 6775", "Fargo", "ND", "58108"),
    "06102": ("PO Box 6475", "Indianapolis", "IN", "46206"),
    "617591011CMSP": ("PO Box 200555", "Austin", "TX", "78720"),
    "20554": ("PO Box 22719", "Long Beach", "CA", "90801"),
    "68069": ("PO Box 5010", "Farmington", "MO", "63640"),
    "14163": ("PO Box 31372", "Tampa", "FL", "33631"),
    "57106": ("PO Box 7981", "Madison", "WI", "53707"),
    "06111": ("PO Box 29130", "Hot Springs", "AR", "71903"),
    "39026": ("PO Box 30541", "Salt Lake City", "UT", "84130"),
    "41124": ("PO Box 853921", "Richardson", "TX", "75085"),
    "44054": ("PO Box 21542", "Eagan", "MN", "55121"),
    "71412": ("3300 Mutual of Omaha Plaza", "Omaha", "NE", "68175"),
}

# (payer id, relative share of primary coverages under 65); Medicare by age, supplements
# only as secondary.
DEMO_PAYERS = (
    ("60054", 12),
    ("87726", 12),
    ("62308", 8),
    ("61101", 4),
    ("47198", 1),
    ("84980", 1),
    ("00621", 1),
    ("94036", 1),
    ("00590", 1),
    ("54771", 14),
    ("12502", 0),
    ("01112", 0),
    ("617591011CMSP", 1),
    ("20554", 1),
    ("68069", 3),
    ("14163", 1),
    ("57106", 2),
    ("06111", 2),
    ("39026", 4),
    ("41124", 2),
    ("44054", 2),
    ("71412", 0),
)
NORTHSIDE_PAYERS = (
    ("00621", 14),
    ("60054", 8),
    ("87726", 8),
    ("62308", 5),
    ("61101", 3),
    ("06102", 0),
    ("39026", 3),
    ("41124", 2),
)

PRACTICES = (
    Practice(
        slug="demo-family-practice",
        name="Demo Family Practice",
        time_zone="America/New_York",
        npi_stem="148729653",
        tax_id="23-4819265",
        address_line1="3705 Trindle Road",
        address_line2="Suite 200",
        city="Camp Hill",
        state="PA",
        zip_code="17011",
        phone="(717) 737-4100",
        employer_collections_enabled=True,
        prefix="DFP",
        seed=20_240_101,
        specialty="primary_care",
        payers=DEMO_PAYERS,
        providers=(
            ProviderSpec("MD", "207Q00000X", "F", "pcp"),  # family medicine
            ProviderSpec("DO", "207R00000X", "M", "pcp"),  # internal medicine
            ProviderSpec("FNP-C", "363LF0000X", "F", "pcp"),  # family nurse practitioner
            ProviderSpec("MD", "208D00000X", "M", "pcp"),  # general practice
            ProviderSpec("PA-C", "363A00000X", "F", "pcp"),  # physician assistant
        ),
        provider_npi_stems=("124578903", "135792468", "146820357", "157913579", "168024681"),
        towns=(
            ("Camp Hill", "PA", "17011"),
            ("Mechanicsburg", "PA", "17050"),
            ("Mechanicsburg", "PA", "17055"),
            ("Harrisburg", "PA", "17109"),
            ("Harrisburg", "PA", "17110"),
            ("Harrisburg", "PA", "17111"),
            ("Harrisburg", "PA", "17112"),
            ("Lemoyne", "PA", "17043"),
            ("New Cumberland", "PA", "17070"),
            ("Enola", "PA", "17025"),
            ("Carlisle", "PA", "17013"),
            ("Hershey", "PA", "17033"),
            ("Hummelstown", "PA", "17036"),
            ("Middletown", "PA", "17057"),
            ("Dillsburg", "PA", "17019"),
            ("Shiremanstown", "PA", "17011"),
        ),
        area_codes=("717", "717", "717", "223"),
        employers=(
            ("Susquehanna Valley Logistics", False),
            ("Keystone Precision Machining", False),
            ("Capital Area Home Health", False),
            ("Cumberland Valley Builders", False),
            ("West Shore Auto Group", False),
            ("Conodoguinet Landscaping", False),
            ("Harrisburg Metro Transit Contractors", False),
            ("Derry Township Food Services", False),
            ("Penn Capital Warehousing", False),
            ("Silver Spring Cold Storage", False),
            ("Yellow Breeches Packaging", False),
            ("Camp Hill Senior Living", False),
            ("Lower Allen Plumbing & Heating", False),
            ("Tri-County Electric Cooperative", False),
            ("Riverfront Hospitality Group", False),
            ("Blue Mountain Trucking", False),
            ("Cedar Cliff Construction", False),
            ("Mechanicsburg Printing Co.", False),
            ("Swatara Steel Fabricators", False),
            ("Hampden Township Public Works", False),
            ("Capital City Security Services", False),
            ("Linglestown Veterinary Hospital", False),
            ("Summerdale Distribution Center", False),
            ("Fort Hunter Restaurants", False),
            ("Paxton Street Recycling", False),
            ("Allen Road Child Care Centers", False),
            ("Keystone Benefit Administrators", True),
            ("Susquehanna Claims Management", True),
            ("Penn-Mar Occupational TPA", True),
            ("Capital Region Benefit Services", True),
        ),
        patients=500,
        encounters=2000,
        future_appointments=90,
    ),
    Practice(
        slug="northside-orthopedics",
        name="Northside Orthopedics",
        time_zone="America/Chicago",
        npi_stem="129384756",
        tax_id="36-5172840",
        address_line1="3150 N Lincoln Avenue",
        address_line2="Suite 300",
        city="Chicago",
        state="IL",
        zip_code="60657",
        phone="(773) 528-6200",
        employer_collections_enabled=False,
        prefix="NSO",
        seed=20_240_202,
        specialty="orthopedics",
        payers=NORTHSIDE_PAYERS,
        providers=(
            ProviderSpec("MD", "207X00000X", "M", "surgeon"),  # orthopaedic surgery
            ProviderSpec("DO", "207XX0005X", "F", "physician"),  # orthopaedic sports medicine
            ProviderSpec("DPT", "225100000X", "F", "therapist"),  # physical therapist
        ),
        provider_npi_stems=("172839405", "183940516", "194051627"),
        towns=(
            ("Chicago", "IL", "60613"),
            ("Chicago", "IL", "60614"),
            ("Chicago", "IL", "60618"),
            ("Chicago", "IL", "60625"),
            ("Chicago", "IL", "60640"),
            ("Chicago", "IL", "60645"),
            ("Chicago", "IL", "60657"),
            ("Chicago", "IL", "60660"),
            ("Evanston", "IL", "60201"),
            ("Evanston", "IL", "60202"),
            ("Skokie", "IL", "60076"),
            ("Lincolnwood", "IL", "60712"),
            ("Park Ridge", "IL", "60068"),
            ("Niles", "IL", "60714"),
            ("Wilmette", "IL", "60091"),
        ),
        area_codes=("773", "773", "312", "872", "847", "224"),
        employers=(
            ("North Shore Freight Lines", False),
            ("Lakeview Builders Group", False),
            ("Ravenswood Brewing Co.", False),
            ("Lincoln Square Restaurant Group", False),
            ("Clark Street Movers", False),
            ("Uptown Hospital Linen Service", False),
            ("Great Lakes Claims Administrators", True),
            ("Midwest Workers' Comp Services", True),
        ),
        patients=80,
        encounters=300,
        future_appointments=30,
    ),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    is_staff: bool
    memberships: tuple[tuple[str, str], ...]  # (organization slug, built-in role), in order


DEMO_USERS = (
    DemoUser(
        "admin",
        "Avery",
        "Collins",
        True,
        (
            ("demo-family-practice", ORG_ADMIN_ROLE),
            ("northside-orthopedics", BILLING_MANAGER_ROLE),
        ),
    ),
    DemoUser(
        "manager", "Monica", "Reyes", False, (("demo-family-practice", BILLING_MANAGER_ROLE),)
    ),
    DemoUser("clerk", "Carl", "Whitfield", False, (("demo-family-practice", BILLING_CLERK_ROLE),)),
    DemoUser("other", "Olivia", "Novak", True, (("northside-orthopedics", ORG_ADMIN_ROLE),)),
)

# Who posts the ledger in each practice (a role with pm.charges.edit there).
POSTED_BY = {"demo-family-practice": "manager", "northside-orthopedics": "admin"}


# --- clinical content ------------------------------------------------------------------

FEES = {
    # evaluation and management
    "99203": "190.00",
    "99204": "285.00",
    "99213": "145.00",
    "99214": "210.00",
    "99392": "205.00",
    "99393": "205.00",
    "99394": "225.00",
    "99395": "250.00",
    "99396": "265.00",
    "G0439": "195.00",  # Medicare annual wellness visit, subsequent
    "99455": "165.00",  # work-related examination
    # procedures, tests, immunizations
    "93000": "65.00",
    "36415": "18.00",
    "85025": "32.00",
    "80053": "48.00",
    "80061": "55.00",
    "83036": "38.00",
    "81002": "12.00",
    "87880": "28.00",
    "80305": "45.00",
    "86580": "25.00",
    "90471": "30.00",
    "90686": "45.00",
    "20610": "175.00",
    "J3301": "8.00",  # triamcinolone, per 10 mg
    "97110": "85.00",  # per 15-minute unit
}
ORTHO_FEES = {
    "99203": "230.00",
    "99204": "325.00",
    "99213": "160.00",
    "99214": "235.00",
    "20610": "265.00",
    "J3301": "8.00",
    "73030": "115.00",
    "73562": "140.00",
    "72100": "120.00",
    "29881": "4850.00",
    "97110": "95.00",
}

# (code, probability by age band: under 18, 18-44, 45-64, 65 and over)
CHRONIC = (
    ("I10", (0.0, 0.12, 0.35, 0.60)),
    ("E78.5", (0.0, 0.08, 0.30, 0.45)),
    ("E11.9", (0.0, 0.04, 0.15, 0.25)),
    ("F41.1", (0.03, 0.14, 0.12, 0.06)),
    ("K21.9", (0.01, 0.06, 0.12, 0.12)),
    ("E03.9", (0.0, 0.04, 0.08, 0.12)),
    ("J45.909", (0.09, 0.08, 0.07, 0.05)),
    ("F32.A", (0.02, 0.09, 0.08, 0.06)),
    ("E66.9", (0.05, 0.15, 0.18, 0.12)),
    ("G47.33", (0.0, 0.03, 0.08, 0.08)),
    ("KNEE_OA", (0.0, 0.01, 0.07, 0.18)),
)
ACUTE_ADULT = ("J06.9", "J02.9", "N39.0", "R05.9", "M54.50", "J01.90", "R51.9", "L30.9", "R10.9")
ACUTE_CHILD = ("J06.9", "J02.9", "H66.90", "R05.9", "J01.90", "L30.9", "R50.9")
INJURIES = ("S39.012", "S93.401", "S13.4XX", "S63.501")  # + A initial / D subsequent

APPOINTMENT_REASONS = {
    "follow_up": ("Follow-up", "Chronic care visit", "Medication review", "Lab review"),
    "acute": ("Sick visit", "Cough and congestion", "Sore throat", "Back pain", "Same-day visit"),
    "preventive": ("Annual physical", "Wellness visit", "Well-child check"),
    "new": ("New patient visit", "Establish care"),
    "occupational": ("Pre-employment physical", "Work injury", "Work injury follow-up"),
    "consult": ("New patient consult", "Knee pain", "Shoulder pain", "Back pain"),
    "injection": ("Injection", "Cortisone injection"),
    "therapy": ("Physical therapy",),
    "telehealth": ("Telehealth follow-up", "Video visit"),
}


@dataclass
class ChargePlan:
    code: str
    amount: Decimal
    pointers: list[str]  # diagnosis codes; turned into 1-based positions
    units: int = 1
    modifiers: list[str] = field(default_factory=list)


@dataclass
class PatientPlan:
    patient: Patient
    age: int
    problems: list[str]
    pcp: int  # provider index
    employer: int | None = None  # employer index when they work for one of ours
    primary: Coverage | None = None
    primary_plan: str = COMMERCIAL
    visits: int = 0
    last_preventive: dt.date | None = None
    site: str = ""  # orthopedics: knee, shoulder or back
    side: str = "R"
    had_surgery: bool = False
    injury: str = ""  # occupational: the injury code stem being treated
    injury_seen: bool = False


# --- the command -----------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Load demo data: two practices (Demo Family Practice, Northside Orthopedics) with "
        "payers, providers, patients, encounters, claims and ledgers, and the demo users "
        "admin, manager, clerk and other (password 'demo'). Idempotent; refuses to run "
        "with DEBUG off unless --force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (the demo users all have the password 'demo').",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates users with the password 'demo' and refuses to run with "
                "DEBUG off. Set DEBUG=1, or pass --force if you really mean this database."
            )
        try:
            roles = {
                name: builtin_role(name)
                for name in (ORG_ADMIN_ROLE, BILLING_MANAGER_ROLE, BILLING_CLERK_ROLE)
            }
        except Role.DoesNotExist as exc:
            raise CommandError(
                "The built-in roles are missing: run `manage.py migrate` first."
            ) from exc

        with transaction.atomic():
            organizations = {spec.slug: self.ensure_organization(spec) for spec in PRACTICES}
            users = self.ensure_users(organizations, roles)

        for spec in PRACTICES:
            organization = organizations[spec.slug]
            with tenant_context(organization):
                if Payer.objects.for_organization(organization).exists() or (
                    Patient.objects.for_organization(organization).exists()
                ):
                    self.stdout.write(f"{organization.name}: demo data already there, skipped.")
                    continue
                OrganizationSeeder(spec, organization, users[POSTED_BY[spec.slug]]).run()

        # Feature apps add their own demo data (clearinghouses, enrollments, ...) through a
        # `demo.seed_organization(organization, actor)` of theirs; each is idempotent.
        for app in apps.get_app_configs():
            try:
                demo = importlib.import_module(f"{app.name}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{app.name}.demo":
                    raise
                continue
            for spec in PRACTICES:
                organization = organizations[spec.slug]
                with tenant_context(organization):
                    note = demo.seed_organization(organization, users[POSTED_BY[spec.slug]])
                if note:
                    self.stdout.write(f"{organization.name}: {note}")

        self.stdout.write("")
        for spec in PRACTICES:
            organization = organizations[spec.slug]
            with tenant_context(organization):
                self.stdout.write(self.summary(organization))
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(LOGIN_LINE))

    def go_live(self, time_zone: str) -> dt.datetime:
        """When the demo practices started using the system: before all their history."""
        day = timezone.localdate() - dt.timedelta(days=HISTORY_DAYS + 120)
        return dt.datetime(day.year, day.month, day.day, 9, tzinfo=ZoneInfo(time_zone))

    def ensure_organization(self, spec: Practice) -> Organization:
        organization, _ = Organization.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "created_at": self.go_live(spec.time_zone),
                "name": spec.name,
                "time_zone": spec.time_zone,
                "billing_npi": npi_from_stem(spec.npi_stem),
                "tax_id": spec.tax_id,
                "address_line1": spec.address_line1,
                "address_line2": spec.address_line2,
                "city": spec.city,
                "state": spec.state,
                "zip_code": spec.zip_code,
                "phone": spec.phone,
                "employer_collections_enabled": spec.employer_collections_enabled,
            },
        )
        return organization

    def ensure_users(
        self, organizations: dict[str, Organization], roles: dict[str, Role]
    ) -> dict[str, User]:
        users = {}
        for spec in DEMO_USERS:
            first_organization = organizations[spec.memberships[0][0]]
            user, created = User.objects.get_or_create(
                username=spec.username,
                defaults={"date_joined": self.go_live(first_organization.time_zone)},
            )
            user.first_name = spec.first_name
            user.last_name = spec.last_name
            user.email = f"{spec.username}@example.com"
            user.is_staff = spec.is_staff
            user.is_superuser = False
            user.is_active = True
            user.last_organization = first_organization
            if created or not user.check_password(PASSWORD):  # hashing is slow: hash once
                user.set_password(PASSWORD)
            user.save()
            for slug, role_name in spec.memberships:
                organization = organizations[slug]
                Membership.objects.update_or_create(
                    user=user,
                    organization=organization,
                    defaults={"role": roles[role_name]},
                    create_defaults={
                        "role": roles[role_name],
                        "created_at": self.go_live(organization.time_zone),
                    },
                )
            users[spec.username] = user
        return users

    def summary(self, organization: Organization) -> str:
        def count(model) -> int:
            return model.objects.for_organization(organization).count()

        charges = Counter(
            Charge.objects.for_organization(organization).values_list("status", flat=True)
        )
        claims = Counter(
            Claim.objects.for_organization(organization).values_list("status", flat=True)
        )
        return (
            f"{organization.name}: {count(Payer)} payers, {count(Provider)} providers, "
            f"{count(Patient)} patients, {count(Coverage)} coverages, "
            f"{count(Employer)} employers, {count(Appointment)} appointments, "
            f"{count(Encounter)} encounters, {sum(charges.values())} charges "
            f"({', '.join(f'{n} {s}' for s, n in sorted(charges.items()))}), "
            f"{sum(claims.values())} claims "
            f"({', '.join(f'{n} {s}' for s, n in sorted(claims.items()))}), "
            f"{count(ClaimStatusChange)} claim status changes, "
            f"{count(LedgerEntry)} ledger entries."
        )


class OrganizationSeeder:
    """Generates one practice's data in memory, then writes it with bulk_create."""

    def __init__(self, spec: Practice, organization: Organization, poster: User) -> None:
        self.spec = spec
        self.org = organization
        self.poster = poster
        self.rng = random.Random(spec.seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(spec.seed)
        self.tz = ZoneInfo(spec.time_zone)
        self.today = timezone.localdate()
        # History ends at close of business yesterday: nothing depends on the time of day,
        # so two databases seeded on the same day get the same rows.
        self.cutoff = self.at(self.today - dt.timedelta(days=1), 18)
        self.fees = ORTHO_FEES if spec.specialty == "orthopedics" else FEES
        self.booked: set[tuple[int, dt.datetime]] = set()

    # --- small helpers ---

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)

    def clamp(self, moment: dt.datetime) -> dt.datetime:
        return min(moment, self.cutoff)

    def later(self, start: dt.datetime, min_days: int, max_days: int) -> dt.datetime:
        """A business-hours moment min..max days after start, never after the cutoff."""
        day = (start + dt.timedelta(days=self.rng.randint(min_days, max_days))).astimezone(self.tz)
        moment = self.at(day.date(), self.rng.randint(8, 17), self.rng.randrange(0, 60))
        return self.clamp(max(moment, start))

    def phone(self) -> str:
        area = self.rng.choice(self.spec.area_codes)
        return f"({area}) {self.rng.randint(201, 989)}-{self.rng.randint(0, 9999):04d}"

    def street(self) -> tuple[str, str]:
        line1 = f"{self.fake.building_number()} {self.fake.street_name()}"[:55]
        line2 = self.fake.secondary_address()[:55] if self.rng.random() < 0.15 else ""
        return line1, line2

    def place(self) -> tuple[str, str, str]:
        if self.rng.random() < 0.04:  # a few patients from out of the area
            state = self.fake.state_abbr(
                include_territories=False, include_freely_associated_states=False
            )
            return self.fake.city()[:30], state, self.fake.zipcode_in_state(state)
        return self.rng.choice(self.spec.towns)

    def fee(self, code: str, units: int = 1) -> Decimal:
        return money(Decimal(self.fees[code]) * units)

    def charge(self, code: str, pointers: list[str], units: int = 1, modifiers=None) -> ChargePlan:
        return ChargePlan(code, self.fee(code, units), pointers, units, list(modifiers or []))

    # --- the run ---

    def run(self) -> None:
        self.make_payers()
        self.make_providers()
        self.make_employers()
        self.make_patients()
        self.make_coverages()
        self.make_encounters()
        self.make_other_appointments()
        self.write()

    def make_payers(self) -> None:
        specs = [PayerSpec.of(payer_id, weight) for payer_id, weight in self.spec.payers]
        payers = []
        for spec in specs:
            line1, city, state, zip_code = PAYER_ADDRESSES[spec.payer_id]
            payers.append(
                Payer(
                    organization=self.org,
                    name=spec.name,
                    payer_id=spec.payer_id,
                    claim_filing_indicator=FILING_INDICATOR[spec.plan],
                    address_line1=line1,
                    city=city,
                    state=state,
                    zip_code=zip_code,
                    phone=f"(800) {self.rng.randint(200, 989)}-{self.rng.randint(0, 9999):04d}",
                )
            )
        self.payers = Payer.objects.bulk_create(payers)
        self.payer_specs = dict(zip(self.payers, specs, strict=True))
        self.groups = {
            payer.pk: [
                self.fake.bothify(self.rng.choice(("######", "0#####-###", "??####"))).upper()
                for _ in range(self.rng.randint(3, 7))
            ]
            for payer in self.payers
        }

    def make_providers(self) -> None:
        providers = []
        for spec, stem in zip(self.spec.providers, self.spec.provider_npi_stems, strict=True):
            first = (
                self.fake.first_name_female() if spec.sex == "F" else self.fake.first_name_male()
            )
            providers.append(
                Provider(
                    organization=self.org,
                    first_name=first,
                    last_name=self.fake.last_name(),
                    credential=spec.credential,
                    npi=npi_from_stem(stem),
                    taxonomy_code=spec.taxonomy_code,
                )
            )
        self.providers = Provider.objects.bulk_create(providers)
        self.provider_roles = [spec.role for spec in self.spec.providers]

    def make_employers(self) -> None:
        employers = []
        for number, (name, is_tpa) in enumerate(self.spec.employers, start=1):
            city, state, zip_code = self.rng.choice(self.spec.towns)
            line1, _ = self.street()
            first, last = self.fake.first_name(), self.fake.last_name()
            domain = "".join(ch for ch in name.lower() if ch.isalnum())[:40]
            employers.append(
                Employer(
                    organization=self.org,
                    guarantor_id=f"EMP{number:04d}",
                    name=name,
                    is_tpa=is_tpa,
                    contact_name=f"{first} {last}",
                    phone=self.phone(),
                    email=f"{first[0]}{last}@{domain}.example".lower().replace("'", ""),
                    address_line1=line1,
                    address_line2=self.rng.choice(
                        ("", "", "Suite 100", "Floor 2", "Attn: Accounts Payable")
                    ),
                    city=city,
                    state=state,
                    zip_code=zip_code,
                )
            )
        self.employers = Employer.objects.bulk_create(employers)
        # A few big employers send most of the work; TPAs handle several clients each.
        self.employer_weights = [
            (6 if emp.is_tpa else 1) + (4 if i < 5 else 0) for i, emp in enumerate(self.employers)
        ]

    def make_patients(self) -> None:
        ortho = self.spec.specialty == "orthopedics"
        plans = []
        for number in range(1, self.spec.patients + 1):
            sex = self.rng.choices((Sex.FEMALE, Sex.MALE, Sex.UNKNOWN), weights=(52, 47, 1))[0]
            if sex == Sex.FEMALE:
                first = self.fake.first_name_female()
            elif sex == Sex.MALE:
                first = self.fake.first_name_male()
            else:
                first = self.fake.first_name()
            last = self.fake.last_name()
            if ortho:
                age = self.rng.choices(
                    (self.rng.randint(16, 39), self.rng.randint(40, 64), self.rng.randint(65, 88)),
                    weights=(20, 45, 35),
                )[0]
            else:
                age = self.rng.choices(
                    (
                        self.rng.randint(2, 17),
                        self.rng.randint(18, 39),
                        self.rng.randint(40, 64),
                        self.rng.randint(65, 94),
                    ),
                    weights=(18, 26, 34, 22),
                )[0]
            birth_date = self.today - dt.timedelta(days=age * 365 + self.rng.randint(1, 360))
            line1, line2 = self.street()
            city, state, zip_code = self.place()
            email = ""
            if self.rng.random() < 0.6 and age >= 16:
                handle = "".join(
                    ch for ch in f"{first}.{last}".lower() if ch.isalnum() or ch == "."
                )
                domain = self.rng.choice(("example.com", "example.net", "example.org"))
                email = f"{handle}{self.rng.randint(1, 99)}@{domain}"
            patient = Patient(
                organization=self.org,
                account_number=f"{self.spec.prefix}{number:06d}",
                first_name=first,
                last_name=last,
                birth_date=birth_date,
                sex=sex,
                address_line1=line1,
                address_line2=line2,
                city=city,
                state=state,
                zip_code=zip_code,
                phone=self.phone(),
                email=email,
                created_at=self.at(
                    self.today - dt.timedelta(days=HISTORY_DAYS + self.rng.randint(10, 900)),
                    self.rng.randint(8, 16),
                    self.rng.randrange(0, 60, 5),
                ),
            )
            band = 0 if age < 18 else 1 if age < 45 else 2 if age < 65 else 3
            problems = []
            if not ortho:
                for code, chances in CHRONIC:
                    if self.rng.random() < chances[band]:
                        if code == "KNEE_OA":
                            code = self.rng.choice(("M17.11", "M17.12"))
                        problems.append(code)
            plan = PatientPlan(
                patient=patient,
                age=age,
                problems=problems,
                pcp=self.rng.choices(
                    range(len(self.spec.providers)),
                    weights=(5, 4, 3, 3, 2)[: len(self.spec.providers)],
                )[0],
            )
            if ortho:
                self.orthopedic_problems(plan)
            if 18 <= age < 65 and self.rng.random() < 0.3:
                plan.employer = self.rng.choices(
                    range(len(self.employers)), weights=self.employer_weights
                )[0]
            plans.append(plan)
        Patient.objects.bulk_create([plan.patient for plan in plans])
        self.patients = plans

    # --- coverages ---

    def member_id(self, spec: PayerSpec) -> str:
        if spec.member_id == "MBI":
            # Medicare beneficiary identifier: C A AN N A AN N A A N N (no S L O I B Z)
            letters = "ACDEFGHJKMNPQRTUVWXY"
            alnum = letters + "0123456789"
            r = self.rng
            return "".join(
                (
                    str(r.randint(1, 9)),
                    r.choice(letters),
                    r.choice(alnum),
                    str(r.randint(0, 9)),
                    r.choice(letters),
                    r.choice(alnum),
                    str(r.randint(0, 9)),
                    r.choice(letters),
                    r.choice(letters),
                    str(r.randint(0, 9)),
                    str(r.randint(0, 9)),
                )
            )
        return self.fake.bothify(spec.member_id).upper()

    def pick_primary(self, plan: PatientPlan) -> Payer:
        by_plan = {p: s.plan for p, s in self.payer_specs.items()}
        if plan.age >= 65:
            medicare = [p for p in self.payers if by_plan[p] == MEDICARE]
            advantage = [p for p in self.payers if p.payer_id in ADVANTAGE_PAYERS]
            roll = self.rng.random()
            if roll < 0.62 or not advantage:
                return (
                    medicare[0] if self.rng.random() < 0.96 or len(medicare) == 1 else medicare[1]
                )
            if roll < 0.94:
                return self.rng.choice(advantage)
        candidates = [p for p in self.payers if self.payer_specs[p].weight > 0]
        weights = [self.payer_specs[p].weight for p in candidates]
        if plan.age < 18:  # children: more Medicaid and CHIP-style plans
            weights = [
                w * (4 if self.payer_specs[p].plan == MEDICAID else 1)
                for p, w in zip(candidates, weights, strict=True)
            ]
        return self.rng.choices(candidates, weights=weights)[0]

    def pick_secondary(self, plan: PatientPlan, primary: Payer) -> Payer | None:
        primary_kind = self.payer_specs[primary].plan
        if primary_kind == MEDICARE:
            if self.rng.random() > 0.55:
                return None
            supplements = [p for p in self.payers if self.payer_specs[p].plan == SUPPLEMENT]
            commercial = [
                p
                for p in self.payers
                if self.payer_specs[p].plan == COMMERCIAL and p.payer_id not in ADVANTAGE_PAYERS[:2]
            ]
            return self.rng.choice(supplements or commercial)
        if primary_kind == MEDICAID or self.rng.random() > 0.2:
            return None
        others = [
            p
            for p in self.payers
            if p != primary and self.payer_specs[p].plan in (COMMERCIAL, MILITARY)
        ]
        weights = [self.payer_specs[p].weight or 1 for p in others]
        return self.rng.choices(others, weights=weights)[0]

    def coverage(self, plan: PatientPlan, payer: Payer, order: int, earliest: dt.date) -> Coverage:
        spec = self.payer_specs[payer]
        patient = plan.patient
        relationship = Coverage.Relationship.SELF
        sub_first, sub_last, sub_birth = patient.first_name, patient.last_name, patient.birth_date
        if spec.plan in (COMMERCIAL, MILITARY, SUPPLEMENT):
            if plan.age < 18 or (plan.age < 26 and self.rng.random() < 0.5):
                relationship = Coverage.Relationship.CHILD
                parent_female = self.rng.random() < 0.5
                sub_first = (
                    self.fake.first_name_female() if parent_female else self.fake.first_name_male()
                )
                sub_birth = patient.birth_date - dt.timedelta(
                    days=self.rng.randint(22 * 365, 38 * 365)
                )
            elif plan.age < 65 and self.rng.random() < 0.12:
                relationship = Coverage.Relationship.SPOUSE
                sub_first = (
                    self.fake.first_name_male()
                    if patient.sex == Sex.FEMALE
                    else self.fake.first_name_female()
                )
                sub_birth = patient.birth_date + dt.timedelta(
                    days=self.rng.randint(-6 * 365, 6 * 365)
                )
            elif self.rng.random() < 0.01:
                relationship = Coverage.Relationship.OTHER
                sub_first, sub_last = self.fake.first_name(), self.fake.last_name()
                sub_birth = patient.birth_date - dt.timedelta(
                    days=self.rng.randint(10 * 365, 30 * 365)
                )
        year = self.rng.randint(earliest.year - 5, earliest.year)
        effective_from = min(dt.date(year, self.rng.choice((1, 1, 1, 4, 7, 10)), 1), earliest)
        effective_from = max(effective_from, patient.birth_date)
        group = ""
        if spec.plan in (COMMERCIAL, SUPPLEMENT):
            group = self.rng.choice(self.groups[payer.pk])
        return Coverage(
            organization=self.org,
            patient=patient,
            payer=payer,
            member_id=self.member_id(spec),
            group_number=group,
            relationship=relationship,
            subscriber_first_name=sub_first,
            subscriber_last_name=sub_last,
            subscriber_birth_date=sub_birth,
            order=order,
            effective_from=effective_from,
        )

    def make_coverages(self) -> None:
        earliest = self.today - dt.timedelta(days=HISTORY_DAYS + 30)
        coverages = []
        for plan in self.patients:
            primary = self.pick_primary(plan)
            plan.primary = self.coverage(plan, primary, Coverage.Order.PRIMARY, earliest)
            plan.primary_plan = self.payer_specs[primary].plan
            coverages.append(plan.primary)
            secondary = self.pick_secondary(plan, primary)
            if secondary is not None:
                coverages.append(self.coverage(plan, secondary, Coverage.Order.SECONDARY, earliest))
        self.coverages = Coverage.objects.bulk_create(coverages)

    # --- encounters ---

    def slot(self, provider: int, day: dt.date, minutes: int = 20) -> dt.datetime:
        """A free appointment slot of the provider that day (8:00-16:40, 20-minute grid)."""
        for _ in range(40):
            start = self.at(day, 8) + dt.timedelta(minutes=20 * self.rng.randrange(0, 26))
            if (provider, start) not in self.booked:
                break
        self.booked.add((provider, start))
        if minutes > 20:
            self.booked.add((provider, start + dt.timedelta(minutes=20)))
        return start

    def service_days(self) -> list[dt.date]:
        days = [self.today - dt.timedelta(days=n) for n in range(1, HISTORY_DAYS + 1)]
        return [day for day in days if day.weekday() < 5]

    def make_encounters(self) -> None:
        days = self.service_days()
        employed = [p for p in self.patients if p.employer is not None]
        weights = [1 + len(p.problems) + (p.age >= 65) for p in self.patients]
        picks = []
        for _ in range(self.spec.encounters):
            day = self.rng.choice(days)
            occupational = bool(employed) and self.rng.random() < 0.15
            plan = (
                self.rng.choice(employed)
                if occupational
                else self.rng.choices(self.patients, weights=weights)[0]
            )
            picks.append((day, plan, occupational))
        picks.sort(key=lambda pick: (pick[0], pick[1].patient.account_number))

        # (encounter, its appointment or None, [ChargePlan], occupational, patient plan)
        self.encounter_rows = []
        for day, plan, occupational in picks:
            if self.spec.specialty == "orthopedics":
                visit = self.ortho_visit(plan, day, occupational)
            else:
                visit = self.primary_care_visit(plan, day, occupational)
            kind, diagnoses, charges, place, provider = visit
            plan.visits += 1
            encounter = Encounter(
                organization=self.org,
                patient=plan.patient,
                provider=self.providers[provider],
                date_of_service=day,
                place_of_service=place,
                guarantor_employer=self.employers[plan.employer] if occupational else None,
                diagnosis_codes=diagnoses,
            )
            appointment = None
            if place != PlaceOfService.ASC and self.rng.random() < 0.88:
                duration = 40 if kind in ("new", "preventive", "consult") else 20
                start = self.slot(provider, day, duration)
                appointment = Appointment(
                    organization=self.org,
                    patient=plan.patient,
                    provider=self.providers[provider],
                    scheduled_at=start,
                    duration_minutes=duration,
                    reason=self.rng.choice(
                        APPOINTMENT_REASONS[
                            "telehealth" if place == PlaceOfService.TELEHEALTH else kind
                        ]
                    ),
                    status=Appointment.Status.COMPLETED,
                )
                encounter.appointment = appointment
                encounter.created_at = start + dt.timedelta(
                    minutes=duration + self.rng.randint(1, 90)
                )
            else:
                encounter.created_at = self.at(
                    day, self.rng.randint(8, 17), self.rng.randrange(0, 60)
                )
            self.encounter_rows.append((encounter, appointment, charges, occupational, plan))

    def pointers(self, diagnoses: list[str], wanted: list[str]) -> list[int]:
        positions = []
        for code in wanted:
            if code in diagnoses and diagnoses.index(code) + 1 not in positions:
                positions.append(diagnoses.index(code) + 1)
        return positions[:4] or [1]

    def primary_care_visit(self, plan: PatientPlan, day: dt.date, occupational: bool):
        rng = self.rng
        provider = plan.pcp if rng.random() < 0.8 else rng.randrange(len(self.providers))
        place = PlaceOfService.OFFICE
        if occupational:
            return self.occupational_visit(plan, provider)
        first_visit = plan.visits == 0 and rng.random() < 0.35
        preventive_due = plan.last_preventive is None or (day - plan.last_preventive).days > 330
        options = ["acute", "follow_up", "preventive"]
        weights = [30, 55 if plan.problems else 0, 18 if preventive_due else 0]
        kind = "new" if first_visit else rng.choices(options, weights=weights)[0]
        flu_season = day.month in (9, 10, 11, 12, 1, 2, 3)
        diagnoses: list[str] = []
        charges: list[ChargePlan] = []

        if kind == "preventive":
            plan.last_preventive = day
            medicare = plan.primary_plan == MEDICARE or plan.age >= 65
            if plan.age < 18:
                visit_code = "99392" if plan.age < 5 else "99393" if plan.age < 12 else "99394"
                diagnoses = [rng.choice(("Z00.129", "Z00.129", "Z00.121"))]
            else:
                visit_code = "G0439" if medicare else "99395" if plan.age < 40 else "99396"
                diagnoses = ["Z00.01" if plan.problems and rng.random() < 0.5 else "Z00.00"]
            diagnoses += rng.sample(plan.problems, min(len(plan.problems), rng.randint(0, 2)))
            charges.append(self.charge(visit_code, diagnoses[:1]))
            if plan.age >= 18 and rng.random() < 0.6:
                lab = rng.choice(("80053", "85025", "80061"))
                target = "E78.5" if lab == "80061" and "E78.5" in diagnoses else diagnoses[0]
                charges.append(self.charge("36415", [diagnoses[0]]))
                charges.append(self.charge(lab, [target, diagnoses[0]]))
            elif flu_season and rng.random() < 0.5 and len(diagnoses) < 4:
                diagnoses.append("Z23")
                charges.append(self.charge("90686", ["Z23"]))
                charges.append(self.charge("90471", ["Z23"]))
        else:
            if kind == "follow_up" or (kind == "new" and plan.problems and rng.random() < 0.6):
                diagnoses = rng.sample(plan.problems, min(len(plan.problems), rng.randint(1, 3)))
            else:
                acute = ACUTE_CHILD if plan.age < 18 else ACUTE_ADULT
                diagnoses = [rng.choice(acute)]
                if rng.random() < 0.2:
                    diagnoses.append(rng.choice([c for c in acute if c != diagnoses[0]]))
                if plan.problems and rng.random() < 0.3:
                    diagnoses.append(rng.choice(plan.problems))
            if kind == "new":
                visit_code = "99204" if len(diagnoses) > 1 and rng.random() < 0.5 else "99203"
            elif len(diagnoses) > 1:
                visit_code = "99214" if rng.random() < 0.7 else "99213"
            else:
                visit_code = "99213" if rng.random() < 0.75 else "99214"
            visit = self.charge(visit_code, diagnoses[: rng.randint(1, min(3, len(diagnoses)))])
            charges.append(visit)
            telehealth = kind in ("follow_up", "acute") and rng.random() < 0.09
            if telehealth:
                place = PlaceOfService.TELEHEALTH
                visit.modifiers = ["95"] if plan.primary_plan != MEDICARE else []
            else:
                charges += self.primary_care_extras(diagnoses, visit, flu_season)
        return kind, diagnoses, charges, place, provider

    def primary_care_extras(
        self, diagnoses: list[str], visit: ChargePlan, flu_season: bool
    ) -> list[ChargePlan]:
        rng = self.rng
        knee = next((c for c in diagnoses if c in ("M17.11", "M17.12")), None)
        if knee and rng.random() < 0.35:
            visit.modifiers = ["25"]
            return [self.charge("20610", [knee], modifiers=["RT" if knee == "M17.11" else "LT"])]
        if "E11.9" in diagnoses and rng.random() < 0.5:
            return [self.charge("83036", ["E11.9"])]
        if "I10" in diagnoses and rng.random() < 0.12:
            return [self.charge("93000", ["I10"])]
        if "J02.9" in diagnoses and rng.random() < 0.7:
            return [self.charge("87880", ["J02.9"])]
        if "N39.0" in diagnoses and rng.random() < 0.8:
            return [self.charge("81002", ["N39.0"])]
        if "M54.50" in diagnoses and rng.random() < 0.2:
            return [self.charge("97110", ["M54.50"], units=2)]
        chronic_lab = [c for c in diagnoses if c in ("I10", "E78.5", "E11.9", "E03.9")]
        if chronic_lab and rng.random() < 0.3:
            lab = "80061" if "E78.5" in chronic_lab else "80053"
            return [self.charge("36415", chronic_lab[:1]), self.charge(lab, chronic_lab[:2])]
        if flu_season and rng.random() < 0.2 and len(diagnoses) < 4:
            diagnoses.append("Z23")
            return [self.charge("90686", ["Z23"]), self.charge("90471", ["Z23"])]
        return []

    def occupational_visit(self, plan: PatientPlan, provider: int):
        """Employer-paid care: pre-employment exams and work injuries with their follow-ups."""
        rng = self.rng
        if not plan.injury and rng.random() < 0.4:
            diagnoses = ["Z02.1"]
            charges = [self.charge("99455", ["Z02.1"])]
            if rng.random() < 0.7:
                diagnoses.append("Z02.83")
                charges.append(self.charge("80305", ["Z02.83"]))
            if rng.random() < 0.4:
                diagnoses.append("Z11.1")
                charges.append(self.charge("86580", ["Z11.1"]))
            return "occupational", diagnoses, charges, PlaceOfService.OFFICE, provider
        if plan.injury:
            code = f"{plan.injury}D"
            diagnoses = [code]
            charges = [self.charge("99213" if rng.random() < 0.7 else "99214", [code])]
            if rng.random() < 0.4:
                charges.append(self.charge("97110", [code], units=rng.randint(2, 3)))
            if rng.random() < 0.35:
                plan.injury = ""  # discharged back to full duty
        else:
            plan.injury = rng.choice(INJURIES)
            code = f"{plan.injury}A"
            diagnoses = [code]
            charges = [self.charge("99203" if plan.visits == 0 else "99213", [code])]
        return "occupational", diagnoses, charges, PlaceOfService.OFFICE, provider

    def orthopedic_problems(self, plan: PatientPlan) -> None:
        """The complaint an orthopedic patient comes for: one joint (or the back), one side."""
        rng = self.rng
        plan.site = rng.choices(("knee", "shoulder", "back"), weights=(50, 32, 18))[0]
        plan.side = rng.choice("RL")
        right = plan.side == "R"
        if plan.site == "knee":
            plan.problems = ["M25.561" if right else "M25.562"]
            if plan.age >= 45:
                plan.problems.insert(0, "M17.11" if right else "M17.12")
            if plan.age < 50 or rng.random() < 0.3:
                plan.problems.insert(0, "S83.241A" if right else "S83.242A")
        elif plan.site == "shoulder":
            shoulder = (
                ("M75.101", "M75.41", "M19.011") if right else ("M75.102", "M75.42", "M19.012")
            )
            plan.problems = [rng.choice(shoulder), "M25.511" if right else "M25.512"]
        else:
            plan.problems = [rng.choice(("M54.50", "M51.16", "M48.061")), "M54.16"]

    def ortho_visit(self, plan: PatientPlan, day: dt.date, occupational: bool):
        rng = self.rng
        right = plan.side == "R"
        roles = self.provider_roles
        physicians = [i for i, role in enumerate(roles) if role in ("surgeon", "physician")]
        therapist = roles.index("therapist")
        surgeon = roles.index("surgeon")
        provider = rng.choice(physicians)
        side_modifier = ["RT" if right else "LT"]
        if occupational and not plan.injury:
            plan.injury = {
                "knee": "S83.91X" if right else "S83.92X",
                "shoulder": "S46.011" if right else "S46.012",
                "back": "S39.012",
            }[plan.site]
        xray, injectable = {"knee": ("73562", True), "shoulder": ("73030", True)}.get(
            plan.site, ("72100", False)
        )
        codes = list(plan.problems)
        if occupational:  # a work injury: the injury code leads
            codes = [f"{plan.injury}{'D' if plan.injury_seen else 'A'}", *codes[1:]]
            plan.injury_seen = True
        elif plan.had_surgery:  # after the operation, injuries are coded as subsequent care
            codes = [c[:-1] + "D" if c.startswith("S") and c.endswith("A") else c for c in codes]
        diagnoses = codes[: rng.randint(1, len(codes))]

        if plan.visits == 0:
            kind = "consult"
        else:
            options = ["follow_up", "injection", "therapy", "surgery", "telehealth"]
            meniscus = diagnoses[0].startswith("S83.24")
            surgery = 15 if meniscus and not plan.had_surgery else 0
            weights = [35, 20 if injectable else 0, 30, surgery, 7]
            kind = rng.choices(options, weights=weights)[0]
        place = PlaceOfService.OFFICE
        charges: list[ChargePlan] = []
        if kind == "consult":
            charges.append(self.charge("99204" if rng.random() < 0.7 else "99203", diagnoses[:2]))
            if rng.random() < 0.75:
                charges.append(
                    self.charge(
                        xray, diagnoses[:1], modifiers=side_modifier if xray != "72100" else []
                    )
                )
        elif kind == "follow_up":
            visit = self.charge("99214" if rng.random() < 0.6 else "99213", diagnoses[:2])
            charges.append(visit)
            if injectable and rng.random() < 0.3:
                visit.modifiers = ["25"]
                charges.append(self.charge("20610", diagnoses[:1], modifiers=side_modifier))
                charges.append(self.charge("J3301", diagnoses[:1], units=4))
            elif rng.random() < 0.2:
                charges.append(
                    self.charge(
                        xray, diagnoses[:1], modifiers=side_modifier if xray != "72100" else []
                    )
                )
        elif kind == "injection":
            charges.append(self.charge("20610", diagnoses[:1], modifiers=side_modifier))
            charges.append(self.charge("J3301", diagnoses[:1], units=4))
        elif kind == "therapy":
            provider = therapist
            diagnoses = [c[:-1] + "D" if c.endswith("A") else c for c in diagnoses]
            charges.append(self.charge("97110", diagnoses[:2], units=rng.randint(2, 4)))
        elif kind == "surgery":
            plan.had_surgery = True
            provider, place = surgeon, PlaceOfService.ASC
            charges.append(self.charge("29881", diagnoses[:1], modifiers=side_modifier))
        else:  # telehealth follow-up
            kind, place = "follow_up", PlaceOfService.TELEHEALTH
            charges.append(self.charge("99213" if rng.random() < 0.7 else "99214", diagnoses[:2]))
        if kind == "surgery":
            kind = "follow_up"  # only used for the appointment reason; surgery has none
        return kind, diagnoses, charges, place, provider

    def make_other_appointments(self) -> None:
        """No-shows and cancellations in the past, and the schedule for the next two weeks."""
        rng = self.rng
        days = self.service_days()
        extra = []
        for _ in range(int(self.spec.encounters * 0.18)):
            plan = rng.choice(self.patients)
            provider = (
                plan.pcp
                if self.spec.specialty != "orthopedics"
                else rng.choice([i for i, r in enumerate(self.provider_roles) if r != "surgeon"])
            )
            status = rng.choice(
                (
                    Appointment.Status.NO_SHOW,
                    Appointment.Status.CANCELLED,
                    Appointment.Status.CANCELLED,
                )
            )
            extra.append(self.appointment(plan, provider, rng.choice(days), status))
        upcoming = [self.today + dt.timedelta(days=n) for n in range(0, 15)]
        upcoming = [day for day in upcoming if day.weekday() < 5]
        for _ in range(self.spec.future_appointments):
            plan = rng.choice(self.patients)
            provider = (
                plan.pcp
                if self.spec.specialty != "orthopedics"
                else rng.randrange(len(self.providers))
            )
            day = rng.choice(upcoming)  # today's too stay scheduled, whatever the hour
            extra.append(self.appointment(plan, provider, day, Appointment.Status.SCHEDULED))
        self.other_appointments = extra

    def appointment(
        self, plan: PatientPlan, provider: int, day: dt.date, status: str
    ) -> Appointment:
        kind = (
            "consult" if self.spec.specialty == "orthopedics" and plan.visits == 0 else "follow_up"
        )
        if self.spec.specialty != "orthopedics" and self.rng.random() < 0.3:
            kind = "acute"
        return Appointment(
            organization=self.org,
            patient=plan.patient,
            provider=self.providers[provider],
            scheduled_at=self.slot(provider, day),
            duration_minutes=20,
            reason=self.rng.choice(APPOINTMENT_REASONS[kind]),
            status=status,
        )

    # --- statuses, claims and the ledger ---

    def charge_status(self, day: dt.date) -> str:
        age = (self.today - day).days
        if age <= 7:
            return self.rng.choices(
                (Charge.Status.DRAFT, Charge.Status.APPROVED), weights=(65, 35)
            )[0]
        if age <= 21:
            return self.rng.choices(
                (Charge.Status.DRAFT, Charge.Status.APPROVED, Charge.Status.BILLED),
                weights=(15, 40, 45),
            )[0]
        return Charge.Status.BILLED

    def claim_status(self, day: dt.date) -> str:
        age = (self.today - day).days
        S = Claim.Status
        if age <= 21:
            table = {S.DRAFT: 20, S.READY: 30, S.SUBMITTED: 35, S.ACCEPTED: 10, S.REJECTED: 5}
        elif age <= 45:
            table = {
                S.DRAFT: 2,
                S.READY: 6,
                S.SUBMITTED: 20,
                S.ACCEPTED: 28,
                S.PAID: 28,
                S.PARTIALLY_PAID: 4,
                S.REJECTED: 5,
                S.DENIED: 7,
            }
        elif age <= 90:
            table = {
                S.SUBMITTED: 4,
                S.ACCEPTED: 8,
                S.PAID: 65,
                S.PARTIALLY_PAID: 7,
                S.DENIED: 9,
                S.REJECTED: 3,
                S.REVERSED: 1,
                S.VOIDED: 1,
            }
        else:
            table = {
                S.ACCEPTED: 3,
                S.PAID: 76,
                S.PARTIALLY_PAID: 6,
                S.DENIED: 8,
                S.REJECTED: 1,
                S.REVERSED: 1.5,
                S.VOIDED: 1.5,
            }
        return self.rng.choices(list(table), weights=list(table.values()))[0]

    def plan_statuses(self) -> None:
        """Charge status per encounter, then a claim status per billed insurance encounter,
        making sure every status of both shows up at least once."""
        self.encounter_status = [
            self.charge_status(row[0].date_of_service) for row in self.encounter_rows
        ]
        recent = sorted(
            range(len(self.encounter_rows)),
            key=lambda i: self.encounter_rows[i][0].date_of_service,
            reverse=True,
        )
        for wanted, position in ((Charge.Status.DRAFT, 0), (Charge.Status.APPROVED, 1)):
            if wanted not in self.encounter_status:
                self.encounter_status[recent[position]] = wanted

        self.claim_status_of: dict[int, str] = {}
        for i, (encounter, _, _, occupational, _) in enumerate(self.encounter_rows):
            if self.encounter_status[i] == Charge.Status.BILLED and not occupational:
                self.claim_status_of[i] = self.claim_status(encounter.date_of_service)
        present = Counter(self.claim_status_of.values())
        billed = sorted(
            self.claim_status_of, key=lambda i: self.encounter_rows[i][0].date_of_service
        )
        for status in Claim.Status.values:
            if present[status]:
                continue
            early = status in (Claim.Status.DRAFT, Claim.Status.READY, Claim.Status.SUBMITTED)
            pool = [
                i
                for i in (reversed(billed) if early else billed)
                if present[self.claim_status_of[i]] > 1
            ]
            if pool:
                present[self.claim_status_of[pool[0]]] -= 1
                self.claim_status_of[pool[0]] = status
                present[status] += 1

    def control_number(self, plan_kind: str, moment: dt.datetime) -> str:
        julian = f"{moment:%y}{moment.timetuple().tm_yday:03d}"
        if plan_kind == MEDICARE:
            region = self.rng.choice(("02", "21", "22"))  # ICN: region, date, batch, item
            return f"{region}{julian}{self.rng.randint(0, 999_999):06d}"
        letters = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
        return f"{letters}{julian}{self.rng.randint(10_000_000, 99_999_999)}"

    def entry(
        self,
        encounter: Encounter,
        kind: str,
        amount: Decimal,
        posted_at: dt.datetime,
        memo: str,
        claim: Claim | None = None,
        charge: Charge | None = None,
    ) -> None:
        if amount == 0:
            raise AssertionError("the ledger refuses zero amounts")
        self.ledger.append(
            LedgerEntry(
                organization=self.org,
                encounter=encounter,
                claim=claim,
                charge=charge,
                kind=kind,
                amount=amount,
                posted_at=posted_at,
                source_table="billing_charge" if charge is not None else "",
                source_id=str(charge.pk) if charge is not None else "",
                memo=memo[:200],
                created_by=self.poster,
            )
        )

    def write(self) -> None:
        rng = self.rng
        self.plan_statuses()
        appointments = [row[1] for row in self.encounter_rows if row[1] is not None]
        Appointment.objects.bulk_create(appointments + self.other_appointments)
        Encounter.objects.bulk_create([row[0] for row in self.encounter_rows])

        charges: list[Charge] = []
        per_encounter: list[list[Charge]] = []
        for i, (encounter, _, plans, _, _) in enumerate(self.encounter_rows):
            status = self.encounter_status[i]
            claim_status = self.claim_status_of.get(i)
            rows = []
            for plan in plans:
                charge_status = status
                if claim_status == Claim.Status.VOIDED:
                    charge_status = Charge.Status.VOID  # billed in error: claim and charges voided
                elif (
                    status == Charge.Status.BILLED
                    and len(plans) > 1
                    and rng.random() < 0.03
                    and rows
                ):
                    charge_status = Charge.Status.VOID  # a line entered in error
                rows.append(
                    Charge(
                        organization=self.org,
                        encounter=encounter,
                        procedure_code=plan.code,
                        modifiers=plan.modifiers,
                        diagnosis_pointers=self.pointers(encounter.diagnosis_codes, plan.pointers),
                        units=Decimal(plan.units),
                        amount=plan.amount,
                        status=charge_status,
                        created_at=encounter.created_at,
                    )
                )
            per_encounter.append(rows)
            charges += rows
        Charge.objects.bulk_create(charges)

        claims: list[Claim] = []
        claim_of: dict[int, Claim] = {}
        for number, (i, status) in enumerate(sorted(self.claim_status_of.items()), start=1):
            encounter, _, _, _, patient_plan = self.encounter_rows[i]
            lines = [
                c
                for c in per_encounter[i]
                if c.status in (Charge.Status.BILLED, Charge.Status.VOID)
            ]
            if status != Claim.Status.VOIDED:
                lines = [c for c in lines if c.status == Charge.Status.BILLED]
            coverage = patient_plan.primary
            created = self.later(self.at(encounter.date_of_service, 17), 1, 3)
            claim = Claim(
                organization=self.org,
                encounter=encounter,
                payer=coverage.payer,
                coverage=coverage,
                claim_number=f"{self.spec.prefix}-C{number:06d}",
                status=status,
                total=sum((c.amount for c in lines), Decimal("0.00")),
                version=2 if status not in ("draft", "ready") and rng.random() < 0.06 else 1,
                created_at=created,
            )
            claim.lines = lines
            if status not in (Claim.Status.DRAFT, Claim.Status.READY):
                claim.submitted_at = self.later(created, 0, 1)
            if status not in (
                Claim.Status.DRAFT,
                Claim.Status.READY,
                Claim.Status.SUBMITTED,
                Claim.Status.REJECTED,
            ):
                claim.accepted_at = self.later(claim.submitted_at, 1, 2)
                claim.payer_claim_control_number = self.control_number(
                    patient_plan.primary_plan, claim.accepted_at
                )
            claims.append(claim)
            claim_of[i] = claim
        Claim.objects.bulk_create(claims)
        Through = Claim.charges.through
        Through.objects.bulk_create(
            [
                Through(claim_id=claim.pk, charge_id=charge.pk)
                for claim in claims
                for charge in claim.lines
            ]
        )

        self.ledger: list[LedgerEntry] = []
        for i, (encounter, _, _, occupational, _) in enumerate(self.encounter_rows):
            claim = claim_of.get(i)
            # A charge posts to the ledger when it is entered, draft or not (as
            # billing.services.charges does); void charges net to nothing, so they have none.
            posted = [c for c in per_encounter[i] if c.status != Charge.Status.VOID]
            if not posted:
                continue
            # charges are posted at the end of the day of service, before any claim
            charge_day = self.clamp(self.at(encounter.date_of_service, 17, rng.randrange(0, 60)))
            for charge in posted:
                on_claim = claim if claim is not None and charge in claim.lines else None
                memo = f"{charge.procedure_code} charge"
                self.entry(
                    encounter,
                    LedgerEntry.Kind.CHARGE,
                    charge.amount,
                    charge_day,
                    memo,
                    claim=on_claim,
                    charge=charge,
                )
            total = sum((c.amount for c in posted), Decimal("0.00"))
            if claim is not None:
                self.claim_money(encounter, claim, total)
            elif occupational and self.encounter_status[i] == Charge.Status.BILLED:
                self.employer_money(encounter, total, charge_day)
        LedgerEntry.objects.bulk_create(self.ledger, batch_size=2000)
        ClaimStatusChange.objects.bulk_create(
            [change for claim in claims for change in self.status_history(claim)]
        )

    def status_history(self, claim: Claim) -> list[ClaimStatusChange]:
        """The steps that brought the claim to its status, as claim_set_status records them:
        people mark it ready, submit and void it; acknowledgements and ERAs do the rest."""
        S = Claim.Status
        steps: list[tuple[str, dt.datetime, User | None, str]] = []
        if claim.status == S.DRAFT:
            return []
        ready = claim.created_at + dt.timedelta(minutes=self.rng.randint(5, 120))
        if claim.submitted_at:
            ready = min(ready, claim.submitted_at)
        steps.append((S.READY, ready, self.poster, "Charges reviewed"))
        if claim.submitted_at:
            steps.append((S.SUBMITTED, claim.submitted_at, self.poster, "Sent in 837P batch"))
        if claim.status == S.REJECTED:
            moment = claim.submitted_at + dt.timedelta(hours=self.rng.randint(1, 6))
            note = self.rng.choice(
                (
                    "277CA: subscriber id not found",
                    "277CA: invalid diagnosis pointer",
                    "999: rendering provider NPI missing",
                )
            )
            steps.append((S.REJECTED, moment, None, note))
        if claim.accepted_at:
            steps.append((S.ACCEPTED, claim.accepted_at, None, "277CA: accepted by payer"))
        era = getattr(claim, "era_at", None)
        if claim.status in (S.PAID, S.REVERSED):
            steps.append((S.PAID, era, None, "835 posted"))
        if claim.status == S.PARTIALLY_PAID:
            steps.append((S.PARTIALLY_PAID, era, None, "835 posted: some lines paid"))
        if claim.status == S.REVERSED:
            steps.append((S.REVERSED, claim.reversed_at, None, "835 reversal (claim adjustment)"))
        if claim.status == S.DENIED:
            moment = self.later(claim.accepted_at, 10, 25)
            steps.append((S.DENIED, moment, None, "835: denied"))
        if claim.status == S.VOIDED:
            moment = self.later(claim.accepted_at, 3, 20)
            steps.append((S.VOIDED, moment, self.poster, "Billed in error: voided (frequency 8)"))
        changes = []
        previous, moment = S.DRAFT, claim.created_at
        for status, at, actor, note in steps:
            moment = self.clamp(max(at, moment))
            changes.append(
                ClaimStatusChange(
                    organization=self.org,
                    claim=claim,
                    from_status=previous,
                    to_status=status,
                    changed_at=moment,
                    actor=actor,
                    note=note,
                )
            )
            previous = status
        return changes

    def claim_money(self, encounter: Encounter, claim: Claim, total: Decimal) -> None:
        rng = self.rng
        S, K = Claim.Status, LedgerEntry.Kind
        age = (self.today - encounter.date_of_service).days
        payer = claim.payer.name
        if claim.status in (S.PAID, S.REVERSED, S.PARTIALLY_PAID):
            era = claim.era_at = self.later(claim.accepted_at, 12, 30)
            trace = f"EFT {rng.randint(100_000_000, 999_999_999)}"
            if claim.status == S.PARTIALLY_PAID:
                paid = share(total, 200, 450, rng)
                adjusted = share(total - paid, 100, 400, rng)
                patient_part = Decimal("0.00")
            else:
                paid = share(total, 600, 800, rng)
                rest = total - paid
                patient_part = Decimal("0.00")
                if rng.random() < 0.45:
                    copay = Decimal(rng.choice((20, 25, 30, 40, 50)))
                    patient_part = min(
                        rest, copay if rng.random() < 0.6 else share(rest, 150, 450, rng)
                    )
                adjusted = rest - patient_part
            self.entry(
                encounter, K.INSURANCE_PAYMENT, -paid, era, f"{payer} payment, {trace}", claim=claim
            )
            if adjusted > 0:
                self.entry(
                    encounter,
                    K.ADJUSTMENT,
                    -adjusted,
                    era,
                    "CO-45 contractual adjustment",
                    claim=claim,
                )
            if claim.status == S.REVERSED:
                takeback = claim.reversed_at = self.later(era, 20, 60)
                self.entry(
                    encounter,
                    K.REVERSAL,
                    paid,
                    takeback,
                    f"{payer} recoupment: claim reversed",
                    claim=claim,
                )
                if adjusted > 0:
                    self.entry(
                        encounter,
                        K.REVERSAL,
                        adjusted,
                        takeback,
                        "Contractual adjustment reversed",
                        claim=claim,
                    )
                return
            if patient_part > 0 and age > 45:
                roll = rng.random()
                paid_at = self.later(era, 7, 40)
                if roll < 0.6:
                    self.entry(
                        encounter,
                        K.PATIENT_PAYMENT,
                        -patient_part,
                        paid_at,
                        "Patient payment, card",
                    )
                    return
                if roll < 0.75 and patient_part >= Decimal("2.00"):
                    part = money(patient_part / 2)
                    self.entry(
                        encounter, K.PATIENT_PAYMENT, -part, paid_at, "Patient payment, check"
                    )
                    patient_part -= part
                if age > 120 and patient_part < 15 and rng.random() < 0.5:
                    self.entry(
                        encounter,
                        K.WRITE_OFF,
                        -patient_part,
                        self.later(era, 60, 100),
                        "Small balance write-off",
                    )
        elif claim.status == S.DENIED and age > 150 and rng.random() < 0.3:
            self.entry(
                encounter,
                K.WRITE_OFF,
                -total,
                self.later(claim.accepted_at, 60, 120),
                f"{payer} denial (CO-29 timely filing) written off",
                claim=claim,
            )

    def employer_money(self, encounter: Encounter, total: Decimal, billed_at: dt.datetime) -> None:
        """Employers pay their invoices (posted as guarantor payments) or owe them still."""
        rng = self.rng
        age = (self.today - encounter.date_of_service).days
        if age <= 45:
            return
        employer = encounter.guarantor_employer
        roll = rng.random()
        memo = f"Payment from {employer.name}, check {rng.randint(1000, 99999)}"
        if roll < 0.45:
            self.entry(
                encounter,
                LedgerEntry.Kind.PATIENT_PAYMENT,
                -total,
                self.later(billed_at, 25, 60),
                memo,
            )
        elif roll < 0.55 and total >= Decimal("2.00"):
            self.entry(
                encounter,
                LedgerEntry.Kind.PATIENT_PAYMENT,
                -money(total / 2),
                self.later(billed_at, 25, 60),
                memo,
            )

"""Element values: what each element of each segment may hold, checked when a segment is written.

A writer hands `render_segment` plain Python values (str, int, Decimal, date, a tuple for a
composite, `Repeat` for repetitions). Every value is checked against the table below, built
from the X12 5010 data element dictionary: a value that contains a delimiter, uses a character
outside the X12 extended character set, is shorter or longer than its element allows, or is a
money amount with fractions of a cent, is refused with an `X12ValueError` that names the
element ("NM103 (last or organization name) contains the element separator '*'"). Nothing is
truncated or escaped: a refused value must be fixed at its source.

The module also holds the few value codecs every transaction shares (amounts, dates, times).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from edi.errors import X12ValueError
from edi.tokenizer import Segment, Separators


class Repeat(tuple[str, ...]):
    """Several values of one repeatable element (EB03, EQ01), joined by the repetition separator."""

    __slots__ = ()


Value = str | int | Decimal | datetime.date | tuple[str, ...] | Repeat | None


@dataclass(frozen=True, slots=True)
class Element:
    name: str
    min: int
    max: int
    numeric: bool = False  # R and N0: the length counts digits only
    money: bool = False  # R amounts: at most two decimal places


@dataclass(frozen=True, slots=True)
class Composite:
    name: str
    components: tuple[Element, ...]


Spec = Element | Composite


def _an(name: str, lo: int, hi: int) -> Element:
    return Element(name, lo, hi)


def _n(name: str, lo: int, hi: int) -> Element:
    return Element(name, lo, hi, numeric=True)


def _money(name: str) -> Element:
    return Element(name, 1, 18, numeric=True, money=True)


def _c(name: str, *components: Element) -> Composite:
    return Composite(name, components)


def _procedure(name: str) -> Composite:
    return _c(
        name,
        _an("product or service id qualifier", 2, 2),
        _an("procedure code", 1, 48),
        _an("procedure modifier 1", 2, 2),
        _an("procedure modifier 2", 2, 2),
        _an("procedure modifier 3", 2, 2),
        _an("procedure modifier 4", 2, 2),
        _an("description", 1, 80),
    )


def _adjustments() -> tuple[Element, ...]:
    triples: list[Element] = []
    for n in range(1, 7):
        triples += [
            _an(f"adjustment reason code {n}", 1, 5),
            _money(f"adjustment amount {n}"),
            _n(f"adjustment quantity {n}", 1, 15),
        ]
    return (_an("claim adjustment group code", 1, 2), *triples)


def _status() -> Composite:
    return _c(
        "health care claim status",
        _an("claim status category code", 1, 30),
        _an("claim status code", 1, 30),
        _an("entity identifier code", 2, 3),
        _an("code list qualifier code", 1, 3),
    )


def _health_code(n: int) -> Composite:
    return _c(
        f"health care code information {n}",
        _an("code list qualifier code", 1, 3),
        _an("industry code", 1, 30),
        _an("date time period format qualifier", 2, 3),
        _an("date time period", 1, 35),
        _money("monetary amount"),
        _n("quantity", 1, 15),
        _an("version identifier", 1, 30),
        _an("industry code", 1, 30),
        _an("yes/no condition or response code", 1, 1),
    )


def _plb_pairs() -> tuple[Spec, ...]:
    pairs: list[Spec] = []
    for n in range(1, 7):
        pairs += [
            _c(
                f"adjustment identifier {n}",
                _an("adjustment reason code", 2, 2),
                _an("provider adjustment identifier", 1, 50),
            ),
            _money(f"provider adjustment amount {n}"),
        ]
    return tuple(pairs)


def _contact() -> tuple[Element, ...]:
    return (
        _an("contact function code", 2, 2),
        _an("contact name", 1, 60),
        _an("communication number qualifier 1", 2, 2),
        _an("communication number 1", 1, 256),
        _an("communication number qualifier 2", 2, 2),
        _an("communication number 2", 1, 256),
        _an("communication number qualifier 3", 2, 2),
        _an("communication number 3", 1, 256),
    )


SEGMENTS: dict[str, tuple[Spec, ...]] = {
    "GS": (
        _an("functional identifier code", 2, 2),
        _an("application sender's code", 2, 15),
        _an("application receiver's code", 2, 15),
        _an("date", 8, 8),
        _an("time", 4, 8),
        _n("group control number", 1, 9),
        _an("responsible agency code", 1, 2),
        _an("version / release / industry identifier code", 1, 12),
    ),
    "ST": (
        _an("transaction set identifier code", 3, 3),
        _an("transaction set control number", 4, 9),
        _an("implementation convention reference", 1, 35),
    ),
    "SE": (_n("number of included segments", 1, 10), _an("transaction set control number", 4, 9)),
    "GE": (_n("number of transaction sets included", 1, 6), _n("group control number", 1, 9)),
    "IEA": (
        _n("number of included functional groups", 1, 5),
        _n("interchange control number", 9, 9),
    ),
    "BHT": (
        _an("hierarchical structure code", 4, 4),
        _an("transaction set purpose code", 2, 2),
        _an("originator application transaction identifier", 1, 50),
        _an("transaction set creation date", 8, 8),
        _an("transaction set creation time", 4, 8),
        _an("transaction type code", 2, 2),
    ),
    "HL": (
        _an("hierarchical id number", 1, 12),
        _an("hierarchical parent id number", 1, 12),
        _an("hierarchical level code", 1, 2),
        _an("hierarchical child code", 1, 1),
    ),
    "NM1": (
        _an("entity identifier code", 2, 3),
        _an("entity type qualifier", 1, 1),
        _an("last or organization name", 1, 60),
        _an("first name", 1, 35),
        _an("middle name", 1, 25),
        _an("name prefix", 1, 10),
        _an("name suffix", 1, 10),
        _an("identification code qualifier", 1, 2),
        _an("identification code", 2, 80),
    ),
    "N1": (
        _an("entity identifier code", 2, 3),
        _an("name", 1, 60),
        _an("identification code qualifier", 1, 2),
        _an("identification code", 2, 80),
    ),
    "N3": (_an("address line 1", 1, 55), _an("address line 2", 1, 55)),
    "N4": (
        _an("city name", 2, 30),
        _an("state or province code", 2, 2),
        _an("postal code", 3, 15),
        _an("country code", 2, 3),
    ),
    "PER": _contact(),
    "PRV": (
        _an("provider code", 1, 3),
        _an("reference identification qualifier", 2, 3),
        _an("provider taxonomy code", 1, 50),
    ),
    "REF": (
        _an("reference identification qualifier", 2, 3),
        _an("reference identification", 1, 50),
        _an("description", 1, 80),
    ),
    "DTP": (
        _an("date/time qualifier", 3, 3),
        _an("date time period format qualifier", 2, 3),
        _an("date time period", 1, 35),
    ),
    "DTM": (_an("date/time qualifier", 3, 3), _an("date", 8, 8), _an("time", 4, 8)),
    "DMG": (
        _an("date time period format qualifier", 2, 3),
        _an("birth date", 1, 35),
        _an("gender code", 1, 1),
    ),
    "AMT": (_an("amount qualifier code", 1, 3), _money("monetary amount")),
    "QTY": (_an("quantity qualifier", 2, 2), _n("quantity", 1, 15)),
    "TRN": (
        _an("trace type code", 1, 2),
        _an("reference identification", 1, 50),
        _an("originating company identifier", 10, 10),
        _an("reference identification (secondary)", 1, 50),
    ),
    "LX": (_n("assigned number", 1, 6),),
    "CAS": _adjustments(),
    "LQ": (_an("code list qualifier code", 1, 3), _an("remark code", 1, 30)),
    # 837P
    "SBR": (
        _an("payer responsibility sequence number code", 1, 1),
        _an("individual relationship code", 2, 2),
        _an("group or policy number", 1, 50),
        _an("group name", 1, 60),
        _an("insurance type code", 1, 3),
        _an("coordination of benefits code", 1, 1),
        _an("yes/no condition or response code", 1, 1),
        _an("employment status code", 2, 2),
        _an("claim filing indicator code", 1, 2),
    ),
    "PAT": (_an("individual relationship code", 2, 2),),
    "CLM": (
        _an("patient control number", 1, 38),
        _money("total claim charge amount"),
        _an("claim filing indicator code", 1, 2),
        _an("non-institutional claim type code", 1, 2),
        _c(
            "health care service location information",
            _an("place of service code", 1, 2),
            _an("facility code qualifier", 1, 2),
            _an("claim frequency type code", 1, 1),
        ),
        _an("provider or supplier signature indicator", 1, 1),
        _an("assignment or plan participation code", 1, 1),
        _an("benefits assignment certification indicator", 1, 1),
        _an("release of information code", 1, 1),
    ),
    "HI": tuple(_health_code(n) for n in range(1, 13)),
    "OI": (
        _an("claim filing indicator code", 1, 2),
        _an("claim submission reason code", 2, 2),
        _an("benefits assignment certification indicator", 1, 1),
        _an("patient signature source code", 1, 1),
        _an("provider agreement code", 1, 1),
        _an("release of information code", 1, 1),
    ),
    "SV1": (
        _procedure("composite medical procedure identifier"),
        _money("line item charge amount"),
        _an("unit or basis for measurement code", 2, 2),
        _n("service unit count", 1, 15),
        _an("place of service code", 1, 2),
        _an("service type code", 1, 2),
        _c(
            "composite diagnosis code pointer",
            *(_n(f"diagnosis code pointer {n}", 1, 2) for n in range(1, 5)),
        ),
    ),
    "SVD": (
        _an("other payer primary identifier", 2, 80),
        _money("service line paid amount"),
        _procedure("composite medical procedure identifier"),
        _an("product/service id", 1, 48),
        _n("paid service unit count", 1, 15),
        _n("bundled or unbundled line number", 1, 6),
    ),
    # 835
    "BPR": (
        _an("transaction handling code", 1, 2),
        _money("total actual provider payment amount"),
        _an("credit or debit flag code", 1, 1),
        _an("payment method code", 3, 3),
        _an("payment format code", 1, 10),
        _an("sender dfi id number qualifier", 2, 2),
        _an("sender dfi identifier", 3, 12),
        _an("sender account number qualifier", 1, 3),
        _an("sender bank account number", 1, 35),
        _an("payer identifier", 10, 10),
        _an("originating company supplemental code", 9, 9),
        _an("receiver dfi id number qualifier", 2, 2),
        _an("receiver dfi identifier", 3, 12),
        _an("receiver account number qualifier", 1, 3),
        _an("receiver bank account number", 1, 35),
        _an("check issue or eft effective date", 8, 8),
    ),
    "CLP": (
        _an("patient control number", 1, 38),
        _an("claim status code", 1, 2),
        _money("total claim charge amount"),
        _money("claim payment amount"),
        _money("patient responsibility amount"),
        _an("claim filing indicator code", 1, 2),
        _an("payer claim control number", 1, 50),
        _an("facility type code", 1, 2),
        _an("claim frequency type code", 1, 1),
    ),
    "SVC": (
        _procedure("composite medical procedure identifier"),
        _money("line item charge amount"),
        _money("line item provider payment amount"),
        _an("revenue code", 1, 48),
        _n("units of service paid count", 1, 15),
        _procedure("submitted medical procedure identifier"),
        _n("original units of service count", 1, 15),
    ),
    "PLB": (
        _an("provider identifier", 1, 50),
        _an("fiscal period date", 8, 8),
        *_plb_pairs(),
    ),
    # 999
    "AK1": (
        _an("functional identifier code", 2, 2),
        _n("group control number", 1, 9),
        _an("version / release / industry identifier code", 1, 12),
    ),
    "AK2": (
        _an("transaction set identifier code", 3, 3),
        _an("transaction set control number", 4, 9),
        _an("implementation convention reference", 1, 35),
    ),
    "IK3": (
        _an("segment id code", 2, 3),
        _n("segment position in transaction set", 1, 6),
        _an("loop identifier code", 1, 4),
        _an("implementation segment syntax error code", 1, 3),
    ),
    "IK4": (
        _c(
            "position in segment",
            _n("element position in segment", 1, 2),
            _n("component data element position in composite", 1, 2),
            _n("repeating data element position", 1, 4),
        ),
        _n("data element reference number", 1, 4),
        _an("implementation data element syntax error code", 1, 3),
        _an("copy of bad data element", 1, 99),
    ),
    "IK5": (
        _an("transaction set acknowledgment code", 1, 1),
        *(_an(f"implementation transaction set syntax error code {n}", 1, 3) for n in range(1, 6)),
    ),
    "AK9": (
        _an("functional group acknowledge code", 1, 1),
        _n("number of transaction sets included", 1, 6),
        _n("number of received transaction sets", 1, 6),
        _n("number of accepted transaction sets", 1, 6),
        *(_an(f"functional group syntax error code {n}", 1, 3) for n in range(1, 6)),
    ),
    # 276/277
    "STC": (
        _status(),
        _an("status information effective date", 8, 8),
        _an("action code", 1, 2),
        _money("total submitted charges"),
        _money("claim payment amount"),
        _an("adjudication or payment date", 8, 8),
        _an("payment method code", 3, 3),
        _an("check issue or eft effective date", 8, 8),
        _an("check or eft trace number", 1, 16),
        _status(),
        _status(),
        _an("free-form message text", 1, 264),
    ),
    # 270/271
    "EQ": (_an("service type code", 1, 2),),
    "EB": (
        _an("eligibility or benefit information code", 1, 2),
        _an("coverage level code", 3, 3),
        _an("service type code", 1, 2),
        _an("insurance type code", 1, 3),
        _an("plan coverage description", 1, 50),
        _an("time period qualifier", 1, 2),
        _money("benefit amount"),
        _n("benefit percent", 1, 10),
        _an("quantity qualifier", 2, 2),
        _n("benefit quantity", 1, 15),
        _an("authorization or certification indicator", 1, 1),
        _an("in plan network indicator", 1, 1),
    ),
    "AAA": (
        _an("valid request indicator", 1, 1),
        _an("agency qualifier code", 1, 2),
        _an("reject reason code", 2, 2),
        _an("follow-up action code", 1, 1),
    ),
    "MSG": (_an("free-form message text", 1, 264),),
    "INS": (
        _an("insured indicator", 1, 1),
        _an("individual relationship code", 2, 2),
    ),
    # 278
    "UM": (
        _an("request category code", 1, 2),
        _an("certification type code", 1, 1),
        _an("service type code", 1, 2),
        _c(
            "health care service location information",
            _an("facility code value", 1, 2),
            _an("facility code qualifier", 1, 2),
        ),
    ),
    "HCR": (
        _an("action code", 1, 2),
        _an("certification number", 1, 50),
        _an("review decision reason code", 1, 2),
    ),
}

# The 5010 extended character set (basic set, lower case and the extended specials).
_ALLOWED = re.compile(r"""[A-Za-z0-9!"&'()*+,\-./:;?= %~@\[\]_{}\\|<>^`#$]*""")
_DIGITS = re.compile(r"\d")


def render_segment(
    tag: str, values: tuple[Value, ...], separators: Separators, context: str = ""
) -> str:
    """One segment as text, every value checked against `SEGMENTS[tag]`; see the module doc."""
    specs = SEGMENTS[tag]
    if len(values) > len(specs):
        raise X12ValueError(f"{tag} has {len(specs)} elements, not {len(values)}", field=tag)
    parts = [tag]
    for position, (value, spec) in enumerate(zip(values, specs, strict=False), 1):
        ref = f"{tag}{position:02d}"
        if isinstance(spec, Composite):
            components = (value,) if not isinstance(value, tuple) else value
            if len(components) > len(spec.components):
                raise X12ValueError(
                    f"{_label(context)}{ref} ({spec.name}) has {len(spec.components)} "
                    f"components, not {len(components)}",
                    field=ref,
                )
            texts = [
                check_value(f"{ref}-{sub:02d}", component_spec, v, separators, context)
                for sub, (v, component_spec) in enumerate(
                    zip(components, spec.components, strict=False), 1
                )
            ]
            while texts and not texts[-1]:
                texts.pop()
            parts.append(separators.component.join(texts))
        elif isinstance(value, Repeat):
            if not separators.repetition:
                raise X12ValueError(f"{ref} repeats but there is no repetition separator")
            parts.append(
                separators.repetition.join(
                    check_value(ref, spec, v, separators, context) for v in value
                )
            )
        else:
            parts.append(check_value(ref, spec, value, separators, context))
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    return separators.element.join(parts) + separators.segment


def check_value(
    ref: str, spec: Element, value: Value, separators: Separators, context: str = ""
) -> str:
    """`value` as text, or an `X12ValueError` naming `ref` when it cannot be written."""
    text = _text(ref, spec, value, context)
    if not text:
        return text
    for char, name in separators.named().items():
        if char in text:
            raise X12ValueError(
                f"{_label(context)}{ref} ({spec.name}) contains the {name} {char!r}: {text!r}",
                field=ref,
            )
    if not _ALLOWED.fullmatch(text):
        bad = next(c for c in text if not _ALLOWED.fullmatch(c))
        raise X12ValueError(
            f"{_label(context)}{ref} ({spec.name}) contains {bad!r}, which is outside the X12 "
            f"character set: {text!r}",
            field=ref,
        )
    length = len(_DIGITS.findall(text)) if spec.numeric else len(text)
    if length > spec.max:
        raise X12ValueError(
            f"{_label(context)}{ref} ({spec.name}) is {length} characters long, more than its "
            f"maximum of {spec.max}: {text!r}",
            field=ref,
        )
    if length < spec.min:
        raise X12ValueError(
            f"{_label(context)}{ref} ({spec.name}) is {length} characters long, less than its "
            f"minimum of {spec.min}: {text!r}",
            field=ref,
        )
    return text


def _text(ref: str, spec: Element, value: Value, context: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise TypeError(f"{ref}: pass 'Y'/'N', not a bool")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if spec.money and value != value.quantize(Decimal("0.01")):
            raise X12ValueError(
                f"{_label(context)}{ref} ({spec.name}) has fractions of a cent: {value}",
                field=ref,
            )
        return decimal_text(value)
    if isinstance(value, datetime.date):
        return d8(value)
    raise TypeError(f"{ref}: cannot write a {type(value).__name__}")


def _label(context: str) -> str:
    return f"{context}: " if context else ""


# --- value codecs ---------------------------------------------------------------------------


def decimal_text(value: Decimal) -> str:
    """X12 decimal: no exponent, no trailing zeros after the point, no "-0"."""
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def d8(value: datetime.date) -> str:
    """CCYYMMDD (strftime's %Y does not pad years before 1000 on every platform)."""
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def rd8(start: datetime.date, end: datetime.date) -> str:
    return f"{d8(start)}-{d8(end)}"


def time_text(value: datetime.datetime) -> str:
    """HHMM, or HHMMSS when the seconds matter."""
    return value.strftime("%H%M%S" if value.second else "%H%M")


def parse_date(text: str) -> datetime.date | None:
    """A CCYYMMDD date, or None when `text` is not one."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def parse_period(text: str) -> tuple[datetime.date | None, datetime.date | None]:
    """A D8 date or an RD8 range "CCYYMMDD-CCYYMMDD", as (start, end); end is None for D8."""
    if "-" in text:
        start, _, end = text.partition("-")
        return parse_date(start), parse_date(end)
    return parse_date(text), None


def parse_datetime(date_text: str, time_text_: str) -> datetime.datetime | None:
    day = parse_date(date_text)
    if day is None:
        return None
    digits = time_text_[:6] if time_text_.isdigit() else ""
    hour, minute, second = int(digits[:2] or 0), int(digits[2:4] or 0), int(digits[4:6] or 0)
    if hour > 23 or minute > 59:
        hour = minute = 0
    if second > 59:
        second = 0
    return datetime.datetime(day.year, day.month, day.day, hour, minute, second)


def amount(segment: Segment, position: int) -> Decimal:
    """A required decimal element; a missing or malformed value is an error, never zero."""
    value = optional_amount(segment, position)
    if value is None:
        raise segment.error(f"{segment.tag}{position:02d} (an amount) is missing")
    return value


# X12 decimals: an optional minus, digits, an optional point (no exponent, no spaces).
_DECIMAL = re.compile(r"-?(?:\d+\.?\d*|\.\d+)")


def optional_amount(segment: Segment, position: int) -> Decimal | None:
    text = segment.get(position)
    if not text:
        return None
    if not _DECIMAL.fullmatch(text):
        raise segment.error(f"{segment.tag}{position:02d} {text!r} is not a number")
    return Decimal(text)


def npi_is_valid(npi: str) -> bool:
    """Ten digits whose last is the Luhn check digit over "80840" + the first nine (CMS rule)."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 0
    for i, char in enumerate(reversed("80840" + npi[:9])):
        digit = int(char) * (2 if i % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return (10 - total % 10) % 10 == int(npi[9])

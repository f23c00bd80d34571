"""The seed's scalars: ISO8601Date (YYYY-MM-DD) and ISO8601DateTime (with an offset; given
out in UTC)."""

from __future__ import annotations

import datetime
import re
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

ISO8601Date = NewType("ISO8601Date", datetime.date)
ISO8601DateTime = NewType("ISO8601DateTime", datetime.datetime)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _serialize_date(value: datetime.date) -> str:
    if isinstance(value, datetime.datetime):
        value = value.date()
    return value.isoformat()


def _parse_date(value: object) -> datetime.date:
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("ISO8601Date must be a date written YYYY-MM-DD")


def _serialize_datetime(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat()


def _parse_datetime(value: object) -> datetime.datetime:
    if isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    raise ValueError("ISO8601DateTime must be a date and time with an offset")


SCALARS: dict[object, ScalarDefinition] = {
    ISO8601Date: strawberry.scalar(
        name="ISO8601Date",
        description="A date, ISO 8601: YYYY-MM-DD.",
        serialize=_serialize_date,
        parse_value=_parse_date,
    ),
    ISO8601DateTime: strawberry.scalar(
        name="ISO8601DateTime",
        description="A moment, ISO 8601 with an offset (given out in UTC).",
        serialize=_serialize_datetime,
        parse_value=_parse_datetime,
    ),
}

"""The two ways this package says no: a file it cannot trust, a value it will not write."""

from __future__ import annotations


class X12Error(Exception):
    """An interchange that cannot be read or trusted.

    `line` and `segment_index` (both 1-based, counted over the whole file) say where, when the
    problem belongs to one segment; the message repeats them so a log line is enough.
    """

    def __init__(
        self, message: str, *, line: int | None = None, segment_index: int | None = None
    ) -> None:
        self.line = line
        self.segment_index = segment_index
        if line is not None:
            where = f"line {line}" + (f", segment {segment_index}" if segment_index else "")
            message = f"{where}: {message}"
        super().__init__(message)


class X12ValueError(X12Error, ValueError):
    """A value a writer refuses to put in a file: it names the element (`field`, e.g. NM103)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        self.field = field
        super().__init__(message)

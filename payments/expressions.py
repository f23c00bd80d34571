"""Text ordering that is the same on PostgreSQL and SQLite.

PostgreSQL compares text by the database's collation (en_US, say, which ignores case and
punctuation at first); SQLite compares UTF-8 bytes (BINARY). So `ORDER BY payer_name` could
page differently on the two. `CodePointText` pins the comparison to Unicode code point order
on both: `COLLATE "C"` on PostgreSQL (UTF-8 byte order is code point order), nothing on
SQLite, whose default BINARY collation already is. Python's `str` ordering is the same.

`LOWER()` of a `COLLATE "C"` value folds ASCII letters only on PostgreSQL, exactly as SQLite's
built-in `LOWER()` does, so `CodePointText(Lower(CodePointText("payer_name")))` is one
case-insensitive order on both. Indexes that serve these orders are declared in models.py
with the same expressions (a PostgreSQL index only serves the very expression it holds).
"""

from __future__ import annotations

import string

from django.db.models import Func

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class CodePointText(Func):
    arity = 1
    template = "%(expressions)s"

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template='(%(expressions)s COLLATE "C")', **extra_context
        )


def ascii_lower(text: str) -> str:
    """Python's twin of LOWER() on both databases: A-Z folded, everything else kept."""
    return text.translate(_ASCII_LOWER)

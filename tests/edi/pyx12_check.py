"""Run pyx12's validator (`x12n_document`) on text and collect every error it reports.

pyx12 reports through an error-handler tree that its visitors walk; the JSON visitor
(`fd_json`) gives the whole tree at once, so the helper asks for it and flattens the errors
of interchanges, groups, transaction sets, segments and elements into "line N: message"
strings. It also logs each error through the "pyx12" logger, which is silenced here.
"""

from __future__ import annotations

import io
import json
import logging

import pyx12.params
import pyx12.x12n_document

_PARAMS = pyx12.params.params()


def validate_with_pyx12(text: str) -> list[str]:
    """pyx12's error messages for `text`; an empty list means it found nothing wrong."""
    errors_json = io.StringIO()
    logger = logging.getLogger("pyx12")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        valid = pyx12.x12n_document.x12n_document(
            _PARAMS, io.StringIO(text), None, None, fd_json=errors_json
        )
    finally:
        logger.setLevel(level)
        logger.propagate = propagate
    errors = _flatten(json.loads(errors_json.getvalue() or "{}"))
    if not valid and not errors:
        errors.append("pyx12 rejected the document without details (not an X12 file?)")
    return errors


def _flatten(node: object, line: object = None) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        line = node.get("cur_line", line)
        found += [f"line {line}: {error['err_str']}" for error in node.get("errors", [])]
        for value in node.values():
            if isinstance(value, list):
                for child in value:
                    found += _flatten(child, line)
    return found

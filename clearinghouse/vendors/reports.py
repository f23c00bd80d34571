"""What kind of report a vendor's file is, read from the X12 itself (vendors' labels are
often missing or wrong)."""

from __future__ import annotations

from edi.errors import X12Error
from edi.tokenizer import iter_segments


def report_kind(text: str, fallback: str = "unknown") -> str:
    """ "999", "277CA", "277", "835", or the ST01 of anything else. A 277 is a 277CA when
    its GS08 or ST03 is 005010X214, or its BHT06 is TH. `fallback` when the text is not
    X12 (or holds no ST)."""
    version = ""
    transaction_set = ""
    try:
        for segment in iter_segments(text):
            if segment.tag == "GS":
                version = segment.get(8)
            elif segment.tag == "ST":
                transaction_set = segment.get(1)
                version = segment.get(3) or version
                if transaction_set != "277":
                    return transaction_set or fallback
            elif segment.tag == "BHT" and transaction_set == "277":
                return "277CA" if segment.get(6) == "TH" or "X214" in version else "277"
    except X12Error:
        pass  # broken after its ST: what was read still names it
    if transaction_set == "277":
        return "277CA" if "X214" in version else "277"
    return transaction_set or fallback

"""Masking of personal data on public output (public pages, certificates, redacted decision documents).

A resident ID number, a phone number or an e-mail address of a natural person (a legal representative, the operator
of an individual business) is personal information: public output shows only enough of it to tell two records
apart, never enough to reconstruct it.
"""

from __future__ import annotations

MASK = "*"


def mask_id_number(value: str | None) -> str:
    """An identity-document number with its middle masked: "140702199001011234" → "1407**********1234".

    At most the first 4 and the last 4 characters stay visible (region code and the tail of the sequence/check
    characters of an 18-digit resident ID), and never more than half of the number, so short or legacy
    (15-digit) numbers and foreign documents are masked at least as much.
    """
    code = "".join((value or "").split())
    if not code:
        return ""
    keep = min(4, len(code) // 4)
    if keep == 0:
        return MASK * len(code)
    return code[:keep] + MASK * (len(code) - 2 * keep) + code[-keep:]


def mask_phone(value: str | None) -> str:
    """A phone number with all but its first 3 and last 4 digits masked: "13912345678" → "139****5678"."""
    phone = "".join((value or "").split())
    if not phone:
        return ""
    if len(phone) < 11:
        # Landlines and short numbers: show only the last 2 characters.
        keep_tail = min(2, len(phone) // 4)
        return MASK * (len(phone) - keep_tail) + (phone[-keep_tail:] if keep_tail else "")
    return phone[:3] + MASK * (len(phone) - 7) + phone[-4:]

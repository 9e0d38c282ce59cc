"""Swedish personal identity numbers (personnummer, samordningsnummer) in free text.

Detected forms: 10 or 12 digits, with ``-``, ``+`` or nothing before the last four:
``8112189876``, ``811218-9876``, ``811218+9876``, ``198112189876``, ``19811218-9876``.
A candidate counts only when its date part is a real calendar date (day + 60 for a
samordningsnummer) and its last digit passes the Luhn check; dates, phone numbers and other
look-alikes are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MASK = "ÅÅÅÅMMDD-XXXX"

_CANDIDATE = re.compile(
    r"(?<![\w+-])"  # not glued to other digits, letters or a sign
    r"(?P<century>\d{2})?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})"
    r"(?P<sep>[-+]?)"
    r"(?P<last>\d{4})"
    r"(?![\w-])"
)


def luhn_ok(ten_digits: str) -> bool:
    total = 0
    for i, ch in enumerate(ten_digits):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _real_date(century: str | None, yy: str, mm: str, dd: str) -> bool:
    day = int(dd)
    if day > 60:  # samordningsnummer
        day -= 60
    year = int(century + yy) if century else 2000 + int(yy)
    if century and century not in ("18", "19", "20"):
        return False
    try:
        date(year, int(mm), day)
    except ValueError:
        # a 10-digit number's century is unknown; 29 February needs a leap year in either
        if not century and int(mm) == 2 and day == 29:
            return True
        return False
    return True


@dataclass(frozen=True)
class Masked:
    text: str
    count: int


def find_identity_numbers(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _CANDIDATE.finditer(text):
        ten = m["yy"] + m["mm"] + m["dd"] + m["last"]
        if _real_date(m["century"], m["yy"], m["mm"], m["dd"]) and luhn_ok(ten):
            spans.append(m.span())
    return spans


def mask_identity_numbers(text: str) -> Masked:
    spans = find_identity_numbers(text)
    if not spans:
        return Masked(text, 0)
    out = []
    last = 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(MASK)
        last = end
    out.append(text[last:])
    return Masked("".join(out), len(spans))

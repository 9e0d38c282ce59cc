"""Swedish personal identity numbers (personnummer, samordningsnummer) in free text.

``mask_identity_numbers(text)`` is the one masking function: every text that enters the database
passes through it — what is typed in the line mode and the app and given as command-line options
(through the engine, ``engine.dispatch.seal``), bundles and JSON imports (``assistant.bundles``) and
indicator files (``Store.replace_indicator_values``). ``mask_strings`` and ``mask_event`` apply it
to every human text of a value or an event, leaving identifiers alone.

Detected forms: 10 or 12 digits; between the date and the last four digits a hyphen of any kind
(``-``, en dash, minus sign, non-breaking hyphen, full-width hyphen …), a plus sign (over 100 years
old), a space, or nothing; letters may be glued on either side (``pnr19121212-1212``), other digits
may not. A candidate counts only when its date part is a real calendar date (day + 60 for a
samordningsnummer) and its last digit passes the Luhn check.

Phone numbers: a Swedish number is ``0`` + an area or mobile prefix, 10 digits in all when written
without spaces (``0701234569``). Written like that, one in ten of them also reads as the
personnummer of a child born 2001–2009, so such a 10-digit run is left alone unless the text calls
it a personal identity number (``pnr 0701234569``, ``personnummer: …``): the personnummer reading
must be the only plausible one. Written with the separator after the sixth digit (``070123-4569``)
or with the century (``20070123-4569``) it is no phone number, and is masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

MASK = "ÅÅÅÅMMDD-XXXX"

# Hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash, em dash, minus sign, small and
# full-width hyphen-minus; plus and full-width plus; spaces (plain, no-break, figure, thin, narrow).
HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"
PLUSES = "+\uff0b"
SPACES = " \u00a0\u2007\u2009\u202f"

_SEP = rf"(?:[{SPACES}]?[{HYPHENS}{PLUSES}][{SPACES}]?|[{SPACES}])"

_CANDIDATE = re.compile(
    r"(?<![0-9])(?<![0-9][.,])"  # not part of a longer number (letters may be glued on)
    r"(?P<century>[0-9]{2})?(?P<yy>[0-9]{2})(?P<mm>[0-9]{2})(?P<dd>[0-9]{2})"
    rf"(?P<sep>{_SEP})?"
    r"(?P<last>[0-9]{4})"
    r"(?![0-9])(?![.,][0-9])"
)

# Words that say the number that follows is a personal identity number.
_CALLED_PNR = re.compile(
    r"\b(?:person|pers|p|samordnings|födelse)[\s.-]*(?:nummer|numr|nr)[a-zåäö]*\.?", re.IGNORECASE
)
_LOOK_BACK = 24  # characters before a number searched for such a word


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
    if century and century not in ("18", "19", "20"):
        return False
    year = int(century + yy) if century else 2000 + int(yy)
    try:
        date(year, int(mm), day)
    except ValueError:
        # a 10-digit number's century is unknown; 29 February needs a leap year in either
        if not century and int(mm) == 2 and day == 29:
            return True
        return False
    return True


def _phone_like(m: re.Match[str]) -> bool:
    """Ten digits written together starting with 0 and an area or mobile prefix: 0701234569."""
    return not m["century"] and not m["sep"] and m["yy"][0] == "0" and m["yy"][1] != "0"


def _called_pnr(text: str, start: int) -> bool:
    before = text[max(0, start - _LOOK_BACK) : start]
    found = list(_CALLED_PNR.finditer(before))
    if not found:
        return False
    # only punctuation and spaces (or nothing) between the word and the number
    gap = before[found[-1].end() :]
    return not any(ch.isalnum() for ch in gap)


@dataclass(frozen=True)
class Masked:
    text: str
    count: int


def find_identity_numbers(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _CANDIDATE.finditer(text):
        ten = m["yy"] + m["mm"] + m["dd"] + m["last"]
        if not (_real_date(m["century"], m["yy"], m["mm"], m["dd"]) and luhn_ok(ten)):
            continue
        if _phone_like(m) and not _called_pnr(text, m.start()):
            continue
        spans.append(m.span())
    return spans


def mask_identity_numbers(text: str) -> Masked:
    """The text with every personal identity number replaced by ``MASK``, and how many there were."""
    if not isinstance(text, str) or len(text) < 10:
        return Masked(text, 0)
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


# Payload keys whose values are identifiers, numbers or codes — never a person's text. Masking them
# could break a replay (a question id that happened to look like a number); everything else is text.
ID_KEYS = frozenset(
    {
        "flow_id",
        "flow_version",
        "flow_sha256",
        "mode",
        "mask_pii",
        "action_id",
        "sid",
        "section",
        "subarea",
        "sections",
        "questions",
        "indicators",
        "indicator",
        "rule",
        "followup",
        "via",
        "status",
        "value",
        "states",
        "marker",
        "due",
        "count",
    }
)


def mask_strings(value: Any, *, skip: frozenset[str] = ID_KEYS) -> tuple[Any, int]:
    """``value`` with every string in it masked (lists, tuples and dict values, recursively; dict
    values under a key in ``skip`` are left alone). Returns (value, numbers masked)."""
    if isinstance(value, str):
        masked = mask_identity_numbers(value)
        return masked.text, masked.count
    if isinstance(value, dict):
        total = 0
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if key in skip:
                out[key] = item
                continue
            out[key], n = mask_strings(item, skip=skip)
            total += n
        return (out, total) if total else (value, 0)
    if isinstance(value, list | tuple):
        total = 0
        items = []
        for item in value:
            masked_item, n = mask_strings(item, skip=skip)
            items.append(masked_item)
            total += n
        return (type(value)(items), total) if total else (value, 0)
    return value, 0


def mask_event(event: Any) -> tuple[Any, int]:
    """An event (``assistant.events.Event``) with its text and the text in its payload masked.
    The question id is an identifier and stays. Returns (event, numbers masked)."""
    text, n_text = mask_strings(event.text)
    payload, n_payload = mask_strings(event.payload)
    if not n_text and not n_payload:
        return event, 0
    return replace(event, text=text, payload=payload), n_text + n_payload

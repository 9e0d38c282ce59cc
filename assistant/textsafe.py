"""Showing untrusted text in a terminal: control characters become visible symbols, never act.

ESC (the start of ANSI/OSC sequences) shows as ␛, other C0 controls as their Control Picture
(␀ … ␟), DEL as ␡, C1 controls as ``\\x9b``-style text; newline and tab stay.
Bidirectional overrides (U+202A–U+202E, U+2066–U+2069) are shown as ``<U+202E>`` so they cannot
reorder what a reader sees.

Untrusted means anything a person typed *and* anything read from a file or a bundle: clinic,
indicator and period names from indicator files, ids, clinic names and texts from bundles, flow
titles and section names. ``json_text`` is ``json.dumps`` for output a person may ``cat``: the
same characters are written as ``\\uXXXX`` escapes (still the same JSON, losslessly).
"""

from __future__ import annotations

import json
import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    ch = m.group(0)
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return f"<U+{code:04X}>"


def terminal_safe(text: str) -> str:
    return _CONTROL.sub(_visible, text)


def control_character(text: str) -> str | None:
    """The first character ``terminal_safe`` would replace (newline and tab are fine), or None."""
    m = _CONTROL.search(text)
    return m.group(0) if m else None


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_text(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **kwargs)`` with DEL, C1 controls, line/paragraph
    separators and bidirectional overrides escaped (json.dumps already escapes C0 controls)."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def one_line(text: str, width: int = 80) -> str:
    flat = " ".join(terminal_safe(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"

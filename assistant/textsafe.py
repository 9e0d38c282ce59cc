"""Showing untrusted text in a terminal: control characters become visible symbols, never act.

ESC (the start of ANSI/OSC sequences) shows as ␛, other C0 controls as their Control Picture
(␀ … ␟), DEL as ␡, C1 controls as ``\\x9b``-style text; newline and tab stay.
Bidirectional overrides (U+202A–U+202E, U+2066–U+2069) are shown as ``<U+202E>`` so they cannot
reorder what a reader sees.
"""

from __future__ import annotations

import re

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


def one_line(text: str, width: int = 80) -> str:
    flat = " ".join(terminal_safe(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"

"""Swedish numbers (``tal``, ``procent``) and Markdown-escaped text (``md``, ``md_quote``): the
filters of every template (``assistant.render``), and plain functions for the statistics' texts
(``assistant.data.flags``), which thereby need no Jinja.
"""

from __future__ import annotations

import math
import re
from typing import Any


def tal(value: Any, decimals: int = 0) -> str:
    """1204 -> '1 204', 0.5 with decimals=1 -> '0,5' (Swedish: space thousands, decimal comma)."""
    if value is None:
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number) or math.isinf(number):
        return "–"
    text = f"{number:,.{decimals}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def procent(value: Any, decimals: int = 0) -> str:
    """0.785 -> '79 %'; procent(0.785, 1) -> '78,5 %'."""
    if value is None:
        return "–"
    try:
        number = float(value) * 100
    except (TypeError, ValueError):
        return str(value)
    return f"{tal(number, decimals)}\u00a0%"


# CommonMark lets any ASCII punctuation be backslash-escaped: "\<script>" is text, never HTML.
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]#|!~<>&"})


_MD_LIST = re.compile(r"^(\s*)([-+=]|\d+[.)])")  # bullets, setext underlines, "1." and "1)"


def md(value: Any) -> str:
    """Escape text for Markdown so nothing a person wrote becomes markup, a link or HTML."""
    if value is None:
        return ""
    text = str(value).translate(_MD_SPECIAL)
    # a line that starts like a list or a setext heading stays text
    def guard(m: re.Match[str]) -> str:
        marker = m.group(2)
        return m.group(1) + (marker[:-1] + "\\" + marker[-1] if marker[-1] in ".)" else "\\" + marker)

    return "\n".join(_keep_indent(_MD_LIST.sub(guard, line)) for line in text.split("\n"))


_INDENT = re.compile(r"^[ \t]+")


def _keep_indent(line: str) -> str:
    """Leading spaces and tabs as no-break spaces: four of them would start a code block, and a
    no-break space is text to Markdown (it still shows the indent)."""
    return _INDENT.sub(lambda m: "\u00a0" * len(m.group(0).expandtabs(4)), line)


def md_quote(value: Any) -> str:
    """A Markdown block quote of escaped text, one '> ' per line."""
    return "\n".join("> " + line if line else ">" for line in md(value).split("\n"))

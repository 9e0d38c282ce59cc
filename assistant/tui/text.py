"""Showing text safely: user text is never markup and control characters never act."""

from __future__ import annotations

import re

from textual.content import Content

from assistant.textsafe import one_line, terminal_safe


def plain(text: object, style: str = "") -> Content:
    """User (or any untrusted) text as content: no markup, escapes shown as visible symbols."""
    content = Content(terminal_safe(str(text or "")))
    return content.stylize(style) if style else content


def plain_line(text: object, width: int = 80, style: str = "") -> Content:
    """One line of user text, shortened with an ellipsis."""
    content = Content(one_line(str(text or ""), width))
    return content.stylize(style) if style else content


def option(text: object, width: int = 80):
    """A Select option label: plain rich Text (Select's type-to-search reads Text, not Content)."""
    from rich.text import Text

    return Text(one_line(str(text or ""), width))


def join(*parts: Content | str | tuple[str, str]) -> Content:
    """Assemble content from parts; plain strings and tuples are treated as literal text."""
    return Content.assemble(*parts)


MARK_STYLES = {"▼": "bold $text-warning", "▲": "bold $text-success", "◆": "bold $text-accent"}


def flag_mark(flag: object) -> Content:
    """The flag's marker (``flagstates.flag_marker``: ▼ worse, ▲ only better, ◆ a neutral indicator far
    from its peers), coloured."""
    from assistant.flagstates import flag_marker

    mark = flag_marker(flag)
    return Content.styled(mark, MARK_STYLES.get(mark, "$text-muted"))


def flag_summary(text: str) -> str:
    """The first clause of a flag's text: value, n and target, without the uncertainty interval."""
    head = re.split(r",\s*95\s*%\s*KI", str(text), maxsplit=1)[0]
    return head.split(". ")[0]


_MARKER = re.compile(r"^(\s*)((?:> |– |- |· |▼ |▲ |◆ |☐ |☑ |⚠ )?)")


def wrap_keeping_indent(text: str, width: int) -> tuple[str, list[int]]:
    """``text`` wrapped at ``width`` so that a wrapped line keeps its line's indent – and its quote
    mark ("    > " under an answer) – instead of starting at the left edge (a TextArea's own soft
    wrap does that). Returns the text and, per line of ``text``, the line it starts on now."""
    import textwrap

    out: list[str] = []
    starts: list[int] = []
    for line in text.split("\n"):
        starts.append(len(out))
        if len(line) <= width or not line.strip():
            out.append(line)
            continue
        lead, mark = _MARKER.match(line).groups()  # type: ignore[union-attr]
        hang = lead + (mark if mark == "> " else " " * len(mark))
        room = max(10, width)
        pieces = textwrap.wrap(
            line[len(lead) + len(mark):], room - len(hang), break_on_hyphens=False, break_long_words=True
        )
        out.append(lead + mark + (pieces[0] if pieces else ""))
        out += [hang + piece for piece in pieces[1:]]
    return "\n".join(out), starts

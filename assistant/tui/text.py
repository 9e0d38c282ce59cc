"""Showing text safely: user text is never markup and control characters never act."""

from __future__ import annotations

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
    """The first clause of a flag's text: value, n and target, without the confidence interval."""
    import re

    head = re.split(r",\s*95\s*%\s*KI", str(text), maxsplit=1)[0]
    return head.split(". ")[0]


def clock_text(seconds: float) -> str:
    """Meeting time as HH:MM (the line mode's format)."""
    minutes = int(max(0.0, seconds) // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def minutes_text(seconds: float) -> str:
    return f"{int(max(0.0, seconds) // 60)}"

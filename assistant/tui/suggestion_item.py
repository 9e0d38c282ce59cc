"""One suggestion in the dialogue's suggestions panel, with "Ta" and "Avböj" to click."""

from __future__ import annotations

from textual.content import Content
from textual.style import Style
from textual.widgets import Static

from assistant import engine as E
from assistant import glossary
from assistant.tui.text import plain


class SuggestionItem(Static):
    """One suggestion, with "Ta" and "Avböj" to click (one widget: the panel stays cheap)."""

    def __init__(self, number: int, suggestion: E.Suggestion) -> None:
        super().__init__(suggestion_content(number, suggestion), classes="suggestion", markup=False)
        self.number = number
        self.suggestion = suggestion


def suggestion_content(number: int, s: E.Suggestion) -> Content:
    if s.action:
        what = Content.assemble(("→ åtgärd: ", "$text-muted"), plain(s.text or ""))
    elif s.text:
        what = Content.assemble(("→ ", "$text-muted"), plain(s.text))
    else:
        asked, more = glossary.suggestion_leads_to(s.labels)
        what = Content("\n  ").join(Content.assemble(("→ ", "$text-muted"), plain(line)) for line in asked or [""])
        if more:
            what = what.append(Content.styled(f"\n    {more}", "$text-muted"))
    take = Style.from_meta({"@click": f"screen.take({s.sid!r})"})
    decline = Style.from_meta({"@click": f"screen.decline({s.sid!r})"})
    return Content.assemble(
        (f"{number} ", "bold $text-accent"),
        plain(s.reason, "bold"),
        "\n",
        Content("  ").append(what),
        "\n  ",
        Content.styled(" Ta ", "bold $button-color-foreground on $primary").stylize(take),
        " ",
        Content.styled(" Avböj ", "$foreground on $panel-lighten-2").stylize(decline),
    )

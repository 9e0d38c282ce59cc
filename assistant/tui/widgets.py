"""Small widgets shared by the screens."""

from __future__ import annotations

from dataclasses import replace

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Static, TextArea

NEWLINE_KEYS = ("ctrl+j", "shift+enter", "alt+enter")
# TextArea's editing keys that the dialogue screen uses for its own commands (Home/End still work).
TAKEN_KEYS = {"ctrl+a", "ctrl+e", "ctrl+k"}


def _without_taken(bindings):
    out = []
    for b in bindings:
        if not isinstance(b, Binding):
            out.append(b)
            continue
        keys = [k.strip() for k in b.key.split(",") if k.strip() not in TAKEN_KEYS]
        if keys:
            out.append(replace(b, key=",".join(keys)))
    return out


class AnswerBox(TextArea, inherit_bindings=False):
    """A multi-line box where Enter sends and Ctrl+J (or Shift/Alt+Enter) adds a new line.

    It has TextArea's keys except Ctrl+A, Ctrl+E and Ctrl+K, which the dialogue screen uses
    (Åtgärd, Avsnitt klart, Parkera); Home and End still move to the start and end of a line."""

    BINDINGS = _without_taken(TextArea.BINDINGS)

    class Submitted(Message):
        def __init__(self, box: AnswerBox, text: str) -> None:
            super().__init__()
            self.box = box
            self.text = text

        @property
        def control(self) -> AnswerBox:
            return self.box

    def __init__(self, text: str = "", *, placeholder: str = "", id: str | None = None, classes: str | None = None):
        super().__init__(
            text,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            highlight_cursor_line=False,
            placeholder=placeholder,
            id=id,
            classes=classes,
        )

    async def _on_key(self, event: events.Key) -> None:
        if self.read_only:
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.text))
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert_newline()
            return
        # Anything else: TextArea's own handler (further up the MRO) inserts the character.

    def insert_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)


class TopBar(Horizontal):
    """One line at the top: a title on the left, a clock or status on the right."""

    DEFAULT_CSS = """
    TopBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    TopBar > #title { width: 1fr; height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    TopBar > #right { width: auto; height: 1; padding: 0 1; color: $text-accent; text-style: bold; }
    """

    def __init__(self, title: Content | str = "", right: Content | str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self._title = title if isinstance(title, Content) else Content(title)
        self._right = right if isinstance(right, Content) else Content(right)

    def compose(self) -> ComposeResult:
        yield Static(self._title, id="title", markup=False)
        yield Static(self._right, id="right", markup=False)

    def set_title(self, title: Content | str) -> None:
        self._title = title if isinstance(title, Content) else Content(title)
        if self.is_mounted:
            self.query_one("#title", Static).update(self._title)

    def set_right(self, right: Content | str) -> None:
        self._right = right if isinstance(right, Content) else Content(right)
        if self.is_mounted:
            self.query_one("#right", Static).update(self._right)

"""The conversation: its messages as widgets, older ones as blocks of text, in a scrolling panel.

A long conversation stays cheap: only the newest messages are widgets of their own; older ones
are laid out as one block of text per few hundred messages, when asked for ("Visa tidigare"),
and messages that scroll far up during a meeting are folded into such a block too.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import Button, Static

from assistant.tui import chatlog

FOLD_AT = 120  # message widgets at most: beyond it, the oldest FOLD are folded into one block
FOLD = 60
BLOCK = 200  # older messages shown per "Visa tidigare"


class ChatMessage(Static):
    ALLOW_SELECT = True

    def __init__(self, msg: chatlog.Msg) -> None:
        super().__init__(msg.content, classes=f"msg {msg.kind}", markup=False)
        self.msg = msg


class _WidthContent(Visual):
    """Content built for the width it is laid out in (cached for the last width)."""

    def __init__(self, build) -> None:
        self.build = build
        self._width = -1
        self._content = Content("")

    def content(self, width: int) -> Content:
        if width != self._width:
            self._width, self._content = width, self.build(width)
        return self._content

    def render_strips(self, width, height, style, options):
        return self.content(width).render_strips(width, height, style, options)

    def get_optimal_width(self, rules, container_width: int) -> int:
        return container_width

    def get_height(self, rules, width: int) -> int:
        return self.content(width).get_height(rules, width)


class HistoryBlock(Widget):
    """Many older messages as one widget."""

    ALLOW_SELECT = True
    DEFAULT_CSS = "HistoryBlock { height: auto; }"

    def __init__(self, msgs: list[chatlog.Msg]) -> None:
        super().__init__(classes="history")
        self.msgs = msgs
        self._visual = _WidthContent(lambda width: chatlog.block(msgs, width))

    def render(self) -> _WidthContent:
        return self._visual

    @property
    def text(self) -> Content:
        return self._visual.content(self.content_size.width or 80)

    def get_selection(self, selection):
        return selection.extract(self.text.plain), "\n"


class Panel(VerticalScroll, can_focus=False):
    """A scrolling panel that a click never takes the focus to: typing always reaches the answer
    box (the mouse wheel and PageUp/PageDown scroll it)."""


class ChatView(Panel):
    """The conversation: the newest messages as widgets; older ones as blocks, on request. Answers
    are laid out under their question, above the notes and actions made while it was on screen."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.waiting: list[chatlog.Msg] = []  # older messages not shown yet
        self.unbuilt: chatlog.History | None = None  # ... and older ones still, not even built

    def compose(self) -> ComposeResult:
        yield Button("", id="older", classes="hidden", compact=True)

    def on_mount(self) -> None:
        self.anchor()

    def show_history(self, history: chatlog.History) -> None:
        """The conversation as it opens: its newest messages; the rest behind "Visa tidigare"."""
        if history.older_count:
            self.unbuilt = history
        self.add(history.recent)

    def add(self, msgs: list[chatlog.Msg]) -> None:
        """New messages at the end of the conversation (an answer: under its question)."""
        at_end: list[ChatMessage] = []
        for m in msgs:
            shown = list(self.query_children(ChatMessage))
            place = chatlog.answer_place([(w.msg.kind, w.msg.qid) for w in shown], m.qid) if m.kind == "answer" else None
            if place is None or at_end:
                at_end.append(ChatMessage(m))
            else:
                self.mount(ChatMessage(m), before=shown[place])
        if at_end:
            self.mount_all(at_end)
        self.fold()
        self._update_older()
        self.anchor()

    def insert_after_welcome(self, msg: chatlog.Msg) -> None:
        """A message at the top of the conversation, after the welcome (before the first question)."""
        shown = list(self.query_children(ChatMessage))
        welcome = next((w for w in shown if w.msg.kind == "welcome"), None)
        if welcome is not None:
            self.mount(ChatMessage(msg), after=welcome)
        elif shown:
            self.mount(ChatMessage(msg), before=shown[0])
        else:
            self.mount(ChatMessage(msg))

    def replace_previous(self, msg: chatlog.Msg) -> None:
        """Show "Från förra dialogen" again after one of its actions changed."""
        old = next((w for w in self.query_children(ChatMessage) if w.msg.kind == "previous"), None)
        if old is None:
            self.insert_after_welcome(msg)
            return
        self.mount(ChatMessage(msg), after=old)
        old.remove()

    def fold(self) -> None:
        """Keep the number of message widgets bounded during a long meeting."""
        shown = list(self.query_children(ChatMessage))
        if len(shown) <= FOLD_AT:
            return
        old = shown[:FOLD]
        self.mount(HistoryBlock([w.msg for w in old]), before=old[0])
        self.remove_children(old)

    @property
    def older_count(self) -> int:
        return len(self.waiting) + (self.unbuilt.older_count if self.unbuilt is not None else 0)

    def _update_older(self) -> None:
        button = self.query_one("#older", Button)
        n = self.older_count
        more = f" (av {n})" if n > BLOCK else ""
        button.label = Content(f"▲ Visa {min(n, BLOCK)} tidigare meddelanden{more}")
        button.set_class(not n, "hidden")

    @on(Button.Pressed, "#older")
    def load_older(self) -> None:
        if self.unbuilt is not None:
            self.waiting = self.unbuilt.older() + self.waiting
            self.unbuilt = None
        batch, self.waiting = self.waiting[-BLOCK:], self.waiting[:-BLOCK]
        if batch:
            self.mount(HistoryBlock(batch), after=self.query_one("#older"))
        self._update_older()

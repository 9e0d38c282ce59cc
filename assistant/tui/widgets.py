"""Small widgets shared by the screens."""

from __future__ import annotations

from dataclasses import replace

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import RadioButton, RadioSet, Static, TextArea

NEWLINE_KEYS = ("ctrl+j", "shift+enter", "alt+enter")
# TextArea's editing keys that the dialogue screen uses for its own commands (Home/End still work).
# PageUp/PageDown scroll the conversation (a one-line answer box has no pages to move through).
TAKEN_KEYS = {"ctrl+a", "ctrl+e", "ctrl+k", "pageup", "pagedown"}


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


class ChoiceSet(RadioSet):
    """A RadioSet whose highlighted choice is the choice: the arrow keys press the button they move
    to. (In Textual's RadioSet they only move a highlight; Down to "Självskattning" and on with Tab
    kept the choice that was pressed before – what you see is not what you get.)"""

    def __init__(self, *buttons, **kwargs) -> None:
        super().__init__(*buttons, **kwargs)
        self._ready = False

    def _on_mount(self, event) -> None:
        # Runs before RadioSet's own mount handler (handlers run from the subclass up), which
        # highlights the first button: settle on the pressed one once that is done.
        self.call_after_refresh(self._settle)

    def _settle(self) -> None:
        if self.pressed_index >= 0:
            self._selected = self.pressed_index
        self._ready = True

    def action_next_button(self) -> None:
        super().action_next_button()
        self._press_highlighted()

    def action_previous_button(self) -> None:
        super().action_previous_button()
        self._press_highlighted()

    def _press_highlighted(self) -> None:
        if not self._ready or self._selected is None:
            return
        button = self._nodes[self._selected]
        if isinstance(button, RadioButton) and not button.value:
            button.value = True


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


class KeyBar(Widget, can_focus=False):
    """The screen's keys on one line at the bottom: a light stand-in for Textual's ``Footer``.

    ``Footer`` recomposes one widget per key whenever the focus moves (tens of milliseconds each
    time, on every screen), and in a narrow window its right-docked palette key is drawn over the
    other keys. This is one widget that re-renders. When not every key fits, the ones that matter
    most are kept (``keys.rank_of``; "Hjälp" always, and F1 lists them all), in their own order;
    a screen's ``key_shown(action)`` can leave out a key that does not apply just now (nothing
    parked: no Ctrl+R). Keys of Textual's own widgets are shown in Swedish or not at all. A click
    on a key presses it."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        background: $footer-background;
        color: $footer-description-foreground;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """
    ALLOW_SELECT = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._spans: list[tuple[int, int, str]] = []  # (start, end, key) of the keys drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        self.refresh()

    def keys(self) -> tuple[list[tuple[str, str, str, bool]], tuple[str, str, str, bool] | None]:
        """(display, label, key, enabled) of the keys that may be shown, in order, and the command
        palette's key."""
        from assistant.tui.keys import footer_label

        app = self.app
        screen = self.screen
        applies = getattr(screen, "key_shown", None)
        seen: set[str] = set()
        shown: list[tuple[str, str, str, bool]] = []
        palette = None
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            key = binding.key.split(",")[0].strip()
            if key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                palette = (app.get_key_display(binding), "Kommandon", key, enabled)
                continue
            if not binding.show or binding.action in seen:
                continue
            label = footer_label(binding.action, binding.description)
            if not label or (applies is not None and not applies(binding.action)):
                continue
            seen.add(binding.action)
            shown.append((app.get_key_display(binding), label, key, enabled))
        # Help last, so that it is never the key left out.
        shown.sort(key=lambda k: k[2] == "f1")
        return shown, palette

    def fitting(self, shown: list[tuple[str, str, str, bool]], width: int) -> list[Content | tuple]:
        """The keys that fit in ``width``, the most important first, laid out in their own order."""
        from assistant.tui.keys import rank_of

        ranks = {k[2]: rank_of(self._action_of(k[2])) for k in shown}
        for gap in (2, 1, 0):
            items = {k[2]: _key_item(k, gap) for k in shown}
            if sum(i.cell_length for i in items.values()) - gap <= width:  # (the last gap may be cut)
                return [(items[k[2]], k[2]) for k in shown]
        kept: set[str] = set()
        used = 0
        for k in sorted(shown, key=lambda k: ranks[k[2]]):
            if used + items[k[2]].cell_length - gap <= width or not kept:
                kept.add(k[2])
                used += items[k[2]].cell_length
        return [(items[k[2]], k[2]) for k in shown if k[2] in kept]

    def _action_of(self, key: str) -> str:
        for _node, binding, _enabled, _tooltip in self.screen.active_bindings.values():
            if binding.key.split(",")[0].strip() == key:
                return binding.action
        return ""

    def render(self) -> Content:
        shown, palette = self.keys()
        width = self.size.width
        items = self.fitting(shown, width)
        used = sum(i.cell_length for i, _ in items)
        if items and used > width:  # only the last key's trailing gap is over: cut it
            items[-1] = (items[-1][0].rstrip(), items[-1][1])
            used = sum(i.cell_length for i, _ in items)
        if palette is not None:
            right = _key_item(palette, 1)
            if used + right.cell_length + 1 <= width:
                items.append((Content(" " * (width - used - right.cell_length)), ""))
                items.append((right, palette[2]))
        self._spans = []
        x = 0
        for item, key in items:
            if key:
                self._spans.append((x, x + item.cell_length, key))
            x += item.cell_length
        return Content.assemble(*(item for item, _ in items))

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return


def _key_item(key: tuple[str, str, str, bool], gap: int) -> Content:
    display, label, _name, enabled = key
    # Spaces end a run rather than start one: some SVG renderers drop a run's leading spaces.
    item = Content.assemble(
        " ",
        (display + (" " if label else ""), "bold $footer-key-foreground"),
        (label, "$footer-description-foreground"),
        " " * gap,
    )
    return item.stylize("dim") if not enabled else item

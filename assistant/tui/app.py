"""The Dialogstöd app. ``DialogstodApp(store=..., clock=...)``; ``dialogstod`` runs it.

Start-up budget: this module imports Textual and the start screen only. Storage, the engine,
the flows and the other screens load in a worker after the first paint (see ``StartScreen``);
scipy, docx, openpyxl and textual_serve are only ever imported inside functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.message import Message
from textual.screen import Screen

from assistant import verbs
from assistant.tui.keys import bindings, palette_entries

if TYPE_CHECKING:  # (imported in a worker after the first paint, never at start-up)
    from assistant.session import Dialogue
    from assistant.tui.chatlog import History
    from storage import Store

if TYPE_CHECKING:
    from assistant.session import Dialogue
    from assistant.tui.chatlog import History
    from storage import Store

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class KeyTookEffect(Message):
    """Posted to the widget a key went to, right after the key: when it reaches the app, the key
    has been handled (see DialogstodApp's "typing ahead")."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number


class DialogstodApp(App[None]):
    """Dialogstöd in a terminal (or a browser through ``dialogstod serve``)."""

    TITLE = "Dialogstöd"
    CSS_PATH = "app.tcss"
    BINDINGS = bindings(verbs.APP)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    NOTIFICATION_TIMEOUT = 6

    def __init__(
        self,
        store: Store | None = None,
        clock: Clock | None = None,
        *,
        db_path: str | None = None,
    ) -> None:
        super().__init__()
        self._store: Store | None = store
        self._owns_store = store is None
        self._db_path = db_path
        self._store_lock = threading.Lock()
        self.clock: Clock = clock or _utcnow
        self.exit_message: str | None = None
        self._held_keys: list[events.Key | events.Paste] | None = None
        self._holds = 0
        self._hold_timer: Any = None
        self._next_key: events.Key | events.Paste | None = None
        self._key_number = 0
        self._keys_in_flight: set[int] = set()

    def get_driver_class(self):
        """The platform's driver, its input parser with a guard for pasted text (``tui/paste.py``)."""
        driver = super().get_driver_class()
        from assistant.tui.paste import install

        install(driver)
        return driver

    # ------------------------------------------------------------ the store

    def get_default_screen(self) -> Screen:
        from assistant.tui.start import StartScreen

        return StartScreen()

    @property
    def store(self) -> Store:
        """The open store (opened on first use; call from a worker the first time)."""
        with self._store_lock:
            if self._store is None:
                from assistant.database import open_store

                self._store = open_store(self._db_path)
            return self._store

    @property
    def store_path(self) -> str:
        if self._store is not None:
            return str(self._store.path)
        from assistant import locations

        return str(locations.db_path(self._db_path))

    def on_unmount(self) -> None:
        if self._owns_store and self._store is not None:
            self._store.close()

    # ------------------------------------------------------------ typing ahead
    #
    # People type ahead: "n" and straight on with the clinic's name, Enter on a dialogue and
    # straight on with the answer. Textual hands a key to the focused widget's queue and goes on
    # with the next one, so a letter typed right after a hotkey reached the old screen before the
    # hotkey had opened the new one (on the start screen n, t, i, d and 1–9 are hotkeys: typing an
    # answer opened Importera data), and letters typed while a screen was mounting, or while a
    # dialogue was opened in a worker, went to a screen with nothing focused and were lost (in a
    # browser, with its latency, always).
    #
    # So keys are taken one at a time: after each key, later keys are held until it has taken
    # effect (a marker message has passed through the widget that got it), and while a screen is
    # on its way (``hold_keys`` … ``release_keys``; counted, so that a worker and the screen it
    # then pushes can both hold) until that screen has mounted and focused its input. Held text
    # goes straight into the focused input; a command key (Enter, Ctrl+S …) is replayed on its own
    # and the rest waits for it. If the screen never comes (an error), or nothing releases the keys
    # within HOLD_SECONDS, they are dropped rather than given to the wrong screen.

    HOLD_SECONDS = 10.0  # held keys nothing has released by then are dropped
    KEY_SECONDS = 0.5  # a key counts as handled after this long even if its marker got lost

    def hold_keys(self) -> None:
        self._holds += 1
        if self._held_keys is None:
            self._held_keys = []
        if self._hold_timer is None:
            self._hold_timer = self.set_timer(self.HOLD_SECONDS, self.drop_keys)

    def release_keys(self) -> None:
        self._holds = max(0, self._holds - 1)
        if self._holds == 0:
            self._deliver_held()

    def drop_keys(self) -> None:
        self._holds = 0
        self._held_keys = None
        self._keys_in_flight.clear()
        self._stop_hold_timer()

    def _stop_hold_timer(self) -> None:
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None

    def _deliver_held(self) -> None:
        held, self._held_keys = self._held_keys or [], None
        self._stop_hold_timer()
        text: list[str] = []
        for i, event in enumerate(held):
            if isinstance(event, events.Paste):
                text.append(event.text)
            elif event.is_printable and event.character and self._takes_text():
                text.append(event.character)
            else:
                self._type_text("".join(text))
                self._held_keys = list(held[i + 1 :])  # wait until this key has taken effect
                self._dispatch(event)
                return
        self._type_text("".join(text))

    def _takes_text(self) -> bool:
        from textual.widgets import Input, TextArea

        focused = self.focused
        return isinstance(focused, Input) or (isinstance(focused, TextArea) and not focused.read_only)

    def _type_text(self, text: str) -> None:
        if not text:
            return
        from textual.widgets import Input

        focused = self.focused
        if isinstance(focused, Input):
            focused.insert_text_at_cursor(text)
        else:
            focused.insert(text)  # type: ignore[union-attr] - a TextArea (see _takes_text)

    def _dispatch(self, event: events.Key | events.Paste) -> None:
        """Give one key to the app as if it had just been typed, holding later keys until it has
        taken effect."""
        self.hold_keys()
        if isinstance(event, events.Paste):
            self._next_key = events.Paste(event.text)
        else:
            self._next_key = events.Key(event.key, event.character)
        self.post_message(self._next_key)

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key | events.Paste) or event.is_forwarded:
            await super().on_event(event)
            return
        if event is self._next_key:
            self._next_key = None
        elif self._held_keys is not None and not (isinstance(event, events.Key) and event.key == "ctrl+q"):
            self._held_keys.append(event)  # an earlier key or a screen is still on its way
            return
        else:
            self.hold_keys()
        await super().on_event(event)
        # Later keys wait until this one has passed through whatever got it (and any screen it
        # opened has mounted: that screen holds the keys too) — or KEY_SECONDS, should the widget
        # go away before the marker gets through.
        self._key_number += 1
        number = self._key_number
        self._keys_in_flight.add(number)
        (self.focused or self.screen).post_message(KeyTookEffect(number))
        self.set_timer(self.KEY_SECONDS, lambda: self._key_done(number))

    def on_key_took_effect(self, message: KeyTookEffect) -> None:
        message.stop()
        self._key_done(message.number)

    def _key_done(self, number: int) -> None:
        if number in self._keys_in_flight:
            self._keys_in_flight.discard(number)
            self.release_keys()

    # ------------------------------------------------------------ workers

    def call_on_screen(self, screen: Screen, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """From a worker thread: run ``callback`` on the UI thread if ``screen`` is still shown (or
        waiting under a modal). A worker that finishes after its screen has gone – Ctrl+S pressed
        while Ny dialog was still looking the clinic up – does nothing, instead of failing on
        widgets that are no longer there."""

        def if_shown() -> None:
            if screen in self.screen_stack and screen.is_mounted:
                callback(*args, **kwargs)

        self.call_from_thread(if_shown)

    def _release_after(self, awaitable: Any) -> None:
        async def when_ready() -> None:
            try:
                await awaitable
            finally:
                self.call_after_refresh(self.release_keys)

        self.call_next(when_ready)

    def push_screen(self, screen: Any, callback: Any = None, wait_for_dismiss: bool = False, **kwargs: Any) -> Any:
        self.hold_keys()
        result = super().push_screen(screen, callback, wait_for_dismiss, **kwargs)
        if wait_for_dismiss:
            self.call_after_refresh(self.release_keys)
        else:
            self._release_after(result)
        return result

    def switch_screen(self, screen: Any) -> Any:
        self.hold_keys()
        result = super().switch_screen(screen)
        self._release_after(result)
        return result

    # ------------------------------------------------------------ opening dialogues

    def open_dialogue(self, ref: str, dialogue: Dialogue | None = None) -> None:
        """Show a dialogue (opening the meeting if it was prepared), from its id or an already
        resumed ``Dialogue`` (so that nothing is replayed twice). Keys typed meanwhile wait for it."""
        self.hold_keys()
        self._open_dialogue(ref, dialogue)

    @work(thread=True, exclusive=True, group="open-dialogue")
    def _open_dialogue(self, ref: str, dialogue: Dialogue | None = None) -> None:
        """Only what the first paint needs happens here: the replay and the conversation's messages.
        The clinic's data, the suggestions and "Från förra dialogen" load on the screen, in a
        worker, after the first paint."""
        from assistant.session import Dialogue, DialogueError
        from assistant.tui import chatlog

        try:
            if dialogue is None:
                dialogue = Dialogue.resume(self.store, ref, clock=self.clock)
            opened = dialogue.state.status == "prepared"
            if opened:
                dialogue.open_meeting()  # records the data shown, so the flags are computed here
            history = None if dialogue.state.finished else chatlog.history(dialogue, fresh=opened)
        except DialogueError as exc:
            self.call_from_thread(self.drop_keys)
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        except Exception as exc:  # noqa: BLE001 - storage errors are for the user
            from assistant.errors import user_error_lines

            self.call_from_thread(self.drop_keys)
            lines = user_error_lines(exc)
            if lines is None:
                raise
            self.call_from_thread(self.notify, "\n".join(lines), severity="error", markup=False)
            return
        # "Från förra dialogen" is shown whenever the meeting is on screen: when it begins and after a resume.
        self.call_from_thread(self.show_dialogue, dialogue, fresh=opened, history=history, find_previous=True)

    def show_dialogue(
        self, dialogue: Dialogue, *, fresh: bool = False, history: History | None = None, find_previous: bool = False
    ) -> None:
        from assistant.tui.dialogue import DialogueScreen

        if dialogue.state.finished:
            self.show_transcript(dialogue.id)
        else:
            self.push_screen(DialogueScreen(dialogue, fresh=fresh, history=history, find_previous=find_previous))
        self.release_keys()  # open_dialogue's hold; the screen's own holds keys until it has mounted

    def show_transcript(self, ref: str) -> None:
        from assistant.tui.archive import TranscriptScreen

        self.push_screen(TranscriptScreen(ref))

    # ------------------------------------------------------------ actions

    async def action_quit(self) -> None:
        from assistant.tui.dialogue import DialogueScreen

        # The meeting's screen, also under a dialog or the data view (F4).
        screen = next((s for s in reversed(self.screen_stack) if isinstance(s, DialogueScreen)), None)
        if screen is not None and not screen.d.state.finished:
            from assistant.textsafe import one_line

            dialogue = screen.d
            draft = screen.keep_draft_before_exit()  # committed (or in the recovery file) before the exit
            self.exit_message = (
                (draft + " " if draft else "")
                + f"Dialogen med {one_line(dialogue.clinic, 60)} är sparad ({dialogue.id[:8]}). "
                "Starta dialogstod igen och välj den på startsidan för att fortsätta."
            )
            pending = screen.pending
            if pending is not None:  # still waiting for a busy database: keep the text before leaving
                kept = dialogue.keep(pending.command, pending.asked, "appen stängdes medan databasen var upptagen")
                where = f"; texten finns i {kept}" if kept is not None else ""
                self.exit_message = (
                    f"Det senaste du skrev hann inte sparas i dialogen med {one_line(dialogue.clinic, 60)} "
                    f"({dialogue.id[:8]}){where}. Allt före det är sparat."
                )
        self.exit()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification passes here; error messages quote names from files and bundles, so
        control characters in them are shown as symbols, never sent to the terminal."""
        from assistant.textsafe import terminal_safe

        super().notify(
            terminal_safe(str(message)), title=terminal_safe(str(title)), severity=severity, timeout=timeout, markup=markup
        )

    def action_command_palette(self) -> None:
        """Ctrl+P: the command palette, in Swedish."""
        from textual.command import CommandPalette

        from assistant.tui.palette import SwedishPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(SwedishPalette(id="--command-palette"))

    def search_themes(self) -> None:
        from textual.theme import ThemeProvider

        from assistant.tui.palette import THEMES_PLACEHOLDER, SwedishPalette

        self.push_screen(SwedishPalette(providers=[ThemeProvider], placeholder=THEMES_PLACEHOLDER))

    def action_help(self) -> None:
        from assistant.tui.modals import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        everywhere = list(palette_entries(verbs.APP, self))
        for title, help_text, callback in everywhere[:-1]:  # help and theme first, closing the app last
            yield SystemCommand(title, help_text, callback)
        yield SystemCommand("Välj tema", "Välj bland alla färgteman", self.action_change_theme)
        commands = getattr(screen, "palette_commands", None)
        if commands is not None:
            for title, help_text, callback, *discover in commands():
                # an entry a screen marks as not for the empty palette is found by searching only
                yield SystemCommand(title, help_text, callback, *discover)
        for title, help_text, callback in everywhere[-1:]:
            yield SystemCommand(title, help_text, callback)


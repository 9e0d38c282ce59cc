"""The Dialogstöd app. ``DialogstodApp(store=..., clock=...)``; ``dialogstod`` runs it.

Start-up budget: this module imports Textual and the start screen only. Storage, the engine,
the flows and the other screens load in a worker after the first paint (see ``StartScreen``);
scipy, docx, openpyxl and textual_serve are only ever imported inside functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen

from assistant.tui.keys import APP_KEYS, bindings

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DialogstodApp(App[None]):
    """Dialogstöd in a terminal (or a browser through ``dialogstod serve``)."""

    TITLE = "Dialogstöd"
    CSS_PATH = "app.tcss"
    BINDINGS = bindings(APP_KEYS)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    NOTIFICATION_TIMEOUT = 6

    def __init__(
        self,
        store: Any = None,
        clock: Clock | None = None,
        *,
        db_path: str | None = None,
    ) -> None:
        super().__init__()
        self._store = store
        self._owns_store = store is None
        self._db_path = db_path
        self._store_lock = threading.Lock()
        self.clock: Clock = clock or _utcnow
        self.exit_message: str | None = None

    # ------------------------------------------------------------ the store

    def get_default_screen(self) -> Screen:
        from assistant.tui.start import StartScreen

        return StartScreen()

    @property
    def store(self) -> Any:
        """The open store (opened on first use; call from a worker the first time)."""
        with self._store_lock:
            if self._store is None:
                from assistant.session import open_store

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

    # ------------------------------------------------------------ opening dialogues

    @work(thread=True, exclusive=True, group="open-dialogue")
    def open_dialogue(self, ref: str, dialogue: Any = None) -> None:
        """Show a dialogue (opening the meeting if it was prepared), from its id or an already
        resumed ``Dialogue`` (so that nothing is replayed twice).

        Only what the first paint needs happens here: the replay and the conversation's messages.
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
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        except Exception as exc:  # noqa: BLE001 - storage errors are for the user
            from assistant.cli import user_error_lines

            lines = user_error_lines(exc)
            if lines is None:
                raise
            self.call_from_thread(self.notify, "\n".join(lines), severity="error", markup=False)
            return
        self.call_from_thread(self.show_dialogue, dialogue, fresh=opened, history=history, find_previous=opened)

    def show_dialogue(
        self, dialogue: Any, *, fresh: bool = False, history: Any = None, find_previous: bool = False
    ) -> None:
        from assistant.tui.dialogue import DialogueScreen

        if dialogue.state.finished:
            self.show_transcript(dialogue.id)
            return
        self.push_screen(DialogueScreen(dialogue, fresh=fresh, history=history, find_previous=find_previous))

    def show_transcript(self, ref: str) -> None:
        from assistant.tui.archive import TranscriptScreen

        self.push_screen(TranscriptScreen(ref))

    # ------------------------------------------------------------ actions

    async def action_quit(self) -> None:
        dialogue = getattr(self.screen, "d", None)
        if dialogue is not None and not dialogue.state.finished:
            from assistant.textsafe import one_line

            self.exit_message = (
                f"Dialogen med {one_line(dialogue.clinic, 60)} är sparad ({dialogue.id[:8]}). "
                "Starta dialogstod igen och välj den på startsidan för att fortsätta."
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

    def action_help(self) -> None:
        from assistant.tui.modals import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Hjälp", "Visa alla tangenter (F1)", self.action_help)
        yield SystemCommand("Ljust/mörkt tema", "Växla mellan ljust och mörkt tema (F2)", self.action_toggle_dark)
        yield SystemCommand("Välj tema", "Välj bland alla färgteman", self.action_change_theme)
        commands = getattr(screen, "palette_commands", None)
        if commands is not None:
            for title, help_text, callback in commands():
                yield SystemCommand(title, help_text, callback)
        yield SystemCommand("Stäng appen", "Stäng Dialogstöd – allt är redan sparat (Ctrl+Q)", self.action_quit)

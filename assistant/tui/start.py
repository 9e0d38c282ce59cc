"""The start screen: new dialogue, dialogues to resume, earlier dialogues, import data.

It paints at once; the store, the dialogues and the flows load in a worker after the first paint,
and the worker then warms the imports the other screens need.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Static

from assistant import verbs
from assistant.labels import STATUS_WORDS
from assistant.tui.keys import bindings, palette_entries
from assistant.tui.widgets import KeyBar, TopBar

if TYPE_CHECKING:
    from storage import Store

OPEN_LIMIT = 50  # dialogues in progress or prepared listed here; the rest are under Tidigare dialoger

STATUS_SV = STATUS_WORDS

WELCOME = (
    "Välkommen! Det finns inga dialoger i databasen ännu.\n"
    "Tryck n för att starta eller förbereda en dialog."
)
DEMO_HINT = (
    "Vill du prova med påhittade data först? Tryck d – det gör samma sak som `dialogstod data demo` – "
    "och starta sedan en dialog med mottagningen ”Fysio Norr (påhittad)”: appen visar dess data och "
    "föreslår följdfrågor."
)

if TYPE_CHECKING:
    from storage import Store


def local_time(value: Any) -> str:
    """An ISO timestamp from the database as local 'YYYY-MM-DD HH:MM'."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value)).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)[:16].replace("T", " ")


def flow_titles() -> dict[str, str]:
    from assistant.flows import FlowError, flow_files, get_flow

    out: dict[str, str] = {}
    for fid in flow_files():
        try:
            out[fid] = get_flow(fid).flow.title
        except FlowError:
            out[fid] = fid
    return out


def import_indicator_file(store: Store, path: str | Path, source: str | None = None) -> str:
    """Import a file the way `dialogstod data import` does, into the app's ``store``; returns a
    summary, raises on errors."""
    from assistant.data.importer import import_file, import_summary

    n, counts = import_file(path, source=source, store=store)
    return import_summary(n, counts, Path(path).name) + "."


class StartScreen(Screen):
    BINDINGS = (
        bindings(verbs.START)
        + [Binding(str(n), f"resume({n})", show=False) for n in range(1, 10)]
    )

    def __init__(self) -> None:
        super().__init__()
        self.open_ids: list[str] = []
        self.loaded = False
        self.pending_resume: int | None = None  # 1–9 pressed before the list had loaded
        self.last_import_folder: str | None = None
        self.suspended = False

    def compose(self) -> ComposeResult:
        yield TopBar("Dialogstöd", "")
        with VerticalScroll(id="start"):
            yield Static(Content.styled("Dialogstöd", "bold $text-accent"), id="logo")
            yield Static(
                "Stöd för uppföljningsdialoger enligt SKR:s UppföljningsDialog (5P).",
                classes="muted",
                markup=False,
            )
            with Horizontal(id="menu"):
                yield Button("Ny dialog", id="new", variant="primary")
                yield Button("Tidigare dialoger", id="archive")
                yield Button("Importera data", id="import")
                yield Button("Prova demodata", id="demo")
            yield Static("", id="welcome", classes="hidden", markup=False)
            yield Static(Content.styled("Pågående och förberedda dialoger", "bold"), id="open-heading")
            yield Static("Läser in …", id="open-empty", classes="muted", markup=False)
            yield DataTable(id="open", cursor_type="row", zebra_stripes=True, classes="hidden")
            yield Static("", id="dbinfo", classes="muted", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#open", DataTable)
        table.add_column("", key="n", width=2)
        table.add_column("Mottagning", key="clinic")
        table.add_column("Flöde", key="flow")
        table.add_column("Status", key="status")
        table.add_column("Senast", key="updated")
        table.add_column("Id", key="id")
        self.set_timer(0.1, self.reload)  # after the first paint: the worker imports storage (GIL)

    def on_screen_suspend(self) -> None:
        self.suspended = True

    def on_screen_resume(self) -> None:
        # Back from another screen: the lists may have changed. (The screen is also "resumed" as the
        # app starts; then the timer in on_mount loads, after the first paint.)
        if self.suspended:
            self.suspended = False
            self.reload()

    # ------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="start-load")
    def reload(self) -> None:
        app = self.app
        try:
            store = app.store
            rows = store.list_dialogues(status="in_progress", limit=OPEN_LIMIT + 1)
            rows += store.list_dialogues(status="prepared", limit=OPEN_LIMIT + 1)
            rows.sort(key=lambda r: str(r["updated"]), reverse=True)
            more = len(rows) > OPEN_LIMIT
            rows = rows[:OPEN_LIMIT]
            any_dialogue = bool(rows) or bool(store.list_dialogues(limit=1))
            has_data = bool(store.indicator_values())
            titles = flow_titles()
        except Exception as exc:  # noqa: BLE001 - the message is the user's to act on
            from assistant.errors import user_error_lines

            lines = user_error_lines(exc)
            if lines is None:
                raise
            app.call_on_screen(self, self.show_error, lines)
            return
        app.call_on_screen(self, self.show_lists, rows, any_dialogue, has_data, titles, more)
        warm_imports()

    def show_error(self, lines: list[str]) -> None:
        if self.pending_resume is not None:
            self.pending_resume = None
            self.app.drop_keys()
        self.query_one("#open-empty", Static).update(Content("\n".join(lines)))
        self.query_one("#dbinfo", Static).update(Content(f"Databas: {self.app.store_path}"))

    def show_lists(
        self, rows: list[dict], any_dialogue: bool, has_data: bool, titles: dict[str, str], more: bool = False
    ) -> None:
        table = self.query_one("#open", DataTable)
        table.clear()
        self.open_ids = [r["id"] for r in rows]
        self.loaded = True
        for i, r in enumerate(rows, 1):
            table.add_row(
                Text(str(i) if i <= 9 else ""),
                Text(_clip(r["clinic"], 40)),
                Text(_clip(titles.get(r["flow_id"], r["flow_id"]), 40)),
                Text(STATUS_SV.get(r["status"], r["status"])),
                Text(local_time(r["updated"])),
                Text(r["id"][:8]),
                key=r["id"],
            )
        table.set_class(not rows, "hidden")
        empty = self.query_one("#open-empty", Static)
        empty.set_class(bool(rows), "hidden")
        empty.update(
            Content("Inga pågående eller förberedda dialoger. Tidigare dialoger finns under t.")
            if any_dialogue
            else Content("Inga dialoger ännu.")
        )
        welcome = self.query_one("#welcome", Static)
        text = "" if any_dialogue else WELCOME
        if not has_data:
            text = (text + "\n\n" if text else "") + DEMO_HINT
        welcome.update(Content(text))
        welcome.set_class(not text, "hidden")
        hint = "Enter eller 1–9 fortsätter en dialog. " if rows else ""
        if more:
            hint = f"De {OPEN_LIMIT} senast ändrade visas; fler finns under Tidigare dialoger (t). " + hint
        self.query_one("#dbinfo", Static).update(Content(f"{hint}Databas: {self.app.store_path}"))
        if rows and not isinstance(self.focused, Input):
            table.focus()
        self._resume_pending()

    # ------------------------------------------------------------ actions

    def action_new(self) -> None:
        from assistant.tui.newdialogue import NewDialogueScreen

        self.app.push_screen(NewDialogueScreen())

    def action_archive(self) -> None:
        from assistant.tui.archive import ArchiveScreen

        self.app.push_screen(ArchiveScreen())

    def action_region(self) -> None:
        from assistant.tui.region import RegionScreen

        self.app.push_screen(RegionScreen())

    def palette_commands(self):
        yield from palette_entries(verbs.START, self)

    def action_import(self) -> None:
        """Choose the file in a file picker (it opens where the last import was made)."""
        from assistant.tui.pickers import ImportFilePicker, start_folder

        self.app.push_screen(ImportFilePicker(start_folder(self.last_import_folder)), self._import_chosen)

    def _import_chosen(self, path: Path | None) -> None:
        if path is not None:
            self.last_import_folder = str(Path(path).parent)
            self.run_import(str(path), None)

    def action_demo(self) -> None:
        from assistant.data import DEMO_FILE

        self.run_import(str(DEMO_FILE), "demo: " + DEMO_FILE.name)

    def action_resume(self, number: int) -> None:
        if not self.loaded:
            # Pressed before the list is there: do it when it is, and keep what is typed meanwhile
            # for the dialogue (it is an answer, not start-screen keys).
            if self.pending_resume is None:
                self.app.hold_keys()
            self.pending_resume = number
            return
        if 1 <= number <= len(self.open_ids):
            self.app.open_dialogue(self.open_ids[number - 1])

    def _resume_pending(self) -> None:
        number, self.pending_resume = self.pending_resume, None
        if number is None:
            return
        if 1 <= number <= len(self.open_ids):
            self.app.open_dialogue(self.open_ids[number - 1])
            self.app.release_keys()
        else:
            self.app.drop_keys()  # no such dialogue: what was typed is not for this screen

    @on(Button.Pressed, "#new")
    def _new(self) -> None:
        self.action_new()

    @on(Button.Pressed, "#archive")
    def _archive(self) -> None:
        self.action_archive()

    @on(Button.Pressed, "#import")
    def _import(self) -> None:
        self.action_import()

    @on(Button.Pressed, "#demo")
    def _demo(self) -> None:
        self.action_demo()

    @on(DataTable.RowSelected, "#open")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.open_dialogue(str(event.row_key.value))

    @work(thread=True, exclusive=True, group="import")
    def run_import(self, path: str, source: str | None) -> None:
        app = self.app
        app.call_from_thread(app.notify, "Importerar …", timeout=2)
        try:
            summary = import_indicator_file(app.store, path, source)
        except Exception as exc:  # noqa: BLE001
            from assistant.errors import user_error_lines

            lines = user_error_lines(exc)
            if lines is None:
                lines = [f"Filen kunde inte importeras: {exc}"]
            shown = lines[:8] + ([f"… och {len(lines) - 8} rader till."] if len(lines) > 8 else [])
            app.call_from_thread(
                app.notify, "\n".join(shown), title="Inget importerades", severity="error", markup=False, timeout=15
            )
            return
        if source and source.startswith("demo"):
            summary += " Påhittade exempeldata: prova en ny dialog med ”Fysio Norr (påhittad)”."
        app.call_from_thread(app.notify, summary, title="Data importerad", markup=False, timeout=10)
        app.call_on_screen(self, self.reload)


def _clip(text: str, width: int) -> str:
    from assistant.textsafe import one_line

    return one_line(text, width)


_warmed = False


def warm_imports() -> None:
    """Import what the other screens need while the user reads the start screen, then freeze
    what is loaded by now out of the garbage collector's way.

    Textual, pydantic, the flows and the engine are ~90 000 long-lived objects. Without
    ``gc.freeze()`` every full collection walks them all, a pause of 60–70 ms on the reference
    machine at a random moment (opening a dialogue, typing an answer); after it, ~15 ms."""
    global _warmed
    import assistant.continuity  # noqa: F401
    import assistant.engine  # noqa: F401
    import assistant.session  # noqa: F401
    import assistant.tui.archive  # noqa: F401
    import assistant.tui.dialogue  # noqa: F401
    import assistant.tui.newdialogue  # noqa: F401
    import assistant.tui.region  # noqa: F401

    if not _warmed:
        import gc

        _warmed = True
        gc.freeze()

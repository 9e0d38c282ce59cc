"""Tidigare dialoger: a filtered list and full-text search; one dialogue read-only with export,
actions marked done, and corrections after the meeting.

The list shows the most recently changed dialogues (``LIST_LIMIT``); the filters and the search
find the others. A table of every dialogue in a large archive costs seconds and tens of megabytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Input, Select, Static, TextArea
from textual.widgets.text_area import Selection

from assistant import verbs
from assistant.textsafe import one_line
from assistant.tui.keys import bindings, palette_entries
from assistant.tui.start import STATUS_SV, flow_titles, local_time
from assistant.tui.text import option, plain
from assistant.tui.widgets import KeyBar, TopBar

if TYPE_CHECKING:
    from datetime import datetime

    from assistant.session import Dialogue
    from storage import Store

LIST_LIMIT = 200
BUSY_MS = 1000  # a correction or an action waits this long for a busy database, then asks to try again
BUSY_TEXT = "Databasen är upptagen av ett annat program just nu; inget är sparat än. Texten finns kvar – försök igen om en stund."
FIRST_YEAR = 2000  # the year filter looks this far back

KIND_SV = {
    "answered": "svar",
    "noted": "anteckning",
    "action_added": "åtgärd",
    "action_updated": "åtgärd",
    "corrected": "rättelse",
    "prompted": "fråga",
    "started": "dialog",
}


class ArchiveScreen(Screen):
    BINDINGS = bindings(verbs.ARCHIVE)

    def __init__(self) -> None:
        super().__init__()
        self.filters: dict[str, Any] = {"clinic": None, "flow": None, "status": None, "year": None}
        self.options_loaded = False
        self.hits: list[dict] = []

    def compose(self) -> ComposeResult:
        yield TopBar("Dialogstöd · Tidigare dialoger", "")
        with Vertical(id="archive"):
            yield Input(placeholder="Sök i alla dialoger – t.ex. avvik* – Enter söker, Esc rensar", id="search", compact=True)
            with Horizontal(id="filters"):
                yield Select([], prompt="Alla mottagningar", id="f-clinic", compact=True)
                yield Select([], prompt="Alla flöden", id="f-flow", compact=True)
                yield Select(
                    [(option(v), k) for k, v in STATUS_SV.items()], prompt="Alla statusar", id="f-status", compact=True
                )
                yield Select([], prompt="Alla år", id="f-year", compact=True)
            yield Static("", id="archive-info", classes="muted", markup=False)
            with ContentSwitcher(initial="list", id="archive-switch"):
                yield DataTable(id="list", cursor_type="row", zebra_stripes=True)
                yield DataTable(id="hits", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#list", DataTable)
        for label, key in (("Start", "start"), ("Mottagning", "clinic"), ("Flöde", "flow"), ("Form", "mode"),
                           ("Status", "status"), ("Granskning", "review"), ("Id", "id")):
            table.add_column(label, key=key)
        hits = self.query_one("#hits", DataTable)
        for label, key in (("Datum", "date"), ("Mottagning", "clinic"), ("Typ", "kind"), ("Utdrag", "snippet")):
            hits.add_column(label, key=key)
        table.focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    # ------------------------------------------------------------ the list

    @work(thread=True, exclusive=True, group="archive-list")
    def load(self) -> None:
        store = self.app.store
        rows = store.list_dialogues(**self.filters, limit=LIST_LIMIT + 1)
        titles = flow_titles()
        self.app.call_on_screen(self, self.show_rows, rows[:LIST_LIMIT], titles, len(rows) > LIST_LIMIT)
        if not self.options_loaded:
            clinics = [c["name"] for c in store.clinics() if c.get("dialogues")]
            newest = max((str(c["last"])[:4] for c in store.clinics() if c.get("last")), default="")
            years = []
            if newest.isdigit():
                # One cheap query per year (listing every dialogue to find their years costs far more).
                years = [str(y) for y in range(int(newest), FIRST_YEAR - 1, -1) if store.list_dialogues(year=y, limit=1)]
            self.app.call_on_screen(self, self.show_options, clinics, titles, years)

    def show_options(self, clinics: list[str], flows: dict[str, str], years: list[str]) -> None:
        self.query_one("#f-clinic", Select).set_options([(option(c, 40), c) for c in clinics])
        self.query_one("#f-flow", Select).set_options([(option(t, 40), fid) for fid, t in flows.items()])
        self.query_one("#f-year", Select).set_options([(option(y), int(y)) for y in years])
        self.options_loaded = True

    def show_rows(self, rows: list[dict], titles: dict[str, str], more: bool) -> None:
        from assistant.report import review_label

        table = self.query_one("#list", DataTable)
        table.clear()
        for r in rows:
            table.add_row(
                Text(local_time(r["started"])),
                Text(one_line(r["clinic"], 36)),
                Text(one_line(titles.get(r["flow_id"], r["flow_id"]), 36)),
                Text("självskattning" if r.get("mode") == "self" else "dialog"),
                Text(STATUS_SV.get(r["status"], r["status"])),
                Text(review_label(r.get("review")) if r["status"] == "finished" or r.get("review") else "–"),
                Text(r["id"][:8]),
                key=r["id"],
            )
        count = len(rows)
        if more:
            info = (
                f"De {count} senast ändrade dialogerna visas; det finns fler. Välj mottagning, flöde, status "
                "eller år, eller sök i svar, anteckningar och åtgärder. Enter öppnar."
            )
        elif count:
            info = (
                f"{count} {'dialog' if count == 1 else 'dialoger'}. Enter öppnar. "
                "Skriv i sökrutan för att söka i svar, anteckningar och åtgärder."
            )
        else:
            info = "Inga dialoger med de här filtren."
        self.query_one("#archive-info", Static).update(Content(info))

    @on(Select.Changed)
    def _filter(self, event: Select.Changed) -> None:
        key = {"f-clinic": "clinic", "f-flow": "flow", "f-status": "status", "f-year": "year"}.get(event.select.id or "")
        if key is None:
            return
        self.filters[key] = None if event.value is Select.NULL else event.value
        self.query_one("#archive-switch", ContentSwitcher).current = "list"
        self.load()

    # ------------------------------------------------------------ search

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Input.Submitted, "#search")
    def _search(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if not query:
            self.query_one("#archive-switch", ContentSwitcher).current = "list"
            self.load()
            return
        self.query_one("#archive-info", Static).update(Content("Söker …"))
        self.search(query, self.filters.get("clinic"))

    @work(thread=True, exclusive=True, group="archive-search")
    def search(self, query: str, clinic: str | None) -> None:
        from assistant.errors import user_error_lines

        try:
            hits = self.app.store.search(query, limit=200, clinic=clinic)
        except Exception as exc:  # noqa: BLE001
            lines = user_error_lines(exc)
            if lines is None:
                raise
            self.app.call_on_screen(self, self.show_info, Content(" ".join(lines)))
            return
        self.app.call_on_screen(self, self.show_hits, query, hits)

    def show_info(self, info: Content) -> None:
        self.query_one("#archive-info", Static).update(info)

    def show_hits(self, query: str, hits: list[dict]) -> None:
        self.hits = hits
        table = self.query_one("#hits", DataTable)
        table.clear()
        for i, h in enumerate(hits):
            table.add_row(
                Text(str(h["at"])[:10]),
                Text(one_line(h["clinic"], 28)),
                Text(KIND_SV.get(h["kind"], h["kind"])),
                Text(one_line(h["snippet"], 90)),
                key=f"{i}:{h['dialogue_id']}",
            )
        self.query_one("#archive-switch", ContentSwitcher).current = "hits"
        n = len(hits)
        self.query_one("#archive-info", Static).update(
            Content.assemble(
                f"{n} {'träff' if n == 1 else 'träffar'} för ",
                plain(query, "bold"),
                ". Enter öppnar dialogen, Esc visar listan igen." if n else ". Prova färre ord eller ord* för ordbörjan.",
            )
        )
        if n:
            table.focus()

    def action_back(self) -> None:
        switch = self.query_one("#archive-switch", ContentSwitcher)
        search = self.query_one("#search", Input)
        if switch.current == "hits" or search.value:
            search.value = ""
            switch.current = "list"
            self.query_one("#list", DataTable).focus()
            self.load()
            return
        self.app.pop_screen()

    # ------------------------------------------------------------ opening

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        key = str(event.row_key.value or "")
        if ":" in key:  # a search hit: open the dialogue at the hit
            index, ref = key.split(":", 1)
            hit = self.hits[int(index)] if int(index) < len(self.hits) else {}
            self.app.push_screen(TranscriptScreen(ref, at_seq=hit.get("seq")))
        elif key:
            self.app.show_transcript(key)

    def action_open(self) -> None:
        table = self.query_one("#archive-switch", ContentSwitcher).visible_content
        if isinstance(table, DataTable) and table.row_count:
            table.action_select_cursor()


class TranscriptScreen(Screen):
    """One dialogue, read-only: the transcript (latest text after corrections) and its actions."""

    BINDINGS = bindings(verbs.TRANSCRIPT)

    def __init__(self, ref: str, *, offer_export: bool = False, at_seq: int | None = None) -> None:
        """``at_seq``: open at this event (a search hit) instead of at the top."""
        super().__init__()
        self.ref = ref
        self.d: Dialogue | None = None
        self.offer_export = offer_export
        self.at_seq = at_seq
        self.text = ""
        self.line_starts: list[int] = []
        self.laid_out_for = 0

    def compose(self) -> ComposeResult:
        yield TopBar("Dialogstöd · Dialog", "", id="topbar")
        with Vertical(id="transcript-body"):
            # Wrapped here (lay_out), so that a wrapped line keeps its indent: soft wrap does not.
            yield TextArea("Läser in …", read_only=True, soft_wrap=False, id="transcript", show_cursor=False)
            yield Static(Content.styled("Åtgärder", "bold"), classes="panel-title")
            yield DataTable(id="actions", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#actions", DataTable)
        for label, key in (("", "id"), ("Åtgärd", "text"), ("Ansvarig", "owner"), ("Klart senast", "due"), ("Status", "status")):
            table.add_column(label, key=key)
        self.load()

    @work(thread=True, exclusive=True, group="transcript")
    def load(self) -> None:
        from assistant.export import transcript_text
        from assistant.session import Dialogue, DialogueError

        try:
            d = Dialogue.resume(self.app.store, self.ref, clock=self.app.clock)
        except DialogueError as exc:
            self.app.call_from_thread(self.app.notify, str(exc), severity="error", markup=False)
            return
        text = transcript_text(d.state, d.row)
        self.app.call_on_screen(self, self.show, d, text)

    def show(self, d: Dialogue, text: str) -> None:
        from assistant.report import OVERDUE, local_today, review_label

        self.d = d
        st = d.state
        status = STATUS_SV.get(st.status, st.status)
        date = local_time(st.started_at.isoformat())[:10] if st.started_at else ""
        review = f" · granskning: {review_label(st.review_status)}" if st.finished or st.review else ""
        self.query_one(TopBar).set_title(
            Content.assemble(("Dialogstöd · ", "bold"), plain(d.clinic + " ", "bold"), f"· {date} · {status}{review}")
        )
        today = local_today(self.app.clock())
        self.query_one(TopBar).set_right(Content(d.id[:8]))
        area = self.query_one("#transcript", TextArea)
        self.text = text
        self.lay_out(force=True)
        table = self.query_one("#actions", DataTable)
        table.clear()
        for a in st.actions.values():
            table.add_row(
                Text(a.action_id),
                Text(one_line(a.text, 70)),
                Text(one_line(a.owner or "", 24)),
                Text(a.due or ""),
                Text("☑ klar")
                if a.status == "done"
                else (Text(f"⚠ öppen, {OVERDUE}", style="bold red") if a.overdue(today) else Text("☐ öppen")),
                key=a.action_id,
            )
        table.display = bool(st.actions)
        self.query_one(".panel-title", Static).display = bool(st.actions)
        area.focus()
        if self.at_seq is not None:
            self.call_after_refresh(self.go_to_event, self.at_seq)
            self.at_seq = None
        if self.offer_export:
            self.offer_export = False
            self.action_export()

    def lay_out(self, force: bool = False) -> None:
        """Wrap the transcript to the width it has (again after a resize), keeping the place."""
        from assistant.tui.text import wrap_keeping_indent

        area = self.query_one("#transcript", TextArea)
        width = max(20, (area.content_size.width or self.size.width or 80) - 2)
        if not self.text or (width == self.laid_out_for and not force):
            return
        top = self.raw_line_at(int(area.scroll_y))
        wrapped, self.line_starts = wrap_keeping_indent(self.text, width)
        self.laid_out_for = width
        area.load_text(wrapped)  # TextArea shows text as it is: never markup
        if top:
            area.scroll_to(y=self.line_starts[top], animate=False)

    def raw_line_at(self, wrapped_line: int) -> int:
        import bisect

        return max(0, bisect.bisect_right(self.line_starts, wrapped_line) - 1)

    def on_resize(self) -> None:
        self.call_after_refresh(self.lay_out)

    def go_to_event(self, seq: int) -> None:
        """Scroll to what event ``seq`` wrote (a search hit: an answer, a note, an action) and mark it."""
        if self.d is None or not 1 <= seq <= len(self.d.events):
            return
        e = self.d.events[seq - 1]
        text = self.d.state.answers.get(e.qid or "") if e.kind in ("answered", "corrected") else e.text
        needle = " ".join((text or e.text or "").split())[:50]
        if not needle:
            return
        lines = self.text.split("\n")
        row = next((i for i, line in enumerate(lines) if needle[:30] in " ".join(line.split())), None)
        if row is None:
            return
        area = self.query_one("#transcript", TextArea)
        start = self.line_starts[row]
        end = self.line_starts[row + 1] if row + 1 < len(self.line_starts) else area.document.line_count
        area.selection = Selection((start, 0), (max(start, end - 1), len(area.document.get_line(max(start, end - 1)))))
        area.scroll_to(y=max(0, start - 2), animate=False)

    def reload(self) -> None:
        from assistant.export import transcript_text

        if self.d is not None:
            scroll = self.query_one("#transcript", TextArea).scroll_y
            self.show(self.d, transcript_text(self.d.state, self.d.row))
            self.query_one("#transcript", TextArea).scroll_to(y=scroll, animate=False)

    def action_back(self) -> None:
        self.app.pop_screen()

    # ------------------------------------------------------------ export

    def action_export(self) -> None:
        from assistant.export import default_filename
        from assistant.tui.exporting import ExportFlow
        from assistant.tui.modals import EXPORT_FORMATS

        if self.d is None:
            return
        d = self.d
        ExportFlow(
            self,
            title="Exportera dialogen",
            formats=EXPORT_FORMATS,
            filename=lambda fmt: default_filename(d.row, fmt.removeprefix("pack-"), pack=fmt.startswith("pack-")),
            make=lambda fmt: export_document(self.app.store, d, fmt, self.app.clock()),
        ).start()

    # ------------------------------------------------------------ actions and corrections

    def action_toggle_action(self) -> None:
        from assistant import engine as E

        table = self.query_one("#actions", DataTable)
        if self.d is None or not table.row_count:
            self.notify("Dialogen har inga åtgärder.")
            return
        aid = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        action = self.d.state.actions.get(aid)
        if action is None:
            return
        status = "open" if action.status == "done" else "done"
        from assistant.session import DialogueError

        try:
            self.d.do(E.UpdateAction(aid, status=status), patience=0, busy_timeout_ms=BUSY_MS)
        except (E.EngineError, DialogueError) as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        self.notify(f"Åtgärd {aid} är {'klar' if status == 'done' else 'öppen igen'}.", timeout=3)
        row = table.cursor_row
        self.reload()
        table.move_cursor(row=row)

    def _selected_action(self) -> Any:
        table = self.query_one("#actions", DataTable)
        if self.d is None or not table.row_count:
            self.notify("Dialogen har inga åtgärder.")
            return None
        aid = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        return self.d.state.actions.get(aid)

    def action_edit_action(self) -> None:
        from assistant.tui.modals import ActionModal

        action = self._selected_action()
        if action is None:
            return

        def save(_text: str, owner: str, due: str) -> str | None:
            from assistant import engine as E

            try:
                self.d.do(E.UpdateAction(action.action_id, owner=owner, due=due))
            except E.EngineError as exc:
                return str(exc)
            self.notify(f"Åtgärd {action.action_id} är ändrad.", timeout=3)
            self.reload()
            return None

        modal = ActionModal(
            save, list(self.d.state.roles), title="Ändra åtgärd", text=action.text, owner=action.owner or "",
            due=action.due or "", edit=True,
        )
        self.app.push_screen(modal)

    def action_review(self) -> None:
        from assistant.tui.modals import ReviewModal

        if self.d is None:
            return

        def save(status: str, who: str, note: str) -> str | None:
            from assistant import engine as E
            from assistant.report import review_label

            try:
                self.d.do(E.Review(status, who=who or None, note=note or None))
            except E.EngineError as exc:
                return str(exc)
            self.notify(f"Granskningen: {review_label(status)}.", timeout=3)
            self.reload()
            return None

        self.app.push_screen(ReviewModal(save, self.d.state.review_status))

    def action_correct(self) -> None:
        from assistant import engine as E
        from assistant.tui.modals import CorrectModal

        if self.d is None:
            return
        st = self.d.state
        questions = [(qid, E.prompt_text(st, qid), text) for qid, text in st.answers.items()]
        if not questions:
            self.notify("Det finns inga svar att rätta.")
            return
        self.app.push_screen(CorrectModal(self._save_correction, questions))

    def _save_correction(self, qid: str, text: str, who: str) -> str | None:
        from assistant import engine as E
        from assistant.session import Busy, DialogueError

        try:
            made = self.d.do(E.Correct(qid, text, who=who or None), patience=0, busy_timeout_ms=BUSY_MS)
        except Busy:
            return BUSY_TEXT
        except E.EngineError as exc:
            return str(exc)
        except DialogueError as exc:
            return f"{exc} Texten finns kvar här."
        if any(e.kind == "pii_masked" for e in made):
            self.notify("Ett personnummer upptäcktes och maskerades innan rättelsen sparades.", severity="warning")
        self.notify("Rättelsen är sparad; texten visar nu den rättade versionen.", timeout=4)
        self.reload()
        return None

    def action_continue(self) -> None:
        from assistant.tui.modals import ConfirmModal

        if self.d is None:
            return
        if self.d.state.finished:
            self.app.push_screen(
                ConfirmModal("Öppna den avslutade dialogen igen?", "Den får status ”pågår” tills ni avslutar den igen."),
                self._reopen,
            )
            return
        self.app.pop_screen()
        self.app.open_dialogue(self.d.id, self.d)  # already replayed: not again

    def _reopen(self, yes: bool | None) -> None:
        from assistant import engine as E
        from assistant.session import DialogueError

        if not yes:
            return
        try:
            self.d.do(E.Reopen(), patience=0, busy_timeout_ms=BUSY_MS)
        except (E.EngineError, DialogueError) as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        self.app.pop_screen()
        self.app.open_dialogue(self.d.id, self.d)

    def palette_commands(self):
        yield from palette_entries(verbs.TRANSCRIPT, self)


def export_document(store: Store, d: Dialogue, fmt: str, generated: datetime | None = None) -> bytes:
    """One export's bytes: ``html``, ``docx``, ``md``, ``json``, or ``pack-html`` / ``pack-docx`` for
    the pre-meeting pack instead of the documentation."""
    from assistant.export import export_bytes, pack_bytes

    if fmt.startswith("pack-"):
        return pack_bytes(store, d, fmt.removeprefix("pack-"), generated=generated)
    return export_bytes(store, d.state, d.row, fmt, generated=generated)

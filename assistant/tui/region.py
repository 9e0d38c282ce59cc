"""Regionöversikt: every clinic with its latest dialogue, review status and actions, and what the
region learns across them (``assistant.region``, the same overview as ``dialogstod region``).

The overview is built in a worker (it replays each clinic's latest dialogue and computes each
indicator across all clinics); the table paints first, the text below it when ready.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Select, Static, TextArea

from assistant import verbs
from assistant.textsafe import one_line
from assistant.tui.keys import bindings, palette_entries
from assistant.tui.text import option
from assistant.tui.widgets import KeyBar, TopBar

FIRST_YEAR = 2000


def overview_text(ctx: dict[str, Any]) -> str:
    """The overview below the table as plain text (a TextArea shows it as it is: never markup)."""
    lines: list[str] = []

    def head(title: str) -> None:
        lines.extend(["", title, "─" * min(len(title), 70)])

    for c in ctx["clinics"]:
        if not c["dialogue_id"]:
            continue
        mode = " · självskattning" if c["mode"] == "self" else ""
        stage = f" · {c['stage']}" if c["stage"] else ""
        head(f"{c['clinic']} – {c['date']} · {c['flow_title'] or c['flow']}{mode}{stage}")
        for party, areas in c["focus"].items():
            lines.append(f"  Fokus ({party}): {', '.join(areas)}")
        if c["areas_untouched"]:
            lines.append(f"  Ej berört: {', '.join(c['areas_untouched'])}")
        if c["work_on"]:
            lines.append(f"  Jobba vidare med: {one_line(c['work_on'], 200)}")
        if c["next_meeting_wish"]:
            lines.append(f"  Önskemål till nästa möte: {one_line(c['next_meeting_wish'], 200)}")
        for a in c["actions"][: c["actions_shown"]]:
            mark = "☑" if a["status"] == "done" else ("⚠" if a["overdue"] else "☐")
            extra = "".join((f" · {a['owner']}" if a.get("owner") else "", f" · {a['due']}" if a.get("due") else ""))
            lines.append(f"  {mark} {one_line(a['text'], 120)}{extra}" + (" · FÖRSENAD" if a["overdue"] else ""))
        if len(c["actions"]) > c["actions_shown"]:
            lines.append(f"  … och {len(c['actions']) - c['actions_shown']} öppna åtgärder till.")
    head("Återkoppling till regionen, samlad")
    for f in ctx["feedback"]:
        lines.append(f"  {f['section']}: {f['question']}")
        for a in f["answers"]:
            lines.append(f"    {a['clinic']}: {one_line(a['answer'], 200)}")
    if not ctx["feedback"]:
        lines.append("  Ingen återkoppling ännu.")
    head("Områden")
    for g in ctx["focus_areas"]:
        lines.append(f"  Oftast valda som fokus ({g['flow']}): " + ", ".join(f"{a['area']} ({a['clinics']})" for a in g["areas"]))
    for g in ctx["untouched_areas"]:
        lines.append(
            f"  Oftast ej berörda ({g['flow']}, {g['held']} hållna): " + ", ".join(f"{a['area']} ({a['clinics']})" for a in g["areas"])
        )
    head("Återkommande teman i ”jobba vidare” och återkopplingen")
    for t in ctx["themes"]:
        lines.append(f"  {t['theme']} ({', '.join(t['forms'])}) – {len(t['clinics'])} mottagningar: {', '.join(t['clinics'])}")
    if not ctx["themes"]:
        lines.append("  Inga ord återkommer hos flera mottagningar.")
    head("Indikatorerna, alla mottagningar")
    for i in ctx["indicators"]:
        for figure in i["figures"]:
            lines.append(f"  {figure['title']}")
            lines.extend(f"    {line}" for line in figure["lines"])
    if not ctx["indicators"]:
        lines.append("  Ingen indikatordata importerad.")
    return "\n".join(lines).lstrip("\n") + "\n"


class RegionScreen(Screen):
    BINDINGS = bindings(verbs.REGION)

    def __init__(self) -> None:
        super().__init__()
        self.year: int | None = None
        self.flow: str | None = None
        self.ctx: dict[str, Any] | None = None
        self.options_loaded = False

    def compose(self) -> ComposeResult:
        yield TopBar("Dialogstöd · Regionöversikt", "")
        with Vertical(id="region"):
            with Horizontal(id="region-filters"):
                yield Select([], prompt="Senaste dialogen", id="r-year", compact=True)
                yield Select([], prompt="Alla flöden", id="r-flow", compact=True)
            yield Static("Läser in …", id="region-info", classes="muted", markup=False)
            yield DataTable(id="region-clinics", cursor_type="row", zebra_stripes=True)
            yield TextArea("", read_only=True, soft_wrap=True, id="region-text", show_cursor=False)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#region-clinics", DataTable)
        # The figures a region follows up come first, so they show in a narrow window too.
        for label, key in (
            ("Mottagning", "clinic"),
            ("Försenade", "overdue"),
            ("Öppna", "open"),
            ("Klara", "done"),
            ("Granskning", "review"),
            ("Status", "status"),
            ("Senaste", "date"),
            ("Ej berört", "untouched"),
        ):
            table.add_column(label, key=key)
        table.focus()
        self.load()

    @work(thread=True, exclusive=True, group="region")
    def load(self) -> None:
        from assistant.region import build_region
        from assistant.tui.start import flow_titles

        store = self.app.store
        ctx = build_region(store, year=self.year, flow=self.flow, generated=self.app.clock())
        years: list[str] = []
        titles: dict[str, str] = {}
        if not self.options_loaded:
            titles = flow_titles()
            newest = max((str(c["last"])[:4] for c in store.clinics() if c.get("last")), default="")
            if newest.isdigit():
                years = [str(y) for y in range(int(newest), FIRST_YEAR - 1, -1) if store.list_dialogues(year=y, limit=1)]
        self.app.call_on_screen(self, self.show, ctx, years, titles)

    def show(self, ctx: dict[str, Any], years: list[str], titles: dict[str, str]) -> None:
        self.ctx = ctx
        if not self.options_loaded:
            self.query_one("#r-year", Select).set_options([(option(y), int(y)) for y in years])
            self.query_one("#r-flow", Select).set_options([(option(t, 40), fid) for fid, t in titles.items()])
            self.options_loaded = True
        table = self.query_one("#region-clinics", DataTable)
        table.clear()
        for c in ctx["clinics"]:
            overdue = Text(f"⚠ {c['overdue_actions']}", style="bold red") if c["overdue_actions"] else Text("0")
            table.add_row(
                Text(one_line(c["clinic"], 26)),
                overdue,
                Text(str(c["open_actions"])),
                Text(str(c["done_actions"])),
                Text(c["review_label"] or "–"),
                Text(c["status_label"] or "ingen dialog"),
                Text(c["date"] or "–"),
                Text(str(len(c["areas_untouched"])) if c["dialogue_id"] else "–"),
                key=c["dialogue_id"] or f"none:{c['clinic']}",
            )
        t = ctx["totals"]
        self.query_one("#region-info", Static).update(
            Content(
                f"{ctx['scope'].capitalize()} · {t['clinics']} mottagningar, {t['with_dialogue']} med dialog · "
                f"åtgärder: {t['open_actions']} öppna, {t['overdue_actions']} försenade, {t['done_actions']} klara · "
                f"godkänd dokumentation: {t['approved']}. Enter öppnar dialogen, e exporterar."
            )
        )
        self.query_one("#region-text", TextArea).load_text(overview_text(ctx))

    @on(Select.Changed)
    def _filter(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else event.value
        if event.select.id == "r-year":
            self.year = value
        elif event.select.id == "r-flow":
            self.flow = value
        else:
            return
        self.query_one("#region-info", Static).update(Content("Läser in …"))
        self.load()

    @on(DataTable.RowSelected, "#region-clinics")
    def _open(self, event: DataTable.RowSelected) -> None:
        key = str(event.row_key.value or "")
        if key and not key.startswith("none:"):
            self.app.show_transcript(key)
        elif key:
            self.notify("Ingen dialog med mottagningen ännu.")

    def action_open(self) -> None:
        table = self.query_one("#region-clinics", DataTable)
        if table.row_count:
            table.action_select_cursor()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_export(self) -> None:
        from assistant.region import region_bytes
        from assistant.tui.exporting import ExportFlow
        from assistant.tui.modals import REGION_FORMATS

        year, flow = self.year, self.flow
        name = "regionoversikt" + (f"-{year}" if year else "") + (f"-{flow}" if flow else "")
        ExportFlow(
            self,
            title="Exportera regionöversikten",
            formats=REGION_FORMATS,
            filename=lambda fmt: f"{name}.{fmt}",
            make=lambda fmt: region_bytes(self.app.store, fmt, year=year, flow=flow, generated=self.app.clock()),
        ).start()

    def palette_commands(self):
        yield from palette_entries(verbs.REGION, self)

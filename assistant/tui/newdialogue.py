"""Ny dialog: clinic, flow, mode, participants and roles, the clinic's data, focus areas, and
"Starta nu" or "Förbered". The parties (and so the focus lists) are the flow's own. Shows "Från
förra dialogen" (``assistant.continuity``) and pre-selects the areas the clinic wished for in the
focus of the party being followed up. A staged flow (Nära vård's Del 1–3) asks which Del."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual_autocomplete import AutoComplete, DropdownItem

from assistant import engine as E
from assistant import verbs
from assistant.continuity import preselected, previous_dialogue, wish_party, wished_sections
from assistant.flows import LoadedFlow, all_flows
from assistant.textsafe import control_character, one_line
from assistant.tui.chatlog import previous_content
from assistant.tui.keys import bindings
from assistant.tui.text import flag_mark, flag_summary, option, plain, plain_line
from assistant.tui.widgets import ChoiceSet, KeyBar, TopBar

if TYPE_CHECKING:
    from assistant.session import Dialogue

DEFAULT_FLOW = "fysioterapi-2023"


def role_label(role: Any, mode: str = "facilitator") -> str:
    """A role as chosen for a participant; a self-assessment has no meeting responsibilities
    (no "presentera data")."""
    if role.responsibility and mode != "self":
        return f"{role.title} – {role.responsibility.lower()}"
    return role.title


@dataclass(frozen=True)
class ClinicInfo:
    """What Ny dialog shows for the name typed: the data (flags, those that stand out), "Från förra
    dialogen", the clinic a name not known probably means, and the clinic's open dialogues."""

    clinic: str
    flags: tuple[list, list] | None = None
    previous: Any = None
    meant: str | None = None
    open: list = field(default_factory=list)


class ClinicNames(AutoComplete):
    """The clinic names of the imported data and of earlier dialogues, offered as the name is typed
    (textual-autocomplete: Down/Up, Enter or Tab takes one, a click too, Esc closes the list)."""

    def post_completion(self) -> None:
        super().post_completion()
        # The name is put in without an Input.Changed: look the chosen clinic up now (a choice needs
        # no pause for typing), or its data, "Menade du …" and the dialogue in progress would stay
        # those of the name as typed.
        screen = self.screen
        if screen._clinic_timer is not None:
            screen._clinic_timer.stop()
        screen._clinic_info_now()


class ParticipantRow(Horizontal):
    def __init__(self, roles: list[tuple[Any, str]]) -> None:
        super().__init__(classes="participant")
        self.roles = roles

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Namn", classes="p-name", compact=True)
        yield Select(self.roles, prompt="Roll", classes="p-role", compact=True)
        yield Button("×", classes="p-remove", compact=True, tooltip="Ta bort deltagaren")

    def set_roles(self, roles: list[tuple[Any, str]]) -> None:
        self.roles = roles
        if not self.query(Select):
            return  # not composed yet: compose uses self.roles
        select = self.query_one(Select)
        value = select.value
        select.set_options(roles)
        if value in {v for _, v in roles}:
            select.value = value

    @property
    def value(self) -> E.Participant | None:
        name = self.query_one(Input).value.strip()
        role = self.query_one(Select).value
        if not name:
            return None
        return E.Participant(name, "" if role is Select.NULL else str(role))


class NewDialogueScreen(Screen):
    BINDINGS = bindings(verbs.NEW)

    def __init__(self) -> None:
        super().__init__()
        self.flow_problems: list[str] = []
        self.flows: list[LoadedFlow] = all_flows(self.flow_problems)
        ids = [f.flow.id for f in self.flows]
        self.flow_id = DEFAULT_FLOW if DEFAULT_FLOW in ids else (ids[0] if ids else "")
        self.clinics: list[str] = []
        self.previous: Any = None
        self.focus_touched = False
        self._clinic_timer = None
        self.busy = False
        self.info = ClinicInfo("")

    @property
    def flow(self):
        return next(f.flow for f in self.flows if f.flow.id == self.flow_id)

    @property
    def mode(self) -> str:
        return "self" if self.query_one("#mode", RadioSet).pressed_index == 1 else "facilitator"

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield TopBar("Dialogstöd · Ny dialog", "")
        with Horizontal(id="new-body"):
            with VerticalScroll(id="new-form"):
                yield Label("Mottagning", id="unit-label")
                yield Input(placeholder="Mottagningens namn – förslag visas medan du skriver", id="clinic", compact=True)
                yield Static("", id="open-warning", classes="warning hidden", markup=False)
                with Horizontal(id="clinic-actions", classes="row hidden"):
                    yield Button("", id="use-name", compact=True, classes="hidden")
                    yield Button("Fortsätt den pågående", id="resume-open", compact=True, classes="hidden")
                yield Label("Flöde")
                yield Select(
                    [(option(f.flow.title), f.flow.id) for f in self.flows],
                    value=self.flow_id,
                    allow_blank=False,
                    id="flow",
                    compact=True,
                )
                yield Label("Form")
                with ChoiceSet(id="mode", compact=True):
                    yield RadioButton("Uppföljningsdialog – den som leder dialogen dokumenterar", value=True, id="mode-meeting")
                    yield RadioButton("Självskattning – teamet går igenom frågorna själva")
                yield Label("Deltagare och roller")
                yield Vertical(id="participants")
                yield Button("+ Lägg till deltagare", id="add-participant", compact=True)
                yield Label("Del", id="stage-label", classes="hidden")
                yield Select([], prompt="Del", id="stage", classes="hidden", compact=True)
                yield Static("", id="focus-prompt", classes="label", markup=False)
                yield Horizontal(id="focus-row")
                yield Static("", id="new-error", classes="error", markup=False)
                with Horizontal(classes="buttons"):
                    yield Button("Starta nu", id="start-now", variant="primary")
                    yield Button("Förbered", id="prepare")
                    yield Button("Avbryt", id="cancel")
            with VerticalScroll(id="new-side"):
                yield Static(Content.styled("Mottagningens data", "bold"), classes="panel-title")
                yield Static(Content("Skriv mottagningens namn för att se dess data."), id="new-flags", markup=False)
                yield Static(Content.styled("Från förra dialogen", "bold"), classes="panel-title hidden", id="prev-title")
                yield Static("", id="previous", classes="hidden", markup=False)
        yield KeyBar()
        # On the screen itself, not in the scrolling form: a click on a name would otherwise focus the form
        # first, which closes the list before the click can take the name.
        yield ClinicNames("#clinic", candidates=self.clinic_candidates)

    async def on_mount(self) -> None:
        for _ in range(2):
            self.add_participant()
        await self.update_flow()
        self.query_one("#clinic", Input).focus()
        self.load_clinics()
        if self.flow_problems:
            shown = self.flow_problems[:6]
            more = len(self.flow_problems) - len(shown)
            self.notify(
                "\n".join(shown + ([f"… och {more} fel till (`dialogstod flows check`)."] if more else [])),
                title="Ett flöde kunde inte läsas och visas inte",
                severity="warning",
                markup=False,
                timeout=20,
            )

    @work(thread=True, exclusive=True, group="clinics")
    def load_clinics(self) -> None:
        from assistant.session import known_clinics

        self.app.call_on_screen(self, self.show_clinics, known_clinics(self.app.store))

    def show_clinics(self, names: list[str]) -> None:
        """The clinics of the imported data and of earlier dialogues, offered as the name is typed."""
        self.clinics = names

    def clinic_candidates(self, state) -> list[DropdownItem]:
        # A name with control characters cannot be typed; it is not offered (and never drawn raw).
        return [DropdownItem(name) for name in self.clinics if not control_character(name)]

    # ------------------------------------------------------------ flow, roles, focus

    def role_options(self) -> list[tuple[Any, str]]:
        roles = [r for r in self.flow.roles if not (self.mode == "self" and r.facilitator_only)]
        return [
            (option(f"{role_label(r, self.mode)} ({self.flow.party_title(r.party)})"), role_label(r, self.mode))
            for r in roles
        ]

    @property
    def parties(self) -> list[Any]:
        return self.flow.parties_for(self.mode)

    @property
    def wish_party(self) -> Any:
        """The party whose focus the previous wish pre-selects: the one being followed up."""
        return wish_party(self.flow, self.mode)

    def focus_list(self, party: Any) -> SelectionList:
        return self.query_one(f"#focus-{party.id}", SelectionList)

    def add_participant(self) -> None:
        self.query_one("#participants", Vertical).mount(ParticipantRow(self.role_options()))

    async def update_flow(self) -> None:
        flow = self.flow
        focus = flow.focus
        count = f"{focus.min}–{focus.max}" if focus.min else f"högst {focus.max}"
        self.query_one("#focus-prompt", Static).update(
            Content(f"Fokusområden ({count} per part): {focus.prompt}")
        )
        sections = [s for s in flow.sections if s.kind == "dialogue"]
        self.query_one("#unit-label", Label).update(flow.document.unit)
        self.query_one("#mode-meeting", RadioButton).label = f"{flow.document.meeting} – den som leder dialogen dokumenterar"
        row = self.query_one("#focus-row", Horizontal)
        await row.remove_children()
        boxes = []
        for party in self.parties:
            box = SelectionList(
                *[Selection(plain(flow.section_label(s)), s.id) for s in sections],
                id=f"focus-{party.id}",
                classes="focus",
                compact=True,
            )
            boxes.append(Vertical(Label(party.title), box, classes="focus-party", id=f"party-{party.id}"))
        await row.mount_all(boxes)
        for participant in self.query(ParticipantRow):
            participant.set_roles(self.role_options())
        stages = flow.stages
        stage = self.query_one("#stage", Select)
        stage.set_options([(option(p.title), p.id) for p in stages])
        if stages:
            stage.value = stages[0].id
        for widget in (stage, self.query_one("#stage-label")):
            widget.set_class(not stages, "hidden")
        self.focus_touched = False
        self.apply_wish()
        self.show_previous()

    @on(Select.Changed, "#flow")
    async def _flow_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL and event.value != self.flow_id:
            self.flow_id = str(event.value)
            await self.update_flow()
            self.schedule_clinic_info()

    @on(RadioSet.Changed, "#mode")
    async def _mode_changed(self) -> None:
        await self.update_flow()

    @on(SelectionList.SelectionToggled)
    def _focus_toggled(self, event: SelectionList.SelectionToggled) -> None:
        self.focus_touched = True
        box = event.selection_list
        limit = self.flow.focus.max
        if len(box.selected) > limit:
            box.deselect(event.selection.value)
            self.notify(f"Välj högst {limit} fokusområden per part.", severity="warning")
        self.show_previous()

    @on(Button.Pressed, "#add-participant")
    def _add(self) -> None:
        self.add_participant()

    @on(Button.Pressed, ".p-remove")
    def _remove(self, event: Button.Pressed) -> None:
        row = next(a for a in event.button.ancestors if isinstance(a, ParticipantRow))
        row.remove()

    # ------------------------------------------------------------ the clinic's data and history

    @on(Input.Changed, "#clinic")
    def _clinic_changed(self) -> None:
        self.schedule_clinic_info()

    def schedule_clinic_info(self) -> None:
        if self._clinic_timer is not None:
            self._clinic_timer.stop()
        self._clinic_timer = self.set_timer(0.4, self._clinic_info_now)

    def _clinic_info_now(self) -> None:
        self.load_clinic_info(self.query_one("#clinic", Input).value.strip())

    @work(thread=True, exclusive=True, group="clinic-info")
    def load_clinic_info(self, clinic: str) -> None:
        from assistant.flagstates import flagged
        from assistant.flagview import clinic_flags
        from assistant.session import known_clinics, likely_clinic, open_dialogues

        if not clinic:
            self.app.call_on_screen(self, self.show_clinic_info, ClinicInfo(clinic))
            return
        store = self.app.store
        flags = clinic_flags(store, clinic, latest_only=True)
        meant = None
        if not flags and not store.list_dialogues(clinic=clinic, limit=1):
            meant = likely_clinic(known_clinics(store), clinic)  # "Fysio Norr" for "Fysio Norr (påhittad)"
            if meant is not None:
                flags = clinic_flags(store, meant, latest_only=True)
        prev = previous_dialogue(store, meant or clinic, self.flow, flags)
        info = ClinicInfo(clinic, (flags, flagged(flags)), prev, meant, open_dialogues(store, clinic))
        self.app.call_on_screen(self, self.show_clinic_info, info)

    def show_clinic_info(self, info: ClinicInfo) -> None:
        clinic = info.clinic
        if self.busy or clinic != self.query_one("#clinic", Input).value.strip():
            return  # the name changed while the worker ran, or the dialogue is being started
        self.info = info
        view = self.query_one("#new-flags", Static)
        flags = info.flags
        lead: list = []
        if info.meant:
            lead = [
                ("Ingen mottagning heter ", "bold $text-warning"),
                plain(f"”{clinic}”", "bold $text-warning"),
                (". Menade du ", "bold $text-warning"),
                plain(f"”{info.meant}”", "bold $text-warning"),
                ("? Dess data visas här.\n\n", "bold $text-warning"),
            ]
        use = self.query_one("#use-name", Button)
        use.label = plain_line(f"Använd ”{info.meant}”", 60) if info.meant else Content("")
        use.set_class(not info.meant, "hidden")
        self.show_open(info.open)
        if not clinic:
            view.update(Content("Skriv mottagningens namn för att se dess data."))
        elif not flags or not flags[0]:
            view.update(Content("Ingen indikatordata för mottagningen. Importera data från startsidan (i)."))
        elif not flags[1]:
            view.update(Content.assemble(*lead, f"Inget sticker ut i datan ({len(flags[0])} indikatorer)."))
        else:
            parts: list = list(lead)
            for f in flags[1]:
                parts += [flag_mark(f), " ", plain(f.label + " ", "bold"), (f"{f.period}\n", "$text-muted")]
                parts += ["  ", plain(flag_summary(f.text)), "\n"]
            parts.append(("Visas för alla i dialogen när mötet börjar.", "$text-muted"))
            view.update(Content.assemble(*parts))
        prev = info.previous
        self.previous = prev
        if self.flow.stages:
            from assistant.continuity import next_stage

            self.query_one("#stage", Select).value = next_stage(self.flow, prev)
        self.apply_wish()
        self.show_previous()

    def show_open(self, rows: list) -> None:
        """A dialogue with the clinic already in progress (or prepared): say so before a second one is made."""
        from assistant.session import open_dialogue_text

        warning = self.query_one("#open-warning", Static)
        warning.set_class(not rows, "hidden")
        self.query_one("#resume-open", Button).set_class(not rows, "hidden")
        self.query_one("#clinic-actions").set_class(not rows and not self.info.meant, "hidden")
        if rows:
            warning.update(
                Content.assemble(
                    ("⚠ Det finns redan en ", "bold $text-warning"),
                    plain(open_dialogue_text(rows[0]), "bold $text-warning"),
                    (" med mottagningen. Fortsätt den hellre än att starta en till.", "bold $text-warning"),
                )
            )

    @on(Button.Pressed, "#use-name")
    def _use_name(self) -> None:
        if self.info.meant:
            clinic = self.query_one("#clinic", Input)
            clinic.value = self.info.meant
            clinic.focus()

    @on(Button.Pressed, "#resume-open")
    def _resume_open(self) -> None:
        if self.info.open:
            self.resume_instead(self.info.open[0]["id"])

    def resume_instead(self, dialogue_id: str) -> None:
        self.app.pop_screen()
        self.app.open_dialogue(dialogue_id)

    def wished(self) -> list[str]:
        """The sections of the chosen flow that the previous wish names (at most the flow's maximum)."""
        if self.previous is None or not self.previous.wish:
            return []
        return wished_sections(self.flow, self.previous.wish)[: self.flow.focus.max]

    def show_previous(self) -> None:
        """The "Från förra dialogen" panel: what the line mode shows before the first question."""
        prev = self.previous
        title = self.query_one("#prev-title", Static)
        box = self.query_one("#previous", Static)
        title.set_class(prev is None, "hidden")
        box.set_class(prev is None, "hidden")
        if prev is None:
            return
        party = self.wish_party
        chosen = self.focus_list(party).selected if party is not None and self.query(f"#focus-{party.id}") else []
        here = replace(prev, focus=wished_sections(self.flow, prev.wish))
        from assistant.report import local_today

        today = local_today(self.app.clock())
        shown = preselected(self.flow, here, {party.id: chosen} if party is not None else {})
        box.update(previous_content(here, self.flow, preselected=shown, title=False, today=today))

    def apply_wish(self) -> None:
        """Pre-select the focus areas the clinic wished for last time (until the user changes them)."""
        if self.focus_touched:
            return
        wished = self.wished()
        party = self.wish_party
        if not wished or party is None or not self.query(f"#focus-{party.id}"):
            return
        box = self.focus_list(party)
        if sorted(box.selected) == sorted(wished):
            return
        box.deselect_all()  # (select/deselect do not post SelectionToggled: focus_touched stays False)
        for sid in wished:
            box.select(sid)
        labels = [self.flow.section_label(self.flow.section_index[s]) for s in wished]
        self.notify("Förvalda fokusområden från förra dialogens önskemål: " + ", ".join(labels), markup=False)

    # ------------------------------------------------------------ start or prepare

    def options(self, prepared: bool) -> E.StartOptions:
        participants = tuple(p for row in self.query(ParticipantRow) if (p := row.value) is not None)
        focus: dict[str, tuple[str, ...]] = {}
        for party in self.parties:
            if not self.query(f"#focus-{party.id}"):
                continue
            selected = self.focus_list(party).selected
            if selected:
                order = [s.id for s in self.flow.sections]
                focus[party.id] = tuple(sorted(selected, key=order.index))
        stage = None
        continues = None
        if self.flow.stages:
            value = self.query_one("#stage", Select).value
            stage = None if value is Select.NULL else str(value)
            prev = self.previous
            if prev is not None and prev.flow_id == self.flow.id:
                continues = prev.dialogue_id
        return E.StartOptions(
            stage=stage,
            continues=continues,
            continues_date=self.previous.started if continues else None,
            clinic=self.query_one("#clinic", Input).value,
            mode=self.mode,
            participants=participants,
            prepared=prepared,
            focus=focus,
        )

    def action_start_now(self) -> None:
        self.begin(prepared=False)

    def action_prepare(self) -> None:
        self.begin(prepared=True)

    def action_back(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed, "#start-now")
    def _start(self) -> None:
        self.begin(prepared=False)

    @on(Button.Pressed, "#prepare")
    def _prepare(self) -> None:
        self.begin(prepared=True)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.app.pop_screen()

    def begin(self, prepared: bool, *, checked: bool = False) -> None:
        if self.busy:
            return
        error = self.query_one("#new-error", Static)
        typed = self.query_one("#clinic", Input).value.strip()
        if not typed:
            error.update(Content("Ange mottagningens namn."))
            self.query_one("#clinic", Input).focus()
            return
        error.update("")
        if not checked and self.ask_first(typed, prepared):
            return
        self.busy = True
        # A lookup still on its way would find the dialogue about to be made: "förra dialogen" of itself.
        if self._clinic_timer is not None:
            self._clinic_timer.stop()
        self.workers.cancel_group(self, "clinic-info")
        self.app.hold_keys()  # what is typed now is for the dialogue (see DialogstodApp.hold_keys)
        self.create(self.flow_id, self.options(prepared))

    def ask_first(self, typed: str, prepared: bool) -> bool:
        """Before a dialogue is made: a name that is not known but probably means a clinic that is
        ("Fysio Norr" – the data is for "Fysio Norr (påhittad)"), and a clinic that already has a
        dialogue in progress. True if a question is on screen (its answer goes on from there)."""
        from assistant.session import known_clinics, likely_clinic
        from assistant.tui.modals import ChoiceModal

        store = self.app.store
        meant = None if store.list_dialogues(clinic=typed, limit=1) else likely_clinic(known_clinics(store), typed)
        if meant is not None:

            def named(choice: str | None) -> None:
                if choice == "meant":
                    self.query_one("#clinic", Input).value = meant
                    self.begin(prepared)
                elif choice == "typed":
                    self.check_open(typed, prepared)

            self.app.push_screen(
                ChoiceModal(
                    f"Menade du ”{one_line(meant, 50)}”?",
                    f"Ingen mottagning heter ”{typed}”, men ”{meant}” finns i datan. En dialog med ”{typed}” "
                    "får ingen data och inget från förra dialogen.",
                    [(f"Använd ”{one_line(meant, 30)}”", "meant"), (f"Starta med ”{one_line(typed, 30)}”", "typed")],
                    default="meant",
                ),
                named,
            )
            return True
        return self.check_open(typed, prepared, ask_only=True)

    def check_open(self, typed: str, prepared: bool, *, ask_only: bool = False) -> bool:
        from assistant.session import open_dialogue_text, open_dialogues
        from assistant.tui.modals import ChoiceModal

        found = open_dialogues(self.app.store, typed)
        if not found:
            if not ask_only:
                self.begin(prepared, checked=True)
            return False
        row = found[0]

        def decided(choice: str | None) -> None:
            if choice == "resume":
                self.resume_instead(row["id"])
            elif choice == "new":
                self.begin(prepared, checked=True)

        more = f" Mottagningen har {len(found)} sådana." if len(found) > 1 else ""
        self.app.push_screen(
            ChoiceModal(
                "Det finns redan en dialog med mottagningen",
                f"{row['clinic']} har en {open_dialogue_text(row)}.{more} Fortsätta den i stället för att starta en till?",
                [("Fortsätt den", "resume"), ("Starta en ny ändå", "new")],
                default="resume",
            ),
            decided,
        )
        return True

    @work(thread=True, exclusive=True, group="create")
    def create(self, flow_id: str, options: E.StartOptions) -> None:
        from assistant.session import Dialogue

        try:
            dialogue = Dialogue.start(self.app.store, flow_id, options, clock=self.app.clock)
        except E.EngineError as exc:
            self.app.call_on_screen(self, self.failed, str(exc))
            return
        self.app.call_on_screen(self, self.created, dialogue)

    def failed(self, message: str) -> None:
        self.busy = False
        self.app.drop_keys()
        self.query_one("#new-error", Static).update(Content(message))

    def created(self, dialogue: Dialogue) -> None:
        from assistant.tui.dialogue import DialogueScreen

        if dialogue.state.status == "prepared":
            self.app.drop_keys()
            self.app.pop_screen()
            self.app.notify(
                f"Dialogen med {dialogue.clinic} är förberedd. Öppna den från startsidan på mötesdagen.",
                title="Förberedd",
                markup=False,
            )
            return
        self.app.switch_screen(DialogueScreen(dialogue, fresh=True, find_previous=True))
        self.app.release_keys()  # begin()'s hold; the switch holds keys until the screen has mounted


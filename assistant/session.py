"""A dialogue bound to storage: the one path both doors (line mode, TUI) take.

``Dialogue.do(command)`` asks the engine for the events, commits them to the database, and only
then moves the state on. The state is always ``replay(flow, events)``; nothing here keeps
dialogue state of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from assistant import engine as E
from assistant.flows import FlowError, LoadedFlow, flow_from_source, get_flow

Clock = Callable[[], datetime]
_UNSET = object()


class DialogueError(Exception):
    """A dialogue that cannot be opened: the message is for the user."""


def open_store(path=None):
    from storage import Store

    return Store.open(path)


class Dialogue:
    def __init__(self, store, loaded: LoadedFlow, row: dict, events: list[E.Event], clock: Clock = E.utcnow):
        self.store = store
        self.loaded = loaded
        self.row = row
        self.clock = clock
        self.events = events
        try:
            self.state = E.replay(loaded.flow, events)
        except E.ReplayError as exc:
            raise DialogueError(
                f"Dialogen {row['id'][:8]} kan inte läsas med flödet {loaded.flow.id} "
                f"(version {loaded.flow.version}): {exc}"
            ) from None
        self._flags: list[Any] | None = None
        self._topics: Any = _UNSET

    # ------------------------------------------------------------ opening

    @classmethod
    def start(
        cls,
        store,
        flow_id: str,
        options: E.StartOptions,
        *,
        clock: Clock = E.utcnow,
    ) -> Dialogue:
        loaded = get_flow(flow_id)
        clinic = canonical_clinic(store, options.clinic)
        options = E.StartOptions(**{**options.__dict__, "flow_sha256": loaded.sha256, "clinic": clinic})
        events = E.start(loaded.flow, options, clock())
        state = E.replay(loaded.flow, events)
        dialogue_id = str(uuid.uuid4())
        store.create_dialogue(
            dialogue_id=dialogue_id,
            clinic=state.dialogue["clinic"],
            flow_id=loaded.flow.id,
            flow_version=loaded.flow.version,
            flow_sha256=loaded.sha256,
            mode=state.mode,
            participants=state.dialogue.get("participants", []),
            status=state.status,
            events=events,
        )
        if loaded.source:
            store.save_flow_source(loaded.sha256, loaded.flow.id, loaded.flow.version, loaded.source)
        row = store.get_dialogue(dialogue_id)
        dialogue = cls(store, loaded, row, events, clock)
        if state.status == "in_progress":
            dialogue.record_flags()
        return dialogue

    @classmethod
    def resume(cls, store, ref: str, *, clock: Clock = E.utcnow) -> Dialogue:
        row = store.get_dialogue(ref)
        if row is None:
            raise DialogueError(f"Det finns ingen dialog {ref!r}. Se `dialogstod list`.")
        return cls(store, flow_for(store, row), row, store.load_events(row["id"]), clock)

    # ------------------------------------------------------------ doing

    @property
    def id(self) -> str:
        return self.row["id"]

    @property
    def flow(self):
        return self.loaded.flow

    @property
    def clinic(self) -> str:
        return self.state.dialogue.get("clinic") or self.row.get("clinic", "")

    def open_meeting(self) -> list[E.Event]:
        """A prepared dialogue's meeting begins: open it and record the data shown."""
        made = self.do(E.Open())
        return made + self.record_flags()

    def record_flags(self) -> list[E.Event]:
        shown = flagged(self.flags())
        if not shown:
            return []
        return self.do(E.ShowFlags(tuple(flag_snapshot(f) for f in shown)))

    def do(self, command: Any) -> list[E.Event]:
        """Run a command: its events are on disk before the new state (and next prompt) exists."""
        made = E.step(self.state, command, self.clock())
        if made:
            self.store.append_events(self.id, made)
            self.events = self.events + made
            self.state = E.advance(self.state, made)
        return made

    # ------------------------------------------------------------ data and suggestions

    def flags(self) -> list[Any]:
        """The clinic's flags, newest period per indicator (computed once per dialogue opening)."""
        if self._flags is None:
            self._flags = clinic_flags(self.store, self.clinic, latest_only=True)
        return self._flags

    def topics(self) -> E.TopicSet | None:
        """The flow's topic catalogue, compiled once per dialogue opening (None without one)."""
        if self._topics is _UNSET:
            from assistant.topics import topic_set

            self._topics = topic_set(self.flow)
        return self._topics

    def suggestions(self) -> list[E.Suggestion]:
        """Follow-ups from the flow's rules, the clinic's flags and what the answers take up. The
        first call that reads answers loads the Swedish word list (``assistant.lexicon.warm``)."""
        return E.suggestions(self.state, self.flags(), self.clock(), topics=self.topics())

    def offer(self) -> list[E.Suggestion]:
        """The open suggestions, recorded as offered."""
        found = self.suggestions()
        if found:
            self.do(E.Offer(tuple(found)))
        return found

    def coverage(self) -> list[E.AreaCoverage]:
        return E.coverage(self.state, self.clock())

    def warnings(self) -> list[str]:
        return E.warnings(self.state, self.clock())

    def elapsed(self) -> float:
        return self.state.elapsed_seconds(self.clock())


def flow_for(store, row: dict) -> LoadedFlow:
    """The flow a dialogue was held on: today's file if it is unchanged, else the exact text
    stored when the dialogue started (so editing a flow never locks out old dialogues)."""
    problems: list[str] = []
    try:
        current = get_flow(row["flow_id"])
        if current.sha256 == row["flow_sha256"]:
            return current
    except FlowError as exc:
        current = None
        problems = exc.problems
    stored = store.flow_source(row["flow_sha256"]) if row.get("flow_sha256") else None
    if stored is not None:
        try:
            return flow_from_source(stored, row["flow_sha256"])
        except FlowError as exc:
            problems = exc.problems
    if current is not None:
        return current  # an older dialogue from before flows were kept: try today's version
    raise DialogueError(f"Dialogens flöde {row['flow_id']!r} kan inte läsas: {'; '.join(problems)}")


def canonical_clinic(store, name: str) -> str:
    """An earlier spelling of the same clinic (names are matched without regard to case)."""
    wanted = name.strip().casefold()
    for clinic in store.clinics():
        if clinic["name"].casefold() == wanted:
            return clinic["name"]
    return name.strip()


def clinic_flags(store, clinic: str, *, latest_only: bool = False, period: str | None = None) -> list[Any]:
    """Flags for a clinic from the imported indicator data (all clinics are the peers)."""
    try:
        rows = store.indicator_values()
    except AttributeError:  # pragma: no cover - storage without indicator support
        return []
    if not rows or not any(r["clinic"].casefold() == clinic.casefold() for r in rows):
        return []
    from assistant.data.flags import compute_flags, newest_per_indicator
    from assistant.flows import default_catalogue

    name = next(r["clinic"] for r in rows if r["clinic"].casefold() == clinic.casefold())
    flags = compute_flags(rows, default_catalogue(), name, period=period, flow_kinds=flow_kinds(store))
    return newest_per_indicator(flags) if latest_only else flags


def flow_kinds(store) -> dict[str, str]:
    """clinic_key → the ``clinic_kind`` of the flow of the clinic's most recent dialogue: how a
    clinic's peers are chosen when the data does not say its kind (``data/peers.py``)."""
    from assistant.data.flags import clinic_key

    out: dict[str, str] = {}
    of_flow: dict[str, str | None] = {}
    try:
        dialogues = store.list_dialogues()
    except AttributeError:  # pragma: no cover - storage without dialogues
        return out
    for row in dialogues:  # most recently updated first
        key = clinic_key(row["clinic"])
        if key in out:
            continue
        flow_id = row["flow_id"]
        if flow_id not in of_flow:
            try:
                of_flow[flow_id] = get_flow(flow_id).flow.clinic_kind
            except FlowError:
                of_flow[flow_id] = None
        if of_flow[flow_id]:
            out[key] = of_flow[flow_id]
    return out


def flag_snapshot(flag: Any) -> dict[str, Any]:
    from assistant.data.charts import chart_data

    return {
        "indicator": flag.indicator,
        "label": flag.label,
        "period": str(flag.period),
        "text": flag.text,
        "states": list(flag.states),
        "value": flag.value,
        "n": flag.n,
        "target": flag.target,
        "marker": flag_marker(flag),
        "chart": chart_data(flag),  # the pictures, as the data was when shown (data/charts.py)
    }


def flag_marker(flag: Any) -> str:
    """▼ something worse, ▲ only something better, ◆ a neutral indicator outside its peers' or its
    own history's limits, · nothing."""
    from assistant.flagstates import BETTER, WORSE

    states = set(flag.states)
    if states & WORSE:
        return "▼"
    if states & BETTER:
        return "▲"
    if getattr(flag, "peer_position", None) or getattr(flag, "change_position", None):
        return "◆"
    return "·"


def flagged(flags: list[Any]) -> list[Any]:
    """Flags worth a question: a state other than 'insufficient_data' (never a reason to ask),
    or a neutral indicator outside its peers' or its own history's limits."""
    return [f for f in flags if flag_marker(f) != "·"]

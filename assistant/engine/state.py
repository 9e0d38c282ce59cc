"""The dialogue state: a pure fold of the event list.

``replay(flow, events)`` is the only way to make a state. The same events always give the same
state; ``advance(state, events)`` folds more events into a *copy*, so a state a caller holds
never changes under it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from assistant.engine.errors import ReplayError
from assistant.engine.evaluation import Context, evaluate
from assistant.events import Event
from assistant.flows import Flow, Question, Section
from assistant.labels import action_overdue

# A gap between two events longer than this is a pause (lunch, the next day), not meeting time.
PAUSE = timedelta(minutes=30)
FOLLOWUP_PREFIX = "foljd."


@dataclass(frozen=True)
class Prompt:
    qid: str
    text: str
    section: str
    via: str = "next"


@dataclass(frozen=True)
class Note:
    seq: int
    at: datetime
    text: str
    qid: str | None


@dataclass
class Action:
    action_id: str
    text: str
    owner: str | None
    due: str | None
    status: str
    qid: str | None
    created: datetime
    updated: datetime
    seq: int

    def overdue(self, today: date) -> bool:
        return action_overdue(self.status, self.due, today)


@dataclass(frozen=True)
class Correction:
    seq: int
    at: datetime
    qid: str
    previous: str | None
    text: str
    who: str | None


@dataclass(frozen=True)
class ReviewStep:
    seq: int
    at: datetime
    status: str  # sent | commented | approved
    who: str | None
    note: str | None


@dataclass(frozen=True)
class Followup:
    qid: str
    rule: str
    text: str
    section: str


@dataclass
class State:
    flow: Flow
    dialogue: dict[str, Any] = field(default_factory=dict)  # payload of "started"
    status: str = "new"  # new | prepared | in_progress | finished
    mode: str = "facilitator"
    mask_pii: bool = True
    last_seq: int = 0
    started_at: datetime | None = None
    last_at: datetime | None = None
    answers: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    answered_at: dict[str, datetime] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    parked: list[str] = field(default_factory=list)
    ended_sections: set[str] = field(default_factory=set)
    focus: dict[str, list[str]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    actions: dict[str, Action] = field(default_factory=dict)
    corrections: list[Correction] = field(default_factory=list)
    review: list[ReviewStep] = field(default_factory=list)
    current: Prompt | None = None
    history: list[str] = field(default_factory=list)
    queue: list[str] = field(default_factory=list)
    resume_at: str | None = None  # the question a detour (suggestion, parked question) interrupted
    followups: dict[str, Followup] = field(default_factory=dict)
    offered: dict[str, dict[str, Any]] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    dismissed: set[str] = field(default_factory=set)
    discussed_flags: list[str] = field(default_factory=list)
    flags_shown: list[dict[str, Any]] = field(default_factory=list)
    pii_masked: int = 0
    elapsed: float = 0.0  # seconds of meeting time up to last_at
    section_seconds: dict[str, float] = field(default_factory=dict)
    finished_at: datetime | None = None

    # ------------------------------------------------------------ derived views

    @property
    def order(self) -> list[str]:
        """Question ids in the order this dialogue walks them: focus areas first."""
        return _order(self.flow, tuple(self.focus_sections), self.mode)

    @property
    def focus_sections(self) -> list[str]:
        seen: list[str] = []
        for sections in self.focus.values():
            for s in sections:
                if s not in seen:
                    seen.append(s)
        return seen

    def question(self, qid: str) -> Question | None:
        return self.flow.question_index.get(qid)

    def section_id_of(self, qid: str) -> str | None:
        if qid in self.followups:
            return self.followups[qid].section
        section = self.flow.section_of.get(qid)
        return section.id if section else None

    def section(self, section_id: str) -> Section:
        return self.flow.section_index[section_id]

    def section_touched(self, section_id: str) -> bool:
        return any(self.section_id_of(q) == section_id for q in self.answers)

    def is_open(self, qid: str) -> bool:
        """Still to be asked: not answered, skipped, parked, in an ended section, or irrelevant."""
        if qid in self.answers or qid in self.skipped or qid in self.parked:
            return False
        section = self.section_id_of(qid)
        if section in self.ended_sections:
            return False
        return self.relevant(qid)

    def relevant(self, qid: str) -> bool:
        q = self.question(qid)
        if q is None or q.when is None:
            return True
        return evaluate(q.when, self, Context())

    def elapsed_seconds(self, now: datetime | None = None) -> float:
        """Meeting time: the sum of gaps between events, pauses excluded, plus the running gap."""
        total = self.elapsed
        if now is not None and self.last_at is not None and self.status == "in_progress":
            gap = now - self.last_at
            if timedelta(0) < gap <= PAUSE:
                total += gap.total_seconds()
        return total

    def section_elapsed(self, section_id: str, now: datetime | None = None) -> float:
        total = self.section_seconds.get(section_id, 0.0)
        if (
            now is not None
            and self.current is not None
            and self.current.section == section_id
            and self.last_at is not None
            and self.status == "in_progress"
        ):
            gap = now - self.last_at
            if timedelta(0) < gap <= PAUSE:
                total += gap.total_seconds()
        return total

    @property
    def finished(self) -> bool:
        return self.status == "finished"

    @property
    def review_status(self) -> str | None:
        """The documentation's review: the latest step (sent, commented, approved), or None."""
        return self.review[-1].status if self.review else None

    @property
    def stage(self) -> str | None:
        return self.dialogue.get("stage")


def _order(flow: Flow, focus: tuple[str, ...], mode: str) -> list[str]:
    cache = flow.walk_cache  # per flow object, so a cached order can never belong to another flow
    key = (focus, mode)
    cached = cache.get(key)
    if cached is not None:
        return cached
    sections = [s for s in flow.sections if not (mode == "self" and s.facilitator_only)]
    dialogue = [s for s in sections if s.kind == "dialogue"]
    closing = [s for s in sections if s.kind != "dialogue"]
    first = [s for s in dialogue if s.id in focus]
    first.sort(key=lambda s: focus.index(s.id))
    rest = [s for s in dialogue if s.id not in focus]
    out = [q.id for s in first + rest + closing for q in flow.section_questions(s.id)]
    cache[key] = out
    return out


# ---------------------------------------------------------------- folding


def replay(flow: Flow, events: list[Event]) -> State:
    state = State(flow=flow)
    for event in events:
        _apply(state, event)
    return state


def advance(state: State, events: list[Event]) -> State:
    """A new state with ``events`` folded in; ``state`` itself is left as it was."""
    new = _copy(state)
    for event in events:
        _apply(new, event)
    return new


def _copy(state: State) -> State:
    new = copy.copy(state)
    for name in (
        "dialogue",
        "answers",
        "values",
        "answered_at",
        "skipped",
        "parked",
        "ended_sections",
        "focus",
        "roles",
        "notes",
        "corrections",
        "review",
        "history",
        "queue",
        "followups",
        "offered",
        "accepted",
        "dismissed",
        "discussed_flags",
        "flags_shown",
        "section_seconds",
    ):
        setattr(new, name, copy.copy(getattr(state, name)))
    new.actions = {k: copy.copy(v) for k, v in state.actions.items()}
    return new


def _apply(state: State, e: Event) -> None:
    if e.seq != state.last_seq + 1:
        raise ReplayError(f"event {e.seq} follows event {state.last_seq}: the log has a gap")
    if state.last_seq == 0 and e.kind != "started":
        raise ReplayError("a dialogue's first event must be 'started'")
    _tick(state, e.at)
    state.last_seq = e.seq
    handler = _HANDLERS.get(e.kind)
    if handler is None:
        raise ReplayError(f"unknown event kind {e.kind!r}")
    handler(state, e)


def _tick(state: State, at: datetime) -> None:
    if state.last_at is not None and state.status == "in_progress":
        gap = at - state.last_at
        if timedelta(0) < gap <= PAUSE:
            seconds = gap.total_seconds()
            state.elapsed += seconds
            if state.current is not None:
                sec = state.current.section
                state.section_seconds[sec] = state.section_seconds.get(sec, 0.0) + seconds
    state.last_at = at


# ---------------------------------------------------------------- payload shapes
# A log from a file (a bundle) is checked as strictly as one the engine wrote: a payload value of
# the wrong shape is a ReplayError, never a state that breaks a reader later (show, export, chat).


def _bad(e: Event, what: str) -> ReplayError:
    return ReplayError(f"event {e.seq} ({e.kind}): {what}")


def _opt_text(e: Event, key: str) -> str | None:
    value = e.payload.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(e, f"{key} is not text")
    return value


def _text_list(e: Event, key: str) -> list[str]:
    value = e.payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(e, f"{key} is not a list of texts")
    return value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _answer_value(e: Event) -> Any:
    """An answer's value as parse_answer makes it: a choice id, a list of them, or a number."""
    value = e.payload["value"]
    if isinstance(value, str) or _number(value):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise _bad(e, "value is neither a choice, a list of choices nor a number")


_FLAG_TEXTS = ("indicator", "label", "period", "text", "marker")
_FLAG_NUMBERS = ("value", "n", "target")


def _flag(e: Event, flag: Any) -> dict[str, Any]:
    if not isinstance(flag, dict):
        raise _bad(e, "a flag is not an object")
    for key in _FLAG_TEXTS:
        if key in flag and flag[key] is not None and not isinstance(flag[key], str):
            raise _bad(e, f"a flag's {key} is not text")
    for key in _FLAG_NUMBERS:
        if key in flag and flag[key] is not None and not _number(flag[key]):
            raise _bad(e, f"a flag's {key} is not a number")
    states = flag.get("states", [])
    if not isinstance(states, list) or not all(isinstance(x, str) for x in states):
        raise _bad(e, "a flag's states are not a list of texts")
    return dict(flag)


def _need_qid(state: State, e: Event) -> str:
    if not e.qid:
        raise ReplayError(f"event {e.seq} ({e.kind}) names no question")
    if e.qid not in state.flow.question_index and e.qid not in state.followups:
        raise ReplayError(f"event {e.seq} ({e.kind}) names unknown question {e.qid!r}")
    return e.qid


def _started(state: State, e: Event) -> None:
    if state.started_at is not None:
        raise ReplayError("a dialogue can only start once")
    p = e.payload
    if p.get("flow_id") not in (None, state.flow.id):
        raise ReplayError(f"the dialogue was held on flow {p.get('flow_id')!r}, not {state.flow.id!r}")
    if p.get("mode", "facilitator") not in ("facilitator", "self"):
        raise _bad(e, f"unknown mode {p.get('mode')!r}")
    if "clinic" in p and not (isinstance(p["clinic"], str) and p["clinic"].strip()):
        raise _bad(e, "the clinic is not a name")
    participants = p.get("participants") or []
    if not isinstance(participants, list) or not all(
        isinstance(part, dict) and isinstance(part.get("name", ""), str) and isinstance(part.get("role") or "", str)
        for part in participants
    ):
        raise _bad(e, "participants are not a list of names and roles")
    state.dialogue = dict(p)
    state.mode = p.get("mode", "facilitator")
    state.mask_pii = bool(p.get("mask_pii", True))
    state.started_at = e.at
    state.status = "in_progress"
    for part in participants:
        if part.get("name"):
            state.roles[part["name"]] = part.get("role") or ""


def _prepared(state: State, e: Event) -> None:
    state.status = "prepared"


def _opened(state: State, e: Event) -> None:
    state.status = "in_progress"


def _focus_chosen(state: State, e: Event) -> None:
    party = _opt_text(e, "party") or "gemensamt"
    sections = [s for s in _text_list(e, "sections") if s in state.flow.section_index]
    state.focus[party] = sections


def _role_assigned(state: State, e: Event) -> None:
    name = (_opt_text(e, "name") or "").strip()
    if name:
        state.roles[name] = _opt_text(e, "role") or ""


def _prompted(state: State, e: Event) -> None:
    qid = e.qid
    if not qid:
        raise ReplayError(f"event {e.seq} (prompted) names no question")
    followup = _opt_text(e, "followup")
    if followup:
        section = _opt_text(e, "section") or ""
        if section not in state.flow.section_index:
            raise ReplayError(f"event {e.seq}: follow-up names unknown section {section!r}")
        state.followups[qid] = Followup(qid=qid, rule=str(followup), text=e.text or "", section=section)
    elif qid not in state.flow.question_index:
        raise ReplayError(f"event {e.seq} (prompted) names unknown question {qid!r}")
    via = _opt_text(e, "via") or "next"
    if via in ("suggestion", "parked") and state.current is not None and state.current.qid != qid:
        state.resume_at = state.resume_at or state.current.qid
    elif via in ("jump", "back") or qid == state.resume_at:
        state.resume_at = None
    if via != "back" and state.current is not None and state.current.qid != qid:
        state.history.append(state.current.qid)
    if qid in state.queue:
        state.queue.remove(qid)
    section = state.section_id_of(qid) or ""
    state.current = Prompt(qid=qid, text=e.text or "", section=section, via=via)


def _answered(state: State, e: Event) -> None:
    qid = _need_qid(state, e)
    state.answers[qid] = e.text or ""
    if "value" in e.payload:
        state.values[qid] = _answer_value(e)
    else:
        state.values.pop(qid, None)
    state.answered_at[qid] = e.at
    state.skipped.discard(qid)
    if qid in state.parked:
        state.parked.remove(qid)
    _clear_current(state, qid)


def _skipped(state: State, e: Event) -> None:
    qid = _need_qid(state, e)
    if qid not in state.answers:  # skipping past a question gone back to keeps its answer
        state.skipped.add(qid)
    if qid in state.parked:
        state.parked.remove(qid)
    _clear_current(state, qid)


def _parked(state: State, e: Event) -> None:
    qid = _need_qid(state, e)
    if qid not in state.parked and qid not in state.answers:  # an answered question just moves on
        state.parked.append(qid)
    _clear_current(state, qid)


def _clear_current(state: State, qid: str) -> None:
    if state.current is not None and state.current.qid == qid:
        state.history.append(qid)
        state.current = None


def _went_back(state: State, e: Event) -> None:
    qid = _need_qid(state, e)
    # Step back through history to the question gone back to.
    while state.history and state.history[-1] != qid:
        state.history.pop()
    if state.history:
        state.history.pop()
    state.current = None


def _jumped(state: State, e: Event) -> None:
    section = _opt_text(e, "section")
    if section not in state.flow.section_index:
        raise ReplayError(f"event {e.seq} (jumped) names unknown section {section!r}")
    subarea = _opt_text(e, "subarea")
    if subarea is not None and subarea not in {s.id for s in state.flow.section_index[section].subareas}:
        raise ReplayError(f"event {e.seq} (jumped) names unknown subarea {subarea!r}")
    state.ended_sections.discard(section)


def _section_ended(state: State, e: Event) -> None:
    section = _opt_text(e, "section")
    if section not in state.flow.section_index:
        raise ReplayError(f"event {e.seq} (section_ended) names unknown section {section!r}")
    state.ended_sections.add(section)
    if state.current is not None and state.current.section == section:
        state.history.append(state.current.qid)
        state.current = None


def _noted(state: State, e: Event) -> None:
    if e.qid is not None:
        _need_qid(state, e)
    state.notes.append(Note(seq=e.seq, at=e.at, text=e.text or "", qid=e.qid))


def _action_added(state: State, e: Event) -> None:
    if e.qid is not None:
        _need_qid(state, e)
    aid = _opt_text(e, "action_id") or f"a{len(state.actions) + 1}"
    state.actions[aid] = Action(
        action_id=aid,
        text=e.text or "",
        owner=_opt_text(e, "owner"),
        due=_opt_text(e, "due"),
        status="open",
        qid=e.qid,
        created=e.at,
        updated=e.at,
        seq=e.seq,
    )


def _action_updated(state: State, e: Event) -> None:
    aid = str(e.payload.get("action_id"))
    action = state.actions.get(aid)
    if action is None:
        raise ReplayError(f"event {e.seq} updates unknown action {aid!r}")
    _opt_text(e, "who")
    if "status" in e.payload:
        if e.payload["status"] not in ("open", "done"):
            raise _bad(e, f"unknown action status {e.payload['status']!r}")
        action.status = e.payload["status"]
    if "owner" in e.payload:
        action.owner = _opt_text(e, "owner")
    if "due" in e.payload:
        action.due = _opt_text(e, "due")
    if e.text:
        action.text = e.text
    action.updated = e.at


def _suggestion_offered(state: State, e: Event) -> None:
    sid = _opt_text(e, "sid")
    if not sid:
        raise _bad(e, "the suggestion has no id")
    for key in ("rule", "reason", "text", "section", "indicator"):
        _opt_text(e, key)
    _text_list(e, "questions")
    state.offered[sid] = dict(e.payload)


def _suggestion_accepted(state: State, e: Event) -> None:
    sid = str(e.payload.get("sid"))
    state.accepted.add(sid)
    for qid in _text_list(e, "questions"):
        if qid in state.flow.question_index and qid not in state.queue:
            state.queue.append(qid)


def _suggestion_dismissed(state: State, e: Event) -> None:
    state.dismissed.add(str(e.payload.get("sid")))


def _flags_discussed(state: State, e: Event) -> None:
    for ind in _text_list(e, "indicators"):
        if ind not in state.discussed_flags:
            state.discussed_flags.append(str(ind))


def _flags_shown(state: State, e: Event) -> None:
    flags = e.payload.get("flags") or []
    if not isinstance(flags, list):
        raise _bad(e, "flags are not a list")
    state.flags_shown = [f for f in (_flag(e, flag) for flag in flags) if f.get("indicator")]


def _corrected(state: State, e: Event) -> None:
    qid = _need_qid(state, e)
    state.corrections.append(
        Correction(
            seq=e.seq,
            at=e.at,
            qid=qid,
            previous=state.answers.get(qid),
            text=e.text or "",
            who=_opt_text(e, "who"),
        )
    )
    state.answers[qid] = e.text or ""
    state.values.pop(qid, None)
    state.skipped.discard(qid)
    if qid in state.parked:
        state.parked.remove(qid)


def _reviewed(state: State, e: Event) -> None:
    status = str(e.payload.get("status") or "")
    if status not in ("sent", "commented", "approved"):
        raise ReplayError(f"event {e.seq} (reviewed) has an unknown status {status!r}")
    state.review.append(ReviewStep(seq=e.seq, at=e.at, status=status, who=e.payload.get("who"), note=e.text))


def _finished(state: State, e: Event) -> None:
    state.status = "finished"
    state.finished_at = e.at


def _reopened(state: State, e: Event) -> None:
    state.status = "in_progress"
    state.finished_at = None


def _pii_masked(state: State, e: Event) -> None:
    count = e.payload.get("count") or 1
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise _bad(e, "count is not a whole number")
    state.pii_masked += count


_HANDLERS = {
    "started": _started,
    "prepared": _prepared,
    "opened": _opened,
    "focus_chosen": _focus_chosen,
    "role_assigned": _role_assigned,
    "prompted": _prompted,
    "answered": _answered,
    "skipped": _skipped,
    "went_back": _went_back,
    "jumped": _jumped,
    "parked": _parked,
    "section_ended": _section_ended,
    "noted": _noted,
    "action_added": _action_added,
    "action_updated": _action_updated,
    "suggestion_offered": _suggestion_offered,
    "suggestion_accepted": _suggestion_accepted,
    "suggestion_dismissed": _suggestion_dismissed,
    "flags_shown": _flags_shown,
    "flags_discussed": _flags_discussed,
    "corrected": _corrected,
    "reviewed": _reviewed,
    "finished": _finished,
    "reopened": _reopened,
    "pii_masked": _pii_masked,
}

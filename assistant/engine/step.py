"""Commands and ``step``: what a user does becomes events; nothing here touches storage or a screen.

``events = step(state, command, now)`` validates the command against the state and returns the
events it makes (including the next ``prompted`` event where the prompt changes). The caller
persists them, then folds them in with ``advance(state, events)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from assistant import privacy, render
from assistant.engine.events import Event
from assistant.engine.state import FOLLOWUP_PREFIX, State, advance
from assistant.flows import Flow, Question
from assistant.textsafe import MAX_SHORT, MAX_TEXT, normalise_typed


class EngineError(Exception):
    """A command that does not fit the state. The message is Swedish and meant for the user."""


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class Answer:
    text: str


@dataclass(frozen=True)
class Skip:
    pass


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Jump:
    section: str  # a section id, an area ("P3", "B") or a 1-based number


@dataclass(frozen=True)
class Park:
    pass


@dataclass(frozen=True)
class ReturnToParked:
    qid: str | None = None


@dataclass(frozen=True)
class EndSection:
    pass


@dataclass(frozen=True)
class AddNote:
    text: str
    qid: str | None = None  # the question it belongs to (default: the one on screen)


@dataclass(frozen=True)
class AddAction:
    text: str
    owner: str | None = None
    due: str | None = None


@dataclass(frozen=True)
class UpdateAction:
    """Change an action: its status, owner or due date (None leaves a field as it is; an empty
    owner or due clears it). ``via`` names the dialogue it was changed from, if another one."""

    action_id: str
    status: str | None = None
    who: str | None = None
    owner: str | None = None
    due: str | None = None
    via: str | None = None


REVIEW_STATUSES = ("sent", "commented", "approved")


@dataclass(frozen=True)
class Review:
    """A step of the documentation's review: sent to the clinic, the clinic's comments or
    corrections, approved. ``note`` is what was said (a comment, say)."""

    status: str
    who: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Offer:
    suggestions: tuple[Any, ...]  # engine.suggest.Suggestion


@dataclass(frozen=True)
class Accept:
    """Take a suggestion. For one that proposes an action ("gör om till åtgärd"), ``text``,
    ``owner`` and ``due`` make the action (the text defaults to what the suggestion proposes)."""

    sid: str
    owner: str | None = None
    due: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Dismiss:
    sid: str


@dataclass(frozen=True)
class ChooseFocus:
    party: str
    sections: tuple[str, ...]


@dataclass(frozen=True)
class AssignRole:
    name: str
    role: str


@dataclass(frozen=True)
class DiscussFlags:
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class ShowFlags:
    """Record the clinic's data as shown when the meeting opens (dicts: indicator, label, period, text, states)."""

    flags: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Correct:
    qid: str
    text: str
    who: str | None = None


@dataclass(frozen=True)
class Open:
    """Open a prepared dialogue: the meeting begins."""


@dataclass(frozen=True)
class Finish:
    pass


@dataclass(frozen=True)
class Reopen:
    pass


@dataclass(frozen=True)
class Participant:
    name: str
    role: str = ""


@dataclass(frozen=True)
class StartOptions:
    clinic: str
    mode: str = "facilitator"
    participants: tuple[Participant, ...] = ()
    flow_sha256: str = ""
    prepared: bool = False
    focus: dict[str, tuple[str, ...]] = field(default_factory=dict)
    mask_pii: bool = True
    stage: str | None = None  # a staged flow (Nära vård's Del 1–3): the stage this dialogue belongs to
    continues: str | None = None  # the dialogue of the previous stage this one continues
    continues_date: str | None = None


# ---------------------------------------------------------------- text hygiene


def clean_text(text: str, *, limit: int = MAX_TEXT, what: str = "Svaret") -> str:
    """Normalise what a person typed: newlines, no NULs, no trailing blanks. Markup stays as typed."""
    if len(text) > limit:
        raise EngineError(f"{what} är för långt ({len(text):,} tecken, högst {limit:,}).".replace(",", "\u00a0"))
    return "\n".join(line.rstrip() for line in normalise_typed(text).split("\n")).strip("\n")


def seal_text(text: str, mask: bool) -> str:
    """A text as ``seal`` would store it."""
    return privacy.mask_identity_numbers(text).text if mask else text


def seal(events: list[Event], mask: bool) -> list[Event]:
    """The events as they may be stored: with ``mask``, every personal identity number in any text
    of any event (answers, notes, actions and their owners, clinic, participants, focus parties,
    corrections and who made them, suggestion texts …) is masked, and a ``pii_masked`` event
    follows each event that had one, so the user is told. Sequence numbers are renumbered."""
    if not mask or not events:
        return events
    out: list[Event] = []
    first = events[0].seq
    for event in events:
        masked, n = privacy.mask_event(event)
        out.append(replace(masked, seq=first + len(out)))
        if n:
            out.append(Event(seq=first + len(out), kind="pii_masked", at=event.at, qid=event.qid, payload={"count": n}))
    return out


# ---------------------------------------------------------------- starting


def start(flow: Flow, options: StartOptions, now: datetime) -> list[Event]:
    events = _start(flow, options, now)
    return seal(events, bool(events[0].payload["mask_pii"]))


def _start(flow: Flow, options: StartOptions, now: datetime) -> list[Event]:
    clinic = clean_text(options.clinic, limit=MAX_SHORT, what="Mottagningens namn").strip()
    if not clinic:
        raise EngineError("Ange mottagningens namn.")
    if options.mode not in ("facilitator", "self"):
        raise EngineError("Läget måste vara 'facilitator' eller 'self'.")
    participants = []
    for p in options.participants:
        name = clean_text(p.name, limit=MAX_SHORT, what="Namnet").strip()
        if name:
            participants.append({"name": name, "role": clean_text(p.role, limit=MAX_SHORT, what="Rollen").strip()})
    payload = {
        "flow_id": flow.id,
        "flow_version": flow.version,
        "flow_sha256": options.flow_sha256,
        "mode": options.mode,
        "clinic": clinic,
        "participants": participants,
        "mask_pii": options.mask_pii and flow.mask_identity_numbers,
    }
    stages = [p.id for p in flow.stages]
    if stages:
        stage = options.stage or stages[0]
        if stage not in stages:
            names = ", ".join(f"{p.id} ({p.title.split(':')[0]})" for p in flow.stages)
            raise EngineError(f"Okänd del {stage!r}. Välj bland: {names}.")
        payload["stage"] = stage
        if options.continues:
            payload["continues"] = options.continues
            if options.continues_date:
                payload["continues_date"] = options.continues_date
    elif options.stage:
        raise EngineError(f"Flödet {flow.id} har inga delar att välja bland.")
    events = [Event(seq=1, kind="started", at=now, payload=payload)]
    if options.prepared:
        events.append(Event(seq=2, kind="prepared", at=now))
    for party, sections in options.focus.items():
        _check_sections(flow, sections)
        events.append(
            Event(seq=len(events) + 1, kind="focus_chosen", at=now, payload={"party": party, "sections": list(sections)})
        )
    if not options.prepared:
        state = advance(_empty(flow), events)
        events += _prompt_next(state, now, via="next")
    return events


def _empty(flow: Flow) -> State:
    return State(flow=flow)


def check_focus_count(flow: Flow, sections: tuple[str, ...] | list[str]) -> None:
    """A party chooses between the flow's min and max focus areas (or none at all)."""
    lo, hi = flow.focus.min, flow.focus.max
    if sections and not lo <= len(sections) <= hi:
        span = f"{lo}–{hi}" if lo != hi else str(hi)
        raise EngineError(f"Välj {span} fokusområden ({len(sections)} valda). {flow.focus.prompt}.")


def _check_sections(flow: Flow, sections: tuple[str, ...] | list[str]) -> None:
    for s in sections:
        if s not in flow.section_index:
            raise EngineError(f"Okänt område: {s}")


# ---------------------------------------------------------------- step


def step(state: State, command: Any, now: datetime) -> list[Event]:
    """The events ``command`` makes in ``state``, sealed (masked) for storing."""
    return seal(_step(state, command, now), state.mask_pii)


def _step(state: State, command: Any, now: datetime) -> list[Event]:
    seq = state.last_seq
    made: list[Event] = []

    def ev(kind: str, qid: str | None = None, text: str | None = None, /, **payload: Any) -> Event:
        e = Event(seq=seq + len(made) + 1, kind=kind, at=now, qid=qid, text=text, payload=payload)
        made.append(e)
        return e

    if state.status == "new":
        raise EngineError("Dialogen har inte startat.")
    finished_ok = (AddNote, AddAction, UpdateAction, Correct, Reopen, DiscussFlags, Offer, Dismiss, Review)
    if state.finished and not isinstance(command, finished_ok):
        raise EngineError("Dialogen är avslutad. Rättelser görs som rättelser; öppna den igen för att fortsätta.")
    prepared_ok = (Open, ChooseFocus, AssignRole, AddNote, DiscussFlags, ShowFlags, Offer, Dismiss, Finish)
    if state.status == "prepared" and not isinstance(command, prepared_ok):
        raise EngineError("Dialogen är förberedd men mötet har inte börjat. Öppna den för att starta mötet.")

    match command:
        case Answer(text=raw):
            current = _need_current(state)
            question = state.question(current.qid)
            text, value = parse_answer(question, clean_text(raw))
            payload = {} if value is None else {"value": value}
            ev("answered", current.qid, text, **payload)
            return made + _prompt_next(advance(state, made), now)
        case Skip():
            current = _need_current(state)
            ev("skipped", current.qid)
            return made + _prompt_next(advance(state, made), now)
        case Park():
            current = _need_current(state)
            ev("parked", current.qid)
            return made + _prompt_next(advance(state, made), now)
        case Back():
            target = _back_target(state)
            if target is None:
                raise EngineError("Det finns ingen tidigare fråga att gå tillbaka till.")
            ev("went_back", target)
            after = advance(state, made)
            return made + [_prompted(after, target, now, "back", seq + len(made) + 1)]
        case Jump(section=ref):
            section_id, subarea_id = resolve_target(state, ref)
            if subarea_id:
                ev("jumped", section=section_id, subarea=subarea_id)
            else:
                ev("jumped", section=section_id)
            after = advance(state, made)
            target = _first_in_section(after, section_id, subarea_id)
            if target is None:
                raise EngineError("Avsnittet har inga frågor som passar den här dialogen.")
            return made + [_prompted(after, target, now, "jump", seq + len(made) + 1)]
        case ReturnToParked(qid=qid):
            if not state.parked:
                raise EngineError("Parkeringsplatsen är tom.")
            target = qid or state.parked[0]
            if target not in state.parked:
                raise EngineError("Den frågan är inte parkerad.")
            return [_prompted(state, target, now, "parked", seq + 1)]
        case EndSection():
            current = _need_current(state)
            ev("section_ended", section=current.section)
            return made + _prompt_next(advance(state, made), now)
        case AddNote(text=raw, qid=about):
            text = clean_text(raw, what="Anteckningen")
            if not text.strip():
                raise EngineError("Anteckningen är tom.")
            if about is not None and about not in state.flow.question_index and about not in state.followups:
                raise EngineError(f"Okänd fråga: {about}")
            ev("noted", about or (state.current.qid if state.current else None), text)
            return made
        case AddAction(text=raw, owner=owner, due=due):
            text = clean_text(raw, what="Åtgärden")
            if not text.strip():
                raise EngineError("Beskriv åtgärden.")
            payload: dict[str, Any] = {"action_id": f"a{len(state.actions) + 1}"}
            if owner and owner.strip():
                payload["owner"] = clean_text(owner, limit=MAX_SHORT, what="Ansvarig").strip()
            if due and due.strip():
                payload["due"] = parse_due(due)
            ev("action_added", state.current.qid if state.current else None, text, **payload)
            return made
        case UpdateAction(action_id=aid, status=status, who=who, owner=owner, due=due, via=via):
            action = state.actions.get(aid)
            if action is None:
                raise EngineError(f"Det finns ingen åtgärd {aid}.")
            payload = {"action_id": aid}
            if status is not None:
                if status not in ("open", "done"):
                    raise EngineError("En åtgärd är antingen öppen eller klar.")
                if status != action.status:
                    payload["status"] = status
            if owner is not None:
                cleaned = clean_text(owner, limit=MAX_SHORT, what="Ansvarig").strip() or None
                if (seal_text(cleaned, state.mask_pii) if cleaned else None) != action.owner:
                    payload["owner"] = cleaned
            if due is not None:
                parsed = parse_due(due) if due.strip() else None
                if parsed != action.due:
                    payload["due"] = parsed
            if len(payload) == 1:
                raise EngineError(f"Åtgärd {aid} är redan sådan; inget ändrades.")
            if who and who.strip():
                payload["who"] = clean_text(who, limit=MAX_SHORT, what="Namnet").strip()
            if via:
                payload["via"] = via
            ev("action_updated", **payload)
            return made
        case Review(status=status, who=who, note=note):
            if status not in REVIEW_STATUSES:
                raise EngineError("Granskningen är skickad (sent), kommenterad (commented) eller godkänd (approved).")
            if state.status == "prepared":
                raise EngineError("Mötet har inte hållits än: det finns ingen dokumentation att granska.")
            payload = {"status": status}
            if who and who.strip():
                payload["who"] = clean_text(who, limit=MAX_SHORT, what="Namnet").strip()
            text = clean_text(note, what="Kommentaren") if note is not None and note.strip() else None
            if status == "commented" and not text:
                raise EngineError("Skriv vad mottagningen kommenterade eller rättade (--note).")
            ev("reviewed", None, text, **payload)
            return made
        case Offer(suggestions=items):
            for s in items:
                if s.sid in state.accepted or s.sid in state.dismissed:
                    continue
                payload = s.payload()
                if state.offered.get(s.sid) != payload:  # new, or it now leads elsewhere
                    ev("suggestion_offered", **payload)
            return made
        case Accept():
            return _accept(state, command, now, ev, made, seq)
        case Dismiss(sid=sid):
            if sid not in state.offered:
                raise EngineError("Det förslaget finns inte.")
            if sid in state.dismissed or sid in state.accepted:
                raise EngineError("Förslaget är redan hanterat.")
            ev("suggestion_dismissed", sid=sid)
            return made
        case ChooseFocus(party=party, sections=sections):
            _check_sections(state.flow, sections)
            check_focus_count(state.flow, sections)
            ev("focus_chosen", party=party, sections=list(sections))
            return made
        case AssignRole(name=name, role=role):
            name = clean_text(name, limit=MAX_SHORT, what="Namnet").strip()
            if not name:
                raise EngineError("Ange ett namn.")
            ev("role_assigned", name=name, role=clean_text(role, limit=MAX_SHORT, what="Rollen").strip())
            return made
        case DiscussFlags(indicators=indicators):
            new = [i for i in indicators if i not in state.discussed_flags]
            if new:
                ev("flags_discussed", indicators=new)
            return made
        case ShowFlags(flags=flags):
            ev("flags_shown", flags=[dict(f) for f in flags])
            return made
        case Correct(qid=qid, text=raw, who=who):
            if qid not in state.flow.question_index and qid not in state.followups:
                raise EngineError(f"Okänd fråga: {qid}")
            text = clean_text(raw)
            if not text.strip():
                raise EngineError("En rättelse kan inte vara tom.")
            if state.answers.get(qid) in (text, seal_text(text, state.mask_pii)):
                raise EngineError("Rättelsen är samma som det som redan står.")
            payload = {"previous": state.answers.get(qid)}
            if who:
                payload["who"] = clean_text(who, limit=MAX_SHORT, what="Namnet").strip()
            ev("corrected", qid, text, **payload)
            return made
        case Open():
            if state.status != "prepared":
                raise EngineError("Dialogen är redan igång.")
            ev("opened")
            after = advance(state, made)
            return made + _prompt_next(after, now)
        case Finish():
            ev("finished")
            return made
        case Reopen():
            if not state.finished:
                raise EngineError("Dialogen är inte avslutad.")
            ev("reopened")
            after = advance(state, made)
            if after.current is None:
                return made + _prompt_next(after, now)
            return made
    raise EngineError(f"Okänt kommando: {command!r}")


def _need_current(state: State):
    if state.current is None:
        raise EngineError("Det finns ingen aktuell fråga. Gå till ett avsnitt eller en parkerad fråga, eller avsluta.")
    return state.current


def _back_target(state: State) -> str | None:
    for qid in reversed(state.history):
        if state.current is None or qid != state.current.qid:
            return qid
    return None


def _accept(state: State, accept: Accept, now: datetime, ev, made: list[Event], seq: int) -> list[Event]:
    sid = accept.sid
    offered = state.offered.get(sid)
    if offered is None:
        raise EngineError("Det förslaget finns inte.")
    if sid in state.accepted or sid in state.dismissed:
        raise EngineError("Förslaget är redan hanterat.")
    questions = _with_sequence_steps(
        state, [q for q in offered.get("questions", []) if state.is_open(q) or q in state.parked]
    )
    text = offered.get("text")
    if offered.get("action"):
        wanted = accept.text if accept.text is not None and accept.text.strip() else text or offered.get("reason", "")
        action_text = clean_text(wanted, what="Åtgärden")
        if not action_text.strip():
            raise EngineError("Beskriv åtgärden.")
        payload: dict[str, Any] = {"action_id": f"a{len(state.actions) + 1}"}
        if accept.owner and accept.owner.strip():
            payload["owner"] = clean_text(accept.owner, limit=MAX_SHORT, what="Ansvarig").strip()
        if accept.due and accept.due.strip():
            payload["due"] = parse_due(accept.due)
        ev("suggestion_accepted", sid=sid, questions=[])
        ev("action_added", state.current.qid if state.current else None, action_text, **payload)
        return made
    if not questions and not text:
        raise EngineError("Förslaget gäller inte längre: frågorna är redan besvarade.")
    ev("suggestion_accepted", sid=sid, questions=questions)
    after = advance(state, made)
    next_seq = seq + len(made) + 1
    if questions:
        return made + [_prompted(after, questions[0], now, "suggestion", next_seq)]
    section = str(offered.get("section"))
    qid = FOLLOWUP_PREFIX + str(offered.get("rule") or sid)
    return made + [
        Event(
            seq=next_seq,
            kind="prompted",
            at=now,
            qid=qid,
            text=text,
            payload={"via": "suggestion", "followup": offered.get("rule") or sid, "section": section},
        )
    ]


def _with_sequence_steps(state: State, questions: list[str]) -> list[str]:
    """A question that is a step of an exercise brings the exercise's later open steps along."""
    out: list[str] = []
    for qid in questions:
        if qid not in out:
            out.append(qid)
        sub = state.flow.subarea_of.get(qid)
        if sub is not None and sub.sequence:
            ids = [q.id for q in sub.questions]
            for later in ids[ids.index(qid) + 1 :]:
                # a conditional step is queued too; whether it applies is judged when its turn comes
                if later not in out and later not in state.answers and later not in state.skipped:
                    out.append(later)
    return out


# ---------------------------------------------------------------- choosing the next prompt


def next_question(state: State) -> str | None:
    """The question to ask next: a suggestion's queued questions, the question a detour
    interrupted, the rest of the area on screen, then the first open question in the planned order
    (focus areas first, the closing sections last).

    The planned order is kept after a jump: jumping from P5 to P1 goes on with what is left of P5,
    then the other areas as planned, and the summary and feedback last – not with the areas that
    happen to follow P1. Only from a closing section (Sammanfattning, Återkoppling: wrapping up) does
    the walk go on forward from where it is."""
    for qid in state.queue:
        if state.is_open(qid) or qid in state.parked:
            return qid
    if state.resume_at and state.is_open(state.resume_at):
        return state.resume_at
    order = state.order
    position = -1
    section: str | None = None
    anchors = ([state.current.qid] if state.current else []) + list(reversed(state.history))
    index = {q: i for i, q in enumerate(order)}
    for qid in anchors:
        if qid in index:
            position = index[qid]
            section = state.section_id_of(qid)
            break
        if qid in state.followups:  # a follow-up sits at the start of its section
            sec = state.followups[qid].section
            firsts = [index[q.id] for q in state.flow.section_questions(sec) if q.id in index]
            if firsts:
                position = firsts[0] - 1
                section = sec
                break

    def askable(qid: str) -> bool:
        return state.is_open(qid) and (state.current is None or qid != state.current.qid)

    if section is not None:
        for qid in order[position + 1 :]:  # the rest of the area on screen (an area's questions are together)
            if state.section_id_of(qid) != section:
                break
            if askable(qid):
                return qid
        if state.flow.section_index[section].kind != "dialogue":
            return next((q for q in order[position + 1 :] + order[: position + 1] if askable(q)), None)
    return next((q for q in order if askable(q)), None)


def _prompt_next(state: State, now: datetime, via: str = "next") -> list[Event]:
    qid = next_question(state)
    if qid is None:
        return []
    if qid in state.queue:
        via = "suggestion"
    return [_prompted(state, qid, now, via, state.last_seq + 1)]


def _first_in_section(state: State, section_id: str, subarea_id: str | None = None) -> str | None:
    if subarea_id:
        sub = next(x for x in state.flow.section_index[section_id].subareas if x.id == subarea_id)
        qids = [q.id for q in sub.questions]
    else:
        qids = [q.id for q in state.flow.section_questions(section_id)]
    for qid in qids:
        if state.is_open(qid):
            return qid
    for qid in qids:
        if state.relevant(qid):
            return qid
    return None


def _prompted(state: State, qid: str, now: datetime, via: str, seq: int) -> Event:
    return Event(seq=seq, kind="prompted", at=now, qid=qid, text=prompt_text(state, qid), payload={"via": via})


def prompt_text(state: State, qid: str) -> str:
    if qid in state.followups:
        return state.followups[qid].text
    q = state.question(qid)
    if q is None:
        return qid
    raw = q.self_text if state.mode == "self" and q.self_text else q.text
    try:
        return render.render_text(raw, state.answers)
    except render.TemplateProblem:
        return raw


def resolve_target(state: State, ref: str) -> tuple[str, str | None]:
    """A section (by id, area, number or title) or a sub-area (by id or title): (section, subarea)."""
    try:
        return resolve_section(state, ref), None
    except EngineError as not_a_section:
        wanted = ref.strip().casefold()
        for section in state.flow.sections:
            if state.mode == "self" and section.facilitator_only:
                continue
            for sub in section.subareas:
                if wanted and (sub.id.casefold() == wanted or sub.title.casefold().startswith(wanted)):
                    return section.id, sub.id
        raise not_a_section


def resolve_section(state: State, ref: str) -> str:
    """A section given by id, area ("P3", "b") or 1-based number among the sections."""
    ref = ref.strip()
    flow = state.flow
    if ref in flow.section_index:
        return ref
    sections = [s for s in flow.sections if not (state.mode == "self" and s.facilitator_only)]
    if ref.isdigit() and 1 <= int(ref) <= len(sections):
        return sections[int(ref) - 1].id
    for s in sections:
        if s.area and s.area.casefold() == ref.casefold():
            return s.id
    for s in sections:
        if s.title.casefold().startswith(ref.casefold()) and ref:
            return s.id
    names = ", ".join(f"{i}. {flow.section_label(s)}" for i, s in enumerate(sections, 1))
    raise EngineError(f"Okänt avsnitt {ref!r}. Välj bland: {names}")


# ---------------------------------------------------------------- answers by type

_SPLIT = re.compile(r"\s*[,;]\s*")


def _choice_for(question: Question, token: str):
    t = token.strip()
    if t.isdigit() and 1 <= int(t) <= len(question.choices):
        return question.choices[int(t) - 1]
    folded = t.casefold()
    for c in question.choices:
        if folded in (c.value.casefold(), c.label.casefold()):
            return c
    return None


def parse_answer(question: Question | None, text: str) -> tuple[str, Any]:
    """Validate an answer for its question type. Returns (text to store, value or None)."""
    if not text.strip():
        raise EngineError("Svaret är tomt. Skriv ett svar, eller hoppa över frågan.")
    if question is None or question.type == "text":
        return text, None
    if question.type == "single":
        choice = _choice_for(question, text)
        if choice is not None:
            return choice.label, choice.value
        if question.allow_other:
            return text, None
        raise EngineError("Välj ett av alternativen: " + _choices_hint(question))
    if question.type == "multi":
        picked = []
        for token in _SPLIT.split(text.strip()):
            if not token:
                continue
            choice = _choice_for(question, token)
            if choice is None:
                if question.allow_other:
                    return text, None
                raise EngineError(f"Okänt alternativ {token!r}. Välj bland: " + _choices_hint(question))
            if choice.value not in picked:
                picked.append(choice.value)
        labels = {c.value: c.label for c in question.choices}
        return ", ".join(labels[v] for v in picked), picked
    if question.type == "scale":
        scale = question.scale
        lo, hi = (scale.min, scale.max) if scale else (1, 5)
        try:
            value = int(text.strip())
        except ValueError:
            raise EngineError(f"Svara med en siffra från {lo} till {hi}.") from None
        if not lo <= value <= hi:
            raise EngineError(f"Svara med en siffra från {lo} till {hi}.")
        return str(value), value
    if question.type == "number":
        cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            value = float(cleaned)
        except ValueError:
            raise EngineError("Svara med ett tal, t.ex. 12 eller 3,5.") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise EngineError("Svara med ett tal, t.ex. 12 eller 3,5.")
        return text.strip(), value
    return text, None  # pragma: no cover


def _choices_hint(question: Question) -> str:
    hint = ", ".join(f"{i}. {c.label}" for i, c in enumerate(question.choices, 1))
    if question.allow_other:
        hint += " (eller skriv ett eget)"
    return hint


_DUE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_due(text: str) -> str:
    from datetime import date

    t = text.strip()
    if not _DUE.match(t):
        raise EngineError("Ange datum som ÅÅÅÅ-MM-DD, t.ex. 2027-03-31.")
    try:
        date.fromisoformat(t)
    except ValueError:
        raise EngineError(f"{t} är inget giltigt datum.") from None
    return t

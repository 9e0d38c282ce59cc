"""``start`` and ``step``: what a user does becomes events; nothing here touches storage or a screen.

``events = step(state, command, now)`` validates the command against the state and returns the
events it makes (including the next ``prompted`` event where the prompt changes). The caller
persists them, then folds them in with ``advance(state, events)``. Every event is sealed on the
way out (``seal``: personal identity numbers masked). The commands are ``engine.commands``,
answers are read by ``engine.answers``, and the next question is chosen by ``engine.navigation``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from assistant import privacy
from assistant.engine.answers import clean_text, parse_answer, parse_due
from assistant.engine.commands import (
    REVIEW_STATUSES,
    Accept,
    AddAction,
    AddNote,
    Answer,
    AssignRole,
    Back,
    ChooseFocus,
    Correct,
    DiscussFlags,
    Dismiss,
    EndSection,
    Finish,
    Jump,
    Offer,
    Open,
    Park,
    Reopen,
    ReturnToParked,
    Review,
    ShowFlags,
    Skip,
    StartOptions,
    UpdateAction,
)
from assistant.engine.errors import EngineError
from assistant.engine.navigation import (
    back_target,
    first_in_section,
    need_current,
    prompt_next,
    prompted,
    resolve_target,
    with_sequence_steps,
)
from assistant.engine.state import FOLLOWUP_PREFIX, State, advance
from assistant.events import Event
from assistant.flows import Flow
from assistant.textsafe import MAX_SHORT


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
        events += prompt_next(state, now, via="next")
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
            current = need_current(state)
            question = state.question(current.qid)
            text, value = parse_answer(question, clean_text(raw))
            payload = {} if value is None else {"value": value}
            ev("answered", current.qid, text, **payload)
            return made + prompt_next(advance(state, made), now)
        case Skip():
            current = need_current(state)
            ev("skipped", current.qid)
            return made + prompt_next(advance(state, made), now)
        case Park():
            current = need_current(state)
            ev("parked", current.qid)
            return made + prompt_next(advance(state, made), now)
        case Back():
            target = back_target(state)
            if target is None:
                raise EngineError("Det finns ingen tidigare fråga att gå tillbaka till.")
            ev("went_back", target)
            after = advance(state, made)
            return made + [prompted(after, target, now, "back", seq + len(made) + 1)]
        case Jump(section=ref):
            section_id, subarea_id = resolve_target(state, ref)
            if subarea_id:
                ev("jumped", section=section_id, subarea=subarea_id)
            else:
                ev("jumped", section=section_id)
            after = advance(state, made)
            target = first_in_section(after, section_id, subarea_id)
            if target is None:
                raise EngineError("Avsnittet har inga frågor som passar den här dialogen.")
            return made + [prompted(after, target, now, "jump", seq + len(made) + 1)]
        case ReturnToParked(qid=qid):
            if not state.parked:
                raise EngineError("Parkeringsplatsen är tom.")
            target = qid or state.parked[0]
            if target not in state.parked:
                raise EngineError("Den frågan är inte parkerad.")
            return [prompted(state, target, now, "parked", seq + 1)]
        case EndSection():
            current = need_current(state)
            ev("section_ended", section=current.section)
            return made + prompt_next(advance(state, made), now)
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
            return made + prompt_next(after, now)
        case Finish():
            ev("finished")
            return made
        case Reopen():
            if not state.finished:
                raise EngineError("Dialogen är inte avslutad.")
            ev("reopened")
            after = advance(state, made)
            if after.current is None:
                return made + prompt_next(after, now)
            return made
    raise EngineError(f"Okänt kommando: {command!r}")

def _accept(state: State, accept: Accept, now: datetime, ev, made: list[Event], seq: int) -> list[Event]:
    sid = accept.sid
    offered = state.offered.get(sid)
    if offered is None:
        raise EngineError("Det förslaget finns inte.")
    if sid in state.accepted or sid in state.dismissed:
        raise EngineError("Förslaget är redan hanterat.")
    questions = with_sequence_steps(
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
        return made + [prompted(after, questions[0], now, "suggestion", next_seq)]
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

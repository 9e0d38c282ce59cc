"""Where a dialogue goes next: the next question (a suggestion's queue, the question a detour
interrupted, then the planned order), going back, a section or sub-area named by the user, and
the ``prompted`` event with the question's text as shown."""

from __future__ import annotations

from datetime import datetime

from assistant import render
from assistant.engine.errors import EngineError
from assistant.engine.state import State
from assistant.events import Event


def need_current(state: State):
    if state.current is None:
        raise EngineError("Det finns ingen aktuell fråga. Gå till ett avsnitt eller en parkerad fråga, eller avsluta.")
    return state.current

def back_target(state: State) -> str | None:
    for qid in reversed(state.history):
        if state.current is None or qid != state.current.qid:
            return qid
    return None

def with_sequence_steps(state: State, questions: list[str]) -> list[str]:
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


def prompt_next(state: State, now: datetime, via: str = "next") -> list[Event]:
    qid = next_question(state)
    if qid is None:
        return []
    if qid in state.queue:
        via = "suggestion"
    return [prompted(state, qid, now, via, state.last_seq + 1)]

def first_in_section(state: State, section_id: str, subarea_id: str | None = None) -> str | None:
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

def prompted(state: State, qid: str, now: datetime, via: str, seq: int) -> Event:
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

"""What a door (line mode, TUI) shows: the current prompt and what surrounds it. Plain data and
Swedish texts; the doors only lay them out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from assistant import render
from assistant.engine.state import State
from assistant.events import Event
from assistant.flows import Choice, Section

T = TypeVar("T")


@dataclass(frozen=True)
class PromptView:
    qid: str
    text: str
    help: str | None
    type: str
    choices: tuple[Choice, ...]
    allow_other: bool
    scale: tuple[int, int] | None
    section: str
    section_label: str
    section_intro: str | None
    subarea: str | None
    subarea_intro: str | None
    origin_note: str | None  # a question borrowed, adapted or added: where it comes from
    position: int  # 1-based among the questions of its area (0: a follow-up question)
    total: int  # the area's questions (those that apply to this dialogue)
    previous_answer: str | None
    via: str
    parked: bool

    @property
    def answer_hint(self) -> str | None:
        """How to answer: "Svara med siffran eller texten." for one choice, several digits for many."""
        from assistant.glossary import answer_hint

        kind = self.type if self.choices or self.type not in ("single", "multi") else "text"
        return answer_hint(kind, allow_other=self.allow_other, scale=self.scale)

    def choice_lines(self) -> list[str]:
        lines = [f"{i}. {c.label}" for i, c in enumerate(self.choices, 1)]
        if self.choices and self.allow_other:
            lines.append("(eller skriv ett eget svar)")
        return lines


def prompt_view(state: State) -> PromptView | None:
    current = state.current
    if current is None:
        return None
    flow = state.flow
    section = flow.section_index.get(current.section)
    q = state.question(current.qid)
    intro = _intro(state, section) if section is not None else None
    if intro and section is not None and any(
        _asked(state, q).strip() == intro.strip() for q in flow.section_questions(section.id)
    ):
        intro = None  # the area's guiding question is also one of its questions (in this dialogue's form)
    # The counter is the question's place in its area ("fråga 3 av 8"), which reads the same after a
    # jump; a place in the whole walk jumped about (41/64, then 10/64) as the order changed.
    # An exercise's step counts among the exercise's steps, any other question among its area's
    # ordinary questions: the same totals as the coverage (Konkret exempel is counted apart there too).
    sub = flow.subarea_of.get(current.qid)
    if sub is not None and sub.sequence:
        pool = [q.id for q in sub.questions]
    else:
        exercise = {q.id for s in section.subareas if s.sequence for q in s.questions} if section else set()
        pool = [q.id for q in flow.section_questions(current.section) if q.id not in exercise]
    asked_here = [qid for qid in pool if state.relevant(qid) or qid == current.qid]
    position = asked_here.index(current.qid) + 1 if current.qid in asked_here else 0
    return PromptView(
        qid=current.qid,
        text=current.text,
        help=q.help if q else None,
        type=q.type if q else "text",
        choices=tuple(q.choices) if q else (),
        allow_other=q.allow_other if q else False,
        scale=(q.scale.min, q.scale.max) if q and q.scale else ((1, 5) if q and q.type == "scale" else None),
        section=current.section,
        section_label=flow.section_label(section) if section else current.section,
        section_intro=intro,
        subarea=sub.title if sub else None,
        subarea_intro=_intro(state, sub) if sub else None,
        origin_note=flow.origin_note(current.qid) if q else None,
        position=position,
        total=len(asked_here),
        previous_answer=state.answers.get(current.qid),
        via=current.via,
        parked=current.qid in state.parked,
    )


def _asked(state: State, q) -> str:
    """A question's text as this dialogue asks it (vi-form in a self-assessment), unrendered."""
    return q.self_text if state.mode == "self" and q.self_text else q.text


def _intro(state: State, part) -> str | None:
    """A section's or sub-area's intro in the dialogue's form (vi-form for a self-assessment)."""
    src = part.self_intro if state.mode == "self" and part.self_intro else part.intro
    if not src:
        return None
    try:
        return render.render_text(src, state.answers)
    except render.TemplateProblem:
        return src


def flow_intro(state: State) -> str | None:
    flow = state.flow
    return flow.self_intro if state.mode == "self" and flow.self_intro else flow.intro


# ---------------------------------------------------------------- what both doors show around the prompt
#
# The line mode (assistant/chat.py) and the app (assistant/tui/) lay these out; neither derives them.
# Where a text names how to do something, the door says it its own way: ``how(verb_id)`` gives
# "/parkerade" in the line mode and "Ctrl+R" in the app (both from assistant/verbs.py).

How = Callable[[str], str]

PII_NOTICE = "Ett personnummer eller samordningsnummer upptäcktes och maskerades innan det sparades."
NO_DATA = "Ingen data importerad för mottagningen."
NOTHING_STANDS_OUT = "Inget sticker ut i datan."
PREPARED = "Dialogen är förberedd. Mötet börjar när den öppnas."


def visible_sections(state: State) -> list[Section]:
    """The sections this dialogue can go to: a self-assessment leaves out the facilitator's own."""
    return [s for s in state.flow.sections if not (state.mode == "self" and s.facilitator_only)]


def nothing_to_answer(state: State, how: How) -> str:
    """What a door says when there is no question on screen."""
    if state.finished:
        return f"Dialogen är avslutad. Lämna med {how('quit')}."
    if state.status == "prepared":
        return PREPARED
    n = len(state.parked)
    parked = f" {n} {'fråga är parkerad' if n == 1 else 'frågor är parkerade'} ({how('return_parked')})." if n else ""
    return (
        "Alla frågor är besvarade, överhoppade eller parkerade." + parked
        + f" Gå till ett avsnitt med {how('jump')}, eller avsluta dialogen med {how('finish')}."
    )


def notices(made: list[Event]) -> list[str]:
    """What a door says about events just stored, besides laying them out: a masked identity number."""
    return [PII_NOTICE] if any(e.kind == "pii_masked" for e in made) else []


@dataclass(frozen=True)
class DataOverview:
    """The clinic's data as a door lists it: the flags to show, how many indicators have too few
    observations to be flagged, or (instead of a list) that there is no data or nothing stands out."""

    flags: tuple[Any, ...]
    small: int
    empty: str | None

    @property
    def small_note(self) -> str | None:
        if not self.small:
            return None
        many = "indikator har" if self.small == 1 else "indikatorer har"
        return f"{self.small} {many} för få observationer för att flaggas – slumpen kan förklara skillnader."


def data_overview(flags: list[Any], marker: Callable[[Any], str], *, show_all: bool = False) -> DataOverview:
    """``flags``: the clinic's newest flag per indicator; ``marker``: a flag's ▼ ▲ ◆ or · (nothing to
    say). All of them (``show_all``), or those worth a question with a note on the ones too small to tell."""
    if not flags:
        return DataOverview((), 0, NO_DATA)
    shown = tuple(flags) if show_all else tuple(f for f in flags if marker(f) != "·")
    small = 0 if show_all else sum("insufficient_data" in f.states for f in flags)
    return DataOverview(shown, small, None if shown else NOTHING_STANDS_OUT)


class Once:
    """Texts a door says once however often they still hold (a time warning, a new suggestion)."""

    def __init__(self, seen: Iterable[str] = ()) -> None:
        self._seen = set(seen)

    def new(self, items: Iterable[T], key: Callable[[T], str] = str) -> list[T]:
        fresh = [x for x in items if key(x) not in self._seen]
        self._seen |= {key(x) for x in fresh}
        return fresh

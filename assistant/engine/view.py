"""What a door (line mode, TUI) shows for the current prompt. Plain data; the doors only lay it out."""

from __future__ import annotations

from dataclasses import dataclass

from assistant import render
from assistant.engine.state import State
from assistant.flows import Choice


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
    asked_here = [q.id for q in flow.section_questions(current.section) if state.relevant(q.id) or q.id == current.qid]
    position = asked_here.index(current.qid) + 1 if current.qid in asked_here else 0
    sub = flow.subarea_of.get(current.qid)
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

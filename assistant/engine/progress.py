"""Coverage per P/area, time against budget, and the gentle warnings of the meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from assistant.engine.state import State

SHORT_TIME_SHARE = 0.75  # "time is short" once this share of the meeting has passed


@dataclass(frozen=True)
class Exercise:
    """An exercise inside an area (a sub-area with ``sequence = true``: Konkret exempel)."""

    subarea: str
    title: str
    answered: int
    total: int


@dataclass(frozen=True)
class AreaCoverage:
    """One area's coverage. The counts are the area's ordinary questions (its own and the
    follow-ups asked in it); an exercise inside the area (Konkret exempel) is counted apart, in
    ``exercises``, so that doing the exercise does not make the area count as touched."""

    section: str
    area: str | None
    title: str
    label: str
    kind: str
    total: int
    answered: int
    skipped: int
    parked: int
    untouched: int
    minutes: int
    spent_seconds: float
    focus: bool
    ended: bool
    current: bool
    exercises: tuple[Exercise, ...] = ()

    @property
    def touched(self) -> bool:
        """"Berört": one of the area's ordinary questions answered (an area that is nothing but an
        exercise: one of its steps)."""
        if self.total == 0 and self.exercises:
            return any(e.answered for e in self.exercises)
        return self.answered > 0

    @property
    def status(self) -> str:
        """'untouched' (warning), 'touched', or 'complete'."""
        if not self.touched:
            return "untouched"
        if self.untouched == 0 and self.parked == 0:
            return "complete"
        return "touched"

    @property
    def overrun(self) -> bool:
        return self.minutes > 0 and self.spent_seconds > self.minutes * 60


def coverage(state: State, now: datetime | None = None, *, all_sections: bool = False) -> list[AreaCoverage]:
    flow = state.flow
    focus = set(state.focus_sections)
    out = []
    for section in flow.sections:
        if not all_sections and not section.area:
            continue
        if state.mode == "self" and section.facilitator_only:
            continue
        exercise_ids = {q.id for sub in section.subareas if sub.sequence for q in sub.questions}
        qids = [q.id for q in flow.section_questions(section.id) if q.id not in exercise_ids and state.relevant(q.id)]
        qids += [f.qid for f in state.followups.values() if f.section == section.id]
        exercises = tuple(
            Exercise(
                subarea=sub.id,
                title=sub.title,
                answered=sum(1 for q in sub.questions if q.id in state.answers),
                total=sum(1 for q in sub.questions if state.relevant(q.id)),
            )
            for sub in section.subareas
            if sub.sequence
        )
        answered = sum(1 for q in qids if q in state.answers)
        skipped = sum(1 for q in qids if q in state.skipped and q not in state.answers)
        parked = sum(1 for q in qids if q in state.parked)
        out.append(
            AreaCoverage(
                section=section.id,
                area=section.area,
                title=section.title,
                label=flow.section_label(section),
                kind=section.kind,
                total=len(qids),
                answered=answered,
                skipped=skipped,
                parked=parked,
                untouched=len(qids) - answered - skipped - parked,
                minutes=section.minutes,
                spent_seconds=state.section_elapsed(section.id, now),
                focus=section.id in focus,
                ended=section.id in state.ended_sections,
                current=state.current is not None and state.current.section == section.id,
                exercises=exercises,
            )
        )
    return out


def warnings(state: State, now: datetime | None = None) -> list[str]:
    """Gentle, Swedish: an area over its time budget; time short with areas still untouched.

    The texts stay the same while the situation does (no running minute counts), so a door that
    shows each text once shows each warning once, and again only when something changed."""
    out: list[str] = []
    if state.status != "in_progress":
        return out
    areas = coverage(state, now)
    for area in areas:
        if area.current and area.overrun:
            out.append(f"{area.label} har gått över sin planerade tid ({area.minutes} min).")
    budget = state.flow.meeting_minutes * 60
    if state.elapsed_seconds(now) >= SHORT_TIME_SHARE * budget:
        untouched = [a.label for a in areas if not a.touched]
        if untouched:
            out.append(
                f"Mindre än en fjärdedel av mötestiden är kvar och ännu inte berört: {', '.join(untouched)}. "
                "Målet är att ha dialog kring alla områden, inte att hinna alla frågor."
            )
    return out

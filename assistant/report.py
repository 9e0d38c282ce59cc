"""The "Dokumentation och återkoppling" document as plain data, built from a replayed state.

Every export format (Markdown, HTML, docx) and ``dialogstod show`` render this same context;
what people wrote stays plain strings here and is escaped by each format.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant import engine as E
from assistant import glossary
from assistant.labels import (  # noqa: F401 - the labels, also for callers of report
    ACTION_STATUS,
    MODE_LABELS,
    NO_REVIEW,
    OVERDUE,
    REVIEW_LABELS,
    STATUS_LABELS,
    action_status_label,
    local_today,
    review_label,
    review_step_label,
)

TITLE = "Dokumentation och återkoppling efter genomförd Uppföljningsdialog"
DATA_CAVEAT = (
    "Siffrorna ska läsas i sitt sammanhang: slumpvariation (särskilt på små mottagningar), "
    "skillnader i patientgrupper och uppdrag och skillnader i registrering påverkar utfallet. "
    "Indikatorer med för få observationer flaggas inte."
)


def stage_text(state: E.State) -> str | None:
    """The stage of a staged flow (Nära vård's Del 1–3) this dialogue belongs to, and what it continues."""
    phase = state.flow.phase(state.stage) if state.stage else None
    if phase is None:
        return None
    cont = state.dialogue.get("continues_date")
    return phase.title + (f" – fortsätter {state.flow.document.meeting.lower()} {cont}" if cont else "")


def _date(value: datetime | None) -> str | None:
    return value.astimezone().strftime("%Y-%m-%d") if value else None


def _when(value: datetime | None) -> str | None:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else None


def discussed_flags(state: E.State) -> list[dict[str, Any]]:
    """"Data som diskuterades": the shown flags the dialogue took up (``engine.discussed``, with the
    topic catalogue's links), the same for both doors and every export."""
    from assistant.engine.discussed import discussed

    if not state.flags_shown:  # nothing shown, nothing discussed: the catalogue is not read
        return []
    return discussed(state, indicator_links(state.flow))


def indicator_links(flow: Any) -> Any:
    """What the catalogue ties to indicators in ``flow`` (``engine.IndicatorLinks``): each
    indicator's topic questions and each topic's indicators – for "Data som diskuterades". No
    compiling and no word list: an export pays nothing for it. Empty without a readable catalogue."""
    from assistant.engine.discussed import IndicatorLinks
    from assistant.flows import FlowError
    from assistant.topics import default_topics

    try:
        catalogue = default_topics()
    except FlowError:
        catalogue = None
    if catalogue is None:
        return IndicatorLinks()
    questions: dict[str, set[str]] = {}
    topics: dict[str, frozenset[str]] = {}
    for t in catalogue.topics:
        own = [q for q in t.questions_for(flow.id) if q in flow.question_index]
        if not own:
            continue
        topics[t.id] = frozenset(t.indicators)
        for ind in t.indicators:
            questions.setdefault(ind, set()).update(own)
    return IndicatorLinks({k: frozenset(v) for k, v in questions.items()}, topics)


def build(state: E.State, row: dict[str, Any], *, generated: datetime | None = None) -> dict[str, Any]:
    flow = state.flow
    today = local_today(generated)
    corrected = {c.qid: c for c in state.corrections}
    notes_by_section: dict[str | None, list[dict[str, Any]]] = {}
    for n in state.notes:
        section = state.section_id_of(n.qid) if n.qid else None
        notes_by_section.setdefault(section, []).append(
            {"text": n.text, "at": _when(n.at), "question": E.prompt_text(state, n.qid) if n.qid else None}
        )

    areas = []
    for section in flow.sections:
        if state.mode == "self" and section.facilitator_only:
            continue
        items = []
        qids = [q.id for q in flow.section_questions(section.id)]
        qids += [f.qid for f in state.followups.values() if f.section == section.id]
        for qid in qids:
            if qid in state.answers:
                status = "answered"
            elif qid in state.parked:
                status = "parked"
            elif qid in state.skipped:
                status = "skipped"
            else:
                continue
            sub = flow.subarea_of.get(qid)
            c = corrected.get(qid)
            items.append(
                {
                    "qid": qid,
                    "question": E.prompt_text(state, qid),
                    "answer": state.answers.get(qid),
                    "status": status,
                    "subarea": sub.title if sub else None,
                    "followup": qid in state.followups,
                    "corrected": c is not None,
                    "corrected_by": c.who if c else None,
                    "added_after": c is not None and c.previous is None,
                    "corrected_at": _when(c.at) if c else None,
                }
            )
        areas.append(
            {
                "id": section.id,
                "area": section.area,
                "title": section.title,
                "label": flow.section_label(section),
                "kind": section.kind,
                "entries": items,
                "touched": any(i["status"] == "answered" for i in items),
                "notes": notes_by_section.get(section.id, []),
            }
        )

    coverage = [
        {
            "label": a.label,
            "answered": a.answered,
            "skipped": a.skipped,
            "parked": a.parked,
            "untouched": a.untouched,
            "total": a.total,
            "status": a.status,
            "mark": glossary.coverage_mark(a.status),
            "minutes": a.minutes,
            "spent_minutes": round(a.spent_seconds / 60),
            "focus": a.focus,
        }
        for a in E.coverage(state)
    ]
    focus = []
    for party, sections in state.focus.items():
        focus.append(
            {"party": flow.party_title(party), "areas": [flow.section_label(flow.section_index[s]) for s in sections]}
        )
    doc = flow.document
    return {
        "title": doc.self_title if state.mode == "self" else doc.title,
        "unit_label": doc.unit,
        "stage": stage_text(state),
        "review": [
            {
                "status": r.status,
                "label": review_step_label(r.status, flow),
                "who": r.who,
                "note": r.note,
                "at": _when(r.at),
            }
            for r in state.review
        ],
        "review_status": review_label(state.review_status),
        "sources": [s.citation for s in flow.sources],
        "dialogue_id": row.get("id", ""),
        "clinic": state.dialogue.get("clinic") or row.get("clinic", ""),
        "flow": {
            "id": flow.id,
            "title": flow.title,
            "version": flow.version,
            "provenance": flow.provenance.strip().rstrip("."),  # the templates end the sentence
        },
        "mode": state.mode,
        "mode_label": MODE_LABELS["self"] if state.mode == "self" else doc.meeting,
        "status": state.status,
        "status_label": STATUS_LABELS.get(state.status, state.status),
        "date": _date(state.started_at),
        "finished": _date(state.finished_at),
        "participants": [{"name": n, "role": r} for n, r in state.roles.items()],
        "focus": focus,
        "areas": areas,
        "general_notes": notes_by_section.get(None, []),
        "parked": [{"qid": q, "question": E.prompt_text(state, q)} for q in state.parked],
        "actions": [
            {
                "id": a.action_id,
                "text": a.text,
                "owner": a.owner,
                "due": a.due,
                "status": a.status,
                "status_label": action_status_label(a.status, a.due, today),
                "overdue": a.overdue(today),
            }
            for a in state.actions.values()
        ],
        "coverage": coverage,
        "untouched": [c["label"] for c in coverage if c["status"] == "untouched"],
        "flags_shown": state.flags_shown,
        "flags_discussed": discussed_flags(state),
        "corrections": [
            {
                "added": c.previous is None,
                "question": E.prompt_text(state, c.qid),
                "previous": c.previous,
                "text": c.text,
                "who": c.who,
                "at": _when(c.at),
            }
            for c in state.corrections
        ],
        "elapsed_minutes": round(state.elapsed / 60),
        "meeting_minutes": flow.meeting_minutes,
        "data_caveat": DATA_CAVEAT,
        "generated": _when(generated) if generated else None,
        "pii_masked": state.pii_masked,
        "glossary": [
            {"word": t.word, "means": t.means}
            for t in glossary.document_terms(data=bool(state.flags_shown), focus=bool(focus))
        ],
    }

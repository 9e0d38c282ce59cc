""""Underlag inför uppföljningsdialogen": the pre-meeting pack, as plain data.

Built for a prepared dialogue (any dialogue works): the clinic's indicators with their pictures
(``assistant.figures``), what stands out and what does not – and why small numbers are not flagged –
last year's actions and their status, last year's wish for this meeting, the questions left on the
parking lot, the focus areas chosen so far by each party, the planned areas and time, the
data-validity questions for the clinic to check beforehand, and the method's support for preparing
(the seven trust principles, Förbättringstrappan, how to read data). Every format (md, html, docx)
renders this one context; what people wrote stays plain strings here and is escaped by each format.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from assistant import engine as E
from assistant import figures
from assistant.report import MODE_LABELS, STATUS_LABELS, action_status_label, local_today, stage_text


def _when(value: datetime | None) -> str | None:
    return value.astimezone().strftime("%Y-%m-%d") if value else None


def build_pack(store: Any, d: Any, *, generated: datetime | None = None) -> dict[str, Any]:
    """The pack for ``d`` (a ``session.Dialogue``)."""
    from assistant.continuity import previous_dialogue
    from assistant.flagstates import flag_marker, flagged
    from assistant.flagview import clinic_flags
    from assistant.method import method

    state, flow = d.state, d.flow
    today = local_today(generated)
    self_mode = state.mode == "self"
    all_flags = clinic_flags(store, d.clinic)
    latest = _newest(all_flags)
    m = method()

    indicators: dict[str, list[dict[str, Any]]] = {"stands_out": [], "calm": [], "small": []}
    stands_out = {id(f) for f in flagged(latest)}
    validity: list[str] = []
    for f in latest:
        series = [g for g in all_flags if g.indicator == f.indicator]
        small = "insufficient_data" in f.states
        kind = "stands_out" if id(f) in stands_out else ("small" if small else "calm")
        questions = [
            f"{flow.section_label(flow.section_of[q.id])}: {E.prompt_text(state, q.id)}"
            for q in flow.questions_for_indicator(f.indicator)
            if not (self_mode and flow.section_of[q.id].facilitator_only)
        ]
        indicators[kind].append(
            {
                "indicator": f.indicator,
                "label": f.label,
                "period": str(f.period),
                "value": figures.fmt_value(f, f.value),
                "n": f.n,
                "target": figures.fmt_value(f, f.target) if f.target is not None else None,
                "text": f.text,
                "states": list(getattr(f, "state_labels", [])),
                "marker": flag_marker(f),
                "figure": asdict(figures.clinic_figure(f, series)),
                "questions": questions,
                "min_n": getattr(f, "min_n", None),
            }
        )
        if m is not None and kind == "stands_out":
            validity.append(m.validity.question(f"{f.label} ({f.period}: {figures.fmt_value(f, f.value)})", state.mode))
    if m is not None and indicators["calm"]:
        rest = ", ".join(i["label"] for i in indicators["calm"])
        lead = "övriga indikatorer" if indicators["stands_out"] else "indikatorerna"
        validity.append(m.validity.question(f"{lead} ({rest})", state.mode))

    previous = previous_dialogue(store, d.clinic, flow, latest, exclude=d.id)
    prev_ctx = None
    if previous is not None:
        listed = {(a["dialogue_id"], a["action_id"]) for a in previous.actions}
        older_open = [a for a in previous.open_actions if (a["dialogue_id"], a["action_id"]) not in listed]
        prev_ctx = {
            "date": previous.started,
            "flow_title": previous.flow_title,
            "wish": previous.wish,
            "carried": [{"question": q, "answer": a} for q, a in previous.carried.items()],
            "actions": [_action(a, today) for a in previous.actions],
            "older_open": [_action(a, today) for a in older_open],
            "parked": list(previous.parked),
            "flag_moves": list(previous.flag_moves),
            "stage": flow.phase(previous.stage).title if previous.stage and flow.phase(previous.stage) else None,
        }

    sections = []
    seen: set[str] = set()
    focus = set(state.focus_sections)
    for qid in state.order:
        sid = flow.section_of[qid].id
        if sid not in seen:
            seen.add(sid)
            s = flow.section_index[sid]
            sections.append({"label": flow.section_label(s), "minutes": s.minutes, "focus": sid in focus, "intro": s.intro})
    doc = flow.document
    parties = [
        {
            "party": p.title,
            "areas": [flow.section_label(flow.section_index[s]) for s in _focus_of(state, p)],
        }
        for p in flow.parties_for(state.mode)
    ]
    other_focus = [
        {"party": flow.party_title(k), "areas": [flow.section_label(flow.section_index[s]) for s in v]}
        for k, v in state.focus.items()
        if flow.party(k) is None and v
    ]
    stage = flow.phase(state.stage) if state.stage else None
    return {
        "title": doc.self_pack_title if self_mode else doc.pack_title,
        "unit_label": doc.unit,
        "clinic": d.clinic,
        "dialogue_id": d.id,
        "flow": {"id": flow.id, "title": flow.title, "version": flow.version},
        "mode_label": MODE_LABELS["self"] if self_mode else doc.meeting,
        "status": state.status,
        "status_label": STATUS_LABELS.get(state.status, state.status),
        "prepared": _when(state.started_at),
        "stage": stage_text(state),
        "stage_work": list(stage.instructions) if stage else [],
        "generated": generated.astimezone().strftime("%Y-%m-%d %H:%M") if generated else None,
        "meeting_minutes": flow.meeting_minutes,
        "focus_prompt": flow.focus.prompt,
        "focus": parties + other_focus,
        "plan": sections,
        "indicators": indicators,
        "has_data": bool(latest),
        "previous": prev_ctx,
        "validity": {
            "title": m.validity.title if m else "Stämmer siffrorna?",
            "quote": m.validity.quote if m else None,
            "quote_source": m.citation(m.validity.source) if m else None,
            "questions": validity,
        },
        "method": _method_ctx(m),
        "sources": [s.citation for s in flow.sources],
    }


def _focus_of(state: E.State, party: Any) -> list[str]:
    for key, sections in state.focus.items():
        if party.named_by(key):
            return [s for s in sections if s in state.flow.section_index]
    return []


def _newest(flags: list[Any]) -> list[Any]:
    from assistant.data.flags import newest_per_indicator

    return newest_per_indicator(flags)


def _action(a: dict[str, Any], today) -> dict[str, Any]:
    return {
        "id": f"{a['dialogue_id'][:8]}:{a['action_id']}",
        "text": a["text"],
        "owner": a.get("owner"),
        "due": a.get("due"),
        "status_label": action_status_label(a["status"], a.get("due"), today),
        "overdue": E.action_overdue(a["status"], a.get("due"), today),
    }


def _method_ctx(m: Any) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "trust": {"title": m.trust.title, "intro": m.trust.intro, "principles": list(m.trust.principles),
                  "source": m.citation(m.trust.source)},
        "staircase": {"title": m.staircase.title, "text": m.staircase.text, "source": m.citation(m.staircase.source)},
        "data": {"title": m.data.title, "intro": m.data.intro, "small_numbers": m.data.small_numbers,
                 "registration": m.data.registration, "source": m.citation(m.data.source)},
    }

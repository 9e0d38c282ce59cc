"""Follow-up suggestions: flow rules evaluated against the state, the clinic's flags and the clock,
and the topics the answers take up (``assistant.engine.topics``), ranked together; one suggestion
per question."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant import render
from assistant.engine.evaluation import Context, evaluate
from assistant.engine.state import FOLLOWUP_PREFIX, State
from assistant.engine.suggestion import Suggestion
from assistant.flagstates import SEVERITY

if TYPE_CHECKING:
    from assistant.engine.topics import TopicSet

_TAGS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def _render(template: str, state: State, ctx: Context) -> str:
    extra: dict[str, Any] = {}
    if ctx.flag is not None:
        extra["flag"] = ctx.flag
    if ctx.match is not None:
        extra["match"] = ctx.match
    try:
        return render.render_text(template, state.answers, **extra).strip()
    except render.TemplateProblem:
        return _TAGS.sub("", template).strip()


def suggestions(
    state: State, flags: list[Any] | None = None, now: datetime | None = None, topics: TopicSet | None = None
) -> list[Suggestion]:
    """Open suggestions, best first. Accepted and dismissed ones never come back. ``topics``: the
    flow's compiled topic catalogue, for follow-ups on what the answers take up."""
    from assistant.engine.navigation import prompt_text

    flags = flags or []
    flow = state.flow
    focus = set(state.focus_sections)
    last_answered = max(state.answered_at, key=state.answered_at.get) if state.answered_at else None
    order = flow.order
    out: list[tuple[tuple[int, int, int, int], Suggestion]] = []
    for index, rule in enumerate(flow.rules):
        sid = rule.id
        if sid in state.accepted or sid in state.dismissed:
            continue
        ctx = Context(flags=flags, now=now)
        if not evaluate(rule.when, state, ctx):
            continue
        if rule.asks_cause and rule.topic and topics is not None and topics.cause_given(state, rule.topic):
            continue  # a "why" question the clinic has already answered
        current = state.current.qid if state.current else None
        questions = tuple(
            q
            for q in rule.suggest
            if q != current and (state.is_open(q) or q in state.parked) and not _hidden(state, q)
        )
        template = rule.self_text if state.mode == "self" and rule.self_text else rule.text
        text = _render(template, state, ctx) if template else None
        if rule.action:
            if not text:
                answered = [state.answers[q] for q in _answered_refs(rule) if q in state.answers]
                text = "\n".join(answered) or None
            if not text:
                continue
        elif rule.text:
            if FOLLOWUP_PREFIX + rule.id in state.followups:
                continue
        elif not questions:
            continue
        score = rule.priority
        sections = {state.section_id_of(q) for q in questions} | ({rule.section} if rule.section else set())
        if sections & focus:
            score += 20
        indicator = None
        if ctx.flag is not None:
            indicator = getattr(ctx.flag, "indicator", None)
            score += max((SEVERITY.get(s, 0) for s in getattr(ctx.flag, "states", ())), default=0)
        if ctx.match is not None and ctx.match.question == last_answered:
            score += 10
        reason = _render(rule.self_reason if state.mode == "self" and rule.self_reason else rule.reason, state, ctx)
        labels = tuple(prompt_text(state, q) for q in questions)
        first = min((order.get(q, 10**6) for q in questions), default=10**6)
        out.append(
            (
                (_data_first(rule, ctx), -score, first, index),
                Suggestion(
                    sid=sid,
                    rule=rule.id,
                    reason=reason,
                    questions=questions,
                    text=text,
                    section=rule.section,
                    action=rule.action,
                    score=score,
                    indicator=indicator,
                    labels=labels,
                ),
            )
        )
    if topics is not None:
        for score, s in _topic_suggestions(state, topics, flags):
            first = min((order.get(q, 10**6) for q in s.questions), default=10**6)
            out.append(((-score, first, len(flow.rules)), s))
    out.sort(key=lambda item: (item[0], item[1].sid))
    return _one_per_question(state, [s for _, s in out])


def _topic_suggestions(state: State, topics: TopicSet, flags: list[Any]) -> list[tuple[int, Suggestion]]:
    from assistant.engine.topics import topic_suggestions

    return topic_suggestions(state, topics, flags)


def _one_per_question(state: State, ranked: list[Suggestion]) -> list[Suggestion]:
    """One suggestion per question: a lower-ranked suggestion loses the questions a better one
    already asks (a topic moves on to its next open question), and is dropped when none are left."""
    from assistant.engine.navigation import prompt_text

    kept: list[Suggestion] = []
    covered: set[str] = set()
    for s in ranked:
        if s.questions and not s.text and not s.action:
            left = tuple(q for q in s.questions if q not in covered)
            if not left:
                left = tuple(q for q in s.alternatives if q not in covered)[:1]
            if not left:
                continue
            if left != s.questions:
                s = replace(s, questions=left, labels=tuple(prompt_text(state, q) for q in left))
        covered.update(s.questions)
        kept.append(s)
    return kept


def _data_first(rule: Any, ctx: Context) -> int:
    """0 for a data-validity question whose flag stands out ("Stämmer siffrorna?"): it comes before
    any improvement question – data first, conclusions second. 1 for everything else."""
    return 0 if getattr(rule, "data_check", False) and ctx.flag is not None else 1


def _hidden(state: State, qid: str) -> bool:
    section = state.flow.section_of.get(qid)
    return bool(section and state.mode == "self" and section.facilitator_only)


def _answered_refs(rule) -> list[str]:
    from assistant.conditions import referenced_ids

    return sorted(referenced_ids(rule.when)[0])

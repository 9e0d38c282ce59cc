"""Which of the data shown at the meeting the dialogue took up ("Data som diskuterades").

Computed once, here, for both doors and every export (``assistant.report`` builds the document
from it). A flag shown when the meeting opened counts as discussed when

- it was named as discussed (``DiscussFlags``),
- a suggestion about it was taken – one from the flag itself, or one about a topic whose
  indicators include it (telephone access for "Telefontillgänglighet"),
- a question that belongs to its indicator was answered: a question the flow links to the
  indicator, one of the topic catalogue's questions on it, or the follow-up a suggestion about it
  asked, or
- a note or an action was made while such a question was on screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.engine.state import FOLLOWUP_PREFIX, State


@dataclass(frozen=True)
class IndicatorLinks:
    """What ties an indicator to a dialogue beyond the flow's own ``indicators`` lists: the topic
    catalogue's questions per indicator, and each topic's indicators (``assistant.report.indicator_links``)."""

    questions: Mapping[str, frozenset[str]] = field(default_factory=dict)  # indicator -> question ids
    topics: Mapping[str, frozenset[str]] = field(default_factory=dict)  # topic id -> indicators


def discussed(state: State, links: IndicatorLinks | None = None) -> list[dict[str, Any]]:
    """The shown flags (``state.flags_shown``, in their order) that the dialogue took up."""
    links = links or IndicatorLinks()
    shown = {f["indicator"] for f in state.flags_shown}
    if not shown:
        return []
    taken = set(state.discussed_flags)
    belongs: dict[str, set[str]] = {ind: set(links.questions.get(ind, ())) for ind in shown}
    for q in state.flow.questions:
        for ind in q.indicators:
            if ind in belongs:
                belongs[ind].add(q.id)
    for sid, offered in state.offered.items():
        about = set(links.topics.get(str(offered.get("topic") or ""), ()))
        if offered.get("indicator"):
            about.add(str(offered["indicator"]))
        if sid in state.accepted:
            taken |= about
        for ind in about & shown:  # the follow-up it asks belongs to the indicator too
            belongs[ind].add(FOLLOWUP_PREFIX + str(offered.get("rule") or sid))
    on_screen = {n.qid for n in state.notes if n.qid} | {a.qid for a in state.actions.values() if a.qid}
    for ind, qids in belongs.items():
        if ind not in taken and (qids & state.answers.keys() or qids & on_screen):
            taken.add(ind)
    return [f for f in state.flags_shown if f["indicator"] in taken]

"""``Suggestion``: a follow-up the engine proposes – a rule's question or action, a flag's data
check, a topic's question – as ``engine.suggest`` ranks it, the doors show it and ``Offer``,
``Accept`` and ``Dismiss`` record it (``payload`` is what the ``suggestion_offered`` event keeps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Suggestion:
    sid: str
    rule: str
    reason: str
    questions: tuple[str, ...] = ()
    text: str | None = None  # a follow-up question not in the bank, or the text of a proposed action
    section: str | None = None
    action: bool = False
    score: int = 0
    indicator: str | None = None
    labels: tuple[str, ...] = field(default=())  # the questions' texts, for display
    topic: str | None = None  # the answer topic it follows up (topic suggestions)
    alternatives: tuple[str, ...] = field(default=(), repr=False)  # a topic's other open questions

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sid": self.sid, "rule": self.rule, "reason": self.reason, "questions": list(self.questions)}
        if self.text:
            out["text"] = self.text
        if self.section:
            out["section"] = self.section
        if self.action:
            out["action"] = True
        if self.indicator:
            out["indicator"] = self.indicator
        if self.topic:
            out["topic"] = self.topic
        return out

    @property
    def title(self) -> str:
        """What accepting it would ask or do, for a one-line list."""
        if self.action:
            return "Gör om till åtgärd: " + (self.text or "")
        if self.text:
            return self.text
        return " / ".join(self.labels)

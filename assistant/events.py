"""Events: a dialogue *is* its append-only list of events.

The event record, and the one module of ``assistant`` that ``storage`` imports: a leaf (the
standard library only), so the database layer depends on the record it stores and on nothing above
it (``tests/test_architecture.py``). ``assistant.engine`` re-exports ``Event``.

An event is small and flat so storage can persist it as one row: a sequence number within its
dialogue, a UTC timestamp, a kind, the question id it concerns (if any), the text a person wrote
(if any), and a small JSON-able payload. ``engine.replay(flow, events)`` is the only way to get a
state from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

EventKind = Literal[
    "started",  # payload: flow_id, flow_version, flow_sha256, mode, clinic, participants, mask_pii; stage, continues (staged flows)
    "prepared",  # the dialogue was prepared ahead; payload: {}
    "opened",  # the meeting began (a prepared dialogue opened on the meeting day)
    "focus_chosen",  # payload: party, sections (list of section ids)
    "role_assigned",  # payload: name, role
    "prompted",  # qid; text = rendered prompt; payload: followup (rule id) for templated follow-ups
    "answered",  # qid, text; payload: value (choice ids / number) where typed
    "skipped",  # qid
    "went_back",  # qid = the question gone back to
    "jumped",  # payload: section
    "parked",  # qid
    "section_ended",  # payload: section
    "noted",  # text; qid = the question on screen when the note was taken
    "action_added",  # text; payload: action_id, owner, due
    "action_updated",  # payload: action_id and what changed: status ("open" | "done"), owner, due; who, via (dialogue id)
    "reviewed",  # text = note; payload: status ("sent" | "commented" | "approved"), who
    "suggestion_offered",  # payload: sid, reason, questions, text
    "suggestion_accepted",  # payload: sid
    "suggestion_dismissed",  # payload: sid
    "flags_shown",  # payload: flags — the clinic's data as shown when the meeting opened (label, period, text, states)
    "flags_discussed",  # payload: indicators
    "corrected",  # qid, text = new text; payload: who, previous
    "finished",  # the dialogue was finished
    "reopened",  # a finished dialogue was opened for more work
    "pii_masked",  # payload: qid, count — a personal identity number was masked before storing
]

EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    kind: str
    at: datetime
    qid: str | None = None
    text: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "qid": self.qid,
            "text": self.text,
            "payload": self.payload,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        at = data["at"]
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        kind = data["kind"]
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        payload = data.get("payload") or {}
        if not isinstance(payload, dict):
            raise ValueError("event payload must be an object")
        return cls(
            seq=int(data["seq"]),
            kind=kind,
            at=at,
            qid=data.get("qid"),
            text=data.get("text"),
            payload=payload,
        )

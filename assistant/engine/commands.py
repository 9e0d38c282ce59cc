"""The commands a door gives the engine: ``step(state, command, now)`` (``engine.dispatch``) turns
each into events, or refuses it with an ``EngineError``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Answer:
    text: str

@dataclass(frozen=True)
class Skip:
    pass

@dataclass(frozen=True)
class Back:
    pass

@dataclass(frozen=True)
class Jump:
    section: str  # a section id, an area ("P3", "B") or a 1-based number

@dataclass(frozen=True)
class Park:
    pass

@dataclass(frozen=True)
class ReturnToParked:
    qid: str | None = None

@dataclass(frozen=True)
class EndSection:
    pass

@dataclass(frozen=True)
class AddNote:
    text: str
    qid: str | None = None  # the question it belongs to (default: the one on screen)

@dataclass(frozen=True)
class AddAction:
    text: str
    owner: str | None = None
    due: str | None = None

@dataclass(frozen=True)
class UpdateAction:
    """Change an action: its status, owner or due date (None leaves a field as it is; an empty
    owner or due clears it). ``via`` names the dialogue it was changed from, if another one."""

    action_id: str
    status: str | None = None
    who: str | None = None
    owner: str | None = None
    due: str | None = None
    via: str | None = None

REVIEW_STATUSES = ("sent", "commented", "approved")

@dataclass(frozen=True)
class Review:
    """A step of the documentation's review: sent to the clinic, the clinic's comments or
    corrections, approved. ``note`` is what was said (a comment, say)."""

    status: str
    who: str | None = None
    note: str | None = None

@dataclass(frozen=True)
class Offer:
    suggestions: tuple[Any, ...]  # engine.suggest.Suggestion

@dataclass(frozen=True)
class Accept:
    """Take a suggestion. For one that proposes an action ("gör om till åtgärd"), ``text``,
    ``owner`` and ``due`` make the action (the text defaults to what the suggestion proposes)."""

    sid: str
    owner: str | None = None
    due: str | None = None
    text: str | None = None

@dataclass(frozen=True)
class Dismiss:
    sid: str

@dataclass(frozen=True)
class ChooseFocus:
    party: str
    sections: tuple[str, ...]

@dataclass(frozen=True)
class AssignRole:
    name: str
    role: str

@dataclass(frozen=True)
class DiscussFlags:
    indicators: tuple[str, ...]

@dataclass(frozen=True)
class ShowFlags:
    """Record the clinic's data as shown when the meeting opens (dicts: indicator, label, period, text, states)."""

    flags: tuple[dict[str, Any], ...]

@dataclass(frozen=True)
class Correct:
    qid: str
    text: str
    who: str | None = None

@dataclass(frozen=True)
class Open:
    """Open a prepared dialogue: the meeting begins."""

@dataclass(frozen=True)
class Finish:
    pass

@dataclass(frozen=True)
class Reopen:
    pass

@dataclass(frozen=True)
class Participant:
    name: str
    role: str = ""

@dataclass(frozen=True)
class StartOptions:
    clinic: str
    mode: str = "facilitator"
    participants: tuple[Participant, ...] = ()
    flow_sha256: str = ""
    prepared: bool = False
    focus: dict[str, tuple[str, ...]] = field(default_factory=dict)
    mask_pii: bool = True
    stage: str | None = None  # a staged flow (Nära vård's Del 1–3): the stage this dialogue belongs to
    continues: str | None = None  # the dialogue of the previous stage this one continues
    continues_date: str | None = None

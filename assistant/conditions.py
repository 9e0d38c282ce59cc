"""Declarative conditions: data, never code.

A condition is a TOML/JSON table with exactly one key naming its kind::

    { answered = "p1.vilka_arbetar" }
    { equals = { question = "p4.konkret.omrade", value = "levnadsvanor" } }
    { contains_any = { question = "p4.patientsakerhet.utmaningar", words = ["fall", "avvikelse"] } }
    { selected = { question = "p4.konkret.omrade", value = "artros" } }
    { focus = "p4" }                      # a focus area (section id) was chosen
    { flag = { indicator = "telefontillganglighet", any_of = ["misses_target"] } }
    { flag = { indicator = "besok_distans", peers = "outside" } }   # outside the peers' 99.8 % limits
    { flag = { indicator = "besok_distans", change = "any" } }      # a special-cause signal over time
    { skipped = "p3.npe" }
    { untouched = "p5" }                  # no question of that section answered yet
    { time_used = 0.75 }                  # at least this share of the meeting time has passed
    { mode = "self" }
    { all = [ ... ] }, { any = [ ... ] }, { not = { ... } }

Evaluation is a plain tree walk over these models (see ``engine.evaluation``); nothing is ever
``eval``-ed. Every id a condition names is checked when the flow is loaded.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from assistant.flagstates import FLAG_STATES
from assistant.ids import Id

FlagState = Literal[FLAG_STATES]  # the nine names, said once in assistant.flagstates


class _Strict(BaseModel):
    # strict: a flow file says what it means (no "10" for 10, no 1 for true; see assistant.flows)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class QuestionValue(_Strict):
    question: Id
    value: str = Field(max_length=1000)


class QuestionWords(_Strict):
    question: Id
    words: list[str] = Field(min_length=1, max_length=200)


class FlagRef(_Strict):
    """A flag of ``indicator`` in one of the states ``any_of``, and/or whose value lies outside
    its peers' 99.8 % limits (``peers``: "higher", "lower" or "outside"), and/or whose own history
    shows a special-cause signal (``change``: "higher", "lower" or "any") — the last two for neutral
    indicators too. A flag with too little data matches only ``any_of = ["insufficient_data"]``."""

    indicator: Id
    any_of: list[FlagState] = Field(default_factory=list)
    peers: Literal["higher", "lower", "outside"] | None = None
    change: Literal["higher", "lower", "any"] | None = None

    @model_validator(mode="after")
    def _something_to_match(self) -> FlagRef:
        if not self.any_of and self.peers is None and self.change is None:
            raise ValueError("ett flaggvillkor behöver any_of (tillstånd), peers eller change")
        return self


class Answered(_Strict):
    answered: Id


class Skipped(_Strict):
    skipped: Id


class Equals(_Strict):
    equals: QuestionValue


class Selected(_Strict):
    selected: QuestionValue


class ContainsAny(_Strict):
    contains_any: QuestionWords


class Focus(_Strict):
    focus: Id


class Flag(_Strict):
    flag: FlagRef


class Untouched(_Strict):
    untouched: Id


class TimeUsed(_Strict):
    time_used: float = Field(ge=0.0, le=1.0)


class Mode(_Strict):
    mode: Literal["facilitator", "self"]


class All(_Strict):
    all: list[Condition] = Field(min_length=1, max_length=100)


class AnyOf(_Strict):
    any: list[Condition] = Field(min_length=1, max_length=100)


class Not(_Strict):
    not_: Condition = Field(alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


_KINDS = {
    "answered": Answered,
    "skipped": Skipped,
    "equals": Equals,
    "selected": Selected,
    "contains_any": ContainsAny,
    "focus": Focus,
    "flag": Flag,
    "untouched": Untouched,
    "time_used": TimeUsed,
    "mode": Mode,
    "all": All,
    "any": AnyOf,
    "not": Not,
}


def _kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        for name, cls in _KINDS.items():
            if isinstance(value, cls):
                return name
        return None
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if key in _KINDS else None
    return None


Condition = Annotated[
    Union[  # noqa: UP007 - tagged union reads better spelled out
        Annotated[Answered, Tag("answered")],
        Annotated[Skipped, Tag("skipped")],
        Annotated[Equals, Tag("equals")],
        Annotated[Selected, Tag("selected")],
        Annotated[ContainsAny, Tag("contains_any")],
        Annotated[Focus, Tag("focus")],
        Annotated[Flag, Tag("flag")],
        Annotated[Untouched, Tag("untouched")],
        Annotated[TimeUsed, Tag("time_used")],
        Annotated[Mode, Tag("mode")],
        Annotated[All, Tag("all")],
        Annotated[AnyOf, Tag("any")],
        Annotated[Not, Tag("not")],
    ],
    Discriminator(
        _kind,
        custom_error_type="condition",
        custom_error_message="ett villkor är en tabell med exakt en av nycklarna: " + ", ".join(_KINDS),
    ),
]

for _model in (All, AnyOf, Not):
    _model.model_rebuild()


def walk(cond: Any):
    """Yield every condition node in a condition tree (depth first)."""
    yield cond
    if isinstance(cond, All):
        for c in cond.all:
            yield from walk(c)
    elif isinstance(cond, AnyOf):
        for c in cond.any:
            yield from walk(c)
    elif isinstance(cond, Not):
        yield from walk(cond.not_)


def referenced_ids(cond: Any) -> tuple[set[str], set[str], set[str]]:
    """Return (question ids, section ids, indicator ids) a condition refers to."""
    questions: set[str] = set()
    sections: set[str] = set()
    indicators: set[str] = set()
    for node in walk(cond):
        match node:
            case Answered(answered=q) | Skipped(skipped=q):
                questions.add(q)
            case Equals(equals=qv) | Selected(selected=qv):
                questions.add(qv.question)
            case ContainsAny(contains_any=qw):
                questions.add(qw.question)
            case Focus(focus=s) | Untouched(untouched=s):
                sections.add(s)
            case Flag(flag=f):
                indicators.add(f.indicator)
    return questions, sections, indicators

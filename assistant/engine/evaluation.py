"""Evaluating declarative conditions against a dialogue state. A tree walk; nothing is eval-ed.

What a condition reads of the state is ``Facts``; ``engine.state.State`` provides it (and uses
``evaluate`` for questions asked only ``when`` a condition holds), so this module depends on the
conditions, not on the state.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from assistant.conditions import (
    All,
    Answered,
    AnyOf,
    ContainsAny,
    Equals,
    Flag,
    Focus,
    Mode,
    Not,
    Selected,
    Skipped,
    TimeUsed,
    Untouched,
)

if TYPE_CHECKING:
    from datetime import datetime

    from assistant.flows import Flow


class Facts(Protocol):
    """What a condition may read of a dialogue (``engine.state.State``)."""

    flow: Flow
    mode: str
    answers: dict[str, str]
    values: dict[str, Any]
    skipped: set[str]
    focus: dict[str, list[str]]

    def section_touched(self, section_id: str) -> bool: ...

    def elapsed_seconds(self, now: datetime | None = None) -> float: ...

_WORD = re.compile(r"\w+", re.UNICODE)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


@dataclass(frozen=True)
class WordMatch:
    """A keyword stem found in an answer: ``word`` is the word as the person wrote it."""

    word: str
    stem: str
    question: str


def match_stems(text: str, stems: list[str], question: str = "") -> WordMatch | None:
    """Swedish word forms: a stem matches any word that starts with it, case-insensitively.

    ``avvikelse`` matches ``Avvikelser`` and ``avvikelserapporteringen``; ``fall`` matches
    ``fallolyckor``. A stem with a space ("lex maria") matches that phrase at a word start.
    """
    if not text:
        return None
    folded = _fold(text)
    words = [(m.group(0), m.start()) for m in _WORD.finditer(text)]
    folded_words = [(_fold(w), pos) for w, pos in words]
    for stem in stems:
        s = _fold(stem.strip())
        if not s:
            continue
        if " " in s:
            m = re.search(r"(?<!\w)" + re.escape(s), folded)
            if m:
                return WordMatch(word=text[m.start() : m.end()], stem=stem, question=question)
            continue
        for (fw, _pos), (w, _) in zip(folded_words, words, strict=True):
            if fw.startswith(s):
                return WordMatch(word=w, stem=stem, question=question)
    return None


def flag_matches(flag: Any, ref: Any) -> bool:
    if "insufficient_data" in flag.states:
        # Too few observations never make a question about the value – only a rule that asks for
        # exactly this state (a question about the data sources) matches.
        return "insufficient_data" in ref.any_of
    if any(st in flag.states for st in ref.any_of):
        return True
    if ref.peers is not None:
        position = getattr(flag, "peer_position", None)
        if position is not None and ref.peers in (position, "outside"):
            return True
    if ref.change is not None:
        moved = getattr(flag, "change_position", None)
        if moved is not None and ref.change in (moved, "any"):
            return True
    return False


@dataclass
class Context:
    """What a condition may look at besides the state."""

    flags: list[Any] = field(default_factory=list)  # objects with .indicator and .states
    now: datetime | None = None
    # filled while evaluating, for templates:
    flag: Any = None
    match: WordMatch | None = None


def evaluate(cond: Any, state: Facts, ctx: Context) -> bool:
    match cond:
        case None:
            return True
        case Answered(answered=q):
            return q in state.answers
        case Skipped(skipped=q):
            return q in state.skipped
        case Equals(equals=qv):
            value = state.values.get(qv.question)
            if value is not None and not isinstance(value, list):
                return str(value) == qv.value
            text = state.answers.get(qv.question)
            return text is not None and _fold(text.strip()) == _fold(qv.value)
        case Selected(selected=qv):
            value = state.values.get(qv.question)
            if isinstance(value, list):
                return qv.value in value
            return value == qv.value
        case ContainsAny(contains_any=qw):
            found = match_stems(state.answers.get(qw.question, ""), qw.words, qw.question)
            if found and ctx.match is None:
                ctx.match = found
            return found is not None
        case Focus(focus=s):
            return any(s in sections for sections in state.focus.values())
        case Flag(flag=ref):
            for f in ctx.flags:
                if f.indicator == ref.indicator and flag_matches(f, ref):
                    if ctx.flag is None:
                        ctx.flag = f
                    return True
            return False
        case Untouched(untouched=s):
            return not state.section_touched(s)
        case TimeUsed(time_used=share):
            if ctx.now is None:
                return False
            return state.elapsed_seconds(ctx.now) >= share * state.flow.meeting_minutes * 60
        case Mode(mode=m):
            return state.mode == m
        case All(all=items):
            return all(evaluate(c, state, ctx) for c in items)
        case AnyOf(any=items):
            return any(evaluate(c, state, ctx) for c in items)
        case Not(not_=inner):
            # A negated branch must not leak its flag/match into templates.
            probe = Context(flags=ctx.flags, now=ctx.now)
            return not evaluate(inner, state, probe)
    raise TypeError(f"unknown condition {cond!r}")  # pragma: no cover - models are closed

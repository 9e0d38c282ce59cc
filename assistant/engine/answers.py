"""What a person typed, made ready for the log: cleaned (``clean_text``), read against its
question's type (``parse_answer``: a choice by number or label, several choices, a scale, a
number) and due dates (``parse_due``)."""

from __future__ import annotations

import re
from typing import Any

from assistant.engine.errors import EngineError
from assistant.flows import Question
from assistant.textsafe import MAX_TEXT, normalise_typed


def clean_text(text: str, *, limit: int = MAX_TEXT, what: str = "Svaret") -> str:
    """Normalise what a person typed: newlines, no NULs, no trailing blanks. Markup stays as typed."""
    if len(text) > limit:
        raise EngineError(f"{what} är för långt ({len(text):,} tecken, högst {limit:,}).".replace(",", "\u00a0"))
    return "\n".join(line.rstrip() for line in normalise_typed(text).split("\n")).strip("\n")

_SPLIT = re.compile(r"\s*[,;]\s*")

def _choice_for(question: Question, token: str):
    t = token.strip()
    if t.isdigit() and 1 <= int(t) <= len(question.choices):
        return question.choices[int(t) - 1]
    folded = t.casefold()
    for c in question.choices:
        if folded in (c.value.casefold(), c.label.casefold()):
            return c
    return None

def parse_answer(question: Question | None, text: str) -> tuple[str, Any]:
    """Validate an answer for its question type. Returns (text to store, value or None)."""
    if not text.strip():
        raise EngineError("Svaret är tomt. Skriv ett svar, eller hoppa över frågan.")
    if question is None or question.type == "text":
        return text, None
    if question.type == "single":
        choice = _choice_for(question, text)
        if choice is not None:
            return choice.label, choice.value
        if question.allow_other:
            return text, None
        raise EngineError("Välj ett av alternativen: " + _choices_hint(question))
    if question.type == "multi":
        picked = []
        for token in _SPLIT.split(text.strip()):
            if not token:
                continue
            choice = _choice_for(question, token)
            if choice is None:
                if question.allow_other:
                    return text, None
                raise EngineError(f"Okänt alternativ {token!r}. Välj bland: " + _choices_hint(question))
            if choice.value not in picked:
                picked.append(choice.value)
        labels = {c.value: c.label for c in question.choices}
        return ", ".join(labels[v] for v in picked), picked
    if question.type == "scale":
        scale = question.scale
        lo, hi = (scale.min, scale.max) if scale else (1, 5)
        try:
            value = int(text.strip())
        except ValueError:
            raise EngineError(f"Svara med en siffra från {lo} till {hi}.") from None
        if not lo <= value <= hi:
            raise EngineError(f"Svara med en siffra från {lo} till {hi}.")
        return str(value), value
    if question.type == "number":
        cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            value = float(cleaned)
        except ValueError:
            raise EngineError("Svara med ett tal, t.ex. 12 eller 3,5.") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise EngineError("Svara med ett tal, t.ex. 12 eller 3,5.")
        return text.strip(), value
    return text, None  # pragma: no cover

def _choices_hint(question: Question) -> str:
    hint = ", ".join(f"{i}. {c.label}" for i, c in enumerate(question.choices, 1))
    if question.allow_other:
        hint += " (eller skriv ett eget)"
    return hint

_DUE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

def parse_due(text: str) -> str:
    """A due date as stored (ÅÅÅÅ-MM-DD, a real date)."""
    from datetime import date

    t = text.strip()
    if not _DUE.match(t):
        raise EngineError("Ange datum som ÅÅÅÅ-MM-DD, t.ex. 2027-03-31.")
    try:
        date.fromisoformat(t)
    except ValueError:
        raise EngineError(f"{t} är inget giltigt datum.") from None
    return t

"""The pure dialogue engine: no Textual, no SQLite, no I/O.

    events = start(flow, StartOptions(clinic="Fysio Norr"), now)
    state = replay(flow, events)
    more = step(state, Answer("Tre fysioterapeuter"), now)
    state = advance(state, more)

The names below are the engine's surface. Each submodule is imported when one of its names is
first used (``E.replay`` imports ``state``, ``E.suggestions`` ``suggest`` and ``topics``): reading
a dialogue (``dialogstod show``, an export) never loads the suggestion and topic machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Accept": "assistant.engine.commands",
    "AddAction": "assistant.engine.commands",
    "AddNote": "assistant.engine.commands",
    "Answer": "assistant.engine.commands",
    "AssignRole": "assistant.engine.commands",
    "Back": "assistant.engine.commands",
    "ChooseFocus": "assistant.engine.commands",
    "Correct": "assistant.engine.commands",
    "DiscussFlags": "assistant.engine.commands",
    "Dismiss": "assistant.engine.commands",
    "EndSection": "assistant.engine.commands",
    "EngineError": "assistant.engine.errors",
    "Finish": "assistant.engine.commands",
    "Jump": "assistant.engine.commands",
    "Offer": "assistant.engine.commands",
    "Open": "assistant.engine.commands",
    "Park": "assistant.engine.commands",
    "Participant": "assistant.engine.commands",
    "REVIEW_STATUSES": "assistant.engine.commands",
    "Reopen": "assistant.engine.commands",
    "ReturnToParked": "assistant.engine.commands",
    "Review": "assistant.engine.commands",
    "ShowFlags": "assistant.engine.commands",
    "Skip": "assistant.engine.commands",
    "StartOptions": "assistant.engine.commands",
    "UpdateAction": "assistant.engine.commands",
    "AreaCoverage": "assistant.engine.progress",
    "Exercise": "assistant.engine.progress",
    "IndicatorLinks": "assistant.engine.discussed",
    "coverage": "assistant.engine.progress",
    "warnings": "assistant.engine.progress",
    "Context": "assistant.engine.evaluation",
    "WordMatch": "assistant.engine.evaluation",
    "evaluate": "assistant.engine.evaluation",
    "match_stems": "assistant.engine.evaluation",
    "next_question": "assistant.engine.navigation",
    "prompt_text": "assistant.engine.navigation",
    "resolve_section": "assistant.engine.navigation",
    "Action": "assistant.engine.state",
    "Correction": "assistant.engine.state",
    "Note": "assistant.engine.state",
    "Prompt": "assistant.engine.state",
    "ReplayError": "assistant.engine.errors",
    "ReviewStep": "assistant.engine.state",
    "State": "assistant.engine.state",
    "action_overdue": "assistant.engine.state",
    "advance": "assistant.engine.state",
    "replay": "assistant.engine.state",
    "start": "assistant.engine.dispatch",
    "step": "assistant.engine.dispatch",
    "Suggestion": "assistant.engine.suggestion",
    "suggestions": "assistant.engine.suggest",
    "TopicSet": "assistant.engine.topics",
    "compile_topics": "assistant.engine.topics",
    "PromptView": "assistant.engine.view",
    "visible_sections": "assistant.engine.view",
    "notices": "assistant.engine.view",
    "nothing_to_answer": "assistant.engine.view",
    "data_overview": "assistant.engine.view",
    "Once": "assistant.engine.view",
    "DataOverview": "assistant.engine.view",
    "PII_NOTICE": "assistant.engine.view",
    "flow_intro": "assistant.engine.view",
    "prompt_view": "assistant.engine.view",
    "EVENT_KINDS": "assistant.events",
    "Event": "assistant.events",
    "utcnow": "assistant.events",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found once; later uses are plain attribute look-ups
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = sorted(_WHERE)

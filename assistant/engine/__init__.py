"""The pure dialogue engine: no Textual, no SQLite, no I/O.

    events = start(flow, StartOptions(clinic="Fysio Norr"), now)
    state = replay(flow, events)
    more = step(state, Answer("Tre fysioterapeuter"), now)
    state = advance(state, more)
"""

from assistant.engine.coverage import AreaCoverage, coverage, warnings
from assistant.engine.evaluate import Context, WordMatch, evaluate, match_stems
from assistant.engine.events import EVENT_KINDS, Event, utcnow
from assistant.engine.state import Action, Correction, Note, Prompt, ReplayError, State, advance, replay
from assistant.engine.step import (
    Accept,
    AddAction,
    AddNote,
    Answer,
    AssignRole,
    Back,
    ChooseFocus,
    Correct,
    DiscussFlags,
    Dismiss,
    EndSection,
    EngineError,
    Finish,
    Jump,
    Offer,
    Open,
    Park,
    Participant,
    Reopen,
    ReturnToParked,
    ShowFlags,
    Skip,
    StartOptions,
    UpdateAction,
    next_question,
    prompt_text,
    resolve_section,
    start,
    step,
)
from assistant.engine.suggest import Suggestion, suggestions
from assistant.engine.topics import TopicSet, compile_topics
from assistant.engine.view import PromptView, prompt_view

__all__ = [
    "EVENT_KINDS",
    "Accept",
    "Action",
    "AddAction",
    "AddNote",
    "Answer",
    "AreaCoverage",
    "AssignRole",
    "Back",
    "ChooseFocus",
    "Context",
    "Correct",
    "Correction",
    "DiscussFlags",
    "Dismiss",
    "EndSection",
    "EngineError",
    "Event",
    "Finish",
    "Jump",
    "Note",
    "Offer",
    "Open",
    "Park",
    "Participant",
    "Prompt",
    "PromptView",
    "Reopen",
    "ReplayError",
    "ReturnToParked",
    "ShowFlags",
    "Skip",
    "StartOptions",
    "State",
    "Suggestion",
    "TopicSet",
    "UpdateAction",
    "WordMatch",
    "advance",
    "compile_topics",
    "coverage",
    "evaluate",
    "match_stems",
    "next_question",
    "prompt_text",
    "prompt_view",
    "replay",
    "resolve_section",
    "start",
    "step",
    "suggestions",
    "utcnow",
    "warnings",
]

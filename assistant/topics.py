"""The topic catalogue (``flows/topics.toml``): what people talk about, and which questions explore it.

Each topic has its concept words (lemmas, compound parts, multi-word cues and guards against other
senses), the bank questions that explore it, and the reason a suggestion gives, in ni-form and vi-form,
naming the concept by its noun. A region lays its own ``topics.toml`` (in the user flows directory)
over the shipped one: a topic with a shipped id replaces it, new ids are added, and the cue lists
given there replace the shipped ones.

Which questions a topic leads to is said per flow: ``questions`` for every flow that has them
(fysioterapi-2023 and vardcentral share the bank's ids), and ``flows.<flow id>`` for a flow with
questions of its own (nara-vard). A flow *uses* a topic when it has a list of its own there, or when
it has at least one of the shared questions; then every question the topic names must exist in it.

Word entries (``lemmas``), matched as lemma or as written: ``"vakans"`` matches the word and,
being four letters or more, the first or last part of a compound too (vakansläge,
personalvakans: the rest must be a Swedish word; linking letters are allowed, levnadsvane-samtal).
Marks narrow that: ``"=fall"`` the whole word only; ``"fall-"`` the word and the first part
(fallolyckor, fallrisk — not bortfall, specialfall); ``"-kö"`` the word and the last part
(telefonkö, remisskö); ``"-tolk-"`` both parts, for a short word. Phrases and guards are words separated by spaces, matched on
lemma or written form: ``"*"`` stands for any one word, ``"..."`` for up to four. A guard that
matches around a topic word cancels it there ("i vissa fall", "fallet").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assistant.ids import Id
from assistant.tomlfiles import TOPICS_NAME

if TYPE_CHECKING:
    from assistant.flows import Flow

_LETTERS = "a-z0-9åäöéüæø"
WORD_PATTERN = rf"^[-=]?[{_LETTERS}]+(?:-[{_LETTERS}]+)*-?$"
_WORD = re.compile(WORD_PATTERN)
_PHRASE_WORD = re.compile(rf"^[{_LETTERS}]+(?:-[{_LETTERS}]+)*$")
GAP = "..."
ANY = "*"


def phrase_items(phrase: str) -> list[str]:
    return phrase.split()


def _check_phrase(phrase: str, *, single_ok: bool) -> str:
    items = phrase_items(phrase)
    if not items:
        raise ValueError("en fras får inte vara tom")
    if phrase != phrase.casefold():
        raise ValueError(f"{phrase!r}: skriv med gemener")
    if len(items) == 1 and not single_ok:
        raise ValueError(f"{phrase!r}: en fras har minst två ord (ett ord hör hemma i lemmas)")
    if items[0] in (GAP, ANY) or items[-1] in (GAP, ANY):
        raise ValueError(f"{phrase!r}: en fras börjar och slutar med ett ord, inte {items[0] if items[0] in (GAP, ANY) else items[-1]!r}")
    for item in items:
        if item not in (GAP, ANY) and not _PHRASE_WORD.match(item):
            raise ValueError(f"{phrase!r}: {item!r} är inget ord (bokstäver, siffror och bindestreck)")
    return " ".join(items)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Topic(_Strict):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    noun: str = Field(min_length=1, max_length=100)
    lemmas: list[str] = Field(default_factory=list, max_length=500)
    phrases: list[str] = Field(default_factory=list, max_length=500)
    guards: list[str] = Field(default_factory=list, max_length=500)
    questions: list[Id] = Field(default_factory=list, max_length=50)
    flows: dict[Id, list[Id]] = Field(default_factory=dict, max_length=100)
    indicators: list[Id] = Field(default_factory=list, max_length=50)
    reason: str = Field(min_length=1, max_length=500)
    self_reason: str = Field(min_length=1, max_length=500)
    followup: str | None = Field(default=None, max_length=500)
    self_followup: str | None = Field(default=None, max_length=500)
    priority: int = Field(default=40, ge=0, le=100)

    @field_validator("lemmas")
    @classmethod
    def _words(cls, words: list[str]) -> list[str]:
        for w in words:
            if w != w.casefold():
                raise ValueError(f"{w!r}: skriv med gemener")
            if not _WORD.match(w) or w.strip("=-") == "" or (w.startswith("=") and w.endswith("-")):
                raise ValueError(
                    f"{w!r}: ett ord är bokstäver och siffror, med = först (bara hela ordet) eller - först "
                    "eller sist (som del av sammansättningar); fraser hör hemma i phrases"
                )
        return words

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, phrases: list[str]) -> list[str]:
        return [_check_phrase(p, single_ok=False) for p in phrases]

    @field_validator("guards")
    @classmethod
    def _guards(cls, guards: list[str]) -> list[str]:
        return [_check_phrase(p, single_ok=True) for p in guards]

    @model_validator(mode="after")
    def _consistent(self) -> Topic:
        if not self.lemmas and not self.phrases:
            raise ValueError("ett ämne behöver ord (lemmas) eller fraser (phrases)")
        if not self.questions and not self.flows:
            raise ValueError("ett ämne behöver frågor att föreslå (questions eller flows)")
        noun = self.noun.casefold()
        for name in ("reason", "self_reason"):
            if noun not in getattr(self, name).casefold():
                raise ValueError(f"{name} ska nämna begreppet med sitt substantiv ({self.noun!r})")
        if (self.followup is None) != (self.self_followup is None):
            raise ValueError("followup och self_followup anges båda eller ingen av dem")
        return self

    def questions_for(self, flow_id: str) -> list[str]:
        return self.flows.get(flow_id, self.questions)


class TopicCatalogue(_Strict):
    problem_cues: list[str] = Field(default_factory=list, max_length=1000)
    cause_cues: list[str] = Field(default_factory=list, max_length=1000)
    negations: list[str] = Field(default_factory=list, max_length=200)
    topics: list[Topic] = Field(default_factory=list, max_length=2000)

    @field_validator("problem_cues", "cause_cues", "negations")
    @classmethod
    def _cues(cls, phrases: list[str]) -> list[str]:
        return [_check_phrase(p, single_ok=True) for p in phrases]

    @model_validator(mode="after")
    def _unique(self) -> TopicCatalogue:
        seen: set[str] = set()
        for i, t in enumerate(self.topics):
            if t.id in seen:
                raise ValueError(f"topics[{i}].id: ämnets id {t.id!r} finns redan")
            seen.add(t.id)
        return self

    @property
    def ids(self) -> set[str]:
        return {t.id for t in self.topics}

    def get(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


# ---------------------------------------------------------------- checking against flows


def uses(topic: Topic, flow: Flow) -> bool:
    """Whether a flow uses a topic: a list of its own, or at least one of the shared questions."""
    if flow.id in topic.flows:
        return True
    return any(q in flow.question_index for q in topic.questions)


def _where(catalogue: TopicCatalogue, index: int, topic: Topic, name: str | None) -> str:
    if name is None:
        origin = _ORIGINS.get(id(catalogue), {}).get(topic.id)
        if origin is not None:
            return origin
        name = TOPICS_NAME
    return f"{name}: topics[{index}]"


def check_against_flow(
    catalogue: TopicCatalogue, flow: Flow, name: str | None = None, known_indicators: set[str] | None = None
) -> list[str]:
    """Every question a topic names must exist in each flow that uses it. Located problem lines
    (in the file each topic came from, for the merged catalogue)."""
    problems: list[str] = []
    for ti, topic in enumerate(catalogue.topics):
        if not uses(topic, flow):
            continue
        where = _where(catalogue, ti, topic, name)
        field = f"flows.{flow.id}" if flow.id in topic.flows else "questions"
        for qi, qid in enumerate(topic.questions_for(flow.id)):
            if qid not in flow.question_index:
                problems.append(f"{where}.{field}[{qi}]: flödet {flow.id!r} har ingen fråga {qid!r} (ämnet {topic.id!r})")
        if known_indicators is not None:
            for ii, ind in enumerate(topic.indicators):
                if ind not in known_indicators:
                    problems.append(f"{where}.indicators[{ii}]: okänt indikator-id {ind!r} (ämnet {topic.id!r})")
    return problems


def check_flow_ids(catalogue: TopicCatalogue, flow_ids: set[str], name: str | None = None) -> list[str]:
    """A per-flow list must name a flow that exists."""
    problems = []
    for ti, topic in enumerate(catalogue.topics):
        for fid in topic.flows:
            if fid not in flow_ids:
                known = ", ".join(sorted(flow_ids)) or "inga"
                where = _where(catalogue, ti, topic, name)
                problems.append(f"{where}.flows: okänt flöde {fid!r} (flöden: {known}) (ämnet {topic.id!r})")
    return problems


# ---------------------------------------------------------------- loading


def is_topics_file(data: dict[str, Any], path: Path) -> bool:
    return path.name == TOPICS_NAME or ("topics" in data and "sections" not in data)


def load_topics(path: Path) -> TopicCatalogue:
    """Read and validate one topics file. Raises FlowError with located problems."""
    from assistant.tomlfiles import load_validated

    return load_validated(path, TopicCatalogue)


def topic_paths() -> list[Path]:
    from assistant import locations

    return [p / TOPICS_NAME for p in locations.flow_dirs()]


def default_topics() -> TopicCatalogue | None:
    """The shipped catalogue with a region's own ``topics.toml`` laid over it (cached per file
    modification time). Raises FlowError when a file is broken."""
    paths = [p for p in topic_paths() if p.exists()]
    if not paths:
        return None
    key = tuple((str(p), p.stat().st_mtime_ns) for p in paths)
    cached = _CACHE.get(key)
    if cached is None:
        loaded = [load_topics(p) for p in paths]
        cached = merge(loaded)
        _ORIGINS.clear()
        _ORIGINS[id(cached)] = {
            t.id: f"{path}: topics[{i}]" for path, cat in zip(paths, loaded, strict=True) for i, t in enumerate(cat.topics)
        }
        _CACHE.clear()
        _CACHE[key] = cached
    return cached


def merge(catalogues: list[TopicCatalogue]) -> TopicCatalogue:
    """Later catalogues override earlier ones: topics by id, cue lists when given."""
    topics: dict[str, Topic] = {}
    cues: dict[str, list[str]] = {"problem_cues": [], "cause_cues": [], "negations": []}
    for cat in catalogues:
        for t in cat.topics:
            topics[t.id] = t
        for name in cues:
            if name in cat.model_fields_set:
                cues[name] = list(getattr(cat, name))
    return TopicCatalogue(topics=list(topics.values()), **cues)


_CACHE: dict[tuple, TopicCatalogue] = {}
_ORIGINS: dict[int, dict[str, str]] = {}  # id(merged catalogue) -> topic id -> "file: topics[i]"

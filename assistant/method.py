"""The method's support for preparing a meeting (``flows/metod.toml``): the seven trust principles,
Förbättringstrappan, how to read data, and the data-validity question ("Stämmer siffrorna?").

The texts are the documents' own words, each part naming its source by title, publisher and year;
Dialogstöd's own wording sits in fields ending in ``_added``. A region's own ``metod.toml`` in the
user flows directory replaces the shipped one.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.flows import FlowError, Source, format_validation_error
from assistant.tomlfiles import read_toml

METHOD_NAME = "metod.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trust(_Strict):
    title: str
    source: str
    intro: str
    principles: list[str] = Field(min_length=1, max_length=20)


class Staircase(_Strict):
    title: str
    source: str
    text: str


class DataGuidance(_Strict):
    title: str
    source: str
    intro: str
    small_numbers: str
    registration: str


class Validity(_Strict):
    title: str
    source: str
    quote: str
    question_added: str
    self_question_added: str

    def question(self, indicator: str, mode: str = "facilitator") -> str:
        template = self.self_question_added if mode == "self" else self.question_added
        return template.replace("{indikator}", indicator)


class Method(_Strict):
    sources: list[Source] = Field(min_length=1)
    trust: Trust
    staircase: Staircase
    data: DataGuidance
    validity: Validity

    def citation(self, source_id: str) -> str:
        src = next((s for s in self.sources if s.id == source_id), None)
        return src.citation if src else source_id


def method_path():
    from assistant import locations

    found = None
    for folder in locations.flow_dirs():
        if (folder / METHOD_NAME).is_file():
            found = folder / METHOD_NAME
    return found


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Method:
    return load_method(path)


def load_method(path) -> Method:
    from pathlib import Path

    data = read_toml(Path(path))
    try:
        method = Method.model_validate(data)
    except ValidationError as exc:
        raise FlowError(format_validation_error(str(path), exc)) from None
    ids = {s.id for s in method.sources}
    problems = [
        f"{path}: {part}.source: okänd källa {getattr(method, part).source!r}"
        for part in ("trust", "staircase", "data", "validity")
        if getattr(method, part).source not in ids
    ]
    if problems:
        raise FlowError(problems)
    return method


def method() -> Method | None:
    """The method support (None if no metod.toml is installed)."""
    path = method_path()
    if path is None:
        return None
    return _load(str(path), path.stat().st_mtime)

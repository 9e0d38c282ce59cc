"""Dialogstöd's TOML files – flows, the indicator and topic catalogues, the method file – read
and validated with located Swedish messages: ``FlowError``, whose ``problems`` are one line each,
``file:line: …`` for syntax errors and ``file: sections[3].questions[2].id: …`` for schema errors.

Reading is bounded (``MAX_FLOW_BYTES``) and refuses control characters in any text (a flow's
texts are shown in terminals). Kept apart from the flow models (``assistant.flows``) so that
reading the indicator catalogue (``dialogstod data flags``) does not build them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from assistant.ids import ID_PATTERN
from assistant.textsafe import control_character

AREA_PATTERN = r"^(P[1-5]|[A-C])$"
LANGUAGE_PATTERN = r"^[a-z]{2}$"
MAX_FLOW_BYTES = 2_000_000
_M = TypeVar("_M", bound=BaseModel)
CATALOGUE_NAME = "indicators.toml"
TOPICS_NAME = "topics.toml"  # the topic catalogue (assistant.topics)


class FlowError(Exception):
    """A flow (or catalogue) file could not be loaded. ``problems`` holds one located line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_UNION_TAGS = {
    "answered",
    "skipped",
    "equals",
    "selected",
    "contains_any",
    "focus",
    "flag",
    "untouched",
    "time_used",
    "mode",
    "all",
    "any",
    "not",
}


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # A tagged union repeats its tag in the location ("when.equals.equals.question"); drop the echo.
    out: list[Any] = []
    for part in loc:
        if out and part == out[-1] and part in _UNION_TAGS:
            continue
        out.append(part)
    return tuple(out)


# pydantic's messages in Swedish, by error type; anything not listed keeps pydantic's own words.
_SV_ERRORS = {
    "extra_forbidden": "okänt fält",
    "missing": "obligatoriskt fält saknas",
    "string_type": "ska vara text",
    "int_type": "ska vara ett heltal",
    "int_parsing": "ska vara ett heltal",
    "int_from_float": "ska vara ett heltal",
    "float_type": "ska vara ett tal",
    "float_parsing": "ska vara ett tal",
    "bool_type": "ska vara true eller false",
    "bool_parsing": "ska vara true eller false",
    "list_type": "ska vara en lista",
    "dict_type": "ska vara en tabell",
    "model_type": "ska vara en tabell",
    "model_attributes_type": "ska vara en tabell",
    "string_too_short": "får inte vara tom",
    "too_short": "har för få element (minst {min_length})",
    "too_long": "har för många element (högst {max_length})",
    "string_too_long": "är för lång (högst {max_length} tecken)",
    "string_pattern_mismatch": "har fel form",
    "greater_than_equal": "ska vara minst {ge}",
    "less_than_equal": "ska vara högst {le}",
    "literal_error": "ska vara ett av: {expected}",
    "condition": "ett villkor är en tabell med exakt en av nycklarna: " + ", ".join(sorted(_UNION_TAGS)),
    "recursion_depth_exceeded": "villkoren är för djupt nästlade",
}


# What a value of each pattern looks like (``string_pattern_mismatch``).
_PATTERN_ERRORS = {
    ID_PATTERN: "har fel form: gemener a–z, siffror och . _ - (t.ex. p4.konkret.omrade)",
    AREA_PATTERN: "ska vara P1–P5 eller A–C",
    LANGUAGE_PATTERN: "ska vara en språkkod med två gemener, t.ex. sv",
}


def format_validation_error(name: str, exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        where = _loc(_clean_loc(err["loc"]))
        template = _SV_ERRORS.get(err["type"])
        if err["type"] == "string_pattern_mismatch":
            template = _PATTERN_ERRORS.get((err.get("ctx") or {}).get("pattern"), template)
        msg = err["msg"]
        if template is not None:
            ctx = dict(err.get("ctx") or {})
            if "expected" in ctx:
                ctx["expected"] = str(ctx["expected"]).replace(" or ", " eller ")
            try:
                msg = template.format(**ctx)
            except (KeyError, IndexError):
                msg = template
        elif err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        # A check of the whole file (a model validator) names its own place in its message.
        lines.append(f"{name}: {msg}" if not err["loc"] and err["type"] == "value_error" else f"{name}: {where}: {msg}")
    return lines


_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a located ``FlowError``."""
    return parse_toml(str(path), read_bytes(path))


def read_bytes(path: Path) -> bytes:
    """The file, read once and bounded (a pipe or a device such as /dev/zero ends at the limit)."""
    from assistant.fileio import FileProblem, read_limited

    try:
        return read_limited(path, MAX_FLOW_BYTES)
    except FileProblem as exc:
        raise FlowError([f"{path}: {exc}"]) from None


def parse_toml(name: str, raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_FLOW_BYTES:
        raise FlowError([f"{name}: filen är för stor ({len(raw)} byte, högst {MAX_FLOW_BYTES})"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FlowError([f"{name}:{line}: inte UTF-8-text"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_LINE.search(msg)
        line, col = (m.group(1), m.group(2)) if m else ("1", "1")
        msg = _TOML_LINE.sub("", msg).strip()
        raise FlowError([f"{name}:{line}: TOML-syntaxfel: {msg} (kolumn {col})"]) from None
    except RecursionError:
        raise FlowError([f"{name}:1: TOML-strukturen är för djupt nästlad"]) from None
    problems = control_character_problems(name, data)
    if problems:
        raise FlowError(problems)
    return data


def control_character_problems(name: str, data: Any, where: tuple[Any, ...] = ()) -> list[str]:
    """Located problems for every text in a flow or catalogue that holds a control character
    (an escape sequence, a bidirectional override …): a flow's texts are shown in terminals."""
    problems: list[str] = []
    if isinstance(data, str):
        ch = control_character(data)
        if ch is not None:
            problems.append(
                f"{name}: {_loc(where)}: texten innehåller ett styrtecken (U+{ord(ch):04X}); ta bort det"
            )
    elif isinstance(data, dict):
        for key, value in data.items():
            problems += control_character_problems(name, value, (*where, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            problems += control_character_problems(name, value, (*where, i))
    return problems


def load_validated(path: Path, model: type[_M]) -> _M:
    """A TOML file read and validated as ``model``; every failure a located ``FlowError``."""
    data = read_toml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FlowError(format_validation_error(str(path), exc)) from None

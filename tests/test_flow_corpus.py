"""Broken flow files through `dialogstod flows check`: each case is written by hand together with
the lines a user must see.

The corpus is built without the code under test. Every case is a mutation of the mini flow
(``tests/fixtures/flows/mini.toml``) — an edit of its data or of its bytes — and the exact located
problem lines `flows check` must print for it (a regular expression only where the words are the
TOML parser's, Jinja's or the operating system's own). A case passes only when exactly those lines
are printed, with exit 2 and no traceback: a check that stops catching a problem, reports it at
another place or reports something else fails its cases.

What the flow format allows is written out here, independently of ``assistant/flows.py``: the
table ``FIELDS`` says which fields exist, which are required and of what kind, and the wrong-type
and missing-field cases are generated from it. Indicator ids are checked against the shipped
catalogue (``flows/indicators.toml``), read here with ``tomllib``.

The corpus counts error *shapes* — distinct messages a user can get — rather than variants of one
message at different places; ``docs/reliability.md`` states both numbers and a test keeps it true.
"""

from __future__ import annotations

import copy
import io
import re
import tomllib
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import pytest

from assistant.cli import main
from tests.conftest import FIXTURES, REPO

SOURCE = (FIXTURES / "flows" / "mini.toml").read_text(encoding="utf-8")
BASE = tomllib.loads(SOURCE)
SOURCE_LINES = SOURCE.splitlines()
CATALOGUE_IDS = {
    ind["id"] for ind in tomllib.loads((REPO / "flows" / "indicators.toml").read_text("utf-8"))["indicators"]
}


# ---------------------------------------------------------------- a tiny TOML writer (tests only)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _value(k)


def dumps(data: dict) -> str:
    # Everything inline: one key = value line per top-level key. Valid TOML, easy to mutate.
    return "\n".join(f"{_key(k)} = {_value(v)}" for k, v in data.items()) + "\n"


# ---------------------------------------------------------------- the mini flow's places

# Where each question of the mini flow sits, as `flows check` names places.
QLOC = {
    "p1.vilka": "sections[0].questions[0]",
    "p1.miljo": "sections[0].questions[1]",
    "p2.vision": "sections[1].questions[0]",
    "p3.utmaningar": "sections[2].subareas[0].questions[0]",
    "p3.avvikelser": "sections[2].subareas[0].questions[1]",
    "p3.omrade": "sections[2].subareas[1].questions[0]",
    "p3.tanker": "sections[2].subareas[1].questions[1]",
    "p3.levnadsvanor_extra": "sections[2].subareas[1].questions[2]",
    "p4.telefon": "sections[3].questions[0]",
    "p4.antal": "sections[3].questions[1]",
    "p4.betyg": "sections[3].questions[2]",
    "sammanfattning.bra": "sections[4].questions[0]",
    "sammanfattning.jobba_vidare": "sections[4].questions[1]",
    "aterkoppling.kommande_mote": "sections[5].questions[0]",
}
RULE = {r["id"]: i for i, r in enumerate(BASE["rules"])}


def at(data: dict, loc: str):
    """The value at a place written as `flows check` writes it: ``sections[2].subareas[1]``."""
    target = data
    for name, index in re.findall(r"([a-z_]+)|\[(\d+)\]", loc):
        target = target[name] if name else target[int(index)]
    return target


def q(data: dict, qid: str) -> dict:
    return at(data, QLOC[qid])


def rule(data: dict, rid: str) -> dict:
    return data["rules"][RULE[rid]]


def test_the_places_are_the_mini_flows():
    assert {qid: q(BASE, qid)["id"] for qid in QLOC} == {qid: qid for qid in QLOC}
    found = [qq["id"] for s in BASE["sections"] for qq in s.get("questions", [])]
    found += [qq["id"] for s in BASE["sections"] for sub in s.get("subareas", []) for qq in sub["questions"]]
    assert sorted(found) == sorted(QLOC)


# ---------------------------------------------------------------- cases


class Re(str):
    """An expected line given as a regular expression (fullmatch); ``{f}`` is the file."""


@dataclass(frozen=True)
class Case:
    shape: str  # the kind of message: the corpus counts these
    name: str
    content: bytes | None  # None: the path is a directory
    expected: tuple[str, ...]  # every problem line, ``{f}`` standing for the file's path
    filename: str = "mini.toml"


CASES: list[Case] = []


def mutated(mutate: Callable[[dict], object]) -> bytes:
    data = copy.deepcopy(BASE)
    mutate(data)
    return dumps(data).encode()


def case(shape: str, name: str, mutate: Callable[[dict], object], *expected: str) -> None:
    located = tuple(Re(r"\{f\}: " + e) if isinstance(e, Re) else "{f}: " + e for e in expected)
    CASES.append(Case(shape, name, mutated(mutate), located))


def raw(shape: str, name: str, content: bytes | None, *expected: str, filename: str = "mini.toml") -> None:
    CASES.append(Case(shape, name, content, expected, filename))


def put(loc: str, key: str | int, value) -> Callable[[dict], None]:
    return lambda d: at(d, loc).__setitem__(key, value)


def drop(loc: str, key: str) -> Callable[[dict], None]:
    return lambda d: at(d, loc).pop(key)


def both(*steps: Callable[[dict], object]) -> Callable[[dict], None]:
    def run(d: dict) -> None:
        for step in steps:
            step(d)

    return run


# ---- the format, written out: field -> (kind, required). Kinds: see WRONG below.

FIELDS: dict[str, dict[str, tuple[str, bool]]] = {
    "flow": {
        "id": ("id", True),
        "title": ("text", True),
        "version": ("int", True),
        "provenance": ("text", True),
        "language": ("text", False),
        "meeting_minutes": ("int", False),
        "mask_identity_numbers": ("bool", False),
        "intro": ("text", False),
        "focus": ("table:focus", False),
        "phases": ("list:phase", False),
        "roles": ("list:role", False),
        "sections": ("list:section", True),
        "rules": ("list:rule", False),
    },
    "role": {
        "id": ("id", True),
        "title": ("text", True),
        "party": ("text", True),
        "responsibility": ("text", False),
        "facilitator_only": ("bool", False),
    },
    "section": {
        "id": ("id", True),
        "area": ("area", False),
        "title": ("text", True),
        "intro": ("text", False),
        "self_intro": ("text", False),
        "minutes": ("int", False),
        "kind": ("section-kind", False),
        "facilitator_only": ("bool", False),
        "questions": ("list:question", False),
        "subareas": ("list:subarea", False),
    },
    "subarea": {
        "id": ("id", True),
        "title": ("text", True),
        "intro": ("text", False),
        "sequence": ("bool", False),
        "questions": ("list:question", False),
    },
    "question": {
        "id": ("id", True),
        "text": ("text", True),
        "self_text": ("text", False),
        "help": ("text", False),
        "type": ("question-type", False),
        "choices": ("list:choice", False),
        "allow_other": ("bool", False),
        "scale": ("table:scale", False),
        "when": ("condition", False),
        "tags": ("list:text", False),
        "indicators": ("list:id", False),
    },
    "choice": {"value": ("id", True), "label": ("text", True)},
    "scale": {
        "min": ("int", False),
        "max": ("int", False),
        "min_label": ("text", False),
        "max_label": ("text", False),
    },
    "rule": {
        "id": ("id", True),
        "when": ("condition", True),
        "suggest": ("list:id", False),
        "text": ("text", False),
        "section": ("id", False),
        "reason": ("text", True),
        "priority": ("int", False),
        "action": ("bool", False),
    },
}

TEXT = "ska vara text"
INT = "ska vara ett heltal"
BOOL = "ska vara true eller false"
TABLE = "ska vara en tabell"
LIST = "ska vara en lista"
MISSING = "obligatoriskt fält saknas"
UNKNOWN_FIELD = "okänt fält"
ID_FORM = "har fel form: gemener a–z, siffror och . _ - (t.ex. p4.konkret.omrade)"
AREA_FORM = "ska vara P1–P5 eller A–C"
LANGUAGE_FORM = "ska vara en språkkod med två gemener, t.ex. sv"
CONDITION_KINDS = "all, answered, any, contains_any, equals, flag, focus, mode, not, selected, skipped, time_used, untouched"
NOT_A_CONDITION = f"ett villkor är en tabell med exakt en av nycklarna: {CONDITION_KINDS}"
QUESTION_TYPES = "ska vara ett av: 'text', 'single', 'multi', 'scale' eller 'number'"
SECTION_KINDS = "ska vara ett av: 'dialogue', 'summary' eller 'feedback'"
FLAG_STATES = (
    "ska vara ett av: 'insufficient_data', 'misses_target', 'possibly_misses_target', 'worse_than_peers', "
    "'better_than_peers', 'clearly_worse_than_peers', 'clearly_better_than_peers', 'worse_than_previous' "
    "eller 'better_than_previous'"
)

# kind -> [(wrong value, expected message, shape)]
WRONG: dict[str, list[tuple[object, str, str]]] = {
    "text": [(12345, TEXT, "not text"), (["lista"], TEXT, "not text")],
    "id": [(12345, TEXT, "not text"), ("Stora Bokstäver", ID_FORM, "id of the wrong form")],
    "area": [(5, TEXT, "not text"), ("P9", AREA_FORM, "area of the wrong form")],
    "int": [("10", INT, "not an integer"), (True, INT, "not an integer"), (2.5, INT, "not an integer")],
    "bool": [("false", BOOL, "not true or false"), (1, BOOL, "not true or false")],
    "table": [("text", TABLE, "not a table"), (["lista"], TABLE, "not a table")],
    "list": [("text", LIST, "not a list"), ({"tabell": 1}, LIST, "not a list")],
    "condition": [("text", NOT_A_CONDITION, "not a condition"), ({}, NOT_A_CONDITION, "not a condition")],
    "question-type": [("essay", QUESTION_TYPES, "not one of the allowed words")],
    "section-kind": [("intro", SECTION_KINDS, "not one of the allowed words")],
}


def _loc(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def generated(model: str, data: dict, prefix: str = "") -> None:
    """Wrong types and missing required fields, for every field the mini flow fills in."""
    for key, value in data.items():
        kind, required = FIELDS[model][key]
        where = _loc(prefix, key)
        container = kind.split(":")[0]
        for wrong, message, shape in WRONG[container]:
            case(shape, f"{where} = {wrong!r}", put(prefix, key, wrong), f"{where}: {message}")
        if required:
            case("missing field", f"{where} missing", drop(prefix, key), f"{where}: {MISSING}")
        if kind.startswith("list:"):
            element = kind.split(":")[1]
            for i, item in enumerate(value):
                if element in FIELDS:
                    generated(element, item, f"{where}[{i}]")
                else:
                    for wrong, message, shape in WRONG[element]:
                        case(
                            shape,
                            f"{where}[{i}] = {wrong!r}",
                            put(where, i, wrong),
                            f"{where}[{i}]: {message}",
                        )
        elif kind.startswith("table:"):
            generated(kind.split(":")[1], value, where)


generated("flow", BASE)

# ---- unknown fields, anywhere

case("unknown field", "unknown top-level field", put("", "extra", "x"), f"extra: {UNKNOWN_FIELD}")
case(
    "unknown field",
    "unknown question field",
    put(QLOC["p1.vilka"], "colour", "red"),
    f"{QLOC['p1.vilka']}.colour: {UNKNOWN_FIELD}",
)
case(
    "unknown field",
    "unknown subarea field",
    put("sections[2].subareas[0]", "colour", "red"),
    f"sections[2].subareas[0].colour: {UNKNOWN_FIELD}",
)
case("unknown field", "unknown rule field", put("rules[0]", "then", "x"), f"rules[0].then: {UNKNOWN_FIELD}")
case(
    "unknown field",
    "unknown field in a choice",
    put(QLOC["p3.omrade"] + ".choices[0]", "colour", "red"),
    f"{QLOC['p3.omrade']}.choices[0].colour: {UNKNOWN_FIELD}",
)
case(
    "unknown field",
    "unknown field inside a flag condition",
    put(
        "rules[0]",
        "when",
        {"flag": {"indicator": "telefontillganglighet", "any_of": ["misses_target"], "colour": "red"}},
    ),
    f"rules[0].when.flag.colour: {UNKNOWN_FIELD}",
)

# ---- sizes and bounds

case(
    "too long",
    "huge question text",
    put(QLOC["p1.vilka"], "text", "x" * 100_000),
    f"{QLOC['p1.vilka']}.text: är för lång (högst 4000 tecken)",
)
case("too long", "long title", put("", "title", "T" * 301), "title: är för lång (högst 300 tecken)")
case(
    "too long",
    "an id of 121 characters",
    put("sections[0]", "id", "p" * 121),
    "sections[0].id: är för lång (högst 120 tecken)",
)
case("empty", "empty title", lambda d: d.update(title=""), "title: får inte vara tom")
case(
    "empty",
    "empty question text",
    put(QLOC["p2.vision"], "text", ""),
    f"{QLOC['p2.vision']}.text: får inte vara tom",
)
case(
    "empty",
    "empty choice label",
    put(QLOC["p3.omrade"] + ".choices[1]", "label", ""),
    f"{QLOC['p3.omrade']}.choices[1].label: får inte vara tom",
)
case(
    "too many",
    "101 choices",
    put(QLOC["p3.omrade"], "choices", [{"value": f"v{i}", "label": f"V {i}"} for i in range(101)]),
    f"{QLOC['p3.omrade']}.choices: har för många element (högst 100)",
)
case("too few", "no sections", lambda d: d.update(sections=[]), "sections: har för få element (minst 1)")
case(
    "too few",
    "empty all",
    put("rules[4]", "when", {"all": []}),
    "rules[4].when.all: har för få element (minst 1)",
)
case(
    "too few",
    "empty any",
    put("rules[4]", "when", {"any": []}),
    "rules[4].when.any: har för få element (minst 1)",
)
case(
    "too few",
    "contains_any without words",
    put("rules[1]", "when", {"contains_any": {"question": "p1.miljo", "words": []}}),
    "rules[1].when.contains_any.words: har för få element (minst 1)",
)
case(
    "above the maximum",
    "huge minutes",
    put("sections[0]", "minutes", 10**12),
    "sections[0].minutes: ska vara högst 600",
)
case(
    "above the maximum", "huge version", lambda d: d.update(version=10**30), "version: ska vara högst 1000000"
)
case(
    "above the maximum",
    "a day-long meeting",
    lambda d: d.update(meeting_minutes=1441),
    "meeting_minutes: ska vara högst 1440",
)
case(
    "above the maximum",
    "priority 101",
    put("rules[0]", "priority", 101),
    "rules[0].priority: ska vara högst 100",
)
case(
    "above the maximum",
    "time used beyond the meeting",
    put("rules[4]", "when", {"time_used": 2}),
    "rules[4].when.time_used: ska vara högst 1.0",
)
case("below the minimum", "version 0", lambda d: d.update(version=0), "version: ska vara minst 1")
case(
    "below the minimum",
    "negative minutes",
    put("sections[1]", "minutes", -5),
    "sections[1].minutes: ska vara minst 0",
)
case(
    "below the minimum",
    "priority below zero",
    put("rules[0]", "priority", -1),
    "rules[0].priority: ska vara minst 0",
)
case(
    "below the minimum",
    "scale far below",
    put(QLOC["p4.betyg"], "scale", {"min": -101, "max": 5}),
    f"{QLOC['p4.betyg']}.scale.min: ska vara minst -100",
)

# ---- forms

case(
    "language of the wrong form",
    "language spelled out",
    lambda d: d.update(language="svenska"),
    f"language: {LANGUAGE_FORM}",
)
case(
    "id of the wrong form",
    "spaces in an id",
    put("sections[0]", "id", "P 1 med mellanslag"),
    f"sections[0].id: {ID_FORM}",
)
case(
    "id of the wrong form",
    "å in a question id",
    put(QLOC["p1.miljo"], "id", "p1.miljö"),
    f"{QLOC['p1.miljo']}.id: {ID_FORM}",
)
case(
    "id of the wrong form",
    "a suggested id with a slash",
    put("rules[0]", "suggest", ["p4/telefon"]),
    f"rules[0].suggest[0]: {ID_FORM}",
)
case(
    "area of the wrong form",
    "area in lower case",
    put("sections[1]", "area", "p2"),
    f"sections[1].area: {AREA_FORM}",
)

# ---- conditions

case(
    "not a condition",
    "two keys in a condition",
    put("rules[0]", "when", {"answered": "p1.vilka", "skipped": "p1.vilka"}),
    f"rules[0].when: {NOT_A_CONDITION}",
)
case(
    "not a condition",
    "an eval in a condition",
    put("rules[0]", "when", {"eval": "__import__('os')"}),
    f"rules[0].when: {NOT_A_CONDITION}",
)
case(
    "not a condition",
    "empty not",
    put("rules[0]", "when", {"not": {}}),
    f"rules[0].when.not: {NOT_A_CONDITION}",
)
case(
    "not a condition",
    "a list item that is not a condition",
    put("rules[4]", "when", {"all": [{"untouched": "p4"}, "p4"]}),
    f"rules[4].when.all[1]: {NOT_A_CONDITION}",
)
case(
    "not a condition",
    "a question's condition is a string",
    put(QLOC["p3.levnadsvanor_extra"], "when", "levnadsvanor"),
    f"{QLOC['p3.levnadsvanor_extra']}.when: {NOT_A_CONDITION}",
)
case(
    "flag condition without states",
    "flag without any_of or peers",
    put("rules[0]", "when", {"flag": {"indicator": "telefontillganglighet"}}),
    "rules[0].when.flag: ett flaggvillkor behöver any_of (tillstånd), peers eller change",
)
case(
    "not one of the allowed words",
    "unknown flag state",
    put("rules[0]", "when", {"flag": {"indicator": "telefontillganglighet", "any_of": ["bad"]}}),
    f"rules[0].when.flag.any_of[0]: {FLAG_STATES}",
)
case(
    "not one of the allowed words",
    "unknown peers direction",
    put("rules[0]", "when", {"flag": {"indicator": "telefontillganglighet", "peers": "sämre"}}),
    "rules[0].when.flag.peers: ska vara ett av: 'higher', 'lower' eller 'outside'",
)
case(
    "not one of the allowed words",
    "unknown mode",
    put("rules[0]", "when", {"mode": "solo"}),
    "rules[0].when.mode: ska vara ett av: 'facilitator' eller 'self'",
)
case(
    "not a number",
    "time used as text",
    put("rules[4]", "when", {"time_used": "halva"}),
    "rules[4].when.time_used: ska vara ett tal",
)


def _deep(n: int) -> dict:
    cond: dict = {"answered": "p1.vilka"}
    for _ in range(n):
        cond = {"not": cond}
    return cond


case(
    "conditions nested too deep",
    "300 nested not",
    put("rules[0]", "when", _deep(300)),
    "rules[0].when.not: villkoren är för djupt nästlade",
)

# ---- references: every id a flow names must exist

case(
    "unknown question id",
    "a question's condition names no question",
    put(QLOC["p1.miljo"], "when", {"answered": "finns.inte"}),
    f"{QLOC['p1.miljo']}.when: okänt fråge-id 'finns.inte'",
)
case(
    "unknown question id",
    "skipped names no question",
    put("rules[2]", "when", {"skipped": "p2.visionen"}),
    "rules[2].when: okänt fråge-id 'p2.visionen'",
)
case(
    "unknown question id",
    "equals names no question",
    put("rules[2]", "when", {"equals": {"question": "p9.x", "value": "ja"}}),
    "rules[2].when: okänt fråge-id 'p9.x'",
)
case(
    "unknown question id",
    "contains_any names no question",
    put("rules[1]", "when", {"contains_any": {"question": "p1.arbetsmiljo", "words": ["fall"]}}),
    "rules[1].when: okänt fråge-id 'p1.arbetsmiljo'",
)
case(
    "unknown question id",
    "deep inside all/any/not",
    put(
        "rules[4]",
        "when",
        {"all": [{"untouched": "p4"}, {"any": [{"time_used": 0.6}, {"not": {"answered": "p4.tele"}}]}]},
    ),
    "rules[4].when: okänt fråge-id 'p4.tele'",
)
case(
    "unknown question id",
    "two unknown questions in one condition",
    put("rules[4]", "when", {"any": [{"answered": "b.b"}, {"answered": "a.a"}]}),
    "rules[4].when: okänt fråge-id 'a.a'",
    "rules[4].when: okänt fråge-id 'b.b'",
)
case(
    "unknown question id",
    "a rule suggests no question",
    put("rules[0]", "suggest", ["p4.telefon", "p9.x"]),
    "rules[0].suggest[1]: okänt fråge-id 'p9.x'",
)
case(
    "unknown section id",
    "focus names no section",
    put("rules[0]", "when", {"focus": "p99"}),
    "rules[0].when: okänt avsnitts-id 'p99'",
)
case(
    "unknown section id",
    "untouched names no section",
    put("rules[4]", "when", {"all": [{"untouched": "p5"}, {"time_used": 0.6}]}),
    "rules[4].when: okänt avsnitts-id 'p5'",
)
case(
    "unknown section id",
    "a follow-up belongs to no section",
    put("rules[2]", "section", "p9"),
    "rules[2].section: okänt avsnitts-id 'p9'",
)
assert "finns_inte" not in CATALOGUE_IDS and "telefontillganglighet" in CATALOGUE_IDS
case(
    "unknown indicator id",
    "a flag names an indicator not in the catalogue",
    put("rules[0]", "when", {"flag": {"indicator": "finns_inte", "any_of": ["misses_target"]}}),
    "rules[0].when: okänt indikator-id 'finns_inte'",
)
case(
    "unknown indicator id",
    "a flag deep in a condition",
    put(
        "rules[0]",
        "when",
        {"any": [{"answered": "p4.telefon"}, {"flag": {"indicator": "telefon", "peers": "lower"}}]},
    ),
    "rules[0].when: okänt indikator-id 'telefon'",
)
case(
    "unknown indicator id",
    "a question linked to an indicator not in the catalogue",
    put(QLOC["p4.telefon"], "indicators", ["telefontillganglighet", "finns_inte"]),
    f"{QLOC['p4.telefon']}.indicators: okänt indikator-id 'finns_inte'",
)
case(
    "unknown question id in a template",
    "a question's text asks for an unknown answer",
    put(QLOC["p1.vilka"], "text", 'Vilka? {{ svar("nope") }}'),
    f"{QLOC['p1.vilka']}.text: mallen hänvisar till okänt fråge-id 'nope'",
)
case(
    "unknown question id in a template",
    "a reason asks for an unknown answer",
    put("rules[2]", "reason", 'Om {{ svar("p2.visionen") }}'),
    "rules[2].reason: mallen hänvisar till okänt fråge-id 'p2.visionen'",
)
case(
    "unknown question id in a template",
    "a section intro asks for an unknown answer",
    put("sections[1]", "intro", '{{ svar("x.y", "–") }}'),
    "sections[1].intro: mallen hänvisar till okänt fråge-id 'x.y'",
)

# ---- unique ids

case(
    "duplicate question id",
    "the same question in two sections",
    lambda d: d["sections"][1]["questions"].append(copy.deepcopy(q(d, "p1.vilka"))),
    "sections[1].questions[1].id: frågans id 'p1.vilka' finns redan (först i sections[0].questions[0])",
)
case(
    "duplicate question id",
    "the same question in two subareas",
    lambda d: at(d, "sections[2].subareas[1].questions").append(copy.deepcopy(q(d, "p3.utmaningar"))),
    "sections[2].subareas[1].questions[3].id: frågans id 'p3.utmaningar' finns redan (först i sections[2].subareas[0].questions[0])",
)
case(
    "duplicate question id",
    "a subarea question repeats a section question",
    put(QLOC["p3.avvikelser"], "id", "p1.miljo"),
    f"{QLOC['p3.avvikelser']}.id: frågans id 'p1.miljo' finns redan (först i {QLOC['p1.miljo']})",
    "rules[1].suggest[0]: okänt fråge-id 'p3.avvikelser'",
)
case(
    "duplicate section id",
    "two sections called p1",
    lambda d: d["sections"].append(
        {"id": "p1", "title": "Igen", "questions": [{"id": "ny.fraga", "text": "Ny?"}]}
    ),
    "sections[6].id: avsnittets id 'p1' finns redan (först i sections[0])",
)
case(
    "duplicate subarea id",
    "two subareas called sakerhet",
    put("sections[2].subareas[1]", "id", "sakerhet"),
    "sections[2].subareas[1].id: delområdets id 'sakerhet' finns redan",
)
case(
    "duplicate rule id",
    "two rules called tel-under-mal",
    put("rules[3]", "id", "tel-under-mal"),
    "rules[3].id: regelns id 'tel-under-mal' finns redan",
)
case(
    "duplicate choice value",
    "two choices with one value",
    put(QLOC["p3.omrade"] + ".choices[2]", "value", "rehabplaner"),
    f"{QLOC['p3.omrade']}.choices: samma värde förekommer flera gånger",
)

# ---- what the pieces must say together

case(
    "no questions",
    "sections without questions",
    lambda d: (d.update(rules=[]), [s.update(questions=[], subareas=[]) for s in d["sections"]]),
    "sections: flödet har inga frågor",
)
case(
    "choice question without choices",
    "single without choices",
    put(QLOC["p1.vilka"], "type", "single"),
    f"{QLOC['p1.vilka']}.choices: en fråga av typen single behöver svarsalternativ",
)
case(
    "choice question without choices",
    "multi without choices",
    put(QLOC["p2.vision"], "type", "multi"),
    f"{QLOC['p2.vision']}.choices: en fråga av typen multi behöver svarsalternativ",
)
case(
    "choices on a question without choices",
    "a text question with choices",
    put(QLOC["p3.omrade"], "type", "text"),
    f"{QLOC['p3.omrade']}.choices: bara frågor av typen single och multi har svarsalternativ",
)
case(
    "choices on a question without choices",
    "a scale question with choices",
    put(QLOC["p4.betyg"], "choices", [{"value": "a", "label": "A"}]),
    f"{QLOC['p4.betyg']}.choices: bara frågor av typen single och multi har svarsalternativ",
)
case(
    "scale min not below max",
    "scale min above max",
    put(QLOC["p4.betyg"], "scale", {"min": 5, "max": 1}),
    f"{QLOC['p4.betyg']}.scale: min måste vara mindre än max",
)
case(
    "scale min not below max",
    "scale min equal to max",
    put(QLOC["p4.betyg"], "scale", {"min": 3, "max": 3}),
    f"{QLOC['p4.betyg']}.scale: min måste vara mindre än max",
)
case(
    "value that is no choice",
    "selected value is no choice",
    put(QLOC["p3.levnadsvanor_extra"], "when", {"selected": {"question": "p3.omrade", "value": "nej"}}),
    f"{QLOC['p3.levnadsvanor_extra']}.when: 'nej' är inget svarsalternativ till frågan 'p3.omrade'",
)
case(
    "value that is no choice",
    "equals value is no choice, in a rule",
    put("rules[5]", "when", {"equals": {"question": "p3.omrade", "value": "Artros"}}),
    "rules[5].when: 'Artros' är inget svarsalternativ till frågan 'p3.omrade'",
)
case(
    "selected on a question without choices",
    "selected on a text question",
    put(QLOC["p3.levnadsvanor_extra"], "when", {"selected": {"question": "p1.vilka", "value": "x"}}),
    f"{QLOC['p3.levnadsvanor_extra']}.when: 'selected' behöver en fråga med svarsalternativ, 'p1.vilka' har inga",
)
case(
    "contains_any on a question without text",
    "contains_any on a number",
    put("rules[1]", "when", {"contains_any": {"question": "p4.antal", "words": ["fall"]}}),
    "rules[1].when: 'contains_any' behöver en textfråga, 'p4.antal' är av typen number",
)
case(
    "contains_any on a question without text",
    "contains_any on a scale",
    put("rules[1]", "when", {"contains_any": {"question": "p4.betyg", "words": ["5"]}}),
    "rules[1].when: 'contains_any' behöver en textfråga, 'p4.betyg' är av typen scale",
)
case(
    "rule with nothing to do",
    "a rule that suggests nothing",
    put("rules[0]", "suggest", []),
    "rules[0]: en regel måste föreslå frågor (suggest), ge en följdfråga (text) eller föreslå en åtgärd (action)",
)
case(
    "rule with nothing to do",
    "an action rule made no action",
    put("rules[3]", "action", False),
    "rules[3]: en regel måste föreslå frågor (suggest), ge en följdfråga (text) eller föreslå en åtgärd (action)",
)
case(
    "follow-up without a section",
    "follow-up text without section",
    drop("rules[2]", "section"),
    "rules[2].section: en följdfråga behöver avsnittet den hör till",
)
case(
    "focus min above max",
    "focus 3 to 2",
    lambda d: d.update(focus={"min": 3, "max": 2}),
    "focus: min får inte vara större än max",
)
case(
    "flow id is not the file name",
    "the id differs from the file name",
    lambda d: d.update(id="annan"),
    "id: flödets id 'annan' måste vara detsamma som filnamnet 'mini'",
)

# ---- templates (`flows check` parses every template)

case(
    "template error",
    "an unclosed call",
    put(QLOC["p1.vilka"], "text", "{{ svar( }}"),
    Re(re.escape(QLOC["p1.vilka"]) + r"\.text: mallfel: .+"),
)
case(
    "template error",
    "an unclosed block",
    put("rules[2]", "reason", "{% if flag %}utan slut"),
    Re(r"rules\[2\]\.reason: mallfel: .+"),
)
case(
    "template error",
    "an unclosed expression in a rule's text",
    put("rules[2]", "text", "Hur {{ 1 + }}"),
    Re(r"rules\[2\]\.text: mallfel: .+"),
)
SVAR_NEEDS_AN_ID = 'mallfel: svar() behöver ett fråge-id inom citattecken, t.ex. svar("p4.konkret.omrade")'
case(
    "svar() without a quoted id",
    "svar(x)",
    put(QLOC["p1.vilka"], "text", "{{ svar(x) }}"),
    f"{QLOC['p1.vilka']}.text: {SVAR_NEEDS_AN_ID}",
)
case(
    "svar() without a quoted id",
    "svar() with no argument, in a self_text",
    put(QLOC["p1.vilka"], "self_text", "{{ svar() }}"),
    f"{QLOC['p1.vilka']}.self_text: {SVAR_NEEDS_AN_ID}",
)

# ---- several problems at once are all reported

case(
    "several problems",
    "an unknown question, an unknown section and a duplicate rule",
    both(
        put("rules[1]", "suggest", ["p9.x"]),
        put("rules[2]", "section", "p9"),
        put("rules[5]", "id", "avvikelser"),
    ),
    "rules[1].suggest[0]: okänt fråge-id 'p9.x'",
    "rules[2].section: okänt avsnitts-id 'p9'",
    "rules[5].id: regelns id 'avvikelser' finns redan",
)
case(
    "several problems",
    "wrong types in two places",
    both(put("sections[0]", "minutes", "tio"), put(QLOC["p4.antal"], "type", "tal")),
    f"sections[0].minutes: {INT}",
    f"{QLOC['p4.antal']}.type: {QUESTION_TYPES}",
)


# ---- the bytes: syntax, encoding, size, the file itself


def toml_error(line: int) -> str:
    return Re(r"\{f\}:" + str(line) + r": TOML-syntaxfel: \S.* \(kolumn \d+\)")


def insert_line(n: int, text: str) -> bytes:
    lines = SOURCE_LINES[:]
    lines.insert(n - 1, text)
    return ("\n".join(lines) + "\n").encode()


END = len(SOURCE_LINES) + 2  # a line appended after the file's last line and one blank line
for n in (1, 7, 60, 75, len(SOURCE_LINES)):
    raw("TOML syntax error", f"garbage at line {n}", insert_line(n, "this is = = not toml"), toml_error(n))
for k in (5, 30, 100, len(SOURCE_LINES) - 1):
    raw(
        "TOML syntax error",
        f"unterminated string after line {k}",
        ("\n".join(SOURCE_LINES[:k]) + '\nny_nyckel = "oavslutad\n').encode(),
        toml_error(k + 1),
    )
raw("TOML syntax error", "a key given twice", (SOURCE + '\nid = "igen"\n').encode(), toml_error(END))
raw("TOML syntax error", "an unclosed table header", (SOURCE + "\n[[sections\n").encode(), toml_error(END))
raw("TOML syntax error", "a bad escape", (SOURCE + '\nintro = "\\q"\n').encode(), toml_error(END))
raw(
    "TOML syntax error",
    "a value where tables follow",
    ("sections = 1\n" + SOURCE).encode(),
    toml_error(SOURCE_LINES.index("[[sections]]") + 2),
)
raw("TOML syntax error", "binary", b"\x00\x01\x02PK\x03\x04", toml_error(1))
raw("TOML syntax error", "a NUL after a value", b'id = "x"\x00\n', toml_error(1))
raw(
    "TOML nested too deep",
    "5000 nested arrays",
    ("x = " + "[" * 5000 + "]" * 5000 + "\n").encode(),
    "{f}:1: TOML-strukturen är för djupt nästlad",
)
FIRST_NON_ASCII = next(i for i, line in enumerate(SOURCE_LINES, 1) if not line.isascii())
raw("not UTF-8", "Windows-1252", SOURCE.encode("cp1252"), f"{{f}}:{FIRST_NON_ASCII}: inte UTF-8-text")
raw("not UTF-8", "UTF-16", SOURCE.encode("utf-16"), "{f}:1: inte UTF-8-text")


def _bad_byte(line: int) -> bytes:
    lines = [s.encode() for s in SOURCE_LINES]
    lines[line - 1] += b" # \xff"
    return b"\n".join(lines) + b"\n"


raw("not UTF-8", "one bad byte on line 100", _bad_byte(100), "{f}:100: inte UTF-8-text")
raw(
    "file too large",
    "2 000 001 bytes",
    SOURCE.encode() + b"#" * (2_000_001 - len(SOURCE.encode())),
    "{f}: filen är för stor (2000001 byte, högst 2000000)",
)
raw("unreadable file", "a directory", None, Re(r"\{f\}: kan inte läsas: .+"))
EMPTY = tuple(f"{{f}}: {field}: {MISSING}" for field in ("id", "title", "version", "provenance", "sections"))
raw("missing field", "an empty file", b"", *EMPTY)
raw("missing field", "only a comment", "# inget här\n".encode(), *EMPTY)

# ---- the indicator catalogue (`flows check indicators.toml`)

IND = '[[indicators]]\nid = "a"\nname = "A"\nsource = "Test"\n'
raw(
    "share target outside 0–1",
    "a share target of 1.5",
    (IND + 'kind = "share"\ntarget = 1.5\n').encode(),
    "{f}: indicators[0]: målet för en andel ska ligga mellan 0 och 1",
    filename="indicators.toml",
)
raw(
    "duplicate indicator id",
    "two indicators called a",
    (IND + IND).encode(),
    "{f}: indicators[1].id: id 'a' finns redan",
    filename="indicators.toml",
)
raw(
    "below the minimum",
    "min_n 0",
    (IND + "min_n = 0\n").encode(),
    "{f}: indicators[0].min_n: ska vara minst 1",
    filename="indicators.toml",
)
raw(
    "not one of the allowed words",
    "an unknown direction",
    (IND + 'direction = "up"\n').encode(),
    "{f}: indicators[0].direction: ska vara ett av: 'higher', 'lower' eller 'neutral'",
    filename="indicators.toml",
)
raw(
    "not a number",
    "a target in words",
    (IND + 'target = "hög"\n').encode(),
    "{f}: indicators[0].target: ska vara ett tal",
    filename="indicators.toml",
)
raw(
    "not an integer",
    "min_n as text",
    (IND + 'min_n = "30"\n').encode(),
    f"{{f}}: indicators[0].min_n: {INT}",
    filename="indicators.toml",
)
raw(
    "unknown field",
    "an unknown indicator field",
    (IND + 'colour = "red"\n').encode(),
    f"{{f}}: indicators[0].colour: {UNKNOWN_FIELD}",
    filename="indicators.toml",
)


# "several problems" is not a message of its own: it checks that a report holds every problem.
SHAPES = sorted({c.shape for c in CASES} - {"several problems"})


def test_the_corpus_counts_shapes_and_they_are_what_the_docs_say():
    assert len(SHAPES) >= 50, SHAPES
    doc = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert f"**{len(SHAPES)}** error shapes ({len(CASES)} cases)" in doc


# ---------------------------------------------------------------- running a case


def check(*paths) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["flows", "check", *map(str, paths)])
    return code, out.getvalue(), err.getvalue()


def _matches(expected: str, line: str, path) -> bool:
    if isinstance(expected, Re):
        return re.fullmatch(expected.replace(r"\{f\}", re.escape(str(path))), line, re.DOTALL) is not None
    return line == expected.replace("{f}", str(path))


@pytest.mark.parametrize("c", CASES, ids=[f"{c.shape}: {c.name}"[:120] for c in CASES])
def test_broken_flow_gets_exactly_its_located_messages(tmp_path, c: Case):
    path = tmp_path / c.filename
    if c.content is None:
        path.mkdir()
    else:
        path.write_bytes(c.content)
    code, out, err = check(path)
    assert code == 2, f"{c.name}: exit {code}\n{out}{err}"
    assert err == "", err
    lines = out.splitlines()
    assert lines[-1] == f"{len(c.expected)} fel i 1 av 1 filer.", out
    problems = lines[:-1]
    unmatched = list(problems)
    for expected in c.expected:
        hit = next((line for line in unmatched if _matches(expected, line, path)), None)
        assert hit is not None, f"{c.name}: expected {expected!r}\nbut got:\n{out}"
        unmatched.remove(hit)
    assert not unmatched, f"{c.name}: unexpected lines {unmatched}"


# ---------------------------------------------------------------- what must pass


def test_the_unbroken_flow_passes(tmp_path):
    for content in (SOURCE.encode(), dumps(BASE).encode(), b"\xef\xbb\xbf" + SOURCE.encode()):
        path = tmp_path / "mini.toml"
        path.write_bytes(content)
        assert check(path) == (0, "1 fil OK.\n", "")


def test_every_catalogue_indicator_is_known(tmp_path):
    path = tmp_path / "mini.toml"
    path.write_text(
        mutated(put(QLOC["p4.telefon"], "indicators", sorted(CATALOGUE_IDS))).decode(), encoding="utf-8"
    )
    assert check(path) == (0, "1 fil OK.\n", "")


def test_a_regions_own_indicator_is_known(tmp_path, isolated_dirs):
    path = tmp_path / "mini.toml"
    path.write_bytes(mutated(put(QLOC["p4.telefon"], "indicators", ["egen_matning"])))
    assert (
        check(path)[1].splitlines()[0]
        == f"{path}: {QLOC['p4.telefon']}.indicators: okänt indikator-id 'egen_matning'"
    )
    own = isolated_dirs / "flows"
    own.mkdir(parents=True)
    (own / "indicators.toml").write_text(IND.replace('"a"', '"egen_matning"'), encoding="utf-8")
    assert check(path) == (0, "1 fil OK.\n", "")


def test_every_file_is_checked_and_counted(tmp_path):
    good = tmp_path / "mini.toml"
    good.write_text(SOURCE, encoding="utf-8")
    bad = tmp_path / "b" / "mini.toml"
    bad.parent.mkdir()
    bad.write_bytes(mutated(lambda d: d.update(version=0)))
    code, out, _ = check(good, bad, tmp_path / "saknas.toml")
    assert code == 2
    assert out.splitlines()[-1] == "2 fel i 2 av 3 filer."


def test_a_stored_flow_is_read_as_it_was_written():
    """Dialogues keep their flow's exact text; reading it back is lenient where loading a file
    for use is strict (a 1.0 that pydantic once took for 1 must not lock a dialogue out)."""
    from assistant.flows import FlowError, flow_from_source, parse_flow

    data = copy.deepcopy(BASE)
    data["rules"][0]["priority"] = 70.0
    source = dumps(data)
    assert flow_from_source(source, "0" * 64).flow.rules[0].priority == 70
    with pytest.raises(FlowError, match=r"rules\[0\]\.priority: ska vara ett heltal"):
        parse_flow(tomllib.loads(source), "mini.toml")

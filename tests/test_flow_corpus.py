"""Hundreds of broken flow files: every one is reported with its location, none with a traceback."""

from __future__ import annotations

import copy
import io
import re
import tomllib
from contextlib import redirect_stderr, redirect_stdout

import pytest

from assistant.cli import main
from tests.conftest import FIXTURES

SOURCE = (FIXTURES / "flows" / "mini.toml").read_text(encoding="utf-8")
BASE = tomllib.loads(SOURCE)


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
    if v is None:
        return '""'
    raise TypeError(type(v))


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _value(k)


def dumps(data: dict) -> str:
    # Everything inline: one key = value line per top-level key. Valid TOML, easy to mutate.
    return "\n".join(f"{_key(k)} = {_value(v)}" for k, v in data.items()) + "\n"


# ---------------------------------------------------------------- the corpus


def _paths(data, prefix=()):
    if isinstance(data, dict):
        for k, v in data.items():
            yield prefix + (k,), v
            yield from _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield prefix + (i,), v
            yield from _paths(v, prefix + (i,))


def _set(data, path, value):
    target = data
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value


def _delete(data, path):
    target = data
    for p in path[:-1]:
        target = target[p]
    del target[path[-1]]


def schema_variants() -> list[tuple[str, dict]]:
    out = []
    paths = [p for p, _ in _paths(BASE)]
    for path in paths:
        leaf = path[-1]
        # wrong types (kept below only where the value really is wrong for the field)
        for bad in ("text", 12345, ["lista"], {"tabell": 1}, True, -1.5):
            mutated = copy.deepcopy(BASE)
            _set(mutated, path, bad)
            out.append((f"wrong type at {path}: {bad!r}", mutated))
        # missing fields (dict keys only)
        if isinstance(leaf, str):
            mutated = copy.deepcopy(BASE)
            _delete(mutated, path)
            out.append((f"missing {path}", mutated))
    # unknown / duplicate ids, bad conditions, huge values
    specials = {
        "unknown question in condition": lambda d: d["sections"][0]["questions"][1].update(when={"answered": "finns.inte"}),
        "unknown section in condition": lambda d: d["rules"][0].update(when={"focus": "p99"}),
        "unknown indicator": lambda d: d["rules"][0].update(when={"flag": {"indicator": "nope", "any_of": ["misses_target"]}}),
        "unknown flag state": lambda d: d["rules"][0].update(when={"flag": {"indicator": "telefontillganglighet", "any_of": ["bad"]}}),
        "two keys in a condition": lambda d: d["rules"][0].update(when={"answered": "p1.vilka", "skipped": "p1.vilka"}),
        "unknown condition kind": lambda d: d["rules"][0].update(when={"eval": "__import__('os')"}),
        "empty all": lambda d: d["rules"][0].update(when={"all": []}),
        "empty not": lambda d: d["rules"][0].update(when={"not": {}}),
        "duplicate question id": lambda d: d["sections"][1]["questions"].append(dict(d["sections"][0]["questions"][0])),
        "duplicate section id": lambda d: d["sections"].append(copy.deepcopy(d["sections"][0])),
        "duplicate rule id": lambda d: d["rules"].append(copy.deepcopy(d["rules"][0])),
        "unknown suggested question": lambda d: d["rules"][0].update(suggest=["p9.x"]),
        "template refers to unknown answer": lambda d: d["sections"][0]["questions"][0].update(text='{{ svar("nope") }}'),
        "template syntax error": lambda d: d["sections"][0]["questions"][0].update(text="{{ svar( }}"),
        "template without quotes": lambda d: d["sections"][0]["questions"][0].update(text="{{ svar(x) }}"),
        "choice value not a choice": lambda d: d["sections"][0]["questions"][1].update(when={"selected": {"question": "p3.omrade", "value": "nej"}}),
        "single without choices": lambda d: d["sections"][0]["questions"][0].update(type="single"),
        "scale min above max": lambda d: d["sections"][3]["questions"][2].update(scale={"min": 5, "max": 1}),
        "huge minutes": lambda d: d["sections"][0].update(minutes=10**12),
        "huge version": lambda d: d.update(version=10**30),
        "huge text": lambda d: d["sections"][0]["questions"][0].update(text="x" * 100_000),
        "bad id characters": lambda d: d["sections"][0].update(id="P 1 med mellanslag"),
        "bad area": lambda d: d["sections"][0].update(area="P9"),
        "no sections": lambda d: d.update(sections=[]),
        "no questions": lambda d: [s.update(questions=[], subareas=[]) for s in d["sections"]],
        "rule with nothing to do": lambda d: d["rules"][0].update(suggest=[]),
        "follow-up text without section": lambda d: d["rules"][2].pop("section"),
        "unknown top-level field": lambda d: d.update(extra="x"),
        "unknown question field": lambda d: d["sections"][0]["questions"][0].update(colour="red"),
        "focus min above max": lambda d: d.update(focus={"min": 3, "max": 2}),
        "deep nesting": lambda d: d["rules"][0].update(when=_deep(300)),
    }
    for name, mutate in specials.items():
        mutated = copy.deepcopy(BASE)
        mutate(mutated)
        out.append((name, mutated))
    return [(what, data) for what, data in out if _rejected(data)]


def _rejected(data: dict) -> bool:
    """True when the loader refuses the variant (anything but FlowError is a bug and propagates)."""
    from assistant.flows import FlowError, parse_flow

    try:
        parse_flow(data, "mini.toml")
    except FlowError:
        return True
    return False


def _deep(n: int) -> dict:
    cond: dict = {"answered": "p1.vilka"}
    for _ in range(n):
        cond = {"not": cond}
    return cond


def syntax_variants() -> list[tuple[str, str]]:
    lines = SOURCE.splitlines()
    out = []
    for i in range(0, len(lines), max(1, len(lines) // 40)):
        broken = lines[:]
        broken.insert(i, "this is = = not toml")
        out.append((f"garbage at line {i + 1}", "\n".join(broken)))
    for cut in range(50, len(SOURCE), max(1, len(SOURCE) // 25)):
        out.append((f"truncated at {cut}", SOURCE[:cut] + '\ntext = "unterminated'))
    out += [
        ("duplicate key", SOURCE + '\nid = "again"\n'),
        ("unclosed table", SOURCE + "\n[[sections\n"),
        ("bad escape", SOURCE + '\nintro = "\\q"\n'),
        ("empty file", ""),
        ("only a comment", "# nothing\n"),
        ("binary", "\x00\x01\x02PK\x03\x04"),
        ("wrong encoding", None),
        ("tabs and nul", "id = \"x\"\x00\n"),
        ("array of tables clash", SOURCE + "\nsections = 1\n"),
        ("very deep array", "x = " + "[" * 5000 + "]" * 5000 + "\n"),
    ]
    return out


SCHEMA = schema_variants()
SYNTAX = syntax_variants()


def test_the_corpus_is_large_enough():
    assert len(SCHEMA) + len(SYNTAX) >= 200


def check(path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["flows", "check", str(path)])
    return code, out.getvalue(), err.getvalue()


LOCATED = re.compile(r"^(?P<file>[^:]+\.toml)(:\d+)?: \S")


def assert_located(path, code, out, err, what):
    assert code == 2, f"{what}: exit {code}\n{out}{err}"
    assert "Traceback" not in out + err
    problems = [line for line in out.splitlines() if not re.match(r"^\d+ fel i ", line)]
    assert problems, what
    for line in problems:
        assert LOCATED.match(line), f"{what}: not located: {line!r}"
        assert line.startswith(str(path)), line


@pytest.mark.parametrize("index", range(len(SCHEMA)))
def test_schema_variant_is_located(tmp_path, index):
    what, data = SCHEMA[index]
    path = tmp_path / "mini.toml"
    path.write_text(dumps(data), encoding="utf-8")
    code, out, err = check(path)
    assert_located(path, code, out, err, what)
    if "(at line" not in out:  # schema errors name the field path after the file name
        assert any(re.match(rf"^{re.escape(str(path))}: [a-z_\[\]0-9.()]", line) for line in out.splitlines())


@pytest.mark.parametrize("index", range(len(SYNTAX)))
def test_syntax_variant_is_located(tmp_path, index):
    what, text = SYNTAX[index]
    path = tmp_path / "mini.toml"
    if text is None:
        path.write_bytes(SOURCE.encode("utf-16"))
    else:
        path.write_text(text, encoding="utf-8")
    code, out, err = check(path)
    assert_located(path, code, out, err, what)


def test_the_unbroken_flow_passes(tmp_path):
    path = tmp_path / "mini.toml"
    path.write_text(dumps(BASE), encoding="utf-8")
    code, out, _ = check(path)
    assert code == 0, out

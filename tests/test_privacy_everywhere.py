"""Personal identity numbers never reach the database, the search index, an export or a bundle.

A property test: hypothesis makes valid personnummer and samordningsnummer (any birth date since
1900, 10 or 12 digits, every separator the masking knows, letters glued on or not) and puts each
through every door text enters by — the line mode, the command-line options (clinic,
participants and roles, focus parties, action owners, ``correct --who``, ``actions --who``),
indicator files, bundles and JSON imports. Then it looks for the number, as digits, everywhere
the text could have gone. The oracle builds its own numbers and Luhn digits and searches with its
own pattern; it never asks the masking code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli
from tests.test_chat import user_flows  # noqa: F401 - fixture

SEPARATORS = ["", "-", "\u2013", "\u2212", "\u2011", "\uff0d", " ", "+", "\u00a0", " - "]
PREFIXES = ["", "Patient ", "pnr", "pnr ", "(", '"', "Anna ", "\n", "abc", "Personnummer "]
SUFFIXES = ["", " ringde.", ")", "abc", ".", "!", "\n", " – klart"]


def check_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Number:
    text: str  # as written, with its context
    date6: str  # YYMMDD as in the number (day + 60 for a samordningsnummer)
    last4: str

    @property
    def pattern(self) -> re.Pattern[str]:
        # the digits of the number with anything but digits (at most 3 characters) between
        return re.compile(re.escape(self.date6) + r"\D{0,3}" + re.escape(self.last4))


@st.composite
def numbers(draw, sep: str) -> Number:
    born = draw(st.dates(date(1900, 1, 1), date(2025, 12, 31)))
    coordination = draw(st.booleans())
    day = born.day + (60 if coordination else 0)
    serial = f"{draw(st.integers(0, 999)):03d}"
    date6 = f"{born:%y%m}{day:02d}"
    last4 = serial + check_digit(date6 + serial)
    century = draw(st.booleans())
    written = (f"{born:%Y}"[:2] if century else "") + date6 + sep + last4
    prefix, suffix = draw(st.sampled_from(PREFIXES)), draw(st.sampled_from(SUFFIXES))
    if not century and not sep and date6[0] == "0" and date6[1] != "0":
        # 10 digits from 0 + a prefix are also a phone number; only a text that says
        # personnummer makes this reading the only plausible one (tests/test_privacy.py).
        prefix = draw(st.sampled_from(["pnr ", "Personnummer ", "pnr", "p-nr. "]))
    return Number(prefix + written + suffix, date6, last4)


# One example: a number with each separator, so that every example tries them all.
every_separator = st.tuples(*(numbers(sep) for sep in SEPARATORS))


def run(*argv: str, stdin: str = "") -> str:
    code, out, err = run_cli(*argv, stdin=stdin)
    assert code == 0, (argv, err)
    return out


def database_text(path: Path) -> str:
    """Every text value in every table, and every term of the full-text index."""
    con = sqlite3.connect(path)
    try:
        parts = []
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):
                parts += [v for v in row if isinstance(v, str)]
        con.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, search_fts, 'row')")
        parts += [r[0] for r in con.execute("SELECT term FROM temp.terms")]
    finally:
        con.close()
    return "\n".join(parts)


def json_strings(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(json_strings(k) + "\n" + json_strings(v) for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(json_strings(v) for v in value)
    return ""


def docx_text(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        texts += [c.text for row in table.rows for c in row.cells]
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode("utf-8")
    return "\n".join(texts) + "\n" + xml


def outputs(db: Path, did: str, folder: Path, formats=("md", "html", "json", "docx")) -> dict[str, str]:
    """Where the text can go: the database and its index, exports and a bundle."""
    found = {"database": database_text(db)}
    for fmt in formats:
        target = folder / f"x.{fmt}"
        run("export", did, "--format", fmt, "-o", str(target))
        data = target.read_bytes()
        found[fmt] = (
            docx_text(data) if fmt == "docx" else json_strings(json.loads(data)) if fmt == "json" else data.decode()
        )
    bundle = folder / "paket.json"
    run("bundle", "export", did, "-o", str(bundle))
    found["bundle"] = json_strings(json.loads(bundle.read_text(encoding="utf-8")))
    found["show"] = run("show", did)
    return found


def assert_nowhere(numbers: tuple[Number, ...], found: dict[str, str]) -> None:
    for number in numbers:
        for where, text in found.items():
            hit = number.pattern.search(text)
            assert hit is None, (
                f"{number.text!r} survived in the {where}: {text[max(0, hit.start() - 30):hit.end() + 10]!r}"
            )


SETTINGS = dict(
    deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@given(numbers=every_separator)
@settings(max_examples=12, **SETTINGS)
def test_no_identity_number_survives_any_door(user_flows, tmp_path, numbers):  # noqa: F811
    every_door(tmp_path, numbers)


@pytest.mark.slow
@given(numbers=every_separator)
@settings(max_examples=200, **SETTINGS)
def test_no_identity_number_survives_any_door_many(user_flows, tmp_path, numbers):  # noqa: F811
    every_door(tmp_path, numbers)


def every_door(tmp_path: Path, numbers: tuple[Number, ...]) -> None:
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    db = folder / "x.db"
    os.environ["DIALOGSTOD_DB"] = str(db)
    n = " och ".join(number.text for number in numbers)
    one_line = " ".join(n.split())  # a line-mode command and an option are one line
    # an indicator file
    csv = folder / "data.csv"
    rows = ["enhet;indikator;period;täljare;nämnare;riktning"]
    for i, number in enumerate(numbers):  # a row each: the names are at most 200 characters
        x = " ".join(number.text.split())
        rows.append(f"Fysio {i} {x};Egen {x};2025 {x};30;40;högre")
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run("data", "import", str(csv))
    # the line mode and every option
    script = f"{n}\\\nmer\n/anteckning {one_line}\n/åtgärd Ring {one_line}; ansvarig Anna {one_line}\n/avsluta\n"
    run(
        "chat", "--flow", "mini", "--clinic", f"Fysio {one_line}",
        "--participant", f"Anna {one_line}:roll {one_line}", "--focus", f"part {one_line}=p1,p2", stdin=script,
    )
    did = json.loads(run("list", "--json"))[0]["id"]
    run("correct", did, "p1.vilka", f"Rättat {n}", "--who", f"Bo {one_line}")
    run("actions", "--done", f"{did}:a1", "--who", f"Cy {one_line}")
    found = outputs(db, did, folder)
    assert "ÅÅÅÅMMDD-XXXX" in found["database"]  # the masking really ran (the oracle is not vacuous)
    assert_nowhere(numbers, found)

    # a bundle and a JSON export written elsewhere, with the number in every text, imported here
    doc = json.loads((folder / "paket.json").read_text(encoding="utf-8"))
    entry = doc["dialogues"][0]
    entry["dialogue"]["id"] = str(uuid.uuid4())
    entry["dialogue"]["clinic"] = f"Klinik {n}"
    entry["dialogue"]["participants"] = [{"name": f"Anna {n}", "role": n}]
    for event in entry["events"]:
        if event["text"] is not None:
            event["text"] = f"{event['text']} {n}"
        if event["kind"] == "started":
            event["payload"]["clinic"] = f"Klinik {n}"
            event["payload"]["participants"] = [{"name": f"Anna {n}", "role": n}]
        if event["kind"] == "action_added":
            event["payload"]["owner"] = n
    doc["sha256"] = hashlib.sha256(
        json.dumps(doc["dialogues"], ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    single = {"format": "dialogstod-dialogue", "version": 1, **{**entry, "dialogue": {**entry["dialogue"], "id": str(uuid.uuid4())}}}
    for name, content in (("bundle", doc), ("single", single)):
        source = folder / f"in-{name}.json"
        source.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
        os.environ["DIALOGSTOD_DB"] = str(folder / f"{name}.db")
        run("bundle", "import", str(source))
        did = content.get("dialogue", entry["dialogue"])["id"]
        assert_nowhere(numbers, outputs(folder / f"{name}.db", did, folder, formats=("md",)))

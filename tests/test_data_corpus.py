"""Broken indicator files through `dialogstod data import`: each is refused with located messages,
exit 2, and nothing is imported — not even the good rows of the same file."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout

import pytest

from assistant.cli import main

HEADER = "enhet;indikator;period;täljare;nämnare;värde;riktning;mål"
GOOD = "Fysio A;telefontillganglighet;2025;850;1000;;;"
GOOD2 = "Fysio B;npe_respekt;2025;90;100;;;"


def csv(*lines: str, header: str = HEADER, encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode(encoding)


ROW_ERRORS = [
    ("text in numerator", "Fysio C;telefontillganglighet;2025;många;1000;;;"),
    ("text in denominator", "Fysio C;telefontillganglighet;2025;850;tusen;;;"),
    ("text in value", "Fysio C;telefontillganglighet;2025;;;hög;;"),
    ("numerator above denominator", "Fysio C;telefontillganglighet;2025;1200;1000;;;"),
    ("negative numerator", "Fysio C;telefontillganglighet;2025;-5;1000;;;"),
    ("negative denominator", "Fysio C;telefontillganglighet;2025;5;-1000;;;"),
    ("zero denominator", "Fysio C;telefontillganglighet;2025;0;0;;;"),
    ("fractional count", "Fysio C;telefontillganglighet;2025;850,5;1000;;;"),
    ("numerator without denominator", "Fysio C;telefontillganglighet;2025;850;;;;"),
    ("no value at all", "Fysio C;telefontillganglighet;2025;;;;;"),
    ("value disagrees with counts", "Fysio C;telefontillganglighet;2025;850;1000;50 %;;"),
    ("share above 100 %", "Fysio C;telefontillganglighet;2025;;;120 %;;"),
    ("share above 100", "Fysio C;telefontillganglighet;2025;;;250;;"),
    ("negative share", "Fysio C;telefontillganglighet;2025;;;-3 %;;"),
    ("missing clinic", ";telefontillganglighet;2025;850;1000;;;"),
    ("missing indicator", "Fysio C;;2025;850;1000;;;"),
    ("missing period", "Fysio C;telefontillganglighet;;850;1000;;;"),
    ("unknown indicator without direction", "Fysio C;ny_indikator;2025;850;1000;;;"),
    ("unknown direction", "Fysio C;ny_indikator;2025;850;1000;;uppåt;"),
    ("direction contradicts catalogue", "Fysio C;telefontillganglighet;2025;850;1000;;lägre;"),
    ("target above 100 %", "Fysio C;telefontillganglighet;2025;850;1000;;;150"),
    ("target for neutral indicator", "Fysio C;besok_distans;2025;10;100;;;10 %"),
    ("text target", "Fysio C;telefontillganglighet;2025;850;1000;;;hög"),
    ("duplicate row", GOOD),
    ("duplicate with other case", "FYSIO A;telefontillganglighet;2025;850;1000;;;"),
    ("nan", "Fysio C;telefontillganglighet;2025;;;nan;;"),
    ("infinity", "Fysio C;telefontillganglighet;2025;;;inf;;"),
    ("hex number", "Fysio C;telefontillganglighet;2025;0x10;1000;;;"),
    ("too few cells", "Fysio C;telefontillganglighet"),
    ("percent sign in count", "Fysio C;telefontillganglighet;2025;85 %;1000;;;"),
]

FILE_ERRORS = [
    ("empty file", b""),
    ("only a BOM and blank lines", b"\xef\xbb\xbf\r\n\r\n  \r\n"),
    ("header only", csv()),
    ("binary file", b"\x00\x01\x02\x03\x04\x05binary\x00" * 20),
    ("old Excel file", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200),
    ("fake xlsx", b"PK\x03\x04 not really a zip"),
    ("wrong headers", csv(GOOD, header="namn;sak;tid;a;b;c")),
    ("english and swedish mixed wrongly", csv(GOOD, header="clinic;indikator;tid;täljare;nämnare;värde")),
    ("missing period column", csv("Fysio A;telefontillganglighet;850;1000;;;", header="enhet;indikator;täljare;nämnare;värde;riktning;mål")),
    ("duplicate column", csv("A;A;telefontillganglighet;2025;1;2", header="enhet;enhet;indikator;period;täljare;nämnare")),
    ("wrong delimiter: pipes", "\n".join([HEADER.replace(";", "|"), GOOD.replace(";", "|")]).encode()),
    ("wrong delimiter: spaces", "\n".join([HEADER.replace(";", " "), GOOD.replace(";", " ")]).encode()),
    ("mixed encodings", csv(GOOD).rstrip(b"\r\n") + b"\r\nFysio \xe5sa;npe_respekt;2025;90;100;;;\r\n"),
    ("a JSON file", b'{"enhet": "A", "indikator": "telefontillganglighet"}'),
    ("an HTML page", b"<html><body><table><tr><td>enhet</td></tr></table></body></html>"),
    ("utf-16 without data", "enhet;indikator;period;värde\r\n".encode("utf-16")),
    ("a directory-like name", None),
]


def variants() -> list[tuple[str, bytes | None, int | None]]:
    """(what, file content, the row the error must name — None for an error of the whole file)."""
    out = []
    for what, line in ROW_ERRORS:
        # The broken line is the file's third row: header, GOOD, broken, GOOD2.
        out.append((what, csv(GOOD, line, GOOD2), 3))
        out.append((what + " (cp1252)", csv(GOOD, line, GOOD2, encoding="cp1252"), 3))
    out += [(what, content, None) for what, content in FILE_ERRORS]
    return out


VARIANTS = variants()


def test_the_corpus_is_large_enough():
    assert len(VARIANTS) >= 50
    assert sum(1 for *_, row in VARIANTS if row is not None) == 2 * len(ROW_ERRORS)


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("what", "content", "bad_row"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_broken_file_is_refused_and_nothing_imported(tmp_path, what, content, bad_row):
    path = tmp_path / "indikatorer.csv"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    db = tmp_path / "d.db"
    code, out, err = run("--db", str(db), "data", "import", str(path))
    assert code == 2, f"{what}: {out}{err}"
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, what
    # every message names the row, or the file when the whole file is wrong
    assert all(("rad " in line) or (str(path) in line) or ("indikatorer.csv" in line) for line in lines[:-1] or lines), err
    if bad_row is not None:
        # every row-level message is about the broken row, and there is one
        assert set(re.findall(r"^dialogstod: rad (\d+)\b", err, re.M)) == {str(bad_row)}, f"{what}: {err}"
    from storage import Store

    with Store.open(db) as store:
        assert store.indicator_values() == [], what


def test_the_good_rows_alone_import(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_bytes(csv(GOOD, GOOD2))
    code, out, err = run("--db", str(tmp_path / "d.db"), "data", "import", str(path))
    assert code == 0, err
    assert "Importerade 2 rader" in out

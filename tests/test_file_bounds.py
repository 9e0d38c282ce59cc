"""Files in and out have real bounds: exports write only regular files (never over a device, a
fifo, a socket or a directory) and every failure is one line and exit code 2; reading a data
file, a bundle or a flow stops at its limit whatever the file is (/dev/zero, a pipe); an .xlsx is
bounded by what it unpacks to and by its cells, before it is parsed."""

from __future__ import annotations

import os
import resource
import signal
import socket
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assistant import engine as E
from assistant.database import open_store
from assistant.session import Dialogue
from tests.conftest import REPO
from tests.test_chat import user_flows  # noqa: F401 - fixture
from tests.test_cli_archive import run


@pytest.fixture
def held(user_flows):  # noqa: F811
    with open_store() as store:
        d = Dialogue.start(store, "mini", E.StartOptions(clinic="Fysio Åby"))
        d.do(E.Answer("Tre fysioterapeuter"))
        return d.id


def one_line_refusal(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dialogstod: "), err
    return lines[0]


def make_target(tmp_path: Path, kind: str) -> Path:
    target = tmp_path / f"mål-{kind}"
    if kind == "device":  # a link to one: what a typo or a script might name
        target.symlink_to("/dev/null")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(target))
        server.close()
    elif kind == "directory":
        target.mkdir()
    return target


KINDS = {"device": stat.S_ISCHR, "fifo": stat.S_ISFIFO, "socket": stat.S_ISSOCK, "directory": stat.S_ISDIR}
WORDS = {"device": "en teckenenhet", "fifo": "fifo", "socket": "en socket", "directory": "en katalog"}


@pytest.mark.parametrize("command", ["export", "bundle export"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_exports_never_replace_what_is_not_a_regular_file(held, tmp_path, kind, command):
    target = make_target(tmp_path, kind)
    args = ["export", held[:8], "-f", "md", "-o", str(target)] if command == "export" else [
        "bundle", "export", held[:8], "-o", str(target)]
    line = one_line_refusal(*run(*args)[::2])
    assert WORDS[kind] in line and "skrivs inte över" in line
    assert KINDS[kind](os.stat(target).st_mode)  # still what it was
    if kind == "device":
        assert os.readlink(target) == "/dev/null"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dialogstod-")] == []


def test_missing_directories_are_created_only_when_asked(held, tmp_path):
    target = tmp_path / "ny" / "mapp" / "dialog.html"
    line = one_line_refusal(*run("export", held[:8], "-o", str(target))[::2])
    assert "finns inte" in line and "--parents" in line and not target.parent.exists()
    code, out, err = run("export", held[:8], "-o", str(target), "--parents")
    assert code == 0, err
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(target.parent).st_mode) == 0o700
    bundle = tmp_path / "paket" / "b.bundle"
    assert run("bundle", "export", held[:8], "-o", str(bundle), "--parents")[0] == 0 and bundle.is_file()


def test_a_path_through_a_file_is_one_line(held, tmp_path):
    (tmp_path / "fil").write_text("x")
    line = one_line_refusal(*run("export", held[:8], "-o", str(tmp_path / "fil" / "x.md"))[::2])
    assert "inte en katalog" in line


def test_an_unwritable_directory_is_one_line(held):
    line = one_line_refusal(*run("export", held[:8], "-o", "/proc/dialogstod-export.md")[::2])
    assert "kan inte skrivas" in line


LIMIT = 256 * 1024  # larger than the database's -shm file (32 KiB) and what the export reads and writes there


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_running_out_of_space_while_writing_is_one_line_and_leaves_nothing(user_flows, tmp_path):  # noqa: F811
    with open_store() as store:
        d = Dialogue.start(store, "mini", E.StartOptions(clinic="Fysio Stor"))
        d.do(E.Answer("Ett långt svar. " * 40_000))  # the export is larger than the limit
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    out = tmp_path / "ut"
    out.mkdir()
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "export", d.id[:8], "-f", "html", "-o", str(out / "d.html")],
        capture_output=True, text=True, encoding="utf-8", cwd=REPO, env=env, timeout=120, preexec_fn=_limit_file_size,
    )
    line = one_line_refusal(done.returncode, done.stderr)
    assert "d.html kan inte skrivas (filen blir för stor)" in line
    assert list(out.iterdir()) == []  # no half-written file, no temporary file


# ---------------------------------------------------------------- bounded reads


def cli_process(*args: str, stdin=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args], stdin=stdin, capture_output=True, text=True,
        encoding="utf-8", cwd=REPO, env=env, timeout=120,
    )


@pytest.mark.parametrize(
    "args, limit",
    [
        (("data", "import", "/dev/zero"), "filen är för stor (mer än 50000000 byte"),
        (("bundle", "import", "/dev/zero"), "filen är för stor (mer än 100000000 byte"),
        (("flows", "check", "/dev/zero"), "filen är för stor (mer än 2000000 byte"),
    ],
)
def test_reading_stops_at_the_limit_whatever_the_file_is(args, limit):
    done = cli_process(*args)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert limit in done.stdout + done.stderr


def test_an_endless_pipe_is_bounded_too():
    yes = subprocess.Popen(["yes", "dialogstod"], stdout=subprocess.PIPE)
    try:
        done = cli_process("bundle", "import", "/dev/stdin", stdin=yes.stdout)
    finally:
        yes.kill()
        yes.wait()
        yes.stdout.close()
    assert done.returncode == 2 and "för stor (mer än 100000000 byte" in done.stderr and "Traceback" not in done.stderr


def test_a_pipe_of_good_data_is_read():
    from assistant.data import DEMO_FILE

    with open(DEMO_FILE, "rb") as fh:
        done = cli_process("data", "import", "/dev/stdin", stdin=fh)
    assert done.returncode == 0, done.stderr


def _xlsx(path: Path, sheet_rows) -> Path:
    """A minimal .xlsx with one sheet whose XML rows come from ``sheet_rows`` (written as streamed)."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            fh.write(b'<dimension ref="A1:XFD1048576"/><sheetData>')
            for chunk in sheet_rows:
                fh.write(chunk)
            fh.write(b"</sheetData></worksheet>")
    return path


def _inline(row: int, col: str, text: str) -> bytes:
    return f'<c r="{col}{row}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def test_an_xlsx_that_unpacks_too_far_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    import openpyxl

    from assistant.data import importer

    row = b'<row r="2"><c r="A2"><v>1</v></c></row>' * 1000
    bomb = _xlsx(tmp_path / "bomb.xlsx", (row for _ in range(3_000)))  # ~110 MB of XML
    assert bomb.stat().st_size < 2_000_000

    def parsed(*args, **kwargs):
        raise AssertionError("openpyxl was asked to parse the workbook")

    monkeypatch.setattr(openpyxl, "load_workbook", parsed)
    result = importer.parse_indicator_file(bomb, catalogue=None)
    assert result.rows == [] and "packas upp till" in result.errors[0][1]


def test_an_xlsx_is_bounded_in_cells_and_a_lying_dimension_pads_nothing(tmp_path):
    from assistant.data import importer
    from assistant.data.importer import load_indicator_catalogue

    catalogue = load_indicator_catalogue()
    header = b'<row r="1">' + b"".join(
        _inline(1, c, t) for c, t in zip("ABCDEF", ("enhet", "indikator", "period", "täljare", "nämnare", "värde"), strict=True)
    ) + b"</row>"
    good = header + b'<row r="2">' + _inline(2, "A", "Fysio Norr") + _inline(2, "B", "telefontillganglighet") + (
        _inline(2, "C", "2025") + b'<c r="D2"><v>80</v></c><c r="E2"><v>100</v></c></row>'
    )
    fine = importer.parse_indicator_file(_xlsx(tmp_path / "ok.xlsx", [good]), catalogue)
    assert fine.errors == [] and len(fine.rows) == 1  # <dimension ref="A1:XFD1048576"/> ignored

    far = b"".join(f'<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>'.encode() for r in range(2, 400))
    wide = importer.parse_indicator_file(_xlsx(tmp_path / "wide.xlsx", [header, far]), catalogue)
    assert wide.rows == [] and "fler än 2" in wide.errors[0][1] and "celler" in wide.errors[0][1]


def test_stdin_bundle_import_reads_a_real_bundle(held, tmp_path):
    bundle = tmp_path / "b.bundle"
    assert run("bundle", "export", held[:8], "-o", str(bundle))[0] == 0
    other = tmp_path / "other.db"
    with open(bundle, "rb") as fh:
        done = cli_process("--db", str(other), "bundle", "import", "/dev/stdin", stdin=fh)
    assert done.returncode == 0 and "1 ny dialog" in done.stdout, done.stderr

"""Bytes that are not UTF-8 (Latin-1/cp1252 from Windows or an old terminal) on stdin and in
arguments never give a traceback: text is read as cp1252 and stored as the person meant it; a
file name keeps its bytes so the file is still found. Run as real processes with real bytes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from assistant.textsafe import repair_undecodable
from tests.conftest import REPO
from tests.test_chat import proc_env, user_flows  # noqa: F401 - fixtures


def dialogstod(env, *args: bytes | str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    argv = [os.fsencode(sys.executable), b"-m", b"assistant.cli"]
    argv += [a if isinstance(a, bytes) else a.encode() for a in args]
    done = subprocess.run(argv, input=stdin, capture_output=True, cwd=REPO, env=env, timeout=120)
    assert b"Traceback" not in done.stderr, done.stderr.decode("utf-8", "replace")
    return done


@pytest.fixture
def strict_env(proc_env):  # noqa: F811
    """Standard streams that refuse what they cannot decode, as under LANG=sv_SE.UTF-8."""
    return dict(proc_env, PYTHONIOENCODING="utf-8:strict")


def stored_texts(env) -> list[str]:
    from storage import Store

    with Store.open(env["DIALOGSTOD_DB"]) as store:
        return [e.text for row in store.list_dialogues() for e in store.load_events(row["id"]) if e.text]


def test_cp1252_answers_on_stdin_are_stored_as_meant(strict_env):
    done = dialogstod(strict_env, "chat", "--flow", "mini", "--clinic", "Fysio", stdin=b"V\xe5rdcentralen \xc5by\nGod milj\xf6\n/quit\n")
    assert done.returncode == 0
    out = done.stdout.decode("utf-8")
    assert "lästes som Windows-1252: Vårdcentralen Åby" in out
    assert {"Vårdcentralen Åby", "God miljö"} <= set(stored_texts(strict_env))


def test_utf8_and_cp1252_mixed_in_one_line_keep_the_utf8(strict_env):
    line = "Åsa på ".encode() + b"v\xe5rdcentralen\n/quit\n"
    assert dialogstod(strict_env, "chat", "--flow", "mini", "--clinic", "Fysio", stdin=line).returncode == 0
    assert "Åsa på vårdcentralen" in stored_texts(strict_env)


def test_cp1252_in_arguments_is_read_as_meant(strict_env):
    done = dialogstod(strict_env, "chat", "--flow", "mini", "--clinic", b"Bad\xff V\xe5rd", stdin=b"/quit\n")
    assert done.returncode == 0
    assert "Badÿ Vård" in done.stdout.decode("utf-8")
    listed = dialogstod(strict_env, "list", "--clinic", b"bad\xff v\xe5rd")
    assert "Badÿ Vård" in listed.stdout.decode("utf-8")
    found = dialogstod(strict_env, "search", b"s\xf6k")
    assert found.returncode == 0 and "Inga träffar för 'sök'" in found.stdout.decode("utf-8")
    did = listed.stdout.decode("utf-8").splitlines()[1][:8]
    fixed = dialogstod(strict_env, "correct", did, "p1.vilka", b"R\xe4ttat svar", "--who", b"\xc5sa")
    assert fixed.returncode == 0, fixed.stderr
    assert "Rättat svar" in stored_texts(strict_env)


def test_a_file_name_that_is_not_utf8_is_still_found(strict_env, tmp_path):
    from assistant.data import DEMO_FILE

    name = os.fsencode(tmp_path) + b"/indikatorer-\xe5r.csv"
    with open(name, "wb") as fh, open(DEMO_FILE, "rb") as demo:
        fh.write(demo.read())
    done = dialogstod(strict_env, "data", "import", name)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"Importerade ") and b" nya" in done.stdout


def test_output_that_the_terminal_cannot_encode_is_escaped(proc_env):  # noqa: F811
    env = dict(proc_env, PYTHONIOENCODING="ascii:strict")
    done = dialogstod(env, "chat", "--flow", "mini", "--clinic", "Vårdcentralen Åby", stdin=b"Svar\n/quit\n")
    assert done.returncode == 0
    assert b"V\\xe5rdcentralen \\xc5by" in done.stdout


@pytest.mark.parametrize(
    "raw, meant",
    [
        (b"V\xe5rdcentralen", "Vårdcentralen"),
        (b"\x93citat\x94 \x96 tankstreck \x80", "“citat” – tankstreck €"),
        ("Åsa ".encode() + b"\xe4r h\xe4r", "Åsa är här"),
        (b"odefinierad \x81", "odefinierad \x81"),
        ("redan UTF-8: åäö".encode(), "redan UTF-8: åäö"),
    ],
)
def test_repair_reads_what_is_not_utf8_as_cp1252(raw, meant):
    assert repair_undecodable(raw.decode("utf-8", "surrogateescape")) == meant


def test_repair_replaces_other_lone_surrogates():
    assert repair_undecodable("a\ud800b") == "a\ufffdb"

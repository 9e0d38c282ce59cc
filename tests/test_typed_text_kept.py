"""A typed answer is never lost: the line mode and the app with a database that is busy, read-only
or full, or written to by another window in between.

The faults are real SQLite conditions on the real write path: another process holding the write
lock; ``PRAGMA query_only`` (SQLITE_READONLY, as for a read-only file) and ``PRAGMA
max_page_count`` (SQLITE_FULL, as for a full disk) on the store's own connection.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO


@pytest.fixture
def store(isolated_dirs):
    from assistant import locations
    from assistant.database import open_store

    folder = locations.user_flows_dir()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "flows" / "mini.toml", folder / "mini.toml")
    s = open_store()
    yield s
    s.close()


@pytest.fixture
def short_busy_timeout(monkeypatch):
    """Give up on a held lock after 0.2 s instead of 5 (set before the store is opened)."""
    from storage import opening

    monkeypatch.setattr(opening, "BUSY_TIMEOUT_MS", 200)


def start(store, clinic="Fysio Test"):
    from assistant import engine as E
    from assistant.session import Dialogue

    return Dialogue.start(store, "mini", E.StartOptions(clinic=clinic))


class Script:
    """Input for the line mode: lines, and callables run when the chat reads past them."""

    def __init__(self, *items):
        self.items = list(items)

    def readline(self) -> str:
        while self.items:
            item = self.items.pop(0)
            if callable(item):
                item()
                continue
            return item + "\n"
        return ""

    def isatty(self) -> bool:
        return False


def line_chat(d, *items) -> str:
    from assistant.chat import LineChat

    out = io.StringIO()
    assert LineChat(d, inp=Script(*items), out=out, interactive=False).run(fresh=True) == 0
    return out.getvalue()


def stored(store, did) -> list[tuple]:
    return [(e.kind, e.qid, e.text) for e in store.load_events(did)]


def recovery_file(store) -> Path:
    return Path(f"{store.path}.osparat.txt")


HOLD = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.execute("COMMIT")
    """
)


class LockHolder:
    """Another process that holds the database's write lock for ``seconds``."""

    def __init__(self, db: Path, seconds: float):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True, cwd=REPO
        )
        assert self.proc.stdout.readline().strip() == "locked"

    def wait(self) -> None:
        self.proc.wait(timeout=60)
        self.proc.stdout.close()


# ---------------------------------------------------------------- the line mode


def test_line_mode_waits_for_a_busy_database_with_a_message(short_busy_timeout, store):
    d = start(store)
    holders = []
    out = line_chat(d, "Tre", lambda: holders.append(LockHolder(store.path, 1.5)), "God men trång", "/quit")
    holders[0].wait()
    assert "Databasen är upptagen av ett annat program" in out
    assert "Databasen är ledig igen; det är sparat." in out
    assert ("answered", "p1.miljo", "God men trång") in stored(store, d.id)
    assert out.index("Databasen är ledig igen") < out.index("Hur ser verksamhetens egen verksamhetsidé")


def test_line_mode_busy_too_long_keeps_the_answer_for_igen(short_busy_timeout, store, monkeypatch):
    from assistant import session

    monkeypatch.setattr(session, "PATIENCE_S", 0.5)
    d = start(store)
    holders = []
    out = line_chat(
        d,
        "Tre",
        lambda: holders.append(LockHolder(store.path, 2.5)),
        "God men trång",
        lambda: holders[0].wait(),
        "/igen",
        "/quit",
    )
    assert "Svaret kunde inte sparas i databasen: databasen var upptagen" in out
    assert "Skriv /igen" in out
    assert "God men trång" in recovery_file(store).read_text(encoding="utf-8")
    assert ("answered", "p1.miljo", "God men trång") in stored(store, d.id)  # stored by /igen
    assert "Sparat." in out


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_line_mode_unwritable_database_keeps_the_answer_and_goes_on(store, fault):
    d = start(store)
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    breaks = {
        "read-only": "PRAGMA query_only = ON",
        "full": f"PRAGMA max_page_count = {pages}",
    }[fault]
    mends = {"read-only": "PRAGMA query_only = OFF", "full": "PRAGMA max_page_count = 1073741823"}[fault]
    answer = "God men trång " + "och lång " * (30_000 if fault == "full" else 1)
    out = line_chat(
        d,
        "Tre",
        lambda: store.db.execute(breaks),
        answer.strip(),
        "/status",  # the session goes on
        lambda: store.db.execute(mends),
        "/igen",
        "/quit",
    )
    reason = "(filen eller katalogen är skrivskyddad)" if fault == "read-only" else "disken är full"
    said = next(line for line in out.splitlines() if line.startswith("! Svaret kunde inte sparas i databasen"))
    assert reason in said and str(store.path) in said
    kept = recovery_file(store)
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    text = kept.read_text(encoding="utf-8")
    assert answer.strip() in text and "Hur är arbetsmiljön?" in text and f"chat --resume {d.id[:8]}" in text
    assert f"klistra in texten från {kept}" in out
    assert "Mötestid" in out  # /status ran: the chat did not exit
    assert ("answered", "p1.miljo", answer.strip()) in stored(store, d.id)
    assert out.count("Hur ser verksamhetens egen verksamhetsidé") == 1  # the next question, once stored


def test_recovery_file_falls_back_when_the_database_folder_cannot_take_it(store, isolated_dirs):
    d = start(store)
    blocker = recovery_file(store)
    os.mkfifo(blocker)  # something that is not a regular file is in the way
    store.db.execute("PRAGMA query_only = ON")
    out = line_chat(d, "Tre", "/quit")
    store.db.execute("PRAGMA query_only = OFF")
    fallback = isolated_dirs / "dialogstod-osparat.txt"
    assert f"Texten är sparad i {fallback}" in out
    assert "Tre" in fallback.read_text(encoding="utf-8")
    assert stat.S_ISFIFO(os.stat(blocker).st_mode)


# ---------------------------------------------------------------- the app


async def settle(pilot, rounds: int = 3) -> None:
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def notifications(app) -> str:
    return "\n".join(n.message for n in app._notifications)


async def open_in_app(pilot, d):
    pilot.app.open_dialogue(d.id, d)
    await settle(pilot)
    from assistant.tui.dialogue import DialogueScreen

    assert isinstance(pilot.app.screen, DialogueScreen)
    return pilot.app.screen


@asynccontextmanager
async def dialogue_in_app(store, clock):
    """A new dialogue, open in the app: (pilot, screen, dialogue)."""
    from assistant.tui.app import DialogstodApp

    d = start(store)
    app = DialogstodApp(store=store, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        yield pilot, await open_in_app(pilot, d), d


async def send(pilot, text: str) -> None:
    from assistant.tui.widgets import AnswerBox

    box = pilot.app.screen.query_one("#answer", AnswerBox)
    box.text = text
    box.focus()
    await pilot.press("enter")
    await pilot.pause()


async def test_app_unwritable_database_keeps_the_answer_in_the_box(store, clock):
    from assistant.tui.widgets import AnswerBox

    async with dialogue_in_app(store, clock) as (pilot, screen, d):
        app = pilot.app
        store.db.execute("PRAGMA query_only = ON")
        await send(pilot, "Tre fysioterapeuter")
        box = screen.query_one("#answer", AnswerBox)
        assert box.text == "Tre fysioterapeuter"  # still on screen
        shown = notifications(app)
        assert "Svaret kunde inte sparas i databasen" in shown and "skrivskyddad" in shown
        assert f"Det du skrev finns kvar på skärmen och i {recovery_file(store)}" in shown
        assert "Tre fysioterapeuter" in recovery_file(store).read_text(encoding="utf-8")
        assert screen.d.state.current.qid == "p1.vilka"
        store.db.execute("PRAGMA query_only = OFF")
        await pilot.press("enter")  # send it again
        await settle(pilot)
        assert box.text == ""
        assert ("answered", "p1.vilka", "Tre fysioterapeuter") in stored(store, d.id)
        assert screen.d.state.current.qid == "p1.miljo"


async def test_app_waits_for_a_busy_database_without_freezing(short_busy_timeout, store, clock):
    from assistant.tui.widgets import AnswerBox

    async with dialogue_in_app(store, clock) as (pilot, screen, d):
        app = pilot.app
        holder = LockHolder(store.path, 1.5)
        await send(pilot, "Tre fysioterapeuter")
        box = screen.query_one("#answer", AnswerBox)
        assert screen.pending is not None and box.read_only and box.text == "Tre fysioterapeuter"
        assert "upptagen" in str(screen.query_one("#status-line").render())
        await send(pilot, "något annat")  # refused while waiting; nothing lost
        assert "Väntar fortfarande på databasen" in notifications(app)
        box.text = "Tre fysioterapeuter"
        await settle(pilot)  # the worker stores it once the lock is free
        holder.wait()
        await settle(pilot)
        assert screen.pending is None and not box.read_only and box.text == ""
        assert ("answered", "p1.vilka", "Tre fysioterapeuter") in stored(store, d.id)
        assert screen.d.state.current.qid == "p1.miljo"
        assert notifications(app).count("Databasen är ledig igen") == 1


async def test_app_answer_overtaken_by_another_window_is_kept_and_shown(store, clock):
    from assistant import engine as E
    from assistant.session import Dialogue
    from assistant.tui.conversation import ChatMessage

    async with dialogue_in_app(store, clock) as (pilot, screen, d):
        app = pilot.app
        elsewhere = Dialogue.resume(store, d.id)  # another window on the same dialogue
        elsewhere.do(E.Answer("Svar från andra fönstret"))
        await send(pilot, "Svar från appen")
        await settle(pilot)
        assert ("noted", "p1.vilka", "Svar från appen") in stored(store, d.id)
        assert "sparat som en anteckning" in notifications(app)
        texts = [m.render().plain for m in screen.query(ChatMessage)]
        assert any("Svar från andra fönstret" in t for t in texts)  # the other window's answer shows
        assert screen.d.state.current.qid == "p1.miljo"


# ---------------------------------------------------------------- a real read-only file


def _without_root_override() -> None:
    """Let file permissions apply to this child even when the tests run as root."""
    if os.geteuid() == 0:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_read_only_database_file_keeps_the_answer_and_igen_stores_it_once_writable(store, isolated_dirs):
    """The chat opens a database file it may not write (SQLite then opens it read-only); answers
    and notes go to the recovery file; once the permissions are fixed, /igen stores them all, in
    order, through a new connection."""
    d = start(store, clinic="Fysio Skrivskydd")
    path = store.path
    store.close()
    os.chmod(path, 0o444)
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    chat = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "chat", "--resume", d.id[:8]], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=REPO, env=env,
        preexec_fn=_without_root_override,
    )
    chat.stdin.write("Tre fysioterapeuter\n/anteckning Chefen är ny\n/status\n")
    chat.stdin.flush()
    seen = ""
    while "Mötestid" not in seen:
        line = chat.stdout.readline()
        assert line, chat.stderr.read()
        seen += line
    kept = Path(f"{path}.osparat.txt").read_text(encoding="utf-8")
    assert "Tre fysioterapeuter" in kept and "Chefen är ny" in kept
    assert seen.count("(filen eller katalogen är skrivskyddad)") == 2
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists():
            os.chmod(p, 0o600)  # the permissions are fixed
    out, err = chat.communicate("/igen\n/avsluta\n", timeout=60)
    assert chat.returncode == 0 and "Traceback" not in err, err
    assert out.count("Sparat.") == 2
    from storage import Store

    with Store.open(path) as again:
        stored = [(e.kind, e.text) for e in again.load_events(d.id) if e.text]
    assert stored.index(("answered", "Tre fysioterapeuter")) < stored.index(("noted", "Chefen är ny"))

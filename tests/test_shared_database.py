"""One database shared by the app, the line mode and the CLI, each in a process of its own.

The sequence from issue 11: the app imports data (which used to open a second store and read the
database file with Python's own open()/close(), dropping the process's SQLite locks), a CLI
command runs from another shell (its last close then deleted the app's live -wal), and the
dialogue held afterwards in the app was invisible to every other process and gone after a kill.
And a chat and a `correct` (or a second chat) writing to the same dialogue at once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_chat import proc_env, spawn, user_flows  # noqa: F401 - fixtures

DRIVER = Path(__file__).with_name("app_driver.py")


def read_until(proc: subprocess.Popen, needle: str, timeout: float = 120) -> str:
    """The process's output up to the line containing ``needle``; the process is killed (and the
    test fails) if that line does not come within ``timeout`` seconds or the process ends."""
    seen: list[str] = []
    found = threading.Event()

    def pump() -> None:
        while True:
            line = proc.stdout.readline()
            if line == "":
                return
            seen.append(line)
            if needle in line:
                found.set()
                return

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found.is_set():
        proc.kill()
        reader.join(10)
        raise AssertionError(f"no {needle!r} from the process; output:\n{''.join(seen)}")
    return "".join(seen)


def deleted_database_files(pid: int, db: Path) -> list[str]:
    """The database files (main, -wal, -shm) process ``pid`` holds open although they are deleted."""
    out = []
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # the process has ended
        return out
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(db)) and target.endswith("(deleted)"):
            out.append(target)
    return out


def cli(env, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True, text=True, encoding="utf-8", cwd=REPO, env=env, timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


class Driven:
    """``tests/app_driver.py``: the real app, headless, in its own process."""

    def __init__(self, env):
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", cwd=REPO, env=env, bufsize=1,
        )
        self.pid = int(self.call("pid").split()[-1])

    def call(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        if not reply:
            raise AssertionError(f"the app ended: {self.proc.stderr.read()}")
        return reply

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except BrokenPipeError:
                pass


ANSWERS = ["Tre fysioterapeuter", "God men trång", "Bäst i norr", "Fall i trappan"]


def test_in_app_import_then_a_cli_command_then_a_dialogue_keeps_every_answer(proc_env):  # noqa: F811
    db = Path(proc_env["DIALOGSTOD_DB"])
    app = Driven(proc_env)
    try:
        assert app.call("demo") == "ok demo"  # the in-app import (d on the start screen)
        did = app.call("start mini Fysio Delad").split()[-1]
        assert cli(proc_env, "list").returncode == 0  # another shell; its close checkpoints
        for text in ANSWERS:
            assert app.call(f"answer {text}").startswith("ok answer ")
        assert cli(proc_env, "data", "flags", "--clinic", "Fysio Norr (påhittad)").returncode == 0
        assert deleted_database_files(app.pid, db) == []
        shown = cli(proc_env, "show", did[:8]).stdout  # every answer is visible to another process
        assert all(text in shown for text in ANSWERS), shown
    finally:
        app.kill()
    shown = cli(proc_env, "show", did[:8]).stdout  # ... and survives the app being killed
    assert all(text in shown for text in ANSWERS), shown
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


HOLDER = textwrap.dedent(
    """
    import sys
    from assistant import engine as E
    from assistant.data import DEMO_FILE
    from assistant.data.importer import import_file
    from assistant.database import open_store
    from assistant.session import Dialogue

    store = open_store()
    d = Dialogue.start(store, "mini", E.StartOptions(clinic="Fysio Hållare"))
    with open_store() as again:  # the database opened again in this process, as the in-app import did
        import_file(DEMO_FILE, store=again)
    print(d.id, flush=True)
    for line in sys.stdin:
        d.do(E.AddNote(line.strip()))
        print("ok", flush=True)
    """
)


def test_a_second_open_in_the_same_process_never_loses_the_wal(proc_env):  # noqa: F811
    """The root cause on its own: a process with an open store opens the same database again
    (without being handed the store); another process then opens and closes it; every write
    after that is still in the live -wal, seen by others and kept after a kill."""
    db = Path(proc_env["DIALOGSTOD_DB"])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, encoding="utf-8", cwd=REPO, env=proc_env, bufsize=1,
    )
    try:
        did = holder.stdout.readline().strip()
        assert did, holder.stderr.read()
        assert cli(proc_env, "list").returncode == 0
        for n in range(3):
            holder.stdin.write(f"anteckning {n}\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "ok"
        assert deleted_database_files(holder.pid, db) == []
        assert cli(proc_env, "show", did[:8]).stdout.count("anteckning ") == 3
    finally:
        holder.kill()
        holder.wait(timeout=30)
        for stream in (holder.stdin, holder.stdout, holder.stderr):
            stream.close()
    assert cli(proc_env, "show", did[:8]).stdout.count("anteckning ") == 3


# ---------------------------------------------------------------- two writers, one dialogue


def dialogue_id(env) -> str:
    return cli(env, "list", "--json").stdout.split('"id": "')[1].split('"')[0]


def events(env, did: str):
    from storage import Store

    with Store.open(env["DIALOGSTOD_DB"]) as store:
        return store.load_events(did)


def type_line(proc, line: str, until: str) -> str:
    """Type ``line`` into a chat and read its output up to ``until``."""
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    return read_until(proc, until)


def finish(proc) -> str:
    proc.stdin.write("/quit\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return out


def test_a_chat_survives_a_concurrent_correct_and_stores_its_next_answer(proc_env):  # noqa: F811
    chat = spawn(proc_env, "--flow", "mini", "--clinic", "Fysio Rätt")
    read_until(chat, "Vilka arbetar här?")
    type_line(chat, "Tre fysioterapeuter", "Hur är arbetsmiljön?")
    did = dialogue_id(proc_env)
    fixed = cli(proc_env, "correct", did[:8], "p1.vilka", "Fyra fysioterapeuter", "--who", "Anna")
    assert fixed.returncode == 0, fixed.stderr
    # the chat's log is one event behind now
    seen = type_line(chat, "God men trång", "Hur ser verksamhetens egen verksamhetsidé och vision ut?")
    assert "ändrades samtidigt i ett annat fönster" in seen
    finish(chat)
    stored = [(e.kind, e.qid, e.text) for e in events(proc_env, did)]
    assert ("corrected", "p1.vilka", "Fyra fysioterapeuter") in stored
    assert ("answered", "p1.miljo", "God men trång") in stored
    assert stored.index(("corrected", "p1.vilka", "Fyra fysioterapeuter")) < stored.index(
        ("answered", "p1.miljo", "God men trång")
    )


def test_an_answer_overtaken_by_another_window_is_kept_as_a_note(proc_env):  # noqa: F811
    first = spawn(proc_env, "--flow", "mini", "--clinic", "Fysio Två")
    read_until(first, "Vilka arbetar här?")
    did = dialogue_id(proc_env)
    second = spawn(proc_env, "--resume", did[:8])
    read_until(second, "Vilka arbetar här?")
    type_line(second, "Svar från andra fönstret", "Hur är arbetsmiljön?")
    # to a question already answered in the other window
    seen = type_line(first, "Svar från första fönstret", "Hur är arbetsmiljön?")
    assert "sparat som en anteckning" in seen
    type_line(first, "God", "verksamhetsidé")  # and the chat goes on, on the question now asked
    finish(first)
    finish(second)
    stored = [(e.kind, e.qid, e.text) for e in events(proc_env, did)]
    assert ("answered", "p1.vilka", "Svar från andra fönstret") in stored
    assert ("noted", "p1.vilka", "Svar från första fönstret") in stored
    assert ("answered", "p1.miljo", "God") in stored
    shown = cli(proc_env, "show", did[:8]).stdout
    assert "Svar från första fönstret" in shown


def test_an_action_marked_done_elsewhere_does_not_stop_the_chat(proc_env):  # noqa: F811
    chat = spawn(proc_env, "--flow", "mini", "--clinic", "Fysio Åtgärd")
    read_until(chat, "Vilka arbetar här?")
    type_line(chat, "/åtgärd Ring regionen; ansvarig Bo", "Åtgärd a1 sparad")
    did = dialogue_id(proc_env)
    assert cli(proc_env, "actions", "--done", f"{did[:8]}:a1").returncode == 0
    type_line(chat, "Tre", "Hur är arbetsmiljön?")
    finish(chat)
    kinds = [(e.kind, e.qid) for e in events(proc_env, did)]
    assert ("action_updated", None) in kinds and ("answered", "p1.vilka") in kinds


@pytest.mark.parametrize("how", ["path", "symlink", "hard link", "relative"])
def test_one_connection_per_database_file_per_process(tmp_path, monkeypatch, how):
    from storage import Store, opening

    db = tmp_path / "x.db"
    first = Store.open(db)
    other = {
        "path": db,
        "symlink": tmp_path / "link.db",
        "hard link": tmp_path / "hard.db",
        "relative": Path("x.db"),
    }[how]
    if how == "symlink":
        other.symlink_to(db)
    elif how == "hard link":
        os.link(db, other)
    monkeypatch.chdir(tmp_path)

    def never(path):  # the file is open here: it must not be looked at by other means
        raise AssertionError(f"inspect({path}) while the database is open in this process")

    monkeypatch.setattr(opening, "inspect", never)
    second = Store.open(other)
    assert opening.open_count() == 1 and second.db.conn is first.db.conn
    first.close()
    first.close()  # a handle closes once
    assert second.list_dialogues() == []  # the other handle goes on
    second.close()
    assert opening.open_count() == 0

"""Many processes on one database, killed at random: nothing acknowledged is lost.

For a while (10 s in the default run, 70 s in the slow suite, after all have started) these run at once on one
database, each in its own process:

- the app, headless under Pilot (tests/app_driver.py): the in-app import, then answers and notes;
- two line-mode chats, sometimes on the same dialogue: answers and notes;
- `correct` on the chats' dialogues; `list`, `show` and `search` readers;
- `data import` of a large file (it holds the write lock for a while) and `bundle import`.

Every second or so one of the writers is killed with SIGKILL and started again (resuming its
dialogue). Throughout, no live process may hold a deleted -wal or -shm. At the end every
acknowledged text (the app said ok, the chat showed what comes next without an error, correct
exited 0) must be in the database, `integrity_check` must say ok, every dialogue must replay, and
no process may have printed a traceback.
"""

from __future__ import annotations

import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_chat import proc_env, user_flows  # noqa: F401 - fixtures
from tests.test_shared_database import deleted_database_files

DRIVER = Path(__file__).with_name("app_driver.py")
ALL_DONE = "Alla frågor är besvarade"


class Proc:
    """A child process whose output lines arrive on a queue (so a read can time out)."""

    def __init__(self, soak: Soak, argv: list[str], name: str):
        self.name = name
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            encoding="utf-8", cwd=REPO, env=soak.env, bufsize=1,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.soak = soak
        self.since = 0.0
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._errors, daemon=True).start()
        soak.live(self)

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _errors(self) -> None:
        text = self.proc.stderr.read()
        if "Traceback" in text:
            self.soak.fail(f"{self.name} printed a traceback:\n{text}")

    def send(self, line: str) -> bool:
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def until(self, test, timeout: float = 90) -> list[str] | None:
        """Lines up to the first for which ``test`` is true; None if the process ended first."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.soak.fail(f"{self.name} said nothing for {timeout} s after: {seen[-5:]}")
                self.kill()
                return None
            if line is None:
                return None
            seen.append(line)
            if test(line):
                return seen

    def kill(self) -> None:
        try:
            self.proc.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        self.kill()
        self.proc.wait(timeout=60)
        self.soak.gone(self)
        for stream in (self.proc.stdin,):
            try:
                stream.close()
            except (BrokenPipeError, OSError):
                pass


class Soak:
    def __init__(self, env: dict, seconds: float, seed: int, tmp: Path):
        self.env = env
        self.db = Path(env["DIALOGSTOD_DB"])
        self.seconds = seconds
        # The clock starts once the app and a chat have each stored something (starting ten
        # Python processes on a busy machine takes a while); until then nothing is killed.
        self.deadline: float | None = None
        self.give_up = time.monotonic() + 300
        self.rng = random.Random(seed)
        self.tmp = tmp
        self.lock = threading.Lock()
        self.procs: set[Proc] = set()
        self.killable: set[Proc] = set()
        self.acknowledged: set[tuple[str, str]] = set()  # (dialogue id, text)
        self.failures: list[str] = []
        self.dialogues: list[str] = []
        self.kills = 0
        self.counter = 0
        self.quiet_until = 0.0  # now and then only the app and the readers run (see killer)

    # ------------------------------------------------------------ bookkeeping

    def live(self, proc: Proc) -> None:
        with self.lock:
            self.procs.add(proc)

    def gone(self, proc: Proc) -> None:
        with self.lock:
            self.procs.discard(proc)
            self.killable.discard(proc)

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)

    def ack(self, did: str, text: str) -> None:
        with self.lock:
            self.acknowledged.add((did, text))
            if self.deadline is None and {"appen", "chatt1"} <= {t.split()[1] for _, t in self.acknowledged}:
                self.deadline = time.monotonic() + self.seconds

    def text(self, who: str) -> str:
        with self.lock:
            self.counter += 1
            return f"soak {who} {self.counter}"

    def running(self) -> bool:
        now = time.monotonic()
        if self.failures or now > self.give_up:
            return False
        return self.deadline is None or now < self.deadline

    def warm(self) -> bool:
        return self.deadline is not None

    def wait_out_quiet(self) -> None:
        while self.running() and time.monotonic() < self.quiet_until:
            time.sleep(0.1)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True, encoding="utf-8",
            cwd=REPO, env=self.env, timeout=120,
        )
        if "Traceback" in done.stderr:
            self.fail(f"dialogstod {' '.join(args)} printed a traceback:\n{done.stderr}")
        return done

    # ------------------------------------------------------------ the workers

    def chat(self, who: str, shared: bool) -> None:
        """A line-mode chat: answers (skipping what it cannot answer) and notes; killed now and then."""
        did = None
        while self.running():
            self.wait_out_quiet()
            if did is None and shared and self.dialogues:
                did = self.dialogues[0]  # the same dialogue as the first chat
            args = ["--resume", did[:8]] if did else ["--flow", "mini", "--clinic", f"Soak {who}"]
            proc = Proc(self, [sys.executable, "-m", "assistant.cli", "chat", *args], who)
            opened = proc.until(lambda line: line.startswith("Mötestid")) if proc.send("/status") else None
            if opened is None:
                proc.close()
                continue
            if did is None:
                did = self.cli("list", "--json").stdout.split(f'"Soak {who}"')[0].rsplit('"id": "', 1)[-1][:36]
                with self.lock:
                    self.dialogues.append(did)
            self.killable_in(proc)
            answering = not any(ALL_DONE in line for line in opened)
            while self.running():
                text = self.text(who)
                line = text if answering and self.rng.random() < 0.6 else f"/anteckning {text}"
                if not (proc.send(line) and proc.send("/status")):
                    break
                seen = proc.until(lambda s: s.startswith("Mötestid"))
                if seen is None:
                    break  # killed before its answer was acknowledged
                said = seen[seen.index(f"> {line}") + 1 :] if f"> {line}" in seen else []
                errors = [s for s in said if s.startswith("! ") and "sparat som en anteckning" not in s]
                if not errors:  # the chat went on to what comes next: the text is stored
                    self.ack(did, text)
                elif any("Svara med" in s or "Välj" in s for s in errors):
                    proc.send("/hoppa")
                if any(ALL_DONE in s for s in said):
                    answering = False  # every question is answered: notes from now on
                if self.rng.random() < 0.02:
                    proc.send("/avsluta")  # a pause: the app and the readers alone for a while
                    break
            proc.close()
            time.sleep(self.rng.uniform(0.5, 3.0))

    def app(self) -> None:
        """The app under Pilot: the in-app import, then answers and notes; killed now and then."""
        did = None
        while self.running():
            proc = Proc(self, [sys.executable, str(DRIVER)], "appen")

            def call(line: str, proc=proc) -> str | None:
                if not proc.send(line):
                    return None
                reply = proc.until(lambda s: s.startswith(("ok", "fail")))
                return reply[-1] if reply else None

            if call("demo") != "ok demo":
                proc.close()
                continue
            self.killable_in(proc)
            reply = call(f"open {did}") if did else call("start mini Soak appen")
            if reply is None or not reply.startswith("ok"):
                proc.close()
                continue
            if did is None:
                did = reply.split()[-1]
            while self.running():
                text = self.text("appen")
                reply = call(f"answer {text}" if self.rng.random() < 0.6 else f"note {text}")
                if reply is None:
                    break
                if reply.startswith("ok"):
                    self.ack(did, text)
                elif call("skip") is None:
                    break
            proc.close()

    def corrector(self) -> None:
        while self.running():
            self.wait_out_quiet()
            if not self.dialogues:
                time.sleep(0.2)
                continue
            did = self.rng.choice(self.dialogues)
            text = self.text("rättelse")
            if self.cli("correct", did[:8], "p1.vilka", text).returncode == 0:
                self.ack(did, text)

    def reader(self) -> None:
        while self.running():
            time.sleep(0.5)
            for args in (("list",), ("search", "soak*"), ("show", self.dialogues[0][:8]) if self.dialogues else ("list",)):
                done = self.cli(*args)
                if done.returncode != 0:
                    self.fail(f"dialogstod {' '.join(args)} failed: {done.stderr}")

    def importer(self, what: str) -> None:
        n = 0
        while self.running():
            self.wait_out_quiet()
            n += 1
            if what == "data":
                path = self.tmp / f"data-{n}.csv"
                path.write_text(big_csv(n), encoding="utf-8")
                argv = ["data", "import", str(path)]
            else:
                argv = ["bundle", "import", str(self.tmp / "b.bundle")]
            proc = Proc(self, [sys.executable, "-m", "assistant.cli", *argv], f"{what} import")
            self.killable_in(proc)
            code = proc.proc.wait(timeout=300)
            proc.close()
            if code not in (0, -signal.SIGKILL):
                self.fail(f"{what} import ended with {code}")
            time.sleep(1)

    def killable_in(self, proc: Proc) -> None:
        with self.lock:
            self.killable.add(proc)
            proc.since = time.monotonic()

    def killer(self) -> None:
        """SIGKILL a random writer every 0.5–2 s (one that has had time to get going); every
        few seconds, all of them but the app, with a quiet spell of 3 s after: the app alone
        with `list`, `show` and `search` from another shell (the issue's sequence)."""
        next_quiet = time.monotonic() + 3
        while self.running():
            time.sleep(self.rng.uniform(0.5, 2.0))
            if not self.warm():
                continue
            if time.monotonic() > next_quiet:
                self.quiet_until = time.monotonic() + 3.0
                next_quiet = self.quiet_until + self.rng.uniform(2.0, 5.0)
                with self.lock:
                    others = [p for p in self.procs if p.name != "appen"]
                for p in others:
                    p.kill()
                    self.kills += 1
                continue
            with self.lock:
                now = time.monotonic()
                # The app takes longest to start: give it time to store something between kills.
                victims = sorted(
                    (p for p in self.killable if now - p.since > (6.0 if p.name == "appen" else 1.0)),
                    key=lambda p: p.proc.pid,
                )
            if victims:
                self.rng.choice(victims).kill()
                self.kills += 1

    def watcher(self) -> None:
        """No live process may hold a deleted database file (a -wal another process removed)."""
        while self.running():
            with self.lock:
                pids = [p.proc.pid for p in self.procs]
            for pid in pids:
                for target in deleted_database_files(pid, self.db):
                    self.fail(f"process {pid} holds a deleted {target}")
            time.sleep(0.3)


def big_csv(n: int) -> str:
    """Indicator values for 400 clinics × 8 indicators × 6 periods (19 200 rows), different each time."""
    indicators = ("telefontillganglighet", "mangsokare", "besok_nybesok", "besok_aterbesok", "besok_gruppbesok",
                  "besok_distans", "npe_helhetsintryck", "npe_delaktighet")
    lines = ["Enhet;Indikator;Period;Täljare;Nämnare"]
    for c in range(400):
        for ind in indicators:
            for period in range(2020, 2026):
                lines.append(f"Enhet {c};{ind};{period};{(c * 7 + period + n) % 900 + 50};1000")
    return "\n".join(lines) + "\n"


def soak(env: dict, tmp: Path, seconds: float, seed: int) -> Soak:
    from assistant import engine as E
    from assistant.bundles import export_bundle
    from assistant.database import open_store
    from assistant.session import Dialogue
    from storage import Store

    with Store.open(tmp / "other.db") as other:  # a bundle from another machine
        d = Dialogue.start(other, "mini", E.StartOptions(clinic="Soak paketet"))
        d.do(E.Answer("Från en annan dator"))
        export_bundle(other, [d.id], tmp / "b.bundle")
    with open_store():
        pass  # create the database before the crowd arrives

    s = Soak(env, seconds, seed, tmp)
    workers = [
        threading.Thread(target=s.app, name="app"),
        threading.Thread(target=s.chat, args=("chatt1", False), name="chatt1"),
        threading.Thread(target=s.chat, args=("chatt2", True), name="chatt2"),
        threading.Thread(target=s.corrector, name="correct"),
        threading.Thread(target=s.reader, name="reader"),
        threading.Thread(target=s.importer, args=("data",), name="data"),
        threading.Thread(target=s.importer, args=("bundle",), name="bundle"),
        threading.Thread(target=s.killer, name="killer"),
        threading.Thread(target=s.watcher, name="watcher"),
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=seconds + 600)
        assert not w.is_alive(), f"{w.name} did not stop"
    return s


def check(s: Soak, env: dict) -> None:
    from assistant.session import Dialogue
    from storage import Store

    assert s.failures == [], "\n\n".join(s.failures)
    assert s.warm(), "the app and the chats never got going"
    conn = sqlite3.connect(s.db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with Store.open(s.db) as store:
        texts = {}
        for row in store.list_dialogues():
            d = Dialogue.resume(store, row["id"])  # every dialogue replays
            texts[row["id"]] = {e.text for e in d.events if e.text}
    lost = sorted((did[:8], text) for did, text in s.acknowledged if text not in texts.get(did, set()))
    assert lost == [], f"acknowledged but not in the database: {lost}"
    kinds = {text.split()[1] for _, text in s.acknowledged}
    assert {"appen", "chatt1"} <= kinds, kinds  # the app and a chat both got answers in
    assert s.kills >= 3


def test_soak_short(proc_env, tmp_path):  # noqa: F811
    s = soak(proc_env, tmp_path, seconds=10, seed=11)
    check(s, proc_env)


@pytest.mark.slow
def test_soak_long(proc_env, tmp_path):  # noqa: F811
    s = soak(proc_env, tmp_path, seconds=70, seed=1100)
    check(s, proc_env)

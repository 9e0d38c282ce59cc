"""A whole meeting in a real terminal (issue #15): ``dialogstod`` in a pseudo-terminal, its screen
read with pyte, driven by the bytes a terminal sends – keys, an SGR mouse click, a bracketed paste
with an escape sequence in it – then closed, resumed, finished and exported.

This is what Pilot cannot show: the driver's own parsing of the bytes (the paste guard), the real
start-up, and the database as two separate processes leave it. Each step waits for text on the
screen (no sleeps); a step that never comes fails with the screen as it was.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pyte
import pytest

REPO = Path(__file__).resolve().parents[1]
COLS, ROWS = 120, 40

ENTER, ESC, DOWN = b"\r", b"\x1b", b"\x1b[B"
CTRL_Q, CTRL_S = b"\x11", b"\x13"
F9 = b"\x1b[20~"


class Terminal:
    """``argv`` in a COLS×ROWS pseudo-terminal, its output kept on a pyte screen."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=env["HOME"], start_new_session=True, close_fds=True
        )
        os.close(slave)
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)

    def read(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                return
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the program has ended
                return
            if not chunk:
                return
            self.stream.feed(chunk)

    @property
    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, text: str, timeout: float = 20.0) -> None:
        end = time.monotonic() + timeout
        while text not in self.text:
            if time.monotonic() > end or self.proc.poll() is not None:
                raise AssertionError(f"{text!r} never showed; the screen:\n{self.text}")
            self.read(0.05)

    def wait_until_gone(self, text: str, timeout: float = 20.0) -> None:
        end = time.monotonic() + timeout
        while text in self.text:
            if time.monotonic() > end:
                raise AssertionError(f"{text!r} stayed on the screen:\n{self.text}")
            self.read(0.05)

    def send(self, *chunks: bytes | str) -> None:
        for chunk in chunks:
            os.write(self.master, chunk.encode() if isinstance(chunk, str) else chunk)
            self.read(0.02)  # a key at a time, as typed

    def where(self, text: str, last: bool = False) -> tuple[int, int]:
        """(column, row), 0-based, of ``text`` on the screen (the lowest when ``last``)."""
        rows = range(ROWS - 1, -1, -1) if last else range(ROWS)
        for row in rows:
            col = self.screen.display[row].find(text)
            if col >= 0:
                return col, row
        raise AssertionError(f"{text!r} is not on the screen:\n{self.text}")

    def click(self, text: str, last: bool = False) -> None:
        """A left click on ``text``: the SGR mouse bytes a terminal sends (press, then release)."""
        col, row = self.where(text, last)
        self.send(f"\x1b[<0;{col + 2};{row + 1}M", f"\x1b[<0;{col + 2};{row + 1}m")

    def line_with(self, text: str) -> str:
        return self.screen.display[self.where(text)[1]]

    def kill(self) -> None:
        """The program ended, killed if it still runs (a failed step), and the terminal closed."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)

    def close(self, timeout: float = 15.0) -> int:
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            self.read(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait()


@pytest.fixture
def terminal_env(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "DIALOGSTOD_DB": str(tmp_path / "x.db"),
        "DIALOGSTOD_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(REPO),
    }
    return env


def dialogstod(env: dict[str, str]) -> Terminal:
    return Terminal([sys.executable, "-m", "assistant.cli"], env)


def test_a_whole_meeting_in_a_real_terminal(terminal_env, tmp_path):
    # ---- the first part of the meeting: a new dialogue, a click, typing, a paste
    t = dialogstod(terminal_env)
    try:
        t.wait_for("Ny dialog")
        t.send("n")
        t.wait_for("Mottagning")
        t.send("Fysio Pty")
        t.send(CTRL_S)
        t.wait_for("╭─ Svar: ")
        t.wait_for("fråga 1 av")
        question = t.line_with("╭─ Svar: ").split("Svar: ", 1)[1][:30]
        t.click("fråga 1 av")  # in the conversation: the answer box keeps the keys
        t.send("Tre fysioterapeuter")
        t.wait_for("│ Tre fysioterapeuter")  # in the answer box
        t.send(ENTER)
        t.wait_until_gone(question)  # the next question is on the answer box's frame
        t.send("abc ")
        t.send(b"\x1b[200~f\xc3\xb6re \x1b[31mR\xc3\x96D\x1b[0m efter\x1b[201~")
        t.send(" xyz")
        t.wait_for("│ abc före ␛[31mRÖD␛[0m efter xyz")  # whole, in order, the escapes shown as text
        t.send(ENTER)
        t.wait_for("abc före ␛[31mRÖD␛[0m efter xyz")
        t.wait_until_gone("│ abc före")
        t.send(CTRL_Q)
        assert t.close() == 0
    finally:
        t.kill()

    # ---- later, another process: resumed where it was, finished, exported
    t = dialogstod(terminal_env)
    try:
        t.wait_for("Fysio Pty")
        t.send("1")
        t.wait_for("Fortsätter där dialogen slutade (2 svar hittills).")
        t.wait_for("Tre fysioterapeuter")
        t.send(F9)
        t.wait_for("Avsluta dialogen?")
        t.wait_for("Fortsätt dialogen")  # the buttons drawn: the click lands on one
        t.click("Avsluta dialogen", last=True)  # the button (the title, higher up, has a "?")
        t.wait_for("Exportera dialogen")
        t.send(DOWN)  # Word (docx)
        t.send(ENTER)
        t.wait_until_gone("Exportera dialogen")
        exports = tmp_path / "data" / "exporter"
        deadline = time.monotonic() + 15
        while not list(exports.glob("*.docx")) and time.monotonic() < deadline:
            t.read(0.05)
        assert [p.suffix for p in exports.iterdir()] == [".docx"]
        t.send(CTRL_Q)
        assert t.close() == 0
    finally:
        t.kill()

    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "list"], env=terminal_env, capture_output=True, text=True, check=True
    ).stdout
    assert "Fysio Pty" in out and "avslutad" in out

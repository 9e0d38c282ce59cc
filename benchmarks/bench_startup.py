"""Time to first paint of Dialogstöd's start screen vs a minimal Textual app, in a 120×40 pty.

    uv run python benchmarks/bench_startup.py [--runs 7] [--timeout 30]

Each app is spawned in a pseudo-terminal (TERM=xterm-256color, COLUMNS/LINES and the window size
set with TIOCSWINSZ) and timed from spawn until a known string appears in its output:
- "minimal": Header, Static, Input, Footer; the marker is the Static's text.
- "dialogstod": `python -m assistant.cli` (the real entry point, parser and all) on an empty
  database; first paint is the start screen's "Ny dialog" button, and "ready" is the database line
  the start screen writes once the worker has opened the store and listed the dialogues.
Runs alternate between the apps; medians are reported with the ratio (budget ≤ 1.5×).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLS, ROWS = 120, 40
BUDGET = 1.5

MINIMAL = textwrap.dedent(
    """
    from textual.app import App
    from textual.widgets import Footer, Header, Input, Static

    class Minimal(App):
        def compose(self):
            yield Header()
            yield Static("Minimal app ready")
            yield Input(placeholder="type here")
            yield Footer()

    Minimal().run()
    """
)


def spawn_and_time(argv: list[str], markers: list[bytes], env: dict[str, str], timeout: float) -> list[float]:
    """Seconds from spawn until each marker first appears in the terminal output."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO, start_new_session=True, close_fds=True
    )
    os.close(slave)
    seen = b""
    found: dict[bytes, float] = {}
    try:
        while len(found) < len(markers):
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"{argv}: markers {markers} not seen in {timeout} s; output tail: {seen[-400:]!r}")
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            now = time.perf_counter() - start
            for m in markers:
                if m not in found and m in seen:
                    found[m] = now
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        # Drain so the child never blocks on a full pty.
        try:
            while select.select([master], [], [], 0)[0] and os.read(master, 65536):
                pass
        except OSError:
            pass
        os.close(master)
    return [found[m] for m in markers]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        minimal = Path(tmp) / "minimal_app.py"
        minimal.write_text(MINIMAL, encoding="utf-8")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")},
            "TERM": "xterm-256color",
            "COLUMNS": str(COLS),
            "LINES": str(ROWS),
            "DIALOGSTOD_DATA_DIR": str(Path(tmp) / "data"),
            "DIALOGSTOD_DB": str(Path(tmp) / "data" / "bench.db"),
        }
        env.pop("NO_COLOR", None)
        # Any non-empty PYTHONDONTWRITEBYTECODE (even "0") stops Python writing bytecode, and every
        # run would compile each module again: measure what an installed program does (uv sync
        # precompiles, `compile-bytecode` in pyproject.toml), with the warm-up writing the caches.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        apps = {
            "minimal": ([sys.executable, str(minimal)], [b"Minimal app ready"]),
            # "Ny dialog" is on the start screen's first paint; "Databas:" after the store loads.
            "dialogstod": ([sys.executable, "-m", "assistant.cli"], [b"Ny dialog", b"Databas:"]),
            # The same app without the CLI's argument parser (which imports every command group).
            "app only": (
                [sys.executable, "-c", "from assistant.tui.app import DialogstodApp; DialogstodApp().run()"],
                [b"Ny dialog", b"Databas:"],
            ),
        }
        # One warm-up each (bytecode caches, disk cache), not counted.
        for cmd, markers in apps.values():
            spawn_and_time(cmd, markers, env, args.timeout)
        times: dict[str, list[list[float]]] = {name: [] for name in apps}
        for _ in range(args.runs):
            for name, (cmd, markers) in apps.items():
                times[name].append(spawn_and_time(cmd, markers, env, args.timeout))

    first_min = statistics.median(t[0] for t in times["minimal"])
    first_app = statistics.median(t[0] for t in times["dialogstod"])
    ready_app = statistics.median(t[1] for t in times["dialogstod"])
    ratio = first_app / first_min
    print(f"Start-up in a {COLS}×{ROWS} pty, median of {args.runs} runs")
    print(f"{'app':<38} {'median s':>9} {'min s':>8} {'max s':>8}")
    rows = [
        ("minimal Textual app, first paint", [t[0] for t in times["minimal"]]),
        ("dialogstod, first paint", [t[0] for t in times["dialogstod"]]),
        ("dialogstod, dialogues listed", [t[1] for t in times["dialogstod"]]),
        ("app without CLI parser, first paint", [t[0] for t in times["app only"]]),
        ("app without CLI parser, listed", [t[1] for t in times["app only"]]),
    ]
    for label, values in rows:
        print(f"{label:<38} {statistics.median(values):>9.3f} {min(values):>8.3f} {max(values):>8.3f}")
    print(f"ratio first paint: {ratio:.2f}× (budget ≤ {BUDGET}×) – {'OK' if ratio <= BUDGET else 'OVER BUDGET'}")
    print(f"ratio until listed: {ready_app / first_min:.2f}×")
    only = statistics.median(t[0] for t in times["app only"])
    print(f"ratio first paint, app without the CLI parser: {only / first_min:.2f}×")
    return 0 if ratio <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())

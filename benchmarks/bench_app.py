"""The app on a large archive: opening a 2 000-message dialogue, and the app's peak memory.

    uv run python benchmarks/bench_app.py                         # builds a 10 000-dialogue archive (~70 s)
    uv run python benchmarks/bench_app.py --dialogues 1000        # quicker
    uv run python benchmarks/bench_app.py --db /tmp/archive.db    # reuse an archive (built there if missing)

The archive comes from benchmarks/archive.py: N replayable fysioterapi-2023 dialogues plus one with
2 000 messages (``LONG_DIALOGUE_ID``). Every measurement runs in a fresh Python process with the app
headless (``App.run_test``, 120×40) on that archive, after the start screen has loaded:

(a) dialogue:   ``app.open_dialogue(long id)`` until the dialogue screen has laid out the last
                message and the app is idle (budget ≤ 0.3 s);
(b) transcript: the same for the read-only view of Tidigare dialoger (``app.show_transcript``);
(c) memory:     peak RSS (``ru_maxrss``) of the process after the start screen, the Tidigare
                dialoger list and the long transcript (budget ≤ 120 MB with 10 000 dialogues).

Figures are medians of ``--runs`` processes. Opening the dialogue may record suggestions as offered,
as the app does. The machine is shared and noisy: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SIZE = (120, 40)
OPEN_BUDGET_S = 0.3
MEMORY_BUDGET_MB = 120.0
MEMORY_BUDGET_DIALOGUES = 10_000


def load_archive_module():
    """benchmarks/archive.py is a script, not a package: load it by path."""
    spec = importlib.util.spec_from_file_location("bench_archive", HERE / "archive.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- in the child process


def peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def until(condition, timeout: float = 120.0) -> None:
    """Poll lightly (the app runs on the same event loop) until ``condition()`` holds."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.002)


def laid_out(widget) -> bool:
    try:
        return widget.is_mounted and widget.region.height > 0
    except Exception:  # noqa: BLE001 - not on screen (yet)
        return False


def chat_shows(screen, text: str) -> bool:
    """Is ``text`` in a message of the conversation that is laid out on the screen?"""
    for widget in reversed(list(screen.query("#chat Static"))):
        try:
            plain = widget.render().plain
        except AttributeError:
            continue
        if text in plain and laid_out(widget):
            return True
    return False


def transcript_shows(screen, text: str) -> bool:
    widgets = list(screen.query("#transcript"))
    if not widgets or not laid_out(widgets[0]):
        return False
    widget = widgets[0]
    body = getattr(widget, "text", None)
    if body is None:
        try:
            body = "\n".join(w.render().plain for w in widget.query("Static"))
        except AttributeError:
            return False
    return text in body


async def workers_done(app) -> None:
    """Every worker finished (a cancelled one counts as finished)."""
    await asyncio.gather(*(worker.wait() for worker in list(app.workers)), return_exceptions=True)


async def start_screen_ready(pilot) -> None:
    app = pilot.app
    await until(lambda: "Databas:" in app.screen.query_one("#dbinfo").render().plain)
    await workers_done(app)  # the start screen also warms the other screens' imports
    await pilot.pause()


def child(what: str, db: str) -> dict:
    sys.path.insert(0, str(REPO))
    archive = load_archive_module()
    from assistant.database import open_store
    from assistant.tui.app import DialogstodApp

    long_id = archive.LONG_DIALOGUE_ID
    store = open_store(db)
    try:
        last_answer = next(e.text for e in reversed(store.load_events(long_id)) if e.kind == "answered")
    finally:
        store.close()
    out: dict = {}

    async def run() -> None:
        app = DialogstodApp(db_path=db)
        async with app.run_test(size=SIZE) as pilot:
            await start_screen_ready(pilot)
            out["start_mb"] = peak_mb()
            if what in ("dialogue", "transcript"):
                from assistant.tui.archive import TranscriptScreen
                from assistant.tui.dialogue import DialogueScreen

                opener, screen, shows = {
                    "dialogue": (app.open_dialogue, DialogueScreen, chat_shows),
                    "transcript": (app.show_transcript, TranscriptScreen, transcript_shows),
                }[what]
                t = time.perf_counter()
                opener(long_id)
                await until(lambda: isinstance(app.screen, screen) and shows(app.screen, last_answer))
                out["shown_s"] = time.perf_counter() - t
                await pilot.pause()
                out["open_s"] = time.perf_counter() - t
                await workers_done(app)
                await pilot.pause()
                out["complete_s"] = time.perf_counter() - t
            elif what == "memory":
                from assistant.tui.archive import ArchiveScreen, TranscriptScreen

                t = time.perf_counter()
                app.simulate_key("t")  # as the key press, processed by the app (not awaited)
                def listed() -> bool:
                    tables = list(app.screen.query("#list")) if isinstance(app.screen, ArchiveScreen) else []
                    return bool(tables) and tables[0].row_count > 0 and laid_out(tables[0])

                await until(listed)
                out["archive_shown_s"] = time.perf_counter() - t
                await workers_done(app)
                await pilot.pause()
                out["archive_s"] = time.perf_counter() - t
                out["archive_rows"] = app.screen.query_one("#list").row_count
                out["archive_mb"] = peak_mb()
                app.show_transcript(long_id)
                await until(lambda: isinstance(app.screen, TranscriptScreen) and transcript_shows(app.screen, last_answer))
                await workers_done(app)
                await pilot.pause()
                out["transcript_mb"] = peak_mb()
            await pilot.press("ctrl+q")

    asyncio.run(run())
    out["peak_mb"] = peak_mb()
    return out


# ---------------------------------------------------------------- the parent


def run_child(what: str, db: Path, env: dict[str, str]) -> dict:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", what, "--db", str(db)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def count_dialogues(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM dialogues").fetchone()[0]


def build_archive(db: Path, dialogues: int, seed: int) -> None:
    sys.path.insert(0, str(REPO))
    archive = load_archive_module()
    from storage import Store

    t = time.perf_counter()
    print(f"Building {dialogues:,} dialogues (+1 with 2 000 messages) in {db} …", flush=True)
    with Store.open(db) as store:
        events = archive.build(store, dialogues, seed)
    print(f"  {events:,} events in {time.perf_counter() - t:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialogues", type=int, default=MEMORY_BUDGET_DIALOGUES, help="archive size to build")
    parser.add_argument("--db", type=Path, help="archive to use (built there first if it does not exist)")
    parser.add_argument("--runs", type=int, default=5, help="processes per measurement (median reported)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("dialogue", "transcript", "memory"), action="append")
    parser.add_argument("--child", choices=("dialogue", "transcript", "memory"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.child, str(args.db))))
        return 0

    with tempfile.TemporaryDirectory(prefix="dialogstod-bench-app-") as tmp:
        db = args.db or Path(tmp) / "archive.db"
        if not db.exists():
            build_archive(db, args.dialogues, args.seed)
        n = count_dialogues(db)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")},
            "DIALOGSTOD_DATA_DIR": str(Path(tmp) / "data"),  # no user flows from the real home
            "DIALOGSTOD_DB": str(db),
        }
        env.pop("NO_COLOR", None)
        print(f"App on an archive of {n:,} dialogues ({db}), {SIZE[0]}×{SIZE[1]}, median of {args.runs} processes")
        print(f"{'':<52} {'median':>9} {'min':>8} {'max':>8}  budget")
        ok = True

        def line(label: str, values: list[float], unit: str, budget: float | None = None) -> None:
            nonlocal ok
            median = statistics.median(values)
            verdict = ""
            if budget is not None:
                good = median <= budget
                ok &= good
                verdict = f"≤ {budget:g} {unit} {'OK' if good else 'OVER BUDGET'}"
            print(f"{label:<52} {median:>7.3f}{unit:>2} {min(values):>7.3f} {max(values):>7.3f}  {verdict}", flush=True)

        wanted = args.only or ["dialogue", "transcript", "memory"]
        for what, name in (("dialogue", "(a) dialogue screen"), ("transcript", "(b) transcript (Tidigare dialoger)")):
            if what not in wanted:
                continue
            runs = [run_child(what, db, env) for _ in range(args.runs)]
            print(f"{name}, open the 2 000-message dialogue:")
            line("    last message laid out", [r["shown_s"] for r in runs], "s")
            line("    … and the app idle", [r["open_s"] for r in runs], "s", OPEN_BUDGET_S)
            line("    … and every worker done (data, suggestions)", [r["complete_s"] for r in runs], "s")
        if "memory" in wanted:
            runs = [run_child("memory", db, env) for _ in range(args.runs)]
            budget = MEMORY_BUDGET_MB if n >= MEMORY_BUDGET_DIALOGUES else None
            print("(c) peak memory (ru_maxrss) of the app process:")
            line("    start screen", [r["start_mb"] for r in runs], "MB")
            line(f"    … + Tidigare dialoger ({runs[0]['archive_rows']:,} rows)", [r["archive_mb"] for r in runs], "MB")
            line("    … + the 2 000-message transcript", [r["peak_mb"] for r in runs], "MB", budget)
            if budget is None:
                print(f"    (the memory budget is for {MEMORY_BUDGET_DIALOGUES:,} dialogues)")
            line("    Tidigare dialoger: list shown", [r["archive_shown_s"] for r in runs], "s")
            line("    … and the filters filled", [r["archive_s"] for r in runs], "s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

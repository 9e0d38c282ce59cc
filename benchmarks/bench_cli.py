"""The one-shot commands as processes, against `sqlite-utils tables DB` on the same database.

    uv run python benchmarks/bench_cli.py                     # a 2 000-dialogue archive, built here
    uv run python benchmarks/bench_cli.py --db ARCHIVE.db     # an archive from benchmarks/archive.py
    uv run python benchmarks/bench_cli.py --dialogues 10000 --runs 9

Budget (issue #16): each of `list`, `show`, `search`, `export -f html|md|json`, `data flags` and
`actions` ≤ 1.2× `sqlite-utils tables DB` in the same run, and `export -f docx` ≤ 1.6×.

Cold processes: every figure is a new process started from the virtual environment's console
scripts (`dialogstod`, `sqlite-utils`), the way a user runs them, timed from spawn to exit; the
commands run interleaved, round after round, and medians are compared. Bytecode is written and
used as an installed program's would be (PYTHONDONTWRITEBYTECODE is removed from the
environment; one warm-up round writes the caches). The peak memory of each process (ru_maxrss) is
reported too. A second table gives the same commands warm, in-process (`assistant.cli.main`
called again in one process: the imports done, the database opened each time), and a last line
what a process costs when no bytecode can be read or written (PYTHONDONTWRITEBYTECODE set and an
empty cache): every imported module compiled again on every run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

BUDGET = 1.2
BUDGET_DOCX = 1.6
CLINIC = "Fysio Norr (påhittad)"  # in the archive (benchmarks/archive.py) and in the demo data


def build_archive(db: Path, dialogues: int) -> None:
    """A synthetic archive (benchmarks/archive.py) with the demo indicator data imported."""
    import archive

    from assistant.data import DEMO_FILE
    from assistant.data.importer import import_file
    from storage import Store

    with Store.open(db) as store:
        archive.build(store, dialogues)
        import_file(DEMO_FILE, source="demo", store=store)


def ensure_indicators(db: Path) -> None:
    from assistant.data import DEMO_FILE
    from assistant.data.importer import import_file
    from storage import Store

    with Store.open(db) as store:
        if not store.indicator_values(clinic=CLINIC):
            import_file(DEMO_FILE, source="demo", store=store)


def commands(db: Path, out: Path) -> dict[str, list[str]]:
    """name -> argv after the program (`dialogstod --db DB …`)."""
    from storage import Store

    with Store.open(db) as store:
        row = next(r for r in store.list_dialogues(limit=20, status="finished"))
    ref = row["id"][:8]
    return {
        "list": ["list"],
        "list --json": ["list", "--json"],
        "show": ["show", ref],
        "search": ["search", "avvik*"],
        "export -f html": ["export", ref, "-f", "html", "-o", str(out / "d.html")],
        "export -f md": ["export", ref, "-f", "md", "-o", str(out / "d.md")],
        "export -f json": ["export", ref, "-f", "json", "-o", str(out / "d.json")],
        "export -f docx": ["export", ref, "-f", "docx", "-o", str(out / "d.docx")],
        "data flags": ["data", "flags", "--clinic", CLINIC],
        "actions": ["actions"],
        "actions --json": ["actions", "--json"],
    }


def run_process(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from spawn to exit."""
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv} exited {done.returncode}: {done.stderr.decode('utf-8', 'replace')[-400:]}")
    return elapsed


TIME = Path("/usr/bin/time")


def peak_rss(argv: list[str], env: dict[str, str]) -> int | None:
    """Peak resident memory of the process in KiB, through /usr/bin/time (None without it). Not
    ru_maxrss of a child of this process: a child forked from a large process starts with the
    parent's high-water mark."""
    if not TIME.exists():
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        run_process([str(TIME), "-f", "%M", "-o", report.name, *argv], env)
        return int(report.read().split()[-1])


def cold(db: Path, runs: int, env: dict[str, str], out: Path) -> dict[str, tuple[list[float], list[int | None]]]:
    bindir = Path(sys.executable).parent
    programs: dict[str, list[str]] = {"sqlite-utils tables": [str(bindir / "sqlite-utils"), "tables", str(db)]}
    for name, args in commands(db, out).items():
        programs[name] = [str(bindir / "dialogstod"), "--db", str(db), *args]
    results: dict[str, tuple[list[float], list[int | None]]] = {name: ([], []) for name in programs}
    for name, argv in programs.items():  # warm-up (bytecode caches, the disk cache), and the memory
        run_process(argv, env)
        results[name][1].append(peak_rss(argv, env))
    for _ in range(runs):
        for name, argv in programs.items():
            results[name][0].append(run_process(argv, env))
    return results


def warm(db: Path, runs: int, out: Path) -> dict[str, float]:
    """Median seconds of ``main(argv)`` in this process, after one call to import everything."""
    from assistant.cli import main

    times: dict[str, float] = {}
    for name, args in commands(db, out).items():
        argv = ["--db", str(db), *args]
        samples = []
        for i in range(runs + 1):
            sink = io.StringIO()
            start = time.perf_counter()
            with contextlib.redirect_stdout(sink):
                code = main(argv)
            if code:
                raise RuntimeError(f"{argv} exited {code}")
            if i:
                samples.append(time.perf_counter() - start)
        times[name] = statistics.median(samples)
    return times


def without_bytecode(db: Path, env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median seconds of `sqlite-utils tables` and `dialogstod list --json` when every module is
    compiled on every run (PYTHONDONTWRITEBYTECODE=1 and a pycache prefix with nothing in it)."""
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as empty:
        bare = {**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": empty}
        base, ours = [], []
        for _ in range(runs):
            base.append(run_process([str(bindir / "sqlite-utils"), "tables", str(db)], bare))
            ours.append(run_process([str(bindir / "dialogstod"), "--db", str(db), "list", "--json"], bare))
    return statistics.median(base), statistics.median(ours)


def mib(samples: list[int | None]) -> str:
    known = [s for s in samples if s is not None]
    return f"{max(known) / 1024:.0f}" if known else "–"


def report(db: Path, runs: int, cold_results, warm_results, bare) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    n = conn.execute("SELECT count(*) FROM dialogues").fetchone()[0]
    events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    conn.close()
    base_times, base_rss = cold_results["sqlite-utils tables"]
    base = statistics.median(base_times)
    print(f"One-shot commands on an archive of {n:,} dialogues ({events:,} events, {db.stat().st_size / 1e6:.0f} MB)")
    print(f"cold processes, median of {runs} interleaved runs; warm: in-process, median of {runs}\n")
    print("| command | cold s | × sqlite-utils tables | budget | peak RSS MiB | warm ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| `sqlite-utils tables DB` | {base:.3f} | 1.00× | | {mib(base_rss)} | |")
    over = []
    for name, (times, rss) in cold_results.items():
        if name == "sqlite-utils tables":
            continue
        median = statistics.median(times)
        ratio = median / base
        budget = BUDGET_DOCX if "docx" in name else BUDGET
        if ratio > budget:
            over.append(name)
        mark = "" if ratio <= budget else " **over**"
        print(
            f"| `{name}` | {median:.3f} | {ratio:.2f}×{mark} | ≤ {budget}× | {mib(rss)} "
            f"| {warm_results[name] * 1000:.1f} |"
        )
    if bare is not None:
        print(
            f"\nWithout any bytecode (PYTHONDONTWRITEBYTECODE=1, empty cache): `sqlite-utils tables` "
            f"{bare[0]:.2f} s, `dialogstod list --json` {bare[1]:.2f} s."
        )
    print("\nWithin budget." if not over else f"\nOver budget: {', '.join(over)}.")
    return 0 if not over else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an archive made by benchmarks/archive.py (default: build one)")
    parser.add_argument("--dialogues", type=int, default=2000, help="size of the archive built when --db is not given")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-bare", action="store_true", help="skip the runs without bytecode")
    args = parser.parse_args(argv)

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    with tempfile.TemporaryDirectory(prefix="dialogstod-bench-cli-") as tmp:
        out = Path(tmp)
        env["DIALOGSTOD_DATA_DIR"] = str(out / "data")
        if args.db:
            db = Path(args.db)
            ensure_indicators(db)
        else:
            db = out / "archive.db"
            build_archive(db, args.dialogues)
        cold_results = cold(db, args.runs, env, out)
        warm_results = warm(db, args.runs, out)
        bare = None if args.no_bare else without_bytecode(db, env, max(3, args.runs // 2))
        return report(db, args.runs, cold_results, warm_results, bare)


if __name__ == "__main__":
    sys.exit(main())

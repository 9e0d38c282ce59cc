"""The performance budget in one command.

    uv run python benchmarks/run.py              # everything: 100, 1 000 and 10 000 dialogues (~6 min)
    uv run python benchmarks/run.py --quick      # 100 and 1 000 dialogues, fewer runs (~1 min)

Runs, in this order, printing each part as it goes:
1. start-up: first paint of the start screen vs a minimal Textual app (benchmarks/bench_startup.py);
2. core: loading each flow, answer → durable, exports (benchmarks/bench_core.py);
3. archive growth: a synthetic archive of N replayable dialogues (benchmarks/archive.py) at each
   size: full-text search, listing, export, opening the 2 000-message dialogue (read + replay +
   transcript), then the app on the same archive (benchmarks/bench_app.py, if present).
Figures are medians of repeated runs; the machine is shared and noisy, so nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def section(title: str) -> None:
    print(f"\n## {title}\n", flush=True)


def run_script(name: str, *args: str) -> int:
    path = HERE / name
    if not path.exists():
        print(f"({name} not found, skipped)")
        return 0
    return subprocess.call([sys.executable, str(path), *args], cwd=HERE.parent)


def growth(sizes: list[int], repeat: int, keep: Path | None, *, app: bool = True) -> list[dict]:
    import archive

    from assistant import engine as E
    from assistant.export import export_bytes, transcript_text
    from assistant.session import Dialogue
    from storage import Store

    rows = []
    for n in sizes:
        folder = Path(tempfile.mkdtemp(prefix=f"dialogstod-bench-{n}-"))
        db = folder / "archive.db"
        t = time.perf_counter()
        with Store.open(db) as store:
            events = archive.build(store, n)
        built = time.perf_counter() - t
        with Store.open(db) as store:
            ids = [r["id"] for r in store.list_dialogues(limit=200)]
            rng = random.Random(n)
            sample = [i for i in ids if i != archive.LONG_DIALOGUE_ID]

            def export(fmt: str, rng=rng, sample=sample) -> None:
                d = Dialogue.resume(store, rng.choice(sample))
                export_bytes(store, d.state, d.row, fmt, generated=E.utcnow())

            def open_long() -> None:
                d = Dialogue.resume(store, archive.LONG_DIALOGUE_ID)
                transcript_text(d.state, d.row)

            row = {
                "dialogues": n,
                "events": events,
                "db_mb": db.stat().st_size / 1e6,
                "build_s": built,
                "search_common_ms": median_ms(lambda: store.search("avvik*"), repeat),
                "search_word_ms": median_ms(lambda: store.search("återuppringning"), repeat),
                "search_two_ms": median_ms(lambda: store.search("telefon rehabplaner"), repeat),
                "list_all_ms": median_ms(lambda: store.list_dialogues(), max(3, repeat // 4)),
                "list_page_ms": median_ms(lambda: store.list_dialogues(limit=50), repeat),
                "export_html_ms": median_ms(lambda: export("html"), repeat),
                "export_docx_ms": median_ms(lambda: export("docx"), max(3, repeat // 2)),
                "open_long_ms": median_ms(open_long, max(3, repeat // 4)),
            }
        rows.append(row)
        print(
            f"{n:>6} dialogues ({events:,} events, {row['db_mb']:.0f} MB, built in {built:.0f} s): "
            f"search {row['search_common_ms']:.1f} / {row['search_word_ms']:.1f} / {row['search_two_ms']:.1f} ms, "
            f"list {row['list_all_ms']:.0f} ms (page {row['list_page_ms']:.1f}), "
            f"export html {row['export_html_ms']:.1f} / docx {row['export_docx_ms']:.0f} ms, "
            f"open 2 000 messages {row['open_long_ms']:.0f} ms",
            flush=True,
        )
        bench_app = HERE / "bench_app.py"
        if app and bench_app.exists():
            subprocess.call(
                [sys.executable, str(bench_app), "--db", str(db), "--runs", str(max(3, repeat // 6))], cwd=HERE.parent
            )
        if keep is None:
            for f in folder.iterdir():
                f.unlink()
            folder.rmdir()
    return rows


def table(rows: list[dict]) -> None:
    print("\n| dialogues | events | search `avvik*` | search 1 word | list all | list 50 | export html | export docx | open 2 000 msgs |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['dialogues']:,} | {r['events']:,} | {r['search_common_ms']:.1f} ms | {r['search_word_ms']:.1f} ms "
            f"| {r['list_all_ms']:.0f} ms | {r['list_page_ms']:.1f} ms | {r['export_html_ms']:.1f} ms "
            f"| {r['export_docx_ms']:.0f} ms | {r['open_long_ms']:.0f} ms |"
        )
    print("\nBudgets: search ≤ 50 ms, list ≤ 100 ms, export ≤ 100 ms (at 10 000 dialogues).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 and 1 000 dialogues, fewer runs")
    parser.add_argument("--sizes", default=None, help="comma-separated archive sizes (default 100,1000,10000)")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic archives (paths printed)")
    parser.add_argument("--no-app", action="store_true", help="skip the app measurements on each archive")
    parser.add_argument("--only", choices=("startup", "core", "growth"), help="run one part only")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in (args.sizes or ("100,1000" if args.quick else "100,1000,10000")).split(",")]
    repeat = 8 if args.quick else 20

    print(f"# Dialogstöd benchmarks — {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DIALOGSTOD_DATA_DIR"] = tmp
        os.environ["DIALOGSTOD_DB"] = str(Path(tmp) / "bench.db")
        if args.only in (None, "startup"):
            section("Start-up (120×40 pty)")
            run_script("bench_startup.py", "--runs", "5" if args.quick else "9")
        if args.only in (None, "core"):
            section("Core")
            run_script("bench_core.py", "--answers", "300" if args.quick else "1000")
            section("Answer topics")
            run_script("bench_topics.py", "--runs", "3" if args.quick else "5")
        if args.only in (None, "growth"):
            section("Archive growth")
            rows = growth(sizes, repeat, Path(tmp) if args.keep else None, app=not args.no_app)
            table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

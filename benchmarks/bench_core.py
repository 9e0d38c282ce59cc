"""Core budgets: loading flows, answering (submit -> event committed), exporting.

    uv run python benchmarks/bench_core.py              # prints a table
    uv run python benchmarks/bench_core.py --json       # machine-readable

Budgets: load + validate each shipped flow <= 20 ms; answer durable p99 <= 5 ms over 1 000 answers;
export <= 100 ms (of a finished fysioterapi dialogue with every question answered).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def bench_flows(repeat: int = 20) -> list[dict]:
    from assistant import locations
    from assistant.flows import CATALOGUE_NAME, TOPICS_NAME, load_flow
    from assistant.indicators import load_catalogue

    catalogue = load_catalogue(locations.shipped_flows_dir() / CATALOGUE_NAME)
    rows = []
    for path in sorted(locations.shipped_flows_dir().glob("*.toml")):
        if path.name in (CATALOGUE_NAME, TOPICS_NAME):
            continue
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            load_flow(path, catalogue)
            times.append((time.perf_counter() - t) * 1000)
        rows.append({"what": f"load+validate {path.stem}", "median_ms": statistics.median(times), "budget_ms": 20})
    return rows


def bench_answers(n: int = 1000) -> dict:
    from assistant import engine as E
    from assistant.database import open_store
    from assistant.session import Dialogue

    times = []
    with open_store() as store:
        d = Dialogue.start(store, "fysioterapi-2023", E.StartOptions(clinic="Bench"))
        while len(times) < n:
            if d.state.current is None:
                d = Dialogue.start(store, "fysioterapi-2023", E.StartOptions(clinic="Bench"))
            q = d.state.question(d.state.current.qid)
            answer = "1" if q and q.type in ("single", "multi", "scale", "number") else "Vi har arbetat med detta under året."
            t = time.perf_counter()
            d.do(E.Answer(answer))
            times.append((time.perf_counter() - t) * 1000)
    return {"what": f"answer durable ({n} answers)", "p50_ms": pct(times, 50), "p99_ms": pct(times, 99), "budget_ms": 5}


def bench_export(repeat: int = 10) -> list[dict]:
    from assistant import engine as E
    from assistant.database import open_store
    from assistant.export import export_bytes
    from assistant.session import Dialogue

    rows = []
    with open_store() as store:
        d = Dialogue.start(store, "fysioterapi-2023", E.StartOptions(clinic="Export"))
        while d.state.current is not None:
            q = d.state.question(d.state.current.qid)
            d.do(E.Answer("1" if q and q.type != "text" else "Ett utförligt svar om verksamheten. " * 5))
            if len(d.state.notes) < 20:
                d.do(E.AddNote("En anteckning"))
        d.do(E.AddAction("Se över telefontiderna", owner="Anna", due="2027-03-31"))
        d.do(E.Finish())
        for fmt in ("md", "html", "docx", "json"):
            times = []
            for _ in range(repeat):
                fresh = Dialogue.resume(store, d.id)  # includes reading and replaying the log
                t = time.perf_counter()
                export_bytes(store, fresh.state, fresh.row, fmt)
                times.append((time.perf_counter() - t) * 1000)
            rows.append({"what": f"export {fmt}", "median_ms": statistics.median(times), "budget_ms": 100})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DIALOGSTOD_DATA_DIR"] = tmp
        os.environ["DIALOGSTOD_DB"] = str(Path(tmp) / "bench.db")
        rows = bench_flows() + [bench_answers(args.answers)] + bench_export()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'what':<40} {'figure':>18} {'budget':>10}  ok")
    for r in rows:
        if "p99_ms" in r:
            fig, val = f"p50 {r['p50_ms']:.2f} / p99 {r['p99_ms']:.2f} ms", r["p99_ms"]
        else:
            fig, val = f"{r['median_ms']:.2f} ms", r["median_ms"]
        print(f"{r['what']:<40} {fig:>18} {r['budget_ms']:>7} ms  {'✓' if val <= r['budget_ms'] else '✗'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Answer topics: the Swedish word list's first load, and topic detection per answer.

    uv run python benchmarks/bench_topics.py              # prints a table
    uv run python benchmarks/bench_topics.py --json       # machine-readable
    uv run python benchmarks/bench_topics.py --runs 5     # cold loads measured in 5 fresh processes

Budgets: detection ≤ 5 ms per answer warm (the word list loaded); the first load is lazy (never at
start-up, a test guards it) and measured here in fresh processes: its time and the memory it adds.
Three detection figures over the 207 answers of tests/fixtures/topics/corpus.toml:
- "new words": the word list loaded, but every word seen for the first time (lemma and compound
  caches cleared): an answer typed in a meeting;
- "warm": words seen before (a dialogue's own vocabulary repeats);
- "suggestions": the whole engine call after each answer of a dialogue (rules, flags, topics on
  every answer so far) — what the line mode and the app pay per answer.
The machine is shared and noisy: nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CORPUS = REPO / "tests" / "fixtures" / "topics" / "corpus.toml"

COLD = """
import json, time, resource
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * resource.getpagesize() / 1e6
from pathlib import Path
import assistant.engine  # imported at start-up anyway: not part of compiling
from assistant.flows import get_flow
from assistant.topics import load_topics, topic_set
flow = get_flow('vardcentral').flow
t0 = time.perf_counter()
catalogue = load_topics(Path('flows/topics.toml'))
loaded = time.perf_counter() - t0
t0 = time.perf_counter()
topics = topic_set(flow)
compiled = time.perf_counter() - t0
before = rss()
t1 = time.perf_counter()
topics.detect('Flera äldre patienter har ramlat i hemmet i vinter.')
first = time.perf_counter() - t1
print(json.dumps({'load_validate_ms': loaded * 1000, 'compile_ms': compiled * 1000, 'first_detect_ms': first * 1000,
                  'rss_added_mb': rss() - before}))
"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def cold(runs: int) -> dict:
    rows = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, cwd=REPO, check=True)
        rows.append(json.loads(out.stdout))
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def detection(texts: list[str]) -> dict:
    from assistant import lexicon
    from assistant.flows import get_flow
    from assistant.topics import topic_set

    topics = topic_set(get_flow("vardcentral").flow)
    lexicon.warm()

    def one_pass() -> list[float]:
        times = []
        for text in texts:
            topics._cache.clear()
            t = time.perf_counter()
            topics.detect(text)
            times.append((time.perf_counter() - t) * 1000)
        return times

    lexicon.lemma.cache_clear()
    lexicon.parts.cache_clear()
    new = one_pass()
    warm = statistics.median_low([statistics.median(one_pass()) for _ in range(5)]), one_pass()
    return {
        "new_median_ms": statistics.median(new),
        "new_p95_ms": pct(new, 95),
        "new_max_ms": max(new),
        "warm_median_ms": warm[0],
        "warm_p95_ms": pct(warm[1], 95),
        "warm_max_ms": max(warm[1]),
    }


def suggestions(texts: list[str]) -> dict:
    from datetime import UTC, datetime, timedelta

    from assistant import engine as E
    from assistant.flows import get_flow
    from assistant.topics import topic_set

    flow = get_flow("vardcentral").flow
    topics = topic_set(flow)
    now = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    state = E.replay(flow, E.start(flow, E.StartOptions(clinic="Bench"), now))
    times, without = [], []
    for text in texts:
        if state.current is None:
            break
        q = state.question(state.current.qid)
        now += timedelta(seconds=30)
        answer = "1" if q is not None and q.type != "text" else text
        state = E.advance(state, E.step(state, E.Answer(answer), now))
        t = time.perf_counter()
        E.suggestions(state, [], now, topics=topics)
        times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        E.suggestions(state, [], now)
        without.append((time.perf_counter() - t) * 1000)
    return {
        "answers": len(times),
        "median_ms": statistics.median(times),
        "p95_ms": pct(times, 95),
        "max_ms": max(times),
        "rules_only_median_ms": statistics.median(without),
        "rules_only_p95_ms": pct(without, 95),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="fresh processes for the first load")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    texts = [a["text"] for a in tomllib.loads(CORPUS.read_text(encoding="utf-8"))["answers"]]
    result = {"cold": cold(args.runs), "detect": detection(texts), "suggestions": suggestions(texts)}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    c, d, s = result["cold"], result["detect"], result["suggestions"]
    print(f"load + validate flows/topics.toml           {c['load_validate_ms']:7.1f} ms")
    print(f"compile the topic catalogue for a flow      {c['compile_ms']:7.1f} ms")
    print(f"first detection (loads the word list)       {c['first_detect_ms']:7.1f} ms, +{c['rss_added_mb']:.0f} MB")
    print(f"detection per answer, new words  median {d['new_median_ms']:.2f} ms, p95 {d['new_p95_ms']:.2f}, max {d['new_max_ms']:.2f} (budget 5)")
    print(f"detection per answer, warm       median {d['warm_median_ms']:.2f} ms, p95 {d['warm_p95_ms']:.2f}, max {d['warm_max_ms']:.2f} (budget 5)")
    print(f"suggestions after each answer ({s['answers']})  median {s['median_ms']:.2f} ms, p95 {s['p95_ms']:.2f}, max {s['max_ms']:.2f}"
          f" (rules and flags only: median {s['rules_only_median_ms']:.2f}, p95 {s['rules_only_p95_ms']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Precision and recall of answer-topic detection on the hand-written corpora, per topic.

    uv run python benchmarks/topic_quality.py            # Markdown tables for docs/topics.md
    uv run python benchmarks/topic_quality.py --misses   # also list every miss and false alarm

A topic counts as found for an answer when the detector finds it anywhere in the answer. Every topic
the detector finds that the answer's label does not list is a false alarm (the labels' not_raises
are only the traps worth naming). tests/test_topics.py holds the overall figures.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SETS = [
    ("corpus.toml", "written before the detector; the development set"),
    ("round2.toml", "written after the catalogue's first version; used once to widen it"),
    ("heldout.toml", "written after the word lists were done; never used to widen them"),
]


def score(answers: list[dict], topics) -> tuple[Counter, Counter, Counter, list[str]]:
    tp, fp, fn = Counter(), Counter(), Counter()
    misses = []
    for item in answers:
        got = set(topics.detect(item["text"]).mentions)
        want = set(item["raises"])
        tp.update(got & want)
        fp.update(got - want)
        fn.update(want - got)
        for t in sorted(got - want):
            misses.append(f"false alarm {t}: {item['text']}")
        for t in sorted(want - got):
            misses.append(f"missed {t}: {item['text']}")
    return tp, fp, fn, misses


def ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "–"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    from assistant.flows import get_flow
    from assistant.topics import topic_set

    topics = topic_set(get_flow("vardcentral").flow)
    folder = REPO / "tests" / "fixtures" / "topics"
    total = [Counter(), Counter(), Counter()]
    print("| set | answers | precision | recall | found | false alarms | missed |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    all_misses = []
    answers_per_set = []
    for name, what in SETS:
        answers = tomllib.loads((folder / name).read_text(encoding="utf-8"))["answers"]
        answers_per_set.append(len(answers))
        tp, fp, fn, misses = score(answers, topics)
        all_misses += [f"{name}: {m}" for m in misses]
        for acc, part in zip(total, (tp, fp, fn), strict=True):
            acc.update(part)
        t, f, n = sum(tp.values()), sum(fp.values()), sum(fn.values())
        print(f"| `{name}` ({what}) | {len(answers)} | {ratio(t, t + f)} | {ratio(t, t + n)} | {t} | {f} | {n} |")
    tp, fp, fn = total
    t, f, n = sum(tp.values()), sum(fp.values()), sum(fn.values())
    print(f"| **all** | {sum(answers_per_set)} | **{ratio(t, t + f)}** | **{ratio(t, t + n)}** | {t} | {f} | {n} |")
    print()
    print("| topic | name | precision | recall | answers with it | false alarms | missed |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for tid, topic in sorted(topics.topics.items()):
        a, b, c = tp[tid], fp[tid], fn[tid]
        print(f"| `{tid}` | {topic.name} | {ratio(a, a + b)} | {ratio(a, a + c)} | {a + c} | {b} | {c} |")
    if args.misses:
        print()
        for m in all_misses:
            print("- " + m)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Storage benchmark: builds a synthetic archive in a temp directory and times the Store.

    uv run python benchmarks/bench_storage.py                  # 10 000 dialogues (~1 M events)
    uv run python benchmarks/bench_storage.py --dialogues 1000 # quicker
    uv run python benchmarks/bench_storage.py --dir /tmp/b --reuse   # keep and reuse the archive

Targets: one durable append (synchronous=FULL) p99 <= 5 ms over 1000 appends; search over 10 000
dialogues <= 50 ms; list_dialogues <= 100 ms. Prints a table with p50/p99 (milliseconds). Timings
belong here, not in the tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.events import Event  # noqa: E402
from storage import Store  # noqa: E402

WORDS = """
vi har arbetat med avvikelser och rutiner för patientsäkerhet under året men det finns fortfarande
brister i uppföljningen tillgängligheten på telefon har förbättrats sedan vi införde återuppringning
väntetiden till fysioterapeut är längre än målet eftersom två medarbetare har slutat rekryteringen
pågår och vi hoppas kunna bemanna fullt till hösten samverkan med kommunens hemsjukvård fungerar bra
men läkemedelsgenomgångar görs inte alltid i tid journalföringen behöver bli mer enhetlig vi ser att
andelen listade patienter ökar vilket påverkar arbetsmiljön personalen upplever stress och hög
belastning chefen planerar en workshop om prioriteringar diabetessjuksköterskan följer upp
blodsocker och fotvård enligt riktlinjerna digitala vårdmöten används mer än tidigare patienterna är
överlag nöjda men några har klagat på bemötandet i receptionen vi behöver förbättra kontinuiteten
och fast läkarkontakt för äldre multisjuka avvikelsehanteringen sker i systemet och diskuteras på
arbetsplatsträffar kvalitetsregister används för att följa resultat sjukskrivningsprocessen har
setts över tolkar bokas i förväg hygienrutinerna följs enligt senaste egenkontrollen
""".split()

PROMPTS = [
    "Hur har ni arbetat med avvikelser sedan förra uppföljningen?",
    "Berätta om tillgängligheten på telefon och i receptionen.",
    "Hur ser bemanningen ut just nu, och vilka rekryteringar pågår?",
    "Vilka resultat i kvalitetsregistren vill ni lyfta?",
    "Hur fungerar samverkan med kommunen och slutenvården?",
    "Hur följer ni upp patientsäkerheten i det dagliga arbetet?",
    "Vad säger patienterna om bemötandet och kontinuiteten?",
    "Hur arbetar ni med läkemedelsgenomgångar för äldre?",
    "Vilka förbättringar planerar ni till nästa år?",
    "Hur mår personalen, och hur hanteras arbetsbelastningen?",
]

CLINICS = [
    "Vårdcentralen Åby",
    "Fysioterapi Norr",
    "Hälsocentralen Ängelholm",
    "Vårdcentralen Östermalm",
    "Familjeläkarna Söder",
    "Rehab Väst",
    "Vårdcentralen Björkö",
    "Husläkarmottagningen Eken",
    "Fysio Syd",
    "Vårdcentralen Älvdalen",
    "Närhälsan Lövgärdet",
    "Capio Gärdet",
]


def sentence(rng: random.Random, lo: int = 8, hi: int = 30) -> str:
    words = rng.choices(WORDS, k=rng.randint(lo, hi))
    return " ".join(words).capitalize() + "."


def synthetic_events(rng: random.Random, start: datetime, n: int, clinic: str) -> tuple[list[Event], str]:
    at = start
    events = [
        Event(
            1,
            "started",
            at,
            payload={
                "flow_id": "uppfoljning",
                "flow_version": 3,
                "flow_sha256": "0" * 64,
                "mode": "facilitator",
                "clinic": clinic,
            },
        )
    ]
    actions = 0
    while len(events) < n - 1:
        at += timedelta(seconds=rng.randint(5, 90))
        seq = len(events) + 1
        r = rng.random()
        last_kind = events[-1].kind
        if last_kind != "prompted":
            events.append(Event(seq, "prompted", at, qid=f"q{seq}", text=rng.choice(PROMPTS)))
        elif r < 0.8:
            events.append(Event(seq, "answered", at, qid=events[-1].qid, text=sentence(rng)))
        elif r < 0.88:
            events.append(Event(seq, "noted", at, qid=events[-1].qid, text=sentence(rng, 4, 15)))
        elif r < 0.94:
            actions += 1
            events.append(
                Event(
                    seq,
                    "action_added",
                    at,
                    text=sentence(rng, 4, 10),
                    payload={"action_id": f"a{actions}", "owner": "Chef"},
                )
            )
        elif r < 0.97 and actions:
            events.append(
                Event(
                    seq,
                    "action_updated",
                    at,
                    payload={"action_id": f"a{rng.randint(1, actions)}", "status": "done"},
                )
            )
        else:
            events.append(Event(seq, "skipped", at, qid=events[-1].qid))
    finished = rng.random() < 0.7
    events.append(
        Event(len(events) + 1, "finished" if finished else "section_ended", at + timedelta(seconds=30))
    )
    return events, ("finished" if finished else "in_progress")


def build_archive(store: Store, dialogues: int, per_dialogue: int, seed: int) -> int:
    """Bulk insert through the Store's own insert path (so triggers build the projections), many
    dialogues per transaction and synchronous=OFF while loading."""
    rng = random.Random(seed)
    base = datetime(2021, 1, 1, tzinfo=UTC)
    total = 0
    store.db.execute("PRAGMA synchronous = OFF")
    batch = 250
    for first in range(0, dialogues, batch):
        with store._write() as conn:
            for _ in range(first, min(first + batch, dialogues)):
                clinic = rng.choice(CLINICS)
                start = base + timedelta(minutes=rng.randint(0, 5 * 365 * 24 * 60))
                n = max(4, int(rng.gauss(per_dialogue, per_dialogue / 4)))
                events, status = synthetic_events(rng, start, n, clinic)
                store._insert_dialogue(
                    conn,
                    dialogue_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    clinic=clinic,
                    flow_id=rng.choice(["uppfoljning", "fysioterapi", "rehab"]),
                    flow_version=3,
                    flow_sha256="0" * 64,
                    mode="facilitator",
                    participants=[
                        {"name": "Anna Öberg", "role": "chef"},
                        {"name": "Per Åström", "role": "ul"},
                    ],
                    status=status,
                    events=events,
                )
                total += len(events)
    store.db.execute(f"PRAGMA synchronous = {store_sync()}")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.db.execute("PRAGMA optimize")
    return total


def store_sync() -> str:
    from storage.opening import SYNCHRONOUS

    return SYNCHRONOUS


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def bench_appends(store: Store, n: int, synchronous: str) -> list[float]:
    store.db.execute(f"PRAGMA synchronous = {synchronous}")
    did = str(uuid.uuid4())
    now = datetime.now(UTC)
    store.create_dialogue(
        dialogue_id=did,
        clinic="Benchmark Ö",
        flow_id="bench",
        flow_version=1,
        flow_sha256="0" * 64,
        mode="self",
        participants=[],
        status="in_progress",
        events=[Event(1, "started", now)],
    )
    rng = random.Random(7)
    out = []
    for seq in range(2, n + 2):
        kind = "answered" if seq % 2 else "prompted"
        event = Event(seq, kind, datetime.now(UTC), qid=f"q{seq // 2}", text=sentence(rng))
        t0 = time.perf_counter()
        store.append_events(did, [event])
        out.append((time.perf_counter() - t0) * 1000)
    store.db.execute(f"PRAGMA synchronous = {store_sync()}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dialogues", type=int, default=10_000, help="synthetic dialogues (default 10 000)")
    parser.add_argument("--events", type=int, default=100, help="mean events per dialogue (default 100)")
    parser.add_argument(
        "--appends", type=int, default=1000, help="single-event appends to time (default 1000)"
    )
    parser.add_argument("--repeat", type=int, default=30, help="repetitions per query (default 30)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--dir", type=Path, default=None, help="work directory (default: a temp dir, removed after)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="with --dir: reuse an archive built by an earlier run"
    )
    args = parser.parse_args(argv)

    workdir = args.dir or Path(tempfile.mkdtemp(prefix="dialogstod-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "bench.db"
    rows: list[tuple[str, list[float] | None, str]] = []
    try:
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}"
        )
        t0 = time.perf_counter()
        if args.reuse and path.exists():
            print(f"reusing {path}")
        else:
            path.unlink(missing_ok=True)
            print(f"building {args.dialogues} dialogues x ~{args.events} events in {path} ...", flush=True)
            with Store.open(path) as store:
                total = build_archive(store, args.dialogues, args.events, args.seed)
            build_s = time.perf_counter() - t0
            print(f"  {total} events in {build_s:.1f} s ({total / build_s:,.0f} events/s)")
        with Store.open(path) as store:
            n_dialogues, n_events = store.db.execute(
                "SELECT count(*), sum(event_count) FROM dialogues"
            ).fetchone()
        print(f"  archive: {n_dialogues} dialogues, {n_events} events, {path.stat().st_size / 1e6:.0f} MB")

        opens = timed(lambda: Store.open(path).close(), 5)
        rows.append(("Store.open + close (a clean file: no quick_check)", opens, ""))

        store = Store.open(path)
        try:
            full = bench_appends(store, args.appends, "FULL")
            rows.append((f"append 1 event, synchronous=FULL (x{args.appends})", full, "p99 <= 5"))
            normal = bench_appends(store, args.appends, "NORMAL")
            rows.append((f"append 1 event, synchronous=NORMAL (x{args.appends})", normal, "(comparison)"))

            for query in [
                "avvik*",
                "tillgängligheten",
                "läkemedelsgenomgångar äldre",
                "patientsäk* rutin*",
                "Åby",
                "Ängelholm väntetiden",
                "kvalitetsregister",
            ]:
                rows.append(
                    (f"search {query!r}", timed(lambda q=query: store.search(q), args.repeat), "<= 50")
                )
            rows.append(
                (
                    "search 'avvik*' clinic=Fysioterapi Norr",
                    timed(lambda: store.search("avvik*", clinic="Fysioterapi Norr"), args.repeat),
                    "<= 50",
                )
            )
            rows.append(("list_dialogues() all", timed(store.list_dialogues, args.repeat), "<= 100"))
            rows.append(
                (
                    "list_dialogues(limit=50)",
                    timed(lambda: store.list_dialogues(limit=50), args.repeat),
                    "<= 100",
                )
            )
            rows.append(
                (
                    "list_dialogues(clinic=, year=)",
                    timed(lambda: store.list_dialogues(clinic="Vårdcentralen Åby", year=2023), args.repeat),
                    "<= 100",
                )
            )
            some = store.list_dialogues(flow="rehab", limit=1)[0]["id"]  # a synthetic dialogue
            rows.append(
                ("get_dialogue(8-char prefix)", timed(lambda: store.get_dialogue(some[:8]), args.repeat), "")
            )
            rows.append(
                ("load_events(one dialogue)", timed(lambda: store.load_events(some), args.repeat), "")
            )
            rows.append(
                ("list_actions(open_only=True)", timed(lambda: store.list_actions(open_only=True), 5), "")
            )
            rows.append(("clinics()", timed(store.clinics, args.repeat), ""))
            rows.append(
                (
                    "latest_dialogue_for_clinic",
                    timed(lambda: store.latest_dialogue_for_clinic("Rehab Väst"), args.repeat),
                    "",
                )
            )
        finally:
            store.close()

        print()
        print(f"{'operation':<48} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}  target ms")
        print("-" * 90)
        for name, values, target in rows:
            assert values
            print(
                f"{name:<48} {statistics.median(values):9.2f} {pct(values, 99):9.2f} {max(values):9.2f}  {target}"
            )
    finally:
        if args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A synthetic archive of *replayable* dialogues on the shipped fysioterapi-2023 flow.

    uv run python benchmarks/archive.py --dialogues 10000 --db /tmp/archive.db

Each dialogue walks the real flow (prompted/answered pairs with Swedish answer text, some notes,
actions, skips and a finish), about 100 events each, so exports, transcripts and the app can open
any of them. One extra dialogue has 2 000 messages (1 000 prompts and 1 000 answers).
Clearly synthetic: clinic names end in "(påhittad)".
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.events import Event  # noqa: E402

WORDS = """
vi har arbetat med avvikelser och rutiner för patientsäkerhet under året men det finns fortfarande
brister i uppföljningen tillgängligheten på telefon har förbättrats sedan vi införde återuppringning
väntetiden till fysioterapeut är längre än målet eftersom två medarbetare har slutat rekryteringen
pågår samverkan med kommunens hemsjukvård fungerar bra rehabplaner skrivs för de flesta patienter
artrosskolan är populär levnadsvanor tas upp vid nybesök personalen upplever hög belastning chefen
planerar en workshop om prioriteringar digitala vårdmöten används mer än tidigare patienterna är
nöjda men några har klagat på bemötandet i receptionen avvikelsehanteringen diskuteras på
arbetsplatsträffar kvalitetsregister används för att följa resultat tolkar bokas i förväg
""".split()
CLINICS = [f"Fysio {name} (påhittad)" for name in (
    "Norr", "Söder", "Öster", "Väster", "Mitt", "Hamnen", "Skogen", "Åby", "Ängen", "Ödeby",
    "Backa", "Dalen", "Strand", "Berga", "Lunden", "Torget",
)]
LONG_DIALOGUE_ID = "00000000-0000-4000-8000-000000002000"


def sentence(rng: random.Random, lo: int = 6, hi: int = 24) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(lo, hi))).capitalize() + "."


def dialogue_events(flow, rng: random.Random, start: datetime, clinic: str, messages: int | None = None):
    """Events for one dialogue. ``messages`` forces that many prompts + answers (cycling the flow)."""
    at = start
    events = [Event(1, "started", at, payload={
        "flow_id": flow.id, "flow_version": flow.version, "flow_sha256": "0" * 64, "mode": "facilitator",
        "clinic": clinic, "participants": [{"name": "Anna Öberg", "role": "presenterar data"},
                                           {"name": "Per Åström", "role": "dokumenterar"}],
    })]
    questions = [q for q in flow.questions if q.type == "text" and q.when is None]

    def add(kind, qid=None, text=None, **payload):
        nonlocal at
        at += timedelta(seconds=rng.randint(10, 70))
        events.append(Event(len(events) + 1, kind, at, qid=qid, text=text, payload=payload))

    actions = 0
    if messages:
        for i in range(messages // 2):
            q = questions[i % len(questions)]
            add("prompted", q.id, q.text, via="next" if i < len(questions) else "back")
            add("answered", q.id, sentence(rng))
        return events, "in_progress"
    for q in questions[: rng.randint(30, len(questions))]:
        add("prompted", q.id, q.text, via="next")
        r = rng.random()
        if r < 0.85:
            add("answered", q.id, sentence(rng))
        elif r < 0.95:
            add("skipped", q.id)
        else:
            add("parked", q.id)
        if rng.random() < 0.08:
            add("noted", q.id, sentence(rng, 4, 12))
        if rng.random() < 0.04:
            actions += 1
            add("action_added", q.id, sentence(rng, 4, 10), action_id=f"a{actions}", owner="Anna Öberg",
                due="2027-03-31")
    finished = rng.random() < 0.7
    if finished:
        add("finished")
    return events, "finished" if finished else "in_progress"


def build(store, dialogues: int, seed: int = 1, *, long_dialogue: bool = True) -> int:
    """Bulk insert through the Store's insert path (triggers build the projections)."""
    from assistant.flows import get_flow

    flow = get_flow("fysioterapi-2023").flow
    rng = random.Random(seed)
    base = datetime(2021, 1, 1, tzinfo=UTC)
    total = 0
    store.db.execute("PRAGMA synchronous = OFF")
    batch = 250
    plan = [(None, None)] * dialogues + ([(LONG_DIALOGUE_ID, 2000)] if long_dialogue else [])
    for first in range(0, len(plan), batch):
        with store._write() as conn:
            for fixed_id, messages in plan[first : first + batch]:
                clinic = rng.choice(CLINICS)
                start = base + timedelta(minutes=rng.randint(0, 5 * 365 * 24 * 60))
                events, status = dialogue_events(flow, rng, start, clinic, messages)
                store._insert_dialogue(
                    conn,
                    dialogue_id=fixed_id or str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    clinic=clinic,
                    flow_id=flow.id,
                    flow_version=flow.version,
                    flow_sha256="0" * 64,
                    mode="facilitator",
                    participants=events[0].payload["participants"],
                    status=status,
                    events=events,
                )
                total += len(events)
    store.db.execute("PRAGMA synchronous = FULL")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.db.execute("PRAGMA optimize")
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialogues", type=int, default=10_000)
    parser.add_argument("--db", required=True, help="database file to create (must not exist)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    from storage import Store

    if Path(args.db).exists():
        parser.error(f"{args.db} exists already")
    t = time.perf_counter()
    with Store.open(args.db) as store:
        events = build(store, args.dialogues, args.seed)
    print(f"{args.dialogues} dialogues (+1 with 2 000 messages), {events:,} events in {time.perf_counter() - t:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Tests for storage.Store: opening and refusing files, events, dialogues, search, actions,
indicator values, concurrency. Timings live in benchmarks/bench_storage.py, not here."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.events import Event
from storage import SCHEMA_VERSION, StorageError, Store
from storage.migrations import APPLICATION_ID

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def make_events(n_answers: int = 2, start: datetime = T0) -> list[Event]:
    events = [Event(1, "started", start, payload={"flow_id": "mini", "clinic": "Vårdcentralen Åby"})]
    for i in range(n_answers):
        qid = f"p1.q{i}"
        events.append(
            Event(
                len(events) + 1,
                "prompted",
                start + timedelta(minutes=2 * i + 1),
                qid=qid,
                text=f"Fråga {i}: hur går det?",
            )
        )
        events.append(
            Event(
                len(events) + 1, "answered", start + timedelta(minutes=2 * i + 2), qid=qid, text=f"Svar {i}."
            )
        )
    return events


def create(
    store: Store,
    *,
    clinic: str = "Vårdcentralen Åby",
    events: list[Event] | None = None,
    status: str = "in_progress",
    flow_id: str = "mini",
    dialogue_id: str | None = None,
) -> str:
    did = dialogue_id or str(uuid.uuid4())
    store.create_dialogue(
        dialogue_id=did,
        clinic=clinic,
        flow_id=flow_id,
        flow_version=1,
        flow_sha256="f" * 64,
        mode="facilitator",
        participants=[{"name": "Åsa Öberg", "role": "chef"}],
        status=status,
        events=events if events is not None else make_events(),
    )
    return did


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "db" / "dialogstod.db") as s:
        yield s


def sidecars(path: Path) -> list[str]:
    return sorted(
        p.name for p in path.parent.iterdir() if p.name != path.name and p.name.startswith(path.name)
    )


# --- opening ------------------------------------------------------------------------------------


def test_open_creates_private_dir_and_file(tmp_path: Path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "a" / "b" / "dialogstod.db"
        with Store.open(path) as s:
            create(s)
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            for side in ("-wal", "-shm"):
                side_path = Path(f"{path}{side}")
                if side_path.exists():
                    assert stat.S_IMODE(side_path.stat().st_mode) == 0o600
            assert s.schema_version == SCHEMA_VERSION
            assert s.path == path
            assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert s.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert s.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
            assert s.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
            assert s.db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    finally:
        os.umask(old)


def test_a_dangling_symlink_as_the_database_path_gives_a_private_file(tmp_path: Path):
    old = os.umask(0o022)
    try:
        real = tmp_path / "real" / "dialogstod.db"
        real.parent.mkdir()
        link = tmp_path / "link.db"
        link.symlink_to(real)
        with Store.open(link) as s:
            create(s)
        assert link.is_symlink() and real.is_file()
        assert stat.S_IMODE(real.stat().st_mode) == 0o600
        for side in ("-wal", "-shm"):
            for base in (real, link):
                side_path = Path(f"{base}{side}")
                if side_path.exists():
                    assert stat.S_IMODE(side_path.stat().st_mode) == 0o600
        with Store.open(link) as s:  # and it opens again as the same database
            assert s.list_dialogues()
    finally:
        os.umask(old)


def test_a_dangling_symlink_into_a_missing_directory_is_refused_with_a_message(tmp_path: Path):
    link = tmp_path / "link.db"
    link.symlink_to(tmp_path / "nowhere" / "dialogstod.db")
    with pytest.raises(StorageError, match="länk till .*katalogen .*finns inte"):
        Store.open(link)
    assert not (tmp_path / "nowhere").exists()


def test_open_default_path_uses_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from assistant.database import open_store

    monkeypatch.setenv("DIALOGSTOD_DB", str(tmp_path / "env" / "x.db"))
    with open_store() as s:
        assert s.path == tmp_path / "env" / "x.db"
    assert (tmp_path / "env" / "x.db").exists()


def test_open_existing_dir_mode_is_left_alone(tmp_path: Path):
    d = tmp_path / "shared"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    Store.open(d / "x.db").close()
    assert stat.S_IMODE(d.stat().st_mode) == 0o755


def test_open_missing_without_create(tmp_path: Path):
    path = tmp_path / "nope" / "x.db"
    with pytest.raises(StorageError, match="finns inte"):
        Store.open(path, create=False)
    assert not path.exists() and not path.parent.exists()


def test_open_empty_file_initialises_it(tmp_path: Path):
    path = tmp_path / "empty.db"
    path.touch()
    with Store.open(path) as s:
        assert s.schema_version == SCHEMA_VERSION
    with Store.open(path, create=False) as s:
        assert s.list_dialogues() == []


def test_reopen_keeps_data(tmp_path: Path):
    path = tmp_path / "x.db"
    with Store.open(path) as s:
        did = create(s)
    with Store.open(path, create=False) as s:
        assert s.load_events(did) == make_events()
    assert sidecars(path) == []  # a clean close checkpoints and removes the WAL


def assert_refused_untouched(path: Path, match: str) -> StorageError:
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    with pytest.raises(StorageError, match=match) as info:
        Store.open(path)
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime
    assert sidecars(path) == []
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return info.value


def test_refuses_non_sqlite_file(tmp_path: Path):
    path = tmp_path / "notes.db"
    path.write_text("Det här är anteckningar, ingen databas.\n" * 10, encoding="utf-8")
    assert_refused_untouched(path, "är inte en Dialogstöd-databas")


def test_refuses_short_file(tmp_path: Path):
    path = tmp_path / "short.db"
    path.write_bytes(b"SQLite")
    assert_refused_untouched(path, "är inte en Dialogstöd-databas")


def test_refuses_directory(tmp_path: Path):
    with pytest.raises(StorageError, match="katalog"):
        Store.open(tmp_path)


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_refuses_foreign_sqlite_database(tmp_path: Path, journal: str):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode = {journal}")
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('kanelbullar')")
    conn.commit()
    conn.close()
    assert sidecars(path) == []
    assert_refused_untouched(path, "är inte en Dialogstöd-databas")


def test_refuses_sqlite_with_our_table_name_but_other_application_id(tmp_path: Path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE dialogstod_meta (key TEXT, value TEXT)")
    conn.execute("PRAGMA application_id = 42")
    conn.commit()
    conn.close()
    assert_refused_untouched(path, "är inte en Dialogstöd-databas")


def test_refuses_empty_sqlite_database_of_another_application(tmp_path: Path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 42")
    conn.execute("PRAGMA user_version = 0")
    conn.close()
    assert_refused_untouched(path, "är inte en Dialogstöd-databas")


def _single_file_copy(tmp_path: Path, name: str) -> Path:
    """A database of ours, closed and switched to a rollback journal so it is one file."""
    path = tmp_path / name
    with Store.open(path) as s:
        create(s)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    return path


def test_refuses_newer_schema(tmp_path: Path):
    path = _single_file_copy(tmp_path, "future.db")
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    err = assert_refused_untouched(path, "skapad av en nyare version av Dialogstöd")
    assert f"schema {SCHEMA_VERSION + 1}" in str(err)


def test_refuses_corrupt_database(tmp_path: Path):
    path = _single_file_copy(tmp_path, "broken.db")
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[page : len(data)] = bytes([0xA5]) * (len(data) - page)  # every page after the header page
    path.write_bytes(bytes(data))
    err = assert_refused_untouched(path, "skadad")
    assert "säkerhetskopia" in str(err)


def test_refuses_database_with_garbage_after_magic(tmp_path: Path):
    path = tmp_path / "garbage.db"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)
    assert_refused_untouched(path, "skadad|inte en Dialogstöd-databas")


def test_corruption_found_after_open_is_a_storage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Damage the checks at open do not reach (a page past the first rows, the bounded quick check
    out of time) is still a StorageError when read."""
    path = _single_file_copy(tmp_path, "x.db")
    conn = sqlite3.connect(path)
    did = conn.execute("SELECT id FROM dialogues").fetchone()[0]
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'").fetchone()
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page_size : root * page_size] = bytes([0xA5]) * page_size
    path.write_bytes(bytes(data))
    monkeypatch.setattr("storage.opening.glance", lambda conn: None)  # as if the damage were further in
    monkeypatch.setattr("storage.opening.bounded_quick_check", lambda conn, budget: [])  # as if out of time
    with Store.open(path) as s:
        with pytest.raises(StorageError, match="skadad") as info:
            s.load_events(did)
    assert str(path) in str(info.value) and "säkerhetskopia" in str(info.value)


def _damage_root_page(path: Path, table: str) -> None:
    conn = sqlite3.connect(path)
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page_size : root * page_size] = bytes([0xA5]) * page_size
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("table", ["dialogues", "clinics", "indicator_values"])
def test_a_damaged_table_is_refused_at_open_after_a_clean_close(tmp_path: Path, table: str):
    """No quick check runs on a file closed cleanly; the first page of every table is still read."""
    path = _single_file_copy(tmp_path, "x.db")
    _damage_root_page(path, table)
    err = assert_refused_untouched(path, "skadad")
    assert "säkerhetskopia" in str(err)


def _left_open_by_a_killed_process(path: Path) -> None:
    """A process writes to the database and dies without closing it: its -wal file stays."""
    code = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute(\"INSERT INTO clinics (name, key) VALUES ('Ödeby', 'ödeby')\")\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)


def test_the_bounded_quick_check_runs_after_an_unclean_shutdown_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from storage import opening

    checks: list[float | None] = []
    real = opening.bounded_quick_check
    monkeypatch.setattr(opening, "bounded_quick_check", lambda conn, budget: checks.append(budget) or real(conn, budget))
    path = tmp_path / "x.db"
    with Store.open(path) as s:
        create(s)
    with Store.open(path) as s:  # closed cleanly: nothing to check
        assert s.list_dialogues()
    assert checks == [] and not Path(f"{path}-wal").exists()
    _left_open_by_a_killed_process(path)
    assert Path(f"{path}-wal").stat().st_size > 0
    with Store.open(path) as s:
        assert {c["name"] for c in s.clinics()} == {"Vårdcentralen Åby", "Ödeby"}  # the WAL's row is there
    assert checks == [opening.QUICK_CHECK_BUDGET_S]
    with Store.open(path):  # the last close was clean again
        pass
    assert checks == [opening.QUICK_CHECK_BUDGET_S]


def test_check_reads_the_whole_file(tmp_path: Path):
    """Damage past the first rows of a table passes the open (clean close) and is found by check()."""
    path = tmp_path / "x.db"
    with Store.open(path) as s:
        for n in range(60):
            create(s, clinic=f"Mottagning {n} " + "å" * 400)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    pages = [p for (p,) in conn.execute("SELECT pageno FROM dbstat WHERE name = 'clinics' AND pagetype = 'leaf'")]
    conn.close()
    assert len(pages) > 2
    data = bytearray(path.read_bytes())
    last = pages[-1]
    data[(last - 1) * page_size : last * page_size] = bytes([0xA5]) * page_size
    path.write_bytes(bytes(data))
    with Store.open(path) as s:
        with pytest.raises(StorageError, match="skadad"):
            s.check()


def test_closed_store_gives_storage_error(tmp_path: Path):
    s = Store.open(tmp_path / "x.db")
    s.close()
    s.close()  # idempotent
    with pytest.raises(StorageError, match="stängd"):
        s.list_dialogues()


def test_storage_does_not_import_the_ui():
    code = "import sys, storage; bad = [m for m in sys.modules if m.startswith(('textual', 'assistant.tui'))]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_storage_error_is_shown_as_one_cli_line(tmp_path: Path):
    from assistant.errors import user_error_lines

    path = tmp_path / "notes.db"
    path.write_text("hej", encoding="utf-8")
    with pytest.raises(StorageError) as info:
        Store.open(path)
    assert user_error_lines(info.value) == [str(info.value)]


# --- events -------------------------------------------------------------------------------------


def test_events_round_trip_exactly(store: Store):
    events = [
        Event(
            1,
            "started",
            datetime(2025, 1, 1, 8, 0, tzinfo=UTC),
            payload={"clinic": "Åby", "participants": [{"name": "Ö"}], "n": 1.5},
        ),
        Event(
            2,
            "prompted",
            datetime(2025, 1, 1, 8, 0, 0, 123456, tzinfo=UTC),
            qid="p1.q",
            text="Hur mår ni?\nRad två – ”citat”",
        ),
        Event(
            3,
            "answered",
            datetime(2025, 1, 1, 8, 1, tzinfo=UTC),
            qid="p1.q",
            text="Bra 😊",
            payload={"value": ["a", "b"], "x": None},
        ),
        Event(4, "skipped", datetime(2025, 1, 1, 8, 2, 0, 1, tzinfo=UTC), qid="p1.r"),
        Event(5, "noted", datetime(2025, 1, 1, 8, 3, tzinfo=UTC), text=""),
    ]
    did = create(store, events=events)
    loaded = store.load_events(did)
    assert loaded == events
    assert all(e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0) for e in loaded)
    stored = store.db.execute(
        "SELECT at, payload FROM events WHERE dialogue_id = ? AND seq = 1", (did,)
    ).fetchone()
    assert stored[0] == "2025-01-01T08:00:00.000000+00:00"
    assert "Åby" in stored[1]  # ensure_ascii=False


def test_event_times_are_stored_as_utc(store: Store):
    cet = timezone(timedelta(hours=1))
    did = create(store, events=[Event(1, "started", datetime(2025, 1, 1, 9, 0, tzinfo=cet))])
    (at,) = store.db.execute("SELECT at FROM events WHERE dialogue_id = ?", (did,)).fetchone()
    assert at == "2025-01-01T08:00:00.000000+00:00"
    assert store.load_events(did)[0].at == datetime(2025, 1, 1, 9, 0, tzinfo=cet)


def test_append_continues_and_updates_dialogue(store: Store):
    did = create(store, events=make_events(1), status="prepared")
    assert store.get_dialogue(did)["status"] == "prepared"
    more = [Event(4, "opened", t(10)), Event(5, "noted", t(11), text="Ny anteckning")]
    store.append_events(did, more)
    d = store.get_dialogue(did)
    assert d["status"] == "in_progress"
    assert d["events"] == 5
    assert d["updated"] == "2025-02-03T09:11:00.000000+00:00"
    assert d["started"] == "2025-02-03T09:00:00.000000+00:00"
    store.append_events(did, [Event(6, "finished", t(12))])
    assert store.get_dialogue(did)["status"] == "finished"
    store.append_events(did, [Event(7, "reopened", t(13))])
    assert store.get_dialogue(did)["status"] == "in_progress"
    store.append_events(did, [])
    assert [e.seq for e in store.load_events(did)] == list(range(1, 8))


@pytest.mark.parametrize("seqs", [[5], [4, 6], [3], [1], [4, 4]])
def test_append_refuses_seq_gaps_and_repeats(store: Store, seqs: list[int]):
    did = create(store, events=make_events(1))  # seq 1..3
    before = store.load_events(did)
    with pytest.raises(StorageError, match="nästa händelse ska ha nummer"):
        store.append_events(did, [Event(s, "noted", t(20), text="x") for s in seqs])
    assert store.load_events(did) == before
    assert store.get_dialogue(did)["events"] == 3


def test_create_refuses_bad_numbering_and_duplicates(store: Store):
    with pytest.raises(StorageError):
        create(store, events=[Event(2, "started", T0)])
    with pytest.raises(StorageError):
        create(store, events=[])
    did = create(store)
    with pytest.raises(StorageError, match="finns redan"):
        create(store, dialogue_id=did)
    assert len(store.list_dialogues()) == 1


def test_create_and_append_refuse_bad_input(store: Store):
    with pytest.raises(StorageError, match="okänd typ"):
        create(store, events=[Event(1, "exploded", T0)])
    with pytest.raises(StorageError, match="status"):
        create(store, status="done")
    with pytest.raises(StorageError, match="JSON"):
        create(store, events=[Event(1, "started", T0, payload={"when": T0})])
    with pytest.raises(StorageError, match="finns inte"):
        store.append_events("no-such-dialogue", [Event(1, "noted", T0, text="x")])
    with pytest.raises(StorageError, match="finns inte"):
        store.load_events("no-such-dialogue")
    assert store.list_dialogues() == [] and store.clinics() == []


def test_events_are_append_only_in_the_database(store: Store):
    did = create(store)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("UPDATE events SET text = 'ändrad' WHERE dialogue_id = ?", (did,))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("DELETE FROM events WHERE dialogue_id = ?", (did,))


# --- dialogues and clinics ----------------------------------------------------------------------


def test_clinics_are_case_insensitive_including_swedish_letters(store: Store):
    a = store.ensure_clinic("  Vårdcentralen Åby ")
    assert store.ensure_clinic("VÅRDCENTRALEN ÅBY") == a
    assert store.ensure_clinic("vårdcentralen   åby") == a
    assert store.ensure_clinic("Vardcentralen Aby") != a  # å is not a
    with pytest.raises(StorageError):
        store.ensure_clinic("   ")
    create(store, clinic="vårdcentralen åby", events=make_events(start=T0))
    create(store, clinic="VÅRDCENTRALEN ÅBY", events=make_events(start=t(60)))
    clinics = {c["name"]: c for c in store.clinics()}
    assert clinics["Vårdcentralen Åby"]["dialogues"] == 2
    assert clinics["Vårdcentralen Åby"]["last"] == "2025-02-03T10:00:00.000000+00:00"
    assert clinics["Vardcentralen Aby"]["dialogues"] == 0 and clinics["Vardcentralen Aby"]["last"] is None


def test_get_dialogue_by_id_and_prefix(store: Store):
    did = create(store, dialogue_id="abcd1234-0000-4000-8000-000000000001")
    create(store, dialogue_id="abcd9999-0000-4000-8000-000000000002")
    d = store.get_dialogue(did)
    assert d is not None
    assert set(d) == {
        "id",
        "clinic",
        "flow_id",
        "flow_version",
        "flow_sha256",
        "mode",
        "participants",
        "status",
        "started",
        "updated",
        "events",
        "review",
        "review_at",
    }
    assert d["review"] is None and d["review_at"] is None
    assert d["participants"] == [{"name": "Åsa Öberg", "role": "chef"}]
    assert d["clinic"] == "Vårdcentralen Åby" and d["events"] == 5
    assert store.get_dialogue("abcd1")["id"] == did
    assert store.get_dialogue("ABCD1")["id"] == did
    assert store.get_dialogue("abc") is None  # too short for a prefix
    assert store.get_dialogue("ffff") is None
    with pytest.raises(StorageError, match="flera dialoger") as info:
        store.get_dialogue("abcd")
    assert did in str(info.value) and "abcd9999" in str(info.value)


def test_list_dialogues_filters_and_order(store: Store):
    a = create(
        store,
        clinic="Fysio Norr",
        flow_id="fysio",
        events=make_events(start=datetime(2023, 5, 1, tzinfo=UTC)),
    )
    b = create(
        store,
        clinic="Vårdcentralen Åby",
        events=make_events(start=datetime(2024, 5, 1, tzinfo=UTC)),
        status="finished",
    )
    c = create(store, clinic="Vårdcentralen Åby", events=make_events(start=datetime(2022, 5, 1, tzinfo=UTC)))
    store.append_events(c, [Event(6, "noted", datetime(2025, 1, 1, tzinfo=UTC), text="sent")])
    assert [d["id"] for d in store.list_dialogues()] == [c, b, a]
    assert [d["id"] for d in store.list_dialogues(limit=2)] == [c, b]
    assert [d["id"] for d in store.list_dialogues(clinic="vårdcentralen ÅBY")] == [c, b]
    assert [d["id"] for d in store.list_dialogues(flow="fysio")] == [a]
    assert [d["id"] for d in store.list_dialogues(status="finished")] == [b]
    assert [d["id"] for d in store.list_dialogues(year=2022)] == [c]
    assert store.list_dialogues(clinic="Ingen") == []
    with pytest.raises(StorageError):
        store.list_dialogues(status="klar")


def test_year_filter_takes_the_start_in_utc_and_both_ends_of_the_year(store: Store):
    def started(at: datetime) -> str:
        return create(store, events=make_events(start=at))

    last_of_2022 = started(datetime(2022, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    first_of_2023 = started(datetime(2023, 1, 1, 0, 0, tzinfo=UTC))
    # 00:30 in Stockholm on New Year's Day is still 2022 in UTC
    stockholm = started(datetime(2023, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))))
    last_of_2023 = started(datetime(2023, 12, 31, 23, 59, tzinfo=UTC))
    first_of_2024 = started(datetime(2024, 1, 1, tzinfo=UTC))
    # a dialogue started in 2022 and continued in 2023 belongs to 2022
    store.append_events(last_of_2022, [Event(6, "noted", datetime(2023, 6, 1, tzinfo=UTC), text="senare")])
    ids = lambda year: {d["id"] for d in store.list_dialogues(year=year)}  # noqa: E731
    assert ids(2022) == {last_of_2022, stockholm}
    assert ids(2023) == {first_of_2023, last_of_2023}
    assert ids(2024) == {first_of_2024}
    assert ids(2021) == set() and ids(2025) == set()
    assert [d["id"] for d in store.list_dialogues(year=2023, limit=1)] == [last_of_2023]  # newest first


def test_set_status_and_latest_for_clinic(store: Store):
    a = create(store, events=make_events(start=t(0)))
    b = create(store, events=make_events(start=t(100)))
    create(store, clinic="Annan", events=make_events(start=t(200)))
    store.set_status(a, "finished")
    assert store.get_dialogue(a)["status"] == "finished"
    with pytest.raises(StorageError):
        store.set_status(a, "klar")
    with pytest.raises(StorageError, match="finns inte"):
        store.set_status("nope", "finished")
    assert store.latest_dialogue_for_clinic("vårdcentralen åby")["id"] == b
    assert store.latest_dialogue_for_clinic("Vårdcentralen Åby", exclude=b)["id"] == a
    assert store.latest_dialogue_for_clinic("Okänd") is None


def test_store_can_be_used_from_another_thread(store: Store):
    did = create(store)
    result: list = []
    thread = threading.Thread(target=lambda: result.append(store.load_events(did)))
    thread.start()
    thread.join()
    assert result == [make_events()]


# --- search -------------------------------------------------------------------------------------


@pytest.fixture
def searchable(store: Store) -> tuple[Store, str, str]:
    a = create(
        store,
        clinic="Vårdcentralen Åby",
        events=[
            Event(1, "started", t(0), payload={"note": "avvikelse i payload räknas inte"}),
            Event(2, "prompted", t(1), qid="p1", text="Hur arbetar ni med avvikelser?"),
            Event(
                3,
                "answered",
                t(2),
                qid="p1",
                text="Vi rapporterar alla avvikelser och följer upp dem på APT.",
            ),
            Event(4, "noted", t(3), qid="p1", text="Sköterskorna är nöjda med årets ålderskontroller."),
            Event(5, "action_added", t(4), text="Avvikelserutinen ska ses över", payload={"action_id": "a1"}),
            Event(6, "skipped", t(5), qid="p2"),
        ],
    )
    b = create(
        store,
        clinic="Fysio Norr",
        events=[
            Event(1, "started", t(10)),
            Event(2, "prompted", t(11), qid="p1", text="Hur ser väntetiderna ut?"),
            Event(
                3,
                "answered",
                t(12),
                qid="p1",
                text="Alla patienter får tid inom två veckor. Inga avvikelser.",
            ),
            Event(
                4,
                "corrected",
                t(13),
                qid="p1",
                text="Alla får tid inom tre veckor.",
                payload={"previous": "x"},
            ),
        ],
    )
    return store, a, b


def test_search_prefix_and_fields(searchable):
    store, a, b = searchable
    hits = store.search("avvik*")
    assert {(h["dialogue_id"], h["seq"]) for h in hits} == {(a, 2), (a, 3), (a, 5), (b, 3)}
    hit = next(h for h in hits if h["dialogue_id"] == a and h["seq"] == 3)
    assert hit == {
        "dialogue_id": a,
        "clinic": "Vårdcentralen Åby",
        "flow_id": "mini",
        "seq": 3,
        "kind": "answered",
        "qid": "p1",
        "at": "2025-02-03T09:02:00.000000+00:00",
        "snippet": "Vi rapporterar alla «avvikelser» och följer upp dem på APT.",
    }
    assert "<b>" not in "".join(h["snippet"] for h in hits)
    assert [h["seq"] for h in store.search("avvik*", clinic="vårdcentralen åby")] != []
    assert {h["dialogue_id"] for h in store.search("avvik*", clinic="Fysio Norr")} == {b}
    assert len(store.search("avvik*", limit=2)) == 2
    assert store.search("avvikelse") == []  # whole word without * only matches the word


def test_search_swedish_letters_are_distinct_and_case_insensitive(searchable):
    store, a, b = searchable
    assert [h["seq"] for h in store.search("ÅRETS")] == [4]
    assert store.search("arets") == []  # å is not a
    assert [h["seq"] for h in store.search("ålder*")] == [4]
    assert store.search("alder*") == []
    assert [h["seq"] for h in store.search("nöjda")] == [4]
    assert store.search("nojda") == []
    assert [h["seq"] for h in store.search("väntetiderna")] == [2]
    assert [h["kind"] for h in store.search("tre veckor")] == ["corrected"]  # all words must match


def test_search_covers_clinic_names_and_only_searchable_kinds(searchable):
    store, a, b = searchable
    hits = store.search("norr")
    assert hits and {h["dialogue_id"] for h in hits} == {b}
    assert "«Norr»" in hits[0]["snippet"]
    assert {h["dialogue_id"] for h in store.search("åby avvik*")} == {a}
    assert store.search("payload") == []  # started payloads are not indexed


def test_search_returns_most_recently_stored_first(searchable):
    store, a, b = searchable
    assert [(h["dialogue_id"], h["seq"]) for h in store.search("avvik*")] == [(b, 3), (a, 5), (a, 3), (a, 2)]


def test_search_index_follows_appends(searchable):
    store, a, b = searchable
    assert store.search("hemsjukvård") == []
    store.append_events(b, [Event(5, "noted", t(20), text="Samverkan med hemsjukvården fungerar.")])
    assert [h["seq"] for h in store.search("hemsjukvård*")] == [5]


# Every hit of each query, as (dialogue, seq) with the dialogues of ``searchable`` named "a" and "b";
# a string is the start of the StorageError the query must give. Worked out by hand from the rule
# in Store.search: words split on white space, a trailing * makes a prefix, a word without a
# letter or digit is dropped, FTS syntax is never syntax, and every word must match.
AVVIK = {("a", 2), ("a", 3), ("a", 5), ("b", 3)}
ODD_QUERIES = {
    '"': "Sökningen '\"' innehåller inga ord",
    "(((": "Sökningen '(((' innehåller inga ord",
    "*": "Sökningen '*' innehåller inga ord",
    "\u00ad": "Sökningen '\\xad' innehåller inga ord",  # a soft hyphen is no letter, and is shown
    "- + ^": "Sökningen '- + ^' innehåller inga ord",
    "AND OR (": set(),  # AND and OR are words here, and no text has them
    "avvik* OR": set(),
    "avvik* AND åby": set(),
    "avvik* NOT norr": set(),
    "NEAR(avvikelser)": set(),  # the phrase "near avvikelser"
    "text:avvikelser": set(),  # no column filters: the phrase "text avvikelser"
    "col:avvik*": set(),
    "^avvik*": AVVIK,  # ^, -, ( and " are not syntax: the word is avvik*
    "-avvik*": AVVIK,
    "(avvik*": AVVIK,
    '"avvik*': AVVIK,
    "avvik**": AVVIK,
    "**avvik": set(),  # no trailing *: the whole word "avvik", which no text has
    "^avvik": set(),
    "avvikelser.": {("a", 2), ("a", 3), ("b", 3)},
    '"avvikelser"': {("a", 2), ("a", 3), ("b", 3)},
    "{avvikelser}: apt": {("a", 3)},
    "a\u0000b": set(),  # NUL separates words like any control character
    "avvikelser\u0000apt": {("a", 3)},
    "åby:": {("a", 2), ("a", 3), ("a", 4), ("a", 5)},  # the clinic's name
    "ÅBY ålder*": {("a", 4)},
}


@pytest.mark.parametrize("query", list(ODD_QUERIES), ids=[repr(q) for q in ODD_QUERIES])
def test_odd_queries_give_exactly_their_hits_or_a_clear_error(searchable, query: str):
    store, a, b = searchable
    expected = ODD_QUERIES[query]
    if isinstance(expected, str):
        with pytest.raises(StorageError) as info:
            store.search(query)
        assert str(info.value).startswith(expected) and "\n" not in str(info.value)
        assert "fts5" not in str(info.value).casefold() and "syntax" not in str(info.value).casefold()
    else:
        names = {a: "a", b: "b"}
        assert {(names[h["dialogue_id"]], h["seq"]) for h in store.search(query)} == expected


@pytest.mark.parametrize("query", ["", "   ", '"', "*", "(((", "- + ^"])
def test_search_without_words_is_a_clear_error(store: Store, query: str):
    with pytest.raises(StorageError, match="[Ss]ök|Skriv"):
        store.search(query)


def test_search_quoted_words_are_words_not_syntax(searchable):
    store, a, b = searchable
    assert {h["seq"] for h in store.search('"avvikelser"')} == {2, 3}
    assert store.search("avvikelser AND patienter") == []  # AND is a word here, and it is not in the text


# An independent model of the search rule, for queries over an alphabet where it is unambiguous
# (ASCII and å ä ö: one casefold, letters and digits are the tokens, anything else separates;
# control characters separate words).
SEARCHED = [  # (dialogue, seq, text, clinic): the events of ``searchable`` whose kind is indexed
    ("a", 2, "Hur arbetar ni med avvikelser?", "Vårdcentralen Åby"),
    ("a", 3, "Vi rapporterar alla avvikelser och följer upp dem på APT.", "Vårdcentralen Åby"),
    ("a", 4, "Sköterskorna är nöjda med årets ålderskontroller.", "Vårdcentralen Åby"),
    ("a", 5, "Avvikelserutinen ska ses över", "Vårdcentralen Åby"),
    ("b", 2, "Hur ser väntetiderna ut?", "Fysio Norr"),
    ("b", 3, "Alla patienter får tid inom två veckor. Inga avvikelser.", "Fysio Norr"),
    ("b", 4, "Alla får tid inom tre veckor.", "Fysio Norr"),
]
VOCABULARY = sorted(
    {
        w
        for _, _, text, clinic in SEARCHED
        for w in re.findall(r"[0-9a-zåäö]+", (text + " " + clinic).casefold())
    }
)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[0-9a-zåäö]+", text.casefold())


def _phrase_in(phrase: list[str], prefix: bool, tokens: list[str]) -> bool:
    for i in range(len(tokens) - len(phrase) + 1):
        window = tokens[i : i + len(phrase)]
        if window[:-1] == phrase[:-1] and (
            window[-1].startswith(phrase[-1]) if prefix else window[-1] == phrase[-1]
        ):
            return True
    return False


def model_search(query: str) -> set[tuple[str, int]] | None:
    """None: no words to search for."""
    terms = []
    for word in re.sub(r"[\x00-\x1f\x7f]", " ", query).split():
        phrase = _tokens(word.rstrip("*"))
        if phrase:
            terms.append((phrase, word.endswith("*")))
    if not terms:
        return None
    return {
        (d, seq)
        for d, seq, text, clinic in SEARCHED
        if all(_phrase_in(p, pre, _tokens(text)) or _phrase_in(p, pre, _tokens(clinic)) for p, pre in terms)
    }


_piece = st.one_of(
    st.sampled_from(VOCABULARY).map(lambda w: w.upper() if len(w) % 2 else w),
    st.sampled_from(VOCABULARY).flatmap(lambda w: st.integers(1, len(w)).map(lambda n: w[:n] + "*")),
    st.text(alphabet="abcåäöAÅ019 \"*()^:-+{}.,'\x00\t", max_size=6),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.lists(_piece, min_size=1, max_size=4).map(" ".join))
def test_search_agrees_with_a_model_of_its_rule(searchable, query: str):
    store, a, b = searchable
    expected = model_search(query)
    if expected is None:
        with pytest.raises(StorageError, match="Skriv|inga ord"):
            store.search(query)
    else:
        names = {a: "a", b: "b"}
        assert {(names[h["dialogue_id"]], h["seq"]) for h in store.search(query)} == expected


def test_the_search_model_knows_the_fixture(searchable):
    store, a, b = searchable
    indexed = store.db.execute(
        "SELECT dialogue_id, seq, text FROM events WHERE kind IN ('prompted', 'answered', 'noted', "
        "'action_added', 'corrected') AND coalesce(text, '') != '' ORDER BY dialogue_id = ?, seq",
        (b,),
    ).fetchall()
    names = {a: "a", b: "b"}
    assert [(names[d], seq, text) for d, seq, text in indexed] == [
        (d, seq, text) for d, seq, text, _ in SEARCHED
    ]


# --- actions ------------------------------------------------------------------------------------


def test_actions_projection(store: Store):
    a = create(
        store,
        events=[
            Event(1, "started", t(0)),
            Event(
                2,
                "action_added",
                t(1),
                qid="p1",
                text="Ta fram rutin",
                payload={"action_id": "a1", "owner": "Åsa", "due": "2025-03-01"},
            ),
            Event(3, "action_added", t(2), text="Boka utbildning", payload={"action_id": "a2"}),
            Event(4, "action_added", t(3), text="Utan id"),
        ],
    )
    b = create(
        store,
        clinic="Fysio Norr",
        events=[
            Event(1, "started", t(10)),
            Event(2, "action_added", t(11), text="Ring kommunen", payload={"action_id": "a1"}),
        ],
    )
    store.append_events(
        a,
        [
            Event(5, "action_updated", t(5), payload={"action_id": "a1", "status": "done", "who": "Åsa"}),
            Event(
                6,
                "action_updated",
                t(6),
                text="Boka utbildning i HLR",
                payload={"action_id": "a2", "owner": "Per", "due": None},
            ),
        ],
    )
    actions = {(x["dialogue_id"], x["action_id"]): x for x in store.list_actions()}
    assert set(actions) == {(a, "a1"), (a, "a2"), (a, "a3"), (b, "a1")}
    a1 = actions[(a, "a1")]
    assert {k: a1[k] for k in ("clinic", "text", "owner", "due", "status", "created", "updated")} == {
        "clinic": "Vårdcentralen Åby",
        "text": "Ta fram rutin",
        "owner": "Åsa",
        "due": "2025-03-01",
        "status": "done",
        "created": "2025-02-03T09:01:00.000000+00:00",
        "updated": "2025-02-03T09:05:00.000000+00:00",
    }
    a2 = actions[(a, "a2")]
    assert (a2["text"], a2["owner"], a2["due"], a2["status"]) == (
        "Boka utbildning i HLR",
        "Per",
        None,
        "open",
    )
    assert actions[(b, "a1")]["status"] == "open"  # same action id in another dialogue is another action
    open_ids = {(x["dialogue_id"], x["action_id"]) for x in store.list_actions(open_only=True)}
    assert open_ids == {(a, "a2"), (a, "a3"), (b, "a1")}
    assert {x["dialogue_id"] for x in store.list_actions(clinic="fysio norr")} == {b}
    assert [x["action_id"] for x in store.list_actions(clinic="Vårdcentralen Åby")] == ["a1", "a2", "a3"]


def test_actions_match_the_engine_replay(store: Store):
    """The SQL projection agrees with assistant.engine.state's own handling of action events."""
    from assistant.engine.state import State, _action_added, _action_updated

    events = [
        Event(1, "started", t(0)),
        Event(2, "action_added", t(1), text="Första", payload={"owner": "A"}),
        Event(3, "action_added", t(2), text="Andra", payload={"action_id": "a2", "due": "2025-05-01"}),
        Event(4, "action_updated", t(3), payload={"action_id": "a1", "status": "done", "owner": None}),
        Event(5, "action_updated", t(4), text="Andra, omformulerad", payload={"action_id": "a2"}),
        Event(6, "action_updated", t(5), payload={"action_id": "a2", "status": "open", "due": "2025-06-01"}),
    ]
    did = create(store, events=events)
    state = State.__new__(State)
    state.actions = {}
    for e in events[1:]:
        (_action_added if e.kind == "action_added" else _action_updated)(state, e)
    projected = {x["action_id"]: x for x in store.list_actions()}
    assert set(projected) == set(state.actions)
    for aid, action in state.actions.items():
        row = projected[aid]
        assert (row["text"], row["owner"], row["due"], row["status"]) == (
            action.text,
            action.owner,
            action.due,
            action.status,
        )
        assert row["updated"] == action.updated.isoformat(timespec="microseconds")
    assert did


# --- indicator values ---------------------------------------------------------------------------


def indicator_rows():
    return [
        {
            "clinic": "Vårdcentralen Åby",
            "indicator": "tillganglighet.telefon",
            "period": "2024",
            "numerator": 80,
            "denominator": 100,
            "value": 0.8,
            "direction": "higher",
            "target": 0.9,
        },
        {
            "clinic": "Vårdcentralen Åby",
            "indicator": "lakemedel.genomgang",
            "period": "2024",
            "numerator": None,
            "denominator": None,
            "value": 12.5,
            "direction": None,
            "target": None,
        },
        {
            "clinic": "Fysio Norr",
            "indicator": "tillganglighet.telefon",
            "period": "2024",
            "numerator": 45,
            "denominator": 50,
            "value": 0.9,
            "direction": "higher",
            "target": 0.9,
        },
    ]


def test_indicator_values_are_idempotent(store: Store):
    assert store.replace_indicator_values(indicator_rows(), source="kvalitetsdata-2024.xlsx") == {
        "inserted": 3,
        "updated": 0,
        "unchanged": 0,
    }
    snapshot = store.indicator_values()
    assert store.replace_indicator_values(indicator_rows(), source="kvalitetsdata-2024.xlsx") == {
        "inserted": 0,
        "updated": 0,
        "unchanged": 3,
    }
    assert store.indicator_values() == snapshot
    changed = indicator_rows()
    changed[0]["value"] = 0.85
    changed.append(
        {"clinic": "Fysio Norr", "indicator": "tillganglighet.telefon", "period": "2025", "value": 0.7}
    )
    assert store.replace_indicator_values(changed, source="ny.xlsx") == {
        "inserted": 1,
        "updated": 1,
        "unchanged": 2,
    }
    row = store.indicator_values(clinic="VÅRDCENTRALEN åby", indicator="tillganglighet.telefon")[0]
    assert (row["value"], row["numerator"], row["source"], row["period"]) == (0.85, 80.0, "ny.xlsx", "2024")
    assert len(store.indicator_values(period="2024")) == 3
    assert len(store.indicator_values(clinic="Fysio Norr")) == 2
    assert set(row) >= {
        "clinic",
        "indicator",
        "period",
        "numerator",
        "denominator",
        "value",
        "direction",
        "target",
    }


def test_indicator_values_refuse_bad_rows_and_import_nothing(store: Store):
    bad = indicator_rows()
    bad[2]["value"] = "0,9"
    with pytest.raises(StorageError, match="inte är ett tal"):
        store.replace_indicator_values(bad, source="x")
    dup = indicator_rows() + [dict(indicator_rows()[0], value=0.1)]
    with pytest.raises(StorageError, match="flera gånger"):
        store.replace_indicator_values(dup, source="x")
    with pytest.raises(StorageError):
        store.replace_indicator_values([{"indicator": "x", "period": "2024"}], source="x")
    assert store.indicator_values() == []


def test_indicator_nan_is_treated_as_missing(store: Store):
    rows = [{"clinic": "A", "indicator": "i", "period": "2024", "value": float("nan")}]
    assert store.replace_indicator_values(rows, source="x")["inserted"] == 1
    assert store.replace_indicator_values(rows, source="x")["unchanged"] == 1
    assert store.indicator_values()[0]["value"] is None


# --- two processes ------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from assistant.events import Event
    from storage import Store

    path, did, max_events, max_seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    store = Store.open(path)
    now = datetime.now(UTC)
    store.create_dialogue(dialogue_id=did, clinic="Vårdcentralen Åby", flow_id="mini", flow_version=1,
                          flow_sha256="0" * 64, mode="self", participants=[], status="in_progress",
                          events=[Event(1, "started", now)])
    seq, deadline = 1, time.monotonic() + max_seconds
    while seq < max_events and time.monotonic() < deadline:
        seq += 1
        store.append_events(did, [Event(seq, "answered", datetime.now(UTC), qid="q", text=f"svar {seq} från {did}")])
        if seq % 50 == 0:
            store.search("svar")  # readers interleave with the other process's writes
            store.list_dialogues()
    store.close()
    print(seq)
    """
)


def test_two_processes_write_at_once_without_lock_errors(tmp_path: Path):
    path = tmp_path / "shared" / "dialogstod.db"  # both processes create it: the creation race too
    ids = [str(uuid.uuid4()) for _ in range(2)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), did, "3000", "3.0"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for did in ids
    ]
    counts = []
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        assert "locked" not in err and err.strip() == ""
        counts.append(int(out.strip()))
    with Store.open(path, create=False) as s:
        for did, n in zip(ids, counts, strict=True):
            events = s.load_events(did)
            assert [e.seq for e in events] == list(range(1, n + 1))
            assert s.get_dialogue(did)["events"] == n
        assert len(s.search("svar")) == 50
    assert all(n > 10 for n in counts), counts


CRASHER = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, datetime
    from assistant.events import Event
    from storage import Store

    store = Store.open(sys.argv[1])
    did = sys.argv[2]
    now = datetime.now(UTC)
    store.create_dialogue(dialogue_id=did, clinic="Vårdcentralen Åby", flow_id="mini", flow_version=1,
                          flow_sha256="0" * 64, mode="self", participants=[], status="in_progress",
                          events=[Event(1, "started", now)])
    for seq in range(2, 40):
        store.append_events(did, [Event(seq, "answered", now, qid="q", text=f"svar {seq}")])
    os._exit(0)  # no close: the WAL (and its index) are left behind, as after a crash
    """
)


@pytest.mark.parametrize("lose_shm", [False, True])
def test_reopen_after_a_crash_keeps_every_appended_event(tmp_path: Path, lose_shm: bool):
    path = tmp_path / "crash.db"
    did = str(uuid.uuid4())
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", CRASHER, str(path), did], cwd=ROOT, env=env, check=True, timeout=60)
    assert Path(f"{path}-wal").exists()
    if lose_shm:
        Path(f"{path}-shm").unlink()
    with Store.open(path, create=False) as s:
        assert [e.seq for e in s.load_events(did)] == list(range(1, 40))
        assert len(s.search("svar", limit=100)) == 38

"""Schema migrations: the committed fixtures (tests/fixtures/db/schema_v1.db … schema_v5.db) are
databases stopped at old schema versions; opening a copy must migrate it to SCHEMA_VERSION and
lose nothing."""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
from pathlib import Path

import pytest

from storage import SCHEMA_VERSION, StorageError, Store
from storage import migrations as m

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "db"


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIXTURE_DATA = _load_generator().DIALOGUES
ABY, NORR = (row["id"] for row, _ in FIXTURE_DATA)


def fixture_copy(tmp_path: Path, version: int) -> Path:
    target = tmp_path / f"copy_v{version}.db"
    shutil.copyfile(FIXTURES / f"schema_v{version}.db", target)
    return target


def raw_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def schema(conn: sqlite3.Connection) -> set[tuple[str, str, str]]:
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
    return {(t, n, " ".join((s or "").split())) for t, n, s in rows}


def test_migration_list_is_a_sequence():
    assert SCHEMA_VERSION == len(m.MIGRATIONS) == 6
    assert [x.version for x in m.MIGRATIONS] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5])
def test_fixture_is_at_its_version(version: int):
    assert raw_version(FIXTURES / f"schema_v{version}.db") == version


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5])
def test_old_database_migrates_without_losing_anything(tmp_path: Path, version: int):
    path = fixture_copy(tmp_path, version)
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert raw_version(path) == SCHEMA_VERSION
        # every event, exactly
        for row, events in FIXTURE_DATA:
            assert store.load_events(row["id"]) == events
            d = store.get_dialogue(row["id"])
            assert {k: d[k] for k in row} == row
            assert d["events"] == len(events)
            assert d["started"] == events[0].at.isoformat(timespec="microseconds")
            assert d["updated"] == events[-1].at.isoformat(timespec="microseconds")
        # the full-text index covers the old texts (backfilled in v2)
        hits = store.search("avvik*")
        assert {(h["dialogue_id"], h["seq"]) for h in hits} == {(ABY, 2), (ABY, 3), (ABY, 6), (ABY, 8)}
        assert [h["seq"] for h in store.search("väntetiden")] == [3]
        assert {h["dialogue_id"] for h in store.search("norr")} == {NORR}
        assert store.search("fallolyckor")[0]["kind"] == "answered"
        # the action projection (backfilled in v2)
        actions = {(a["dialogue_id"], a["action_id"]): a for a in store.list_actions()}
        assert set(actions) == {(ABY, "a1"), (ABY, "a2"), (NORR, "a1")}
        assert actions[(ABY, "a1")]["owner"] == "Åsa" and actions[(ABY, "a1")]["due"] == "2024-06-01"
        assert actions[(ABY, "a2")]["status"] == "done"
        assert {a["action_id"] for a in store.list_actions(open_only=True)} == {"a1"}
        # indicator values stored before v5 are kept, with no kind of clinic (the v4 fixture has some)
        if version == 4:
            kept = store.indicator_values(clinic="Vårdcentralen Åby")
            assert [(r["period"], r["value"], r["kind"]) for r in kept] == [("2023", 0.87, None), ("2024", 0.812, None)]
        # v3 works on the migrated database
        assert (
            store.replace_indicator_values(
                [{"clinic": "Vårdcentralen Åby", "indicator": "x", "period": "2024", "value": 1.0}],
                source="t",
            )["inserted"]
            == 1
        )
        # v4: flow sources can be kept on the migrated database
        import hashlib

        text = 'id = "x"\n'
        store.save_flow_source(hashlib.sha256(text.encode()).hexdigest(), "x", 1, text)
        assert store.flow_source(hashlib.sha256(text.encode()).hexdigest()) == text
        # v5: the kind of clinic is kept with the values
        store.replace_indicator_values(
            [{"clinic": "Vårdcentralen Åby", "indicator": "y", "period": "2024", "value": 0.5, "kind": "Vårdcentral"}],
            source="t",
        )
        assert store.indicator_values(indicator="y")[0]["kind"] == "Vårdcentral"
        # v6: the review status is a projection of "reviewed" events, none before
        assert store.get_dialogue(ABY)["review"] is None
        from datetime import UTC, datetime

        from assistant.events import Event

        store.append_events(
            ABY,
            [Event(10, "reviewed", datetime(2024, 3, 20, tzinfo=UTC), text="Ok", payload={"status": "sent", "who": "Per"})],
        )
        row = store.get_dialogue(ABY)
        assert (row["review"], row["review_at"]) == ("sent", "2024-03-20T00:00:00.000000+00:00")
        assert store.get_dialogue(NORR)["review"] is None
        # and the migrated database keeps working like a new one
        store.append_events(NORR, [])
        meta = dict(store.db.execute("SELECT key, value FROM dialogstod_meta").fetchall())
        assert "created" in meta and f"migrated_to_{SCHEMA_VERSION}" in meta


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5])
def test_migrated_schema_equals_new_schema(tmp_path: Path, version: int):
    Store.open(tmp_path / "new.db").close()
    path = fixture_copy(tmp_path, version)
    Store.open(path).close()
    new, old = sqlite3.connect(tmp_path / "new.db"), sqlite3.connect(path)
    try:
        assert schema(old) == schema(new)
    finally:
        new.close()
        old.close()


def test_each_migration_is_one_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A migration that fails half-way leaves the database exactly at the version before it."""
    path = fixture_copy(tmp_path, 1)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    patched = (m.MIGRATIONS[0], m.MIGRATIONS[1], m.Migration(3, "broken", broken), *m.MIGRATIONS[3:])
    monkeypatch.setattr(m, "MIGRATIONS", patched)
    with pytest.raises(RuntimeError, match="boom"):
        Store.open(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2  # v2 was committed on its own
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "half_done" not in tables and "actions" in tables and "indicator_values" not in tables
    finally:
        conn.close()
    monkeypatch.undo()
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert len(store.list_dialogues()) == 2


def test_migrate_can_stop_at_a_version(tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    try:
        assert m.migrate(conn, target=1) == 0
        assert m.user_version(conn) == 1
        assert m.migrate(conn, target=2) == 1
        assert m.user_version(conn) == 2
        assert m.migrate(conn) == 2
        assert m.user_version(conn) == SCHEMA_VERSION
    finally:
        conn.close()


def test_old_version_of_someone_else_is_still_refused(tmp_path: Path):
    path = fixture_copy(tmp_path, 1)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 7")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StorageError, match="inte en Dialogstöd-databas"):
        Store.open(path)
    assert path.read_bytes() == before

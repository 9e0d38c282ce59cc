"""Bundles: moving dialogues between machines (all or nothing), and single-dialogue JSON."""

from __future__ import annotations

import json
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.bundles import checksum, export_bundle, export_dialogue_json, parse, read
from assistant.events import Event
from storage import StorageError, Store

T0 = datetime(2025, 4, 1, 13, 0, 0, 250000, tzinfo=UTC)


def AS_IS(entry, flows):  # noqa: N802 - storage mechanics only; replay is checked in assistant.bundles
    """These dialogues are made of synthetic events (no flow): storage's own checks only."""
    return entry


def import_as_is(store: Store, path: Path) -> dict[str, int]:
    """The file read and checked as ``assistant.bundles.import_bundle`` does, stored without replay."""
    parsed = parse(path, read(path))
    return store.import_dialogues(parsed.entries, parsed.flows, verify=AS_IS, source=path)


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def events(n: int, start: float = 0) -> list[Event]:
    out = [
        Event(
            1, "started", t(start), payload={"clinic": "Vårdcentralen Åby", "participants": [{"name": "Åsa"}]}
        )
    ]
    while len(out) < n:
        seq = len(out) + 1
        if seq % 2 == 0:
            out.append(
                Event(
                    seq, "prompted", t(start + seq), qid=f"q{seq}", text=f"Hur går arbetet med fråga {seq}?"
                )
            )
        else:
            out.append(
                Event(
                    seq,
                    "answered",
                    t(start + seq),
                    qid=f"q{seq - 1}",
                    text=f"Svar nummer {seq}: bra, tack – ”åäö”.",
                    payload={"value": [seq]},
                )
            )
    return out


def add(
    store: Store, evs: list[Event], *, clinic: str = "Vårdcentralen Åby", status: str = "in_progress"
) -> str:
    did = str(uuid.uuid4())
    store.create_dialogue(
        dialogue_id=did,
        clinic=clinic,
        flow_id="mini",
        flow_version=2,
        flow_sha256="c" * 64,
        mode="facilitator",
        participants=[{"name": "Åsa Öberg", "role": "chef"}],
        status=status,
        events=evs,
    )
    return did


@pytest.fixture
def stores(tmp_path: Path):
    with Store.open(tmp_path / "laptop.db") as laptop, Store.open(tmp_path / "office.db") as office:
        yield laptop, office


def snapshot(store: Store) -> tuple:
    dialogues = store.list_dialogues()
    return (
        dialogues,
        {d["id"]: store.load_events(d["id"]) for d in dialogues},
        store.list_actions(),
        store.clinics(),
    )


def test_export_import_round_trip(stores, tmp_path: Path):
    laptop, office = stores
    a = add(laptop, events(5), status="finished")
    b = add(
        laptop,
        events(3, start=100)
        + [Event(4, "action_added", t(104), text="Ring kommunen", payload={"action_id": "a1"})],
        clinic="Fysio Norr",
    )
    path = tmp_path / "bundle.json"
    assert export_bundle(laptop, [a, b[:8]], path) == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "dialogstod-bundle" and doc["version"] == 1
    assert doc["sha256"] == checksum(doc["dialogues"])
    assert "Åsa" in path.read_text(encoding="utf-8")  # UTF-8, not \\u escapes

    assert import_as_is(office, path) == {"imported": 2, "already_present": 0, "extended": 0}
    assert snapshot(office) == snapshot(laptop)
    assert office.get_dialogue(a)["status"] == "finished"
    assert [h["dialogue_id"] for h in office.search("kommunen")] == [b]


def test_same_bundle_twice_adds_nothing(stores, tmp_path: Path):
    laptop, office = stores
    add(laptop, events(5))
    path = tmp_path / "bundle.json"
    export_bundle(laptop, [d["id"] for d in laptop.list_dialogues()], path)
    import_as_is(office, path)
    before = snapshot(office)
    assert import_as_is(office, path) == {"imported": 0, "already_present": 1, "extended": 0}
    assert snapshot(office) == before
    # importing a bundle back into the machine it came from is also a no-op
    assert import_as_is(laptop, path)["already_present"] == 1


def test_bundle_that_extends_a_dialogue_appends_the_new_events(stores, tmp_path: Path):
    laptop, office = stores
    did = add(laptop, events(3))
    first = tmp_path / "first.json"
    export_bundle(laptop, [did], first)
    import_as_is(office, first)
    # the laptop continues the dialogue and finishes it
    laptop.append_events(
        did, [Event(4, "noted", t(50), text="Fortsatte på tåget hem"), Event(5, "finished", t(51))]
    )
    second = tmp_path / "second.json"
    export_bundle(laptop, [did], second)
    assert import_as_is(office, second) == {"imported": 1, "already_present": 0, "extended": 1}
    assert office.load_events(did) == laptop.load_events(did)
    d = office.get_dialogue(did)
    assert (d["status"], d["events"]) == ("finished", 5)
    assert office.search("tåget")[0]["seq"] == 4
    # the older bundle is now simply already present
    assert import_as_is(office, first) == {"imported": 0, "already_present": 1, "extended": 0}


def test_conflicting_bundle_is_refused_and_nothing_is_imported(stores, tmp_path: Path):
    laptop, office = stores
    did = add(laptop, events(3))
    path = tmp_path / "b.json"
    export_bundle(laptop, [did], path)
    import_as_is(office, path)
    # both machines continue the same dialogue differently
    laptop.append_events(did, [Event(4, "noted", t(60), text="Laptopens anteckning")])
    office.append_events(did, [Event(4, "noted", t(61), text="Kontorets anteckning")])
    other = add(laptop, events(3, start=200), clinic="Fysio Norr")
    conflicting = tmp_path / "conflict.json"
    export_bundle(laptop, [other, did], conflicting)  # the new dialogue comes first in the file
    before = snapshot(office)
    with pytest.raises(StorageError, match=did) as info:
        import_as_is(office, conflicting)
    assert "Inget har importerats" in str(info.value) and "\n" not in str(info.value)
    assert snapshot(office) == before
    assert office.get_dialogue(other) is None


def _rewrite(path: Path, mutate, *, fix_checksum: bool) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    mutate(doc)
    if fix_checksum:
        doc["sha256"] = checksum(doc["dialogues"])
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _set_kind(doc):
    doc["dialogues"][0]["events"][1]["kind"] = "exploded"


def _gap(doc):
    del doc["dialogues"][0]["events"][2]


def _swap(doc):
    evs = doc["dialogues"][0]["events"]
    evs[1], evs[2] = evs[2], evs[1]


def _edit_text(doc):
    doc["dialogues"][0]["events"][1]["text"] = "ändrad i efterhand"


def _bad_time(doc):
    doc["dialogues"][0]["events"][1]["at"] = "igår"


def _no_events(doc):
    doc["dialogues"][0]["events"] = []


def _bad_status(doc):
    doc["dialogues"][0]["dialogue"]["status"] = "klar"


def _duplicate(doc):
    doc["dialogues"].append(doc["dialogues"][0])


@pytest.mark.parametrize(
    ("mutate", "fix_checksum", "match"),
    [
        (_edit_text, False, "kontrollsumman"),
        (_set_kind, True, "okänd typ"),
        (_gap, True, "i följd"),
        (_swap, True, "i följd"),
        (_bad_time, True, "ogiltig"),
        (_no_events, True, "saknar händelser"),
        (_bad_status, True, "status"),
        (_duplicate, True, "två gånger"),
        (lambda doc: doc.update(format="zip"), False, "inte ett Dialogstöd-paket"),
        (lambda doc: doc.update(version=2), False, "nyare version"),
        (lambda doc: doc.pop("sha256"), False, "kontrollsumman saknas"),
    ],
)
def test_damaged_bundle_is_refused_and_nothing_is_imported(
    stores, tmp_path: Path, mutate, fix_checksum, match
):
    laptop, office = stores
    add(laptop, events(5, start=300), clinic="Fysio Norr")
    add(laptop, events(5))
    path = tmp_path / "b.json"
    export_bundle(laptop, [d["id"] for d in laptop.list_dialogues()], path)
    _rewrite(path, mutate, fix_checksum=fix_checksum)
    with pytest.raises(StorageError, match=match) as info:
        import_as_is(office, path)
    assert "Inget har importerats" in str(info.value)
    assert office.list_dialogues() == [] and office.clinics() == []


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'{"format": "dialogstod-bundle"}',
        b"[" * 100_000,
    ],
)
def test_unreadable_files_are_refused(stores, tmp_path: Path, content: bytes):
    laptop, office = stores
    path = tmp_path / "weird.json"
    path.write_bytes(content)
    with pytest.raises(StorageError, match="kan inte importeras"):
        import_as_is(office, path)


def test_missing_file_and_unknown_dialogue(stores, tmp_path: Path):
    laptop, office = stores
    with pytest.raises(StorageError, match="finns inte"):
        import_as_is(office, tmp_path / "nope.json")
    with pytest.raises(StorageError, match="ingen dialog"):
        export_bundle(laptop, ["0000dead"], tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def test_dump_and_single_dialogue_json_are_lossless(stores, tmp_path: Path):
    laptop, office = stores
    evs = events(6)
    did = add(laptop, evs)
    dump = laptop.dump_dialogue(did)
    assert set(dump) == {"dialogue", "events"}
    assert dump["dialogue"]["id"] == did and dump["dialogue"]["participants"] == [
        {"name": "Åsa Öberg", "role": "chef"}
    ]
    assert [Event.from_dict(e) for e in dump["events"]] == evs

    text = export_dialogue_json(laptop, did)
    assert text.startswith("{\n") and "Åsa" in text
    doc = json.loads(text)
    assert doc["format"] == "dialogstod-dialogue" and doc["version"] == 1
    assert [Event.from_dict(e) for e in doc["events"]] == evs

    path = tmp_path / "dialog.json"
    path.write_text(text, encoding="utf-8")
    assert import_as_is(office, path) == {"imported": 1, "already_present": 0, "extended": 0}
    assert office.load_events(did) == evs
    assert import_as_is(office, path)["already_present"] == 1

"""Bundles and JSON exports from outside are checked like live input: a corpus of tampered files
(checksums recomputed, as an attacker would), each refused whole with its reason and nothing
written – or accepted and then readable everywhere (show, every export, resuming the chat).

The issue's attack first: a bundle that appends an `answered` event with an unknown question id
to a dialogue already here. It used to be accepted, and the append-only log could then never be
read again.
"""

from __future__ import annotations

import copy
import io
import json
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import engine as E
from assistant.bundles import checksum, export_bundle, import_bundle
from assistant.database import open_store
from assistant.session import Dialogue
from storage import StorageError, Store
from tests.test_chat import user_flows  # noqa: F401 - fixture
from tests.test_cli_archive import run


@pytest.fixture
def laptop(user_flows, tmp_path):  # noqa: F811
    """A dialogue held on the laptop, exported as a bundle: (bundle document, dialogue id)."""
    with open_store() as store:
        d = Dialogue.start(
            store, "mini", E.StartOptions(clinic="Fysio Åby", participants=(E.Participant("Åsa Öberg", "chef"),))
        )
        d.do(E.Answer("Tre fysioterapeuter"))
        d.do(E.AddNote("Chefen är ny"))
        d.do(E.AddAction("Ring regionen", owner="Bo", due="2027-03-31"))
        d.do(E.Answer("God men trång"))
        d.do(E.Correct("p1.vilka", "Fyra fysioterapeuter", who="Åsa"))
        path = tmp_path / "laptop.bundle"
        export_bundle(store, [d.id], path)
    return json.loads(path.read_text(encoding="utf-8")), d.id


@pytest.fixture
def office(tmp_path):
    with Store.open(tmp_path / "office.db") as store:
        yield store


def write(tmp_path: Path, doc: dict, *, fix_checksum: bool = True, name: str = "in.bundle") -> Path:
    """The document as a file, with its checksum recomputed (as an attacker would) where one can
    be computed at all (not over NaN or infinity, which JSON parsers read anyway)."""
    if fix_checksum and "dialogues" in doc:
        try:
            doc["sha256"] = checksum(doc["dialogues"])
        except ValueError:
            doc["sha256"] = "0" * 64
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def snapshot(store: Store) -> tuple:
    rows = store.list_dialogues()
    return rows, {r["id"]: store.load_events(r["id"]) for r in rows}


def readable(db: Path, did: str, tmp_path: Path) -> None:
    """Everything a user does with a dialogue works: show, every export, resuming the chat."""
    code, out, err = run("--db", str(db), "show", did[:8])
    assert code == 0, err
    assert "\x1b" not in out
    for fmt in ("md", "html", "docx", "json"):
        code, _, err = run("--db", str(db), "export", did[:8], "-f", fmt, "-o", str(tmp_path / f"out.{fmt}"))
        assert code == 0, err
    with Store.open(db) as store:
        finished = store.get_dialogue(did)["status"] == "finished"
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO("/quit\n")
    try:
        args = ["--db", str(db), "chat", "--resume", did[:8]] + (["--reopen"] if finished else [])
        code, out, err = run(*args)
    finally:
        sys.stdin = old
    assert code == 0, err


def events(doc: dict, i: int = 0) -> list[dict]:
    return doc["dialogues"][i]["events"]


def append(doc: dict, kind: str, **fields) -> None:
    evs = events(doc)
    evs.append({"seq": len(evs) + 1, "kind": kind, "at": evs[-1]["at"], "qid": None, "text": None, "payload": {},
                **fields})


# ---------------------------------------------------------------- the attack


def test_a_tampered_bundle_cannot_make_a_dialogue_here_unreadable(laptop, office, tmp_path):
    doc, did = laptop
    assert import_bundle(office, write(tmp_path, copy.deepcopy(doc), name="clean.bundle"))["imported"] == 1
    append(doc, "answered", qid="p9.finns-inte", text="Injicerat svar")
    before = snapshot(office)
    with pytest.raises(StorageError) as info:
        import_bundle(office, write(tmp_path, doc))
    message = str(info.value)
    assert "stämmer inte med sitt flöde mini" in message and "p9.finns-inte" in message
    assert "Inget har importerats" in message and "\n" not in message
    assert snapshot(office) == before
    readable(office.path, did, tmp_path)
    code, _, err = run("--db", str(office.path), "bundle", "import", str(tmp_path / "in.bundle"))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


# ---------------------------------------------------------------- the corpus


def _edit(index: int, **fields):
    def mutate(doc):
        events(doc)[index].update(fields)

    return mutate


def _payload(index: int, **fields):
    def mutate(doc):
        events(doc)[index]["payload"].update(fields)

    return mutate


def _first(doc: dict, kind: str) -> int:
    return next(i for i, e in enumerate(events(doc)) if e["kind"] == kind)


def _on_kind(kind: str, **fields):
    def mutate(doc):
        events(doc)[_first(doc, kind)]["payload"].update(fields)

    return mutate


def _text_of(kind: str, text: str):
    def mutate(doc):
        events(doc)[_first(doc, kind)]["text"] = text

    return mutate


def _row(**fields):
    def mutate(doc):
        doc["dialogues"][0]["dialogue"].update(fields)

    return mutate


def _append(kind: str, **fields):
    return lambda doc: append(doc, kind, **fields)


def _unknown_flow(doc):
    _row(flow_id="annat-flode", flow_sha256="0" * 64)(doc)
    events(doc)[0]["payload"]["flow_id"] = "annat-flode"
    doc.pop("flows", None)


def _foreign_flow_carried(doc):
    """A flow carried in the file under its own hash, but with another id than the dialogue's."""
    import hashlib

    sha, flow = next(iter(doc["flows"].items()))
    source = flow["source"].replace('id = "mini"', 'id = "annat"', 1)
    new = hashlib.sha256(source.encode("utf-8")).hexdigest()
    doc["flows"] = {new: {"flow_id": "mini", "version": flow["version"], "source": source}}
    _row(flow_sha256=new)(doc)
    events(doc)[0]["payload"]["flow_sha256"] = new


def _tampered_carried_flow(doc):
    sha = next(iter(doc["flows"]))
    doc["flows"][sha]["source"] += "\n# ändrad\n"


def _deep(doc):
    value: object = "botten"
    for _ in range(40):
        value = [value]
    events(doc)[_first(doc, "noted")]["payload"]["x"] = value


REFUSED = {
    "unknown question in an answer": (_append("answered", qid="p9.x", text="svar"), "unknown question 'p9.x'"),
    "unknown question in a prompt": (_append("prompted", qid="p9.x", text="Fråga?"), "unknown question 'p9.x'"),
    "unknown question in a correction": (_append("corrected", qid="p9.x", text="ny"), "unknown question 'p9.x'"),
    "unknown question on a note": (_append("noted", qid="p9.x", text="not"), "unknown question 'p9.x'"),
    "unknown section in a jump": (_append("jumped", payload={"section": "p9"}), "unknown section 'p9'"),
    "unknown action updated": (_append("action_updated", payload={"action_id": "a9", "status": "done"}), "unknown action"),
    "unknown action status": (_append("action_updated", payload={"action_id": "a1", "status": "kanske"}), "unknown action status"),
    "another flow in the started event": (_payload(0, flow_id="annat"), "held on flow 'annat'"),
    "unknown mode": (_payload(0, mode="hemlig"), "unknown mode"),
    "first event is not started": (_edit(0, kind="noted"), "first event must be 'started'"),
    "flow neither here nor carried": (_unknown_flow, "som inte finns här och inte följer med i filen"),
    "carried flow with another id": (_foreign_flow_carried, "flödet i filen är 'annat'"),
    "carried flow tampered": (_tampered_carried_flow, "stämmer inte med sin kontrollsumma"),
    "dialogue id is a path": (_row(id="../../../etc/x"), "ogiltigt id"),
    "dialogue id with markup": (_row(id="[b]x[/b]"), "ogiltigt id"),
    "owner is an object": (_on_kind("action_added", owner={"namn": "Bo"}), "owner is not text"),
    "focus sections a number": (_append("focus_chosen", payload={"party": "x", "sections": 5}), "ogiltigt id i fältet sections"),
    "focus party a number": (_append("focus_chosen", payload={"party": 5, "sections": ["p1"]}), "party is not text"),
    "flags not a list": (_append("flags_shown", payload={"flags": "alla"}), "flags are not a list"),
    "flag value text": (_append("flags_shown", payload={"flags": [{"indicator": "x", "value": "hög"}]}), "value is not a number"),
    "answer value an object": (_on_kind("answered", value={"a": 1}), "value is neither"),
    "participants not a list": (_payload(0, participants="Åsa"), "participants are not a list"),
    "correction by a number": (_on_kind("corrected", who=7), "who is not text"),
    "text too long": (_text_of("noted", "x" * 2_000_001), "är för lång"),
    "nesting too deep": (_deep, "för djupt nästlat"),
    "clinic too long": (_row(clinic="Å" * 2_001), "mottagningens namn är för lång"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_tampered_bundles_are_refused_whole_with_the_reason(name, laptop, office, tmp_path):
    doc, did = laptop
    mutate, reason = REFUSED[name]
    other = copy.deepcopy(doc["dialogues"][0])  # a good dialogue first in the file: not imported either
    other["dialogue"]["id"] = str(uuid.uuid4())
    mutate(doc)
    doc["dialogues"].insert(0, other) if name != "carried flow tampered" else None
    with pytest.raises(StorageError) as info:
        import_bundle(office, write(tmp_path, doc))
    assert reason in str(info.value) and "Inget har importerats" in str(info.value)
    assert office.list_dialogues() == []


def test_text_that_is_not_unicode_is_refused(laptop, office, tmp_path):
    doc, did = laptop
    export = {"format": "dialogstod-dialogue", "version": 1, **doc["dialogues"][0], "flows": doc["flows"]}
    export["events"][1]["text"] = "Bad \ud800 text"
    path = tmp_path / "x.json"
    path.write_text(json.dumps(export, ensure_ascii=True), encoding="utf-8")  # "\ud800" as an escape
    with pytest.raises(StorageError, match="inte är giltig Unicode"):
        import_bundle(office, path)
    doc["dialogues"][0]["events"][1]["text"] = "Bad \ud800 text"
    doc["sha256"] = "0" * 64
    path.write_text(json.dumps(doc, ensure_ascii=True), encoding="utf-8")
    with pytest.raises(StorageError, match="inte är giltig Unicode"):
        import_bundle(office, path)
    assert office.list_dialogues() == []


MARKUP = "[b]fet[/b] \x1b[31mröd\x1b[0m <script>x</script> {{ 7*7 }} [@click=app.quit]x[/]"

ACCEPTED = {
    "NUL in a note": (_text_of("noted", "Före\x00efter"), lambda texts: "Före\ufffdefter" in texts),
    "CR LF in an answer": (_text_of("answered", "Rad ett\r\nrad två"), lambda texts: "Rad ett\nrad två" in texts),
    "markup and escapes": (
        _text_of("answered", MARKUP),
        lambda texts: MARKUP in texts,
    ),
    "status that the events contradict": (_row(status="finished"), lambda texts: True),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_harmless_oddities_are_cleaned_like_typed_text_and_stay_readable(name, laptop, office, tmp_path):
    doc, did = laptop
    mutate, check = ACCEPTED[name]
    mutate(doc)
    assert import_bundle(office, write(tmp_path, doc))["imported"] == 1
    assert check([e.text for e in office.load_events(did)])
    assert office.get_dialogue(did)["status"] == "in_progress"  # from the events, not the row
    readable(office.path, did, tmp_path)


# ---------------------------------------------------------------- anything else


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_tampering_is_refused_or_stays_readable(laptop, tmp_path, data):
    """Any value in any payload field, text or question id of any event: the import either
    refuses the file with nothing written, or everything reads the dialogue afterwards."""
    doc, did = laptop
    doc = copy.deepcopy(doc)
    event = data.draw(st.sampled_from(events(doc)))
    where = data.draw(st.sampled_from(["payload", "payload", "text", "qid"]))
    value = data.draw(JSON_VALUES)
    if where == "payload":
        keys = sorted(event["payload"]) + ["x"]
        event["payload"][data.draw(st.sampled_from(keys))] = value
    else:
        event[where] = value
    db = tmp_path / f"office-{uuid.uuid4().hex[:8]}.db"
    with Store.open(db) as office:
        try:
            import_bundle(office, write(tmp_path, doc))
        except StorageError as exc:
            assert "Inget har importerats" in str(exc)
            assert office.list_dialogues() == []
            return
    readable(db, did, tmp_path)

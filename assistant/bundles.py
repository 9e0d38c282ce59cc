"""Bundle files: dialogues moved between machines, and single-dialogue JSON exports.

A bundle is UTF-8 JSON::

    {"format": "dialogstod-bundle", "version": 1,
     "dialogues": [{"dialogue": {...}, "events": [event.to_dict(), ...]}, ...],
     "sha256": "<hex>"}

``sha256`` is the SHA-256 of ``canonical(dialogues)``: the ``dialogues`` value serialised with
``json.dumps(..., ensure_ascii=False, sort_keys=True, separators=(",", ":"))`` and encoded as
UTF-8. A single-dialogue export is ``{"format": "dialogstod-dialogue", "version": 1,
"dialogue": {...}, "events": [...]}`` (no checksum; it is meant to be read by people too).

The service both doors use, on the caller's store: ``export_bundle``, ``export_dialogue_json``
and ``import_bundle``. Reading is bounded: ``read`` stops at ``MAX_BUNDLE_BYTES`` (so a pipe or
``/dev/zero`` ends there); ``parse`` validates everything without a database and returns the
``Entry`` objects and the flows the file carries, so the Store only ever sees well-formed
dialogues. Every text in a file passes through ``clean_incoming_text`` on the way in – the same
cleaning and size limits as text typed in the line mode – and personal identity numbers are
masked (``masked_entry``). ``import_bundle`` then checks that each dialogue replays against its
flow before ``Store.import_dialogues`` writes anything. Problems are ``StorageError``s naming the
file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import privacy
from assistant.events import Event
from assistant.textsafe import MAX_SHORT, MAX_TEXT, json_text, normalise_typed
from storage.bundles import DIALOGUE_FIELDS, Entry
from storage.dialogues import MODES, STATUSES
from storage.errors import StorageError

if TYPE_CHECKING:
    from storage import Store

# A bundle is read whole into memory and parsed: 100 MB is some thousands of dialogues. A larger
# archive moves in several bundles (bundle export takes any set of ids).
MAX_BUNDLE_BYTES = 100_000_000
MAX_PAYLOAD_DEPTH = 12

# The kinds whose text a person typed (answers, notes, actions, corrections).
TYPED_KINDS = frozenset({"answered", "noted", "action_added", "action_updated", "corrected"})

BUNDLE_FORMAT = "dialogstod-bundle"
DIALOGUE_FORMAT = "dialogstod-dialogue"
FORMAT_VERSION = 1

_SHA256 = re.compile(r"^([0-9a-f]{64})?$")
# Event payload keys that hold one id, or a list of ids (question, section, rule, action ids).
ID_FIELDS = ("action_id", "sid", "section", "subarea", "rule", "followup")
ID_LIST_FIELDS = ("sections", "questions")


@functools.cache
def _id_pattern() -> re.Pattern[str]:
    from assistant.ids import ID_PATTERN  # pydantic's types live there: imported when a file is read

    return re.compile(ID_PATTERN)


def is_id(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 200 and _id_pattern().match(value) is not None


@dataclass(frozen=True)
class Parsed:
    entries: list[Entry]
    flows: dict[str, dict[str, Any]]  # sha256 -> {flow_id, version, source}, each checked against its key


class _BadText(ValueError):
    pass


def clean_incoming_text(text: Any, *, typed: bool, limit: int = MAX_TEXT) -> str:
    """The one gate for every text a bundle or JSON import brings in (event texts, payload
    strings, clinic and participant names): it must be text, valid Unicode (no lone
    surrogates), at most ``limit`` characters; NUL becomes U+FFFD and, in text a person typed
    (``typed``), line breaks become LF – as in the line mode. Texts exported by Dialogstöd pass
    unchanged, so importing a bundle twice still finds the same events.

    Personal identity numbers are masked after this, for the whole dialogue at once, by
    ``masked_entry`` (the same masking typed text gets)."""
    if not isinstance(text, str):
        raise _BadText("är inte text")
    if len(text) > limit:
        raise _BadText(f"är för lång ({len(text):,} tecken, högst {limit:,})".replace(",", "\u00a0"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _BadText("innehåller tecken som inte är giltig Unicode") from None
    return normalise_typed(text) if typed else text.replace("\x00", "\ufffd")


def _clean_payload(value: Any, depth: int = 0) -> Any:
    if depth > MAX_PAYLOAD_DEPTH:
        raise _BadText("är för djupt nästlat")
    if isinstance(value, str):
        return clean_incoming_text(value, typed=False)
    if isinstance(value, float) and not math.isfinite(value):
        raise _BadText("innehåller ett ogiltigt tal (NaN eller oändligt)")
    if isinstance(value, dict):
        return {clean_incoming_text(k, typed=False, limit=MAX_SHORT): _clean_payload(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_payload(v, depth + 1) for v in value]
    return value


def read(path: Path) -> bytes:
    """The file's bytes, at most ``MAX_BUNDLE_BYTES``; a StorageError names the file and the reason."""
    from assistant.fileio import FileProblem, read_limited

    try:
        return read_limited(path, MAX_BUNDLE_BYTES)
    except FileProblem as exc:
        raise StorageError(f"Filen {path} kan inte importeras: {exc}. Inget har importerats.") from None


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def checksum(dialogues: list[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical(dialogues)).hexdigest()


def make_bundle(entries: list[dict[str, Any]], flows: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    doc = {
        "format": BUNDLE_FORMAT,
        "version": FORMAT_VERSION,
        "dialogues": entries,
        "sha256": checksum(entries),
    }
    if flows:
        doc["flows"] = flows  # self-verifying: each key is the SHA-256 of its source
    return doc


def make_dialogue_export(entry: dict[str, Any], flows: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    doc = {"format": DIALOGUE_FORMAT, "version": FORMAT_VERSION, **entry}
    if flows:
        doc["flows"] = flows
    return doc


def _flow_sources(path: Path, doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The optional ``flows`` of a bundle or export: {sha256: {flow_id, version, source}}. Each
    source must hash to its key; anything else is a damaged file."""
    raw = doc.get("flows", {})
    if not isinstance(raw, dict):
        raise _damaged(path, "flödena i filen har fel form")
    out: dict[str, dict[str, Any]] = {}
    for sha, flow in raw.items():
        if (
            not isinstance(flow, dict)
            or not isinstance(flow.get("source"), str)
            or not isinstance(flow.get("flow_id"), str)
            or not isinstance(flow.get("version"), int)
            or hashlib.sha256(flow["source"].encode("utf-8")).hexdigest() != sha
        ):
            raise _damaged(path, f"ett flöde i filen ({str(sha)[:12]}…) stämmer inte med sin kontrollsumma")
        _check_flow_text(path, sha, flow["source"])
        out[sha] = {"flow_id": flow["flow_id"], "version": flow["version"], "source": flow["source"]}
    return out


def _check_flow_text(path: Path, sha: str, source: str) -> None:
    """A carried flow must at least be TOML without control characters in its texts (its titles
    and section names are shown in terminals)."""
    from assistant.tomlfiles import FlowError, parse_toml

    try:
        parse_toml(f"flödet {sha[:12]}…", source.encode("utf-8"))
    except FlowError as exc:
        raise _damaged(path, f"ett flöde i filen kan inte läsas ({exc.problems[0]})") from None


def _damaged(path: Path, why: str) -> StorageError:
    return StorageError(f"Filen {path} kan inte importeras: {why}. Inget har importerats.")


def parse(path: Path, data: bytes) -> Parsed:
    """Validate a bundle or single-dialogue export; every problem is a StorageError."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _damaged(path, "den är inte UTF-8-text (är det rätt fil?)") from None
    except json.JSONDecodeError as exc:
        raise _damaged(
            path, f"den är inte giltig JSON (rad {exc.lineno}, kolumn {exc.colno}); filen kan vara skadad"
        ) from None
    except RecursionError:
        raise _damaged(path, "den är inte giltig JSON") from None
    if not isinstance(doc, dict) or doc.get("format") not in (BUNDLE_FORMAT, DIALOGUE_FORMAT):
        raise _damaged(path, "den är inte ett Dialogstöd-paket eller en dialogexport")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _damaged(path, "formatversionen saknas")
    if version > FORMAT_VERSION:
        raise _damaged(
            path, f"den är skapad av en nyare version av Dialogstöd (format {version}); uppdatera Dialogstöd"
        )
    if version != FORMAT_VERSION:
        raise _damaged(path, f"okänd formatversion {version}")

    if doc["format"] == BUNDLE_FORMAT:
        raw = doc.get("dialogues")
        if not isinstance(raw, list):
            raise _damaged(path, "listan med dialoger saknas")
        expected = doc.get("sha256")
        if not isinstance(expected, str):
            raise _damaged(path, "kontrollsumman saknas")
        try:
            actual = checksum(raw)
        except UnicodeEncodeError:
            raise _damaged(path, "den innehåller tecken som inte är giltig Unicode") from None
        except ValueError:
            raise _damaged(path, "den innehåller ogiltiga tal") from None
        if actual != expected.lower():
            raise _damaged(path, "kontrollsumman stämmer inte, så filen har ändrats eller skadats på vägen")
    else:
        raw = [{"dialogue": doc.get("dialogue"), "events": doc.get("events")}]

    entries: list[Entry] = []
    seen: set[str] = set()
    for i, item in enumerate(raw, start=1):
        entry = _parse_entry(path, i, item)
        did = entry.dialogue["id"]
        if did in seen:
            raise _damaged(path, f"dialog {did} förekommer två gånger")
        seen.add(did)
        entries.append(entry)
    return Parsed(entries, _flow_sources(path, doc))


def _parse_entry(path: Path, i: int, item: Any) -> Entry:
    if not isinstance(item, dict):
        raise _damaged(path, f"dialog nummer {i} är inte ett objekt")
    row = item.get("dialogue")
    if not isinstance(row, dict):
        raise _damaged(path, f"dialog nummer {i} saknar sina uppgifter")
    did = row.get("id")
    if not isinstance(did, str) or not did.strip():
        raise _damaged(path, f"dialog nummer {i} saknar id")
    if not is_id(did):
        raise _damaged(path, f"dialog nummer {i} har ett ogiltigt id {did[:80]!r}")
    where = f"dialog {did}"
    for key in ("clinic", "flow_id", "flow_sha256", "mode"):
        if not isinstance(row.get(key), str):
            raise _damaged(path, f"{where} saknar fältet {key}")
    try:
        row = dict(row, clinic=clean_incoming_text(row["clinic"], typed=True, limit=MAX_SHORT))
    except _BadText as exc:
        raise _damaged(path, f"{where}: mottagningens namn {exc}") from None
    if not row["clinic"].strip():
        raise _damaged(path, f"{where} saknar mottagning")
    if not is_id(row["flow_id"]):
        raise _damaged(path, f"{where} har ett ogiltigt flödes-id {row['flow_id'][:80]!r}")
    if not _SHA256.match(row["flow_sha256"]):
        raise _damaged(path, f"{where} har en ogiltig kontrollsumma för flödet")
    if row["mode"] not in MODES:
        raise _damaged(path, f"{where} har ett okänt läge {row['mode'][:40]!r}")
    if not isinstance(row.get("flow_version"), int) or isinstance(row.get("flow_version"), bool):
        raise _damaged(path, f"{where} har ingen giltig flödesversion")
    participants = row.get("participants", [])
    if not isinstance(participants, list) or not all(isinstance(p, dict) for p in participants):
        raise _damaged(path, f"{where} har en ogiltig deltagarlista")
    try:
        participants = _clean_payload(participants)
    except _BadText as exc:
        raise _damaged(path, f"{where}: deltagarlistan {exc}") from None
    if row.get("status") not in STATUSES:
        raise _damaged(path, f"{where} har en okänd status {row.get('status')!r}")

    raw_events = item.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        raise _damaged(path, f"{where} saknar händelser")
    events: list[Event] = []
    for n, raw in enumerate(raw_events, start=1):
        if not isinstance(raw, dict):
            raise _damaged(path, f"{where}: händelse {n} är inte ett objekt")
        try:
            event = Event.from_dict(raw)
        except ValueError as exc:
            if "unknown event kind" in str(exc):
                raise _damaged(path, f"{where}: händelse {n} har en okänd typ {raw.get('kind')!r}") from None
            raise _damaged(path, f"{where}: händelse {n} är ogiltig ({exc})") from None
        except (KeyError, TypeError, AttributeError, OverflowError) as exc:
            raise _damaged(path, f"{where}: händelse {n} är ofullständig ({exc})") from None
        if event.seq != n:
            raise _damaged(
                path, f"{where}: händelserna är inte numrerade i följd (nummer {event.seq} på plats {n})"
            )
        for field in ("qid", "text"):
            if getattr(event, field) is not None and not isinstance(getattr(event, field), str):
                raise _damaged(path, f"{where}: händelse {n} har ett ogiltigt {field}-fält")
        try:
            event = Event(
                seq=event.seq,
                kind=event.kind,
                at=event.at,
                qid=None if event.qid is None else clean_incoming_text(event.qid, typed=False, limit=MAX_SHORT),
                text=None if event.text is None else clean_incoming_text(event.text, typed=event.kind in TYPED_KINDS),
                payload=_clean_payload(event.payload),
            )
        except _BadText as exc:
            raise _damaged(path, f"{where}: texten i händelse {n} {exc}") from None
        bad = _bad_id(event)
        if bad is not None:
            raise _damaged(path, f"{where}: händelse {n} har ett ogiltigt id i fältet {bad}")
        events.append(event)
    dialogue = {key: row.get(key) for key in DIALOGUE_FIELDS}
    dialogue["participants"] = participants
    return masked_entry(Entry(dialogue=dialogue, events=events))


def _bad_id(event: Event) -> str | None:
    """The name of the first field of an event that should hold an id and does not, or None."""
    if event.qid is not None and not is_id(event.qid):
        return "qid"
    for key in ID_FIELDS:
        value = event.payload.get(key)
        if value is not None and not is_id(value):
            return key
    for key in ID_LIST_FIELDS:
        value = event.payload.get(key)
        if value is not None and (not isinstance(value, list) or not all(is_id(v) for v in value)):
            return key
    return None


def masked_entry(entry: Entry) -> Entry:
    """An imported dialogue as it may be stored: personal identity numbers masked in every text of
    its events, its clinic and its participants — the same masking as typed text gets — unless the
    dialogue was held with masking turned off (its ``started`` event says ``mask_pii: false``)."""
    started = entry.events[0] if entry.events and entry.events[0].kind == "started" else None
    if started is not None and started.payload.get("mask_pii") is False:
        return entry
    events = [privacy.mask_event(e)[0] for e in entry.events]
    dialogue = dict(entry.dialogue)
    dialogue["clinic"] = privacy.mask_identity_numbers(dialogue["clinic"]).text
    dialogue["participants"] = privacy.mask_strings(dialogue["participants"])[0]
    return Entry(dialogue=dialogue, events=events)


# ---------------------------------------------------------------- the service both doors use


def export_dialogue_json(store: Store, ref: str) -> str:
    """The dialogue as a pretty-printed, lossless ``dialogstod-dialogue`` JSON document."""
    entry = store.dump_dialogue(ref)
    doc = make_dialogue_export(entry, store.flow_sources([entry["dialogue"]]))
    return json_text(doc, indent=2) + "\n"


def export_bundle(store: Store, refs: list[str], path: str | os.PathLike[str], *, parents: bool = False) -> int:
    """Write the dialogues (ids or unique prefixes) to a bundle file (mode 0600, replaced
    atomically, never over anything but a regular file; ``parents``: create missing
    directories); returns how many."""
    from assistant.fileio import FileProblem, write_regular

    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for ref in refs:
        entry = store.dump_dialogue(ref)
        if entry["dialogue"]["id"] not in seen:
            seen.add(entry["dialogue"]["id"])
            entries.append(entry)
    flows = store.flow_sources([e["dialogue"] for e in entries])
    data = json_text(make_bundle(entries, flows), indent=1).encode("utf-8")
    try:
        write_regular(Path(path).expanduser(), data, parents=parents)
    except FileProblem as exc:
        raise StorageError(f"Paketet kunde inte skrivas: {exc}") from None
    return len(entries)


def import_bundle(store: Store, path: str | os.PathLike[str]) -> dict[str, int]:
    """Import a bundle or a JSON export, checked like live input: every dialogue must replay
    against its flow (shipped, stored here, or carried in the file and hash-checked) before
    anything is written; one that does not refuses the whole file, with the reason. Returns
    ``Store.import_dialogues``'s counts."""
    from assistant import engine as E
    from assistant.flows import FlowError
    from assistant.session import DialogueError, flow_for
    from assistant.textsafe import one_line

    source = Path(path).expanduser()
    parsed = parse(source, read(source))

    def verify(entry: Entry, carried: dict[str, dict[str, Any]]) -> Entry:
        row = entry.dialogue
        which = f"dialog {row['id'][:8]} ({one_line(row['clinic'], 40)})"

        def refuse(why: str) -> StorageError:
            return StorageError(f"Filen {source} kan inte importeras: {which} {why}. Inget har importerats.")

        try:
            loaded = flow_for(store, row, carried)
        except (DialogueError, FlowError) as exc:
            detail = "; ".join(exc.problems) if isinstance(exc, FlowError) else str(exc)
            raise refuse(f"hölls med flödet {row['flow_id']!r}, som inte finns här och inte följer med i filen ({detail})") from None
        if loaded.flow.id != row["flow_id"]:
            raise refuse(f"anger flödet {row['flow_id']!r} men flödet i filen är {loaded.flow.id!r}")
        try:
            state = E.replay(loaded.flow, entry.events)
        except E.ReplayError as exc:
            raise refuse(f"stämmer inte med sitt flöde {loaded.flow.id} (version {loaded.flow.version}): {exc}") from None
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
            raise refuse(f"har händelser med fel form ({type(exc).__name__}: {exc})") from None
        return Entry(dict(row, status=state.status, mode=state.mode), entry.events)

    return store.import_dialogues(parsed.entries, parsed.flows, verify=verify, source=source)


"""Bundle files: dialogues moved between machines, and single-dialogue JSON exports.

A bundle is UTF-8 JSON::

    {"format": "dialogstod-bundle", "version": 1,
     "dialogues": [{"dialogue": {...}, "events": [event.to_dict(), ...]}, ...],
     "sha256": "<hex>"}

``sha256`` is the SHA-256 of ``canonical(dialogues)``: the ``dialogues`` value serialised with
``json.dumps(..., ensure_ascii=False, sort_keys=True, separators=(",", ":"))`` and encoded as
UTF-8. A single-dialogue export is ``{"format": "dialogstod-dialogue", "version": 1,
"dialogue": {...}, "events": [...]}`` (no checksum; it is meant to be read by people too).

Parsing here is pure (no database): ``parse`` validates everything and returns ``Entry`` objects,
so the Store only ever sees well-formed dialogues.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant import privacy
from assistant.engine.events import Event
from assistant.ids import ID_PATTERN

from .errors import StorageError

BUNDLE_FORMAT = "dialogstod-bundle"
DIALOGUE_FORMAT = "dialogstod-dialogue"
FORMAT_VERSION = 1

STATUSES = ("prepared", "in_progress", "finished")
MODES = ("facilitator", "self")

_ID = re.compile(ID_PATTERN)
_SHA256 = re.compile(r"^([0-9a-f]{64})?$")
# Event payload keys that hold one id, or a list of ids (question, section, rule, action ids).
ID_FIELDS = ("action_id", "sid", "section", "subarea", "rule", "followup")
ID_LIST_FIELDS = ("sections", "questions")


def is_id(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 200 and _ID.match(value) is not None

# The dialogue fields a bundle carries (``started``/``updated`` are informative: they are
# recomputed from the events on import).
DIALOGUE_FIELDS = (
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
)


@dataclass(frozen=True)
class Entry:
    dialogue: dict[str, Any]
    events: list[Event]


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


def parse_flow_sources(path: Path, data: bytes) -> dict[str, dict[str, Any]]:
    """The optional ``flows`` of a bundle or export: {sha256: {flow_id, version, source}}. Each
    source must hash to its key; anything else is a damaged file. (Call after ``parse``.)"""
    doc = json.loads(data.decode("utf-8"))
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
    from assistant.flows import FlowError, parse_toml

    try:
        parse_toml(f"flödet {sha[:12]}…", source.encode("utf-8"))
    except FlowError as exc:
        raise _damaged(path, f"ett flöde i filen kan inte läsas ({exc.problems[0]})") from None


def _damaged(path: Path, why: str) -> StorageError:
    return StorageError(f"Filen {path} kan inte importeras: {why}. Inget har importerats.")


def parse(path: Path, data: bytes) -> list[Entry]:
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
    return entries


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

"""Whole dialogues out of and into the database: what a bundle or a JSON export carries.

The file format (parsing, checksums, the cleaning and masking of every incoming text) is
``assistant.bundles``; here are the rows: a dialogue with its events and the flows it was held on
(``dump_dialogue``, ``flow_sources``), and storing parsed dialogues all or nothing, idempotently,
refusing a dialogue whose history here differs (``import_dialogues``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from assistant.events import Event

from .base import guarded, iso
from .dialogues import Dialogues, _event_rows
from .errors import StorageError

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


class Bundles(Dialogues):
    def _resolve(self, ref: str) -> dict[str, Any]:
        row = self.get_dialogue(ref)
        if row is None:
            raise StorageError(f"Det finns ingen dialog {ref!r} i databasen {self.path}.")
        return row

    @guarded
    def flow_sources(self, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The exact texts of the flows ``rows`` (dialogue dicts) were held on, as a bundle carries
        them: {sha256: {flow_id, version, source}}, for those this database keeps."""
        out: dict[str, dict[str, Any]] = {}
        for row in rows:
            sha = row.get("flow_sha256")
            if sha and sha not in out:
                found = self._connection.execute(
                    "SELECT flow_id, version, source FROM flow_sources WHERE sha256 = ?", (sha,)
                ).fetchone()
                if found:
                    out[sha] = {"flow_id": found[0], "version": found[1], "source": found[2]}
        return out

    @guarded
    def dump_dialogue(self, dialogue_id: str) -> dict[str, Any]:
        """One dialogue as ``{"dialogue": {...}, "events": [event.to_dict(), ...]}``."""
        row = self._resolve(dialogue_id)
        dialogue = {key: row[key] for key in DIALOGUE_FIELDS}
        return {"dialogue": dialogue, "events": [e.to_dict() for e in self._load_events(row["id"])]}

    @guarded
    def import_dialogues(
        self,
        entries: list[Entry],
        flows: dict[str, dict[str, Any]],
        *,
        verify: Callable[[Entry, dict[str, dict[str, Any]]], Entry],
        source: str | os.PathLike[str],
    ) -> dict[str, int]:
        """Store the dialogues of a bundle or a single-dialogue export (``source``, named in
        messages), with the flows they carry: all or nothing.

        ``verify(entry, flows)`` is called for every dialogue before anything is written; it
        returns the entry to store or raises StorageError, which refuses the whole file (the
        product passes the one in ``assistant.bundles.import_bundle``: each dialogue must replay
        against its flow). Returns ``{"imported": n, "already_present": n, "extended": n}``:
        ``imported`` counts the dialogues that changed here (new ones and ones extended with more
        events), ``extended`` those of them that existed and got new events, ``already_present``
        those with nothing new. A dialogue that is here with other events is refused.
        """
        entries = [verify(entry, flows) for entry in entries]
        counts = {"imported": 0, "already_present": 0, "extended": 0}
        with self._write() as conn:
            for sha, flow in flows.items():
                conn.execute(
                    "INSERT OR IGNORE INTO flow_sources (sha256, flow_id, version, source, stored) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (sha, flow["flow_id"], flow["version"], flow["source"], iso(datetime.now(UTC))),
                )
            for entry in entries:
                row, events = entry.dialogue, entry.events
                did = row["id"]
                if not self._exists(did):
                    self._insert_dialogue(
                        conn,
                        dialogue_id=did,
                        clinic=row["clinic"],
                        flow_id=row["flow_id"],
                        flow_version=row["flow_version"],
                        flow_sha256=row["flow_sha256"],
                        mode=row["mode"],
                        participants=row["participants"],
                        status=row["status"],
                        events=events,
                    )
                    counts["imported"] += 1
                    continue
                stored = self._load_events(did)
                common = min(len(stored), len(events))
                differ = next((i for i in range(common) if stored[i] != events[i]), None)
                if differ is not None:
                    raise StorageError(
                        f"Filen {source} kan inte importeras: dialog {did} ({row['clinic']}) finns redan här med "
                        f"andra händelser (de skiljer sig från händelse {differ + 1}). Inget har importerats."
                    )
                if len(events) > len(stored):
                    rows = _event_rows(did, events[len(stored) :])
                    self._insert_events(conn, rows)
                    conn.execute("UPDATE dialogues SET status = ? WHERE id = ?", (row["status"], did))
                    counts["imported"] += 1
                    counts["extended"] += 1
                else:
                    counts["already_present"] += 1
        return counts

"""Dialogues and their events: the source of truth (``events``), the dialogue rows, clinics, the
actions projection, and the exact text of every flow a dialogue was held on.

A dialogue is its append-only list of events; its status, ``updated`` and event count, the
action list and the full-text index are projections kept in step by triggers defined in
``storage.migrations``, so every write path (append, create, bundle import, a migration's
backfill) produces the same projections.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from assistant.events import EVENT_KINDS, Event

from .base import StoreBase, clean_clinic, clinic_key, guarded, iso
from .errors import DialogueMoved, StorageError

STATUSES = ("prepared", "in_progress", "finished")
MODES = ("facilitator", "self")

_DIALOGUE_SELECT = """
SELECT d.id, d.clinic_id, d.flow_id, d.flow_version, d.flow_sha256, d.mode, d.participants,
       d.status, d.started, d.updated, d.event_count, d.review, d.review_at
FROM dialogues d
"""

_CLINIC_ID = "d.clinic_id = (SELECT id FROM clinics WHERE key = ?)"


def _payload_json(event: Event) -> str:
    try:
        return json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StorageError(
            f"Händelse {event.seq} ({event.kind}) kan inte sparas: innehållet är inte JSON ({exc})."
        ) from None


def _check_events(dialogue_id: str, events: list[Event], first_seq: int) -> None:
    for i, event in enumerate(events):
        if not isinstance(event, Event):
            raise StorageError(f"Dialog {dialogue_id}: {event!r} är ingen händelse.")
        if event.kind not in EVENT_KINDS:
            raise StorageError(f"Dialog {dialogue_id}: händelse {event.seq} har en okänd typ {event.kind!r}.")
        if event.seq != first_seq + i:
            raise StorageError(
                f"Händelserna för dialog {dialogue_id} kan inte sparas: nästa händelse ska ha nummer "
                f"{first_seq + i} men har {event.seq}. Dialogen kan ha ändrats i ett annat fönster; öppna den igen."
            )
        if not isinstance(event.payload, dict):
            raise StorageError(
                f"Dialog {dialogue_id}: händelse {event.seq} har ett innehåll som inte är ett objekt."
            )
        for field in ("qid", "text"):
            value = getattr(event, field)
            if value is not None and not isinstance(value, str):
                raise StorageError(
                    f"Dialog {dialogue_id}: händelse {event.seq} har ett {field}-fält som inte är text."
                )


def _event_rows(dialogue_id: str, events: list[Event]) -> list[tuple[Any, ...]]:
    return [(dialogue_id, e.seq, e.kind, iso(e.at), e.qid, e.text, _payload_json(e)) for e in events]


def _event(row: tuple[Any, ...]) -> Event:
    seq, kind, at, qid, text, payload = row
    return Event(
        seq=seq, kind=kind, at=datetime.fromisoformat(at), qid=qid, text=text, payload=json.loads(payload)
    )



class Dialogues(StoreBase):
    """Clinics, dialogues, their events and actions."""

    def _dialogue_maker(self) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
        """A function from a ``_DIALOGUE_SELECT`` row to the dialogue's dict. Clinic names come from
        a dict rather than a join: listing 10 000 dialogues is dominated by per-row Python work."""
        conn = self._connection
        names = dict(conn.execute("SELECT id, name FROM clinics").fetchall())
        loads = json.loads

        def make(row: tuple[Any, ...]) -> dict[str, Any]:
            nonlocal names
            did, cid, flow_id, version, sha, mode, participants, status, started, updated, count, review, review_at = row
            if cid not in names:  # a clinic added by another process since `names` was read
                names = dict(conn.execute("SELECT id, name FROM clinics").fetchall())
            return {
                "id": did,
                "clinic": names[cid],
                "flow_id": flow_id,
                "flow_version": version,
                "flow_sha256": sha,
                "mode": mode,
                "participants": loads(participants),
                "status": status,
                "started": started,
                "updated": updated,
                "events": count,
                "review": review,
                "review_at": review_at,
            }

        return make

    def _dialogues(self, tail: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        """Dialogue dicts for ``_DIALOGUE_SELECT + tail``."""
        make = self._dialogue_maker()
        return [make(row) for row in self._connection.execute(_DIALOGUE_SELECT + tail, params)]

    def _clinic_id(self, conn: sqlite3.Connection, name: str) -> int:
        cleaned = clean_clinic(name)
        key = cleaned.casefold()
        conn.execute(
            "INSERT INTO clinics (name, key) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (cleaned, key)
        )
        return int(conn.execute("SELECT id FROM clinics WHERE key = ?", (key,)).fetchone()[0])

    @guarded
    def ensure_clinic(self, name: str) -> int:
        """The id of the clinic called ``name`` (any case), creating it if needed."""
        with self._write() as conn:
            return self._clinic_id(conn, name)

    @guarded
    def clinics(self) -> list[dict[str, Any]]:
        """Every clinic: id, name, dialogues (count), last (latest dialogue start, or None)."""
        return self._rows(
            """
            SELECT c.id, c.name, count(d.id) AS dialogues, max(d.started) AS last
            FROM clinics c LEFT JOIN dialogues d ON d.clinic_id = c.id
            GROUP BY c.id ORDER BY c.key
            """
        )

    def _insert_dialogue(
        self,
        conn: sqlite3.Connection,
        *,
        dialogue_id: str,
        clinic: str,
        flow_id: str,
        flow_version: int,
        flow_sha256: str,
        mode: str,
        participants: list[dict[str, Any]],
        status: str,
        events: list[Event],
    ) -> None:
        if not isinstance(dialogue_id, str) or not dialogue_id.strip() or dialogue_id != dialogue_id.strip():
            raise StorageError(f"Ogiltigt dialog-id {dialogue_id!r}.")
        if status not in STATUSES:
            raise StorageError(f"Okänd status {status!r} (giltiga: {', '.join(STATUSES)}).")
        if not events:
            raise StorageError(f"Dialog {dialogue_id} kan inte sparas utan händelser.")
        if not isinstance(participants, list) or not all(isinstance(p, dict) for p in participants):
            raise StorageError(f"Dialog {dialogue_id}: deltagarlistan ska vara en lista med objekt.")
        _check_events(dialogue_id, events, 1)
        rows = _event_rows(dialogue_id, events)
        if conn.execute("SELECT 1 FROM dialogues WHERE id = ?", (dialogue_id,)).fetchone():
            raise StorageError(f"Dialog {dialogue_id} finns redan i databasen {self.path}.")
        clinic_id = self._clinic_id(conn, clinic)
        try:
            participants_json = json.dumps(participants, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise StorageError(f"Dialog {dialogue_id}: deltagarlistan kan inte sparas ({exc}).") from None
        started = rows[0][3]
        conn.execute(
            """
            INSERT INTO dialogues (id, clinic_id, flow_id, flow_version, flow_sha256, mode, participants,
                                   status, started, updated)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                dialogue_id,
                clinic_id,
                flow_id,
                int(flow_version),
                flow_sha256,
                mode,
                participants_json,
                status,
                started,
                started,
            ),
        )
        self._insert_events(conn, rows)
        # The caller's status is the truth for a new dialogue (the event trigger only tracks changes).
        conn.execute("UPDATE dialogues SET status = ? WHERE id = ?", (status, dialogue_id))

    @staticmethod
    def _insert_events(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        conn.executemany(
            "INSERT INTO events (dialogue_id, seq, kind, at, qid, text, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    @guarded
    def create_dialogue(
        self,
        *,
        dialogue_id: str,
        clinic: str,
        flow_id: str,
        flow_version: int,
        flow_sha256: str,
        mode: str,
        participants: list[dict[str, Any]],
        status: str,
        events: list[Event],
    ) -> None:
        """Store a new dialogue with its first events (numbered from 1), in one transaction."""
        with self._write() as conn:
            self._insert_dialogue(
                conn,
                dialogue_id=dialogue_id,
                clinic=clinic,
                flow_id=flow_id,
                flow_version=flow_version,
                flow_sha256=flow_sha256,
                mode=mode,
                participants=participants,
                status=status,
                events=list(events),
            )

    def _last_seq(self, conn: sqlite3.Connection, dialogue_id: str) -> int:
        row = conn.execute(
            "SELECT (SELECT max(seq) FROM events WHERE dialogue_id = d.id) FROM dialogues d WHERE d.id = ?",
            (dialogue_id,),
        ).fetchone()
        if row is None:
            raise StorageError(f"Dialog {dialogue_id} finns inte i databasen {self.path}.")
        return int(row[0] or 0)

    @guarded
    def append_events(
        self, dialogue_id: str, events: list[Event], *, busy_timeout_ms: int | None = None
    ) -> None:
        """Append events that continue the dialogue's numbering exactly; durable when this returns.

        ``DialogueMoved`` if someone else has appended since the caller read the dialogue (the
        caller catches up and tries again), ``StorageBusy`` if the write lock stayed taken for the
        busy timeout (``busy_timeout_ms``, default ``BUSY_TIMEOUT_MS``)."""
        events = list(events)
        if not events:
            return
        with self._write(busy_timeout_ms) as conn:
            last = self._last_seq(conn, dialogue_id)
            first = events[0].seq if isinstance(events[0], Event) else None
            if isinstance(first, int) and first <= last:
                raise DialogueMoved(
                    f"Händelserna för dialog {dialogue_id} kan inte sparas: nästa händelse ska ha nummer "
                    f"{last + 1} men har {first}. Dialogen har ändrats i ett annat fönster; öppna den igen.",
                    dialogue_id,
                    last,
                )
            _check_events(dialogue_id, events, last + 1)
            self._insert_events(conn, _event_rows(dialogue_id, events))

    def _load_events(self, dialogue_id: str, after: int = 0) -> list[Event]:
        cursor = self._connection.execute(
            "SELECT seq, kind, at, qid, text, payload FROM events WHERE dialogue_id = ? AND seq > ? ORDER BY seq",
            (dialogue_id, after),
        )
        return [_event(row) for row in cursor]

    @guarded
    def load_events(self, dialogue_id: str, *, after: int = 0) -> list[Event]:
        """The dialogue's events in order, those numbered above ``after`` only if given
        (StorageError if there is no such dialogue)."""
        events = self._load_events(dialogue_id, after)
        if not events and not self._exists(dialogue_id):
            raise StorageError(f"Dialog {dialogue_id} finns inte i databasen {self.path}.")
        return events

    def _exists(self, dialogue_id: str) -> bool:
        return (
            self._connection.execute("SELECT 1 FROM dialogues WHERE id = ?", (dialogue_id,)).fetchone()
            is not None
        )

    @guarded
    def get_dialogue(self, ref: str) -> dict[str, Any] | None:
        """A dialogue by full id or by a unique prefix of at least 4 characters; None if none matches.

        An ambiguous prefix is a StorageError listing the candidates."""
        if not isinstance(ref, str):
            return None
        ref = ref.strip()
        if not ref:
            return None
        rows = self._dialogues(" WHERE d.id = ?", (ref,))
        if rows:
            return rows[0]
        if len(ref) < 4:
            return None
        for prefix in dict.fromkeys((ref, ref.lower())):
            rows = self._dialogues(
                " WHERE d.id >= ? AND d.id < ? ORDER BY d.started DESC LIMIT 11",
                (prefix, prefix + "\U0010ffff"),
            )
            if len(rows) == 1:
                return rows[0]
            if rows:
                shown = ", ".join(f"{r['id']} ({r['clinic']}, {r['started'][:10]})" for r in rows[:10])
                more = " med flera" if len(rows) > 10 else ""
                raise StorageError(
                    f"{ref!r} passar flera dialoger: {shown}{more}. Ange fler tecken av dialogens id."
                )
        return None

    @staticmethod
    def _dialogue_query(
        clinic: str | None, flow: str | None, status: str | None, year: int | None, limit: int | None
    ) -> tuple[str, tuple[Any, ...]]:
        where: list[str] = []
        params: list[Any] = []
        if clinic is not None:
            where.append(_CLINIC_ID)
            params.append(clinic_key(clinic))
        if flow is not None:
            where.append("d.flow_id = ?")
            params.append(flow)
        if status is not None:
            if status not in STATUSES:
                raise StorageError(f"Okänd status {status!r} (giltiga: {', '.join(STATUSES)}).")
            where.append("d.status = ?")
            params.append(status)
        if year is not None:
            where.append("d.started >= ? AND d.started < ?")
            params += [f"{int(year):04d}-", f"{int(year) + 1:04d}-"]
        sql = " WHERE " + " AND ".join(where) if where else ""
        sql += " ORDER BY d.updated DESC, d.id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, int(limit)))
        return sql, tuple(params)

    @guarded
    def list_dialogues(
        self,
        *,
        clinic: str | None = None,
        flow: str | None = None,
        status: str | None = None,
        year: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Dialogues, most recently updated first. ``year`` filters on the start date (UTC)."""
        return self._dialogues(*self._dialogue_query(clinic, flow, status, year, limit))

    def iter_dialogues(
        self,
        *,
        clinic: str | None = None,
        flow: str | None = None,
        status: str | None = None,
        year: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """``list_dialogues`` one at a time, read in batches (``list --json`` over 100 000 dialogues
        never holds them all)."""
        tail, params = self._dialogue_query(clinic, flow, status, year, None)
        return self._stream(_DIALOGUE_SELECT + tail, params, self._guarded_maker())

    @guarded
    def _guarded_maker(self) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
        return self._dialogue_maker()

    @guarded
    def set_status(self, dialogue_id: str, status: str) -> None:
        if status not in STATUSES:
            raise StorageError(f"Okänd status {status!r} (giltiga: {', '.join(STATUSES)}).")
        with self._write() as conn:
            cursor = conn.execute("UPDATE dialogues SET status = ? WHERE id = ?", (status, dialogue_id))
            if cursor.rowcount == 0:
                raise StorageError(f"Dialog {dialogue_id} finns inte i databasen {self.path}.")

    @guarded
    def latest_dialogue_for_clinic(self, clinic: str, *, exclude: str | None = None) -> dict[str, Any] | None:
        """The clinic's most recently started dialogue (other than ``exclude``), or None."""
        rows = self._dialogues(
            f" WHERE {_CLINIC_ID} AND d.id IS NOT ? ORDER BY d.started DESC, d.updated DESC LIMIT 1",
            (clinic_key(clinic), exclude),
        )
        return rows[0] if rows else None

    # --- actions ----------------------------------------------------------------------------------

    @staticmethod
    def _action_query(clinic: str | None, open_only: bool) -> tuple[str, tuple[Any, ...]]:
        where: list[str] = []
        params: list[Any] = []
        if clinic is not None:
            where.append("c.key = ?")
            params.append(clinic_key(clinic))
        if open_only:
            where.append("a.status != 'done'")
        sql = """
            SELECT a.dialogue_id, c.name AS clinic, a.action_id, a.text, a.owner, a.due, a.status,
                   a.created, a.updated, a.qid
            FROM actions a
            JOIN dialogues d ON d.id = a.dialogue_id
            JOIN clinics c ON c.id = d.clinic_id
        """
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY d.started DESC, a.dialogue_id, a.seq"
        return sql, tuple(params)

    @guarded
    def list_actions(self, *, clinic: str | None = None, open_only: bool = False) -> list[dict[str, Any]]:
        """Actions (from action_added/action_updated events): newest dialogue first, then in the order added."""
        return self._rows(*self._action_query(clinic, open_only))

    def iter_actions(self, *, clinic: str | None = None, open_only: bool = False) -> Iterator[dict[str, Any]]:
        """``list_actions`` one at a time, read in batches."""
        sql, params = self._action_query(clinic, open_only)
        keys = ("dialogue_id", "clinic", "action_id", "text", "owner", "due", "status", "created", "updated", "qid")
        return self._stream(sql, params, lambda row: dict(zip(keys, row, strict=True)))

    # --- flow sources -----------------------------------------------------------------------------

    @guarded
    def save_flow_source(self, sha256: str, flow_id: str, version: int, source: str) -> None:
        """Keep the exact text of a flow (idempotent: the same hash is stored once)."""
        if hashlib.sha256(source.encode("utf-8")).hexdigest() != sha256:
            raise StorageError(f"Flödet {flow_id} stämmer inte med sin kontrollsumma och sparades inte.")
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO flow_sources (sha256, flow_id, version, source, stored) VALUES (?, ?, ?, ?, ?)",
                (sha256, flow_id, int(version), source, iso(datetime.now(UTC))),
            )

    @guarded
    def flow_source(self, sha256: str) -> str | None:
        row = self._connection.execute("SELECT source FROM flow_sources WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

"""The database schema as a sequence of migrations, tracked in ``PRAGMA user_version``.

``MIGRATIONS[n - 1]`` takes a database from schema ``n - 1`` to schema ``n``; a new database runs
them all (in one transaction), an older one runs the missing ones (one transaction each). A
migration is never edited once released: a change to the schema is a new migration at the end.

- v1: ``dialogstod_meta``, ``clinics``, ``dialogues``, ``events`` (append-only: UPDATE and DELETE are
  refused by triggers) and the trigger that keeps ``dialogues.updated / event_count / status`` in
  step with the events.
- v2: ``actions`` (a projection of ``action_added`` / ``action_updated``, kept by triggers) and
  ``search_fts``, an FTS5 index over the texts people wrote or were asked, backfilled from the
  events already stored.
- v3: ``indicator_values`` (imported indicator data).
- v4: ``flow_sources``: the exact text of every flow a dialogue was held on, keyed by its SHA-256,
  so an old dialogue replays with its own flow even after the flow file is edited or removed.
- v5: ``indicator_values.kind``: the kind of clinic (typ/jämförelsegrupp) as the data file gave it,
  which decides the clinic's peers.
- v6: ``dialogues.review`` / ``review_at``: the documentation's review status (sent, commented,
  approved), a projection of ``reviewed`` events kept by a trigger, so listing dialogues with
  their review status never replays them. (An older Dialogstöd refuses the database: it would not
  know the new event kind.)

The SQL below is frozen per version on purpose (no shared helpers that could drift), except the
action projection, which is written once and used both by the v2 triggers and the v2 backfill.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

# PRAGMA application_id for Dialogstöd databases: the ASCII bytes "DSTD" (a signed 32-bit value).
APPLICATION_ID = 0x44535444

META_TABLE = "dialogstod_meta"

# Event kinds whose text goes into the full-text index (what a person wrote or was asked).
SEARCHABLE_KINDS = ("prompted", "answered", "noted", "action_added", "corrected")


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _script(conn: sqlite3.Connection, sql: str) -> None:
    """Run ``;``-separated statements inside the caller's transaction.

    ``Connection.executescript`` would COMMIT first, so statements are split with
    ``sqlite3.complete_statement`` (which understands trigger bodies and string literals).
    """
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                conn.execute(buffer)
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buffer!r}")


# --- v1 -------------------------------------------------------------------------------------------

_V1 = f"""
CREATE TABLE {META_TABLE} (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- name: as written (stripped, NFC, single spaces); key: its casefold(), which (unlike NOCASE)
-- also folds Å/Ä/Ö, so "Vårdcentral Åby" and "VÅRDCENTRAL åby" are one clinic.
CREATE TABLE clinics (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL COLLATE NOCASE CHECK (length(trim(name)) > 0),
    key  TEXT NOT NULL UNIQUE
);

CREATE TABLE dialogues (
    id           TEXT PRIMARY KEY,
    clinic_id    INTEGER NOT NULL REFERENCES clinics (id),
    flow_id      TEXT NOT NULL,
    flow_version INTEGER NOT NULL,
    flow_sha256  TEXT NOT NULL,
    mode         TEXT NOT NULL,
    participants TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(participants)),
    status       TEXT NOT NULL CHECK (status IN ('prepared', 'in_progress', 'finished')),
    started      TEXT NOT NULL,
    updated      TEXT NOT NULL,
    event_count  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dialogues_updated ON dialogues (updated);
CREATE INDEX dialogues_started ON dialogues (started);
CREATE INDEX dialogues_clinic ON dialogues (clinic_id, started);
CREATE INDEX dialogues_flow ON dialogues (flow_id, updated);

-- id is the stable rowid (FTS5 in v2 points at it); (dialogue_id, seq) is the natural key.
-- at: ISO-8601 UTC with microseconds, so text order is time order.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    dialogue_id TEXT NOT NULL REFERENCES dialogues (id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    kind        TEXT NOT NULL,
    at          TEXT NOT NULL CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]+00:00'),
    qid         TEXT,
    text        TEXT,
    payload     TEXT NOT NULL DEFAULT '{{}}' CHECK (json_valid(payload)),
    UNIQUE (dialogue_id, seq)
);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_project_dialogue AFTER INSERT ON events
BEGIN
    UPDATE dialogues SET
        updated = max(updated, new.at),
        event_count = event_count + 1,
        status = CASE new.kind
            WHEN 'finished' THEN 'finished'
            WHEN 'reopened' THEN 'in_progress'
            WHEN 'opened' THEN 'in_progress'
            WHEN 'prepared' THEN 'prepared'
            ELSE status
        END
    WHERE id = new.dialogue_id;
END;
"""


def _v1(conn: sqlite3.Connection) -> None:
    _script(conn, _V1)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.executemany(
        f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?)",
        [("application", "dialogstod"), ("created", _now())],
    )


# --- v2 -------------------------------------------------------------------------------------------

# The action projection mirrors assistant.engine.state (_action_added / _action_updated): an added
# action is open; an update changes status/owner/due only when the payload has that key, the text
# only when the event has one. ``{x}`` is ``new.x`` in a trigger, ``:x`` in the backfill.
_ACTION_ADDED = """
INSERT INTO actions (dialogue_id, action_id, text, owner, due, status, qid, seq, created, updated)
VALUES (
    {dialogue_id},
    coalesce(
        nullif(CAST(json_extract({payload}, '$.action_id') AS TEXT), ''),
        'a' || ((SELECT count(*) FROM actions WHERE dialogue_id = {dialogue_id}) + 1)
    ),
    coalesce({text}, ''),
    json_extract({payload}, '$.owner'),
    json_extract({payload}, '$.due'),
    'open',
    {qid},
    {seq},
    {at},
    {at}
)
ON CONFLICT (dialogue_id, action_id) DO UPDATE SET
    text = excluded.text, owner = excluded.owner, due = excluded.due, status = 'open',
    qid = excluded.qid, seq = excluded.seq, created = excluded.created, updated = excluded.updated
"""

_ACTION_UPDATED = """
UPDATE actions SET
    status = CASE WHEN json_type({payload}, '$.status') IS NOT NULL
                  THEN CAST(json_extract({payload}, '$.status') AS TEXT) ELSE status END,
    owner = CASE WHEN json_type({payload}, '$.owner') IS NOT NULL
                 THEN json_extract({payload}, '$.owner') ELSE owner END,
    due = CASE WHEN json_type({payload}, '$.due') IS NOT NULL
               THEN json_extract({payload}, '$.due') ELSE due END,
    text = CASE WHEN coalesce({text}, '') != '' THEN {text} ELSE text END,
    updated = {at}
WHERE dialogue_id = {dialogue_id}
  AND action_id = CAST(json_extract({payload}, '$.action_id') AS TEXT)
"""

_EVENT_COLUMNS = ("dialogue_id", "seq", "kind", "at", "qid", "text", "payload")


def _for_trigger(sql: str) -> str:
    return sql.format(**{c: f"new.{c}" for c in _EVENT_COLUMNS})


def _for_params(sql: str) -> str:
    return sql.format(**{c: f":{c}" for c in _EVENT_COLUMNS})


_KINDS_SQL = ", ".join(f"'{k}'" for k in SEARCHABLE_KINDS)

_V2 = f"""
CREATE TABLE actions (
    dialogue_id TEXT NOT NULL REFERENCES dialogues (id),
    action_id   TEXT NOT NULL,
    text        TEXT NOT NULL,
    owner       TEXT,
    due         TEXT,
    status      TEXT NOT NULL,
    qid         TEXT,
    seq         INTEGER NOT NULL,
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL,
    PRIMARY KEY (dialogue_id, action_id)
);
CREATE INDEX actions_status ON actions (status, due);

-- What the full-text index covers: one row per searchable event, with its clinic's name.
CREATE VIEW search_source AS
SELECT e.id AS id, e.text AS text, c.name AS clinic
FROM events e
JOIN dialogues d ON d.id = e.dialogue_id
JOIN clinics c ON c.id = d.clinic_id
WHERE e.kind IN ({_KINDS_SQL}) AND coalesce(e.text, '') != '';

-- External content (no second copy of the text). remove_diacritics 0 keeps å, ä, ö distinct
-- letters (unicode61 still folds case, Å -> å).
CREATE VIRTUAL TABLE search_fts USING fts5(
    text, clinic,
    content = 'search_source', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER events_search AFTER INSERT ON events
WHEN new.kind IN ({_KINDS_SQL}) AND coalesce(new.text, '') != ''
BEGIN
    INSERT INTO search_fts (rowid, text, clinic)
    SELECT new.id, new.text, c.name
    FROM dialogues d JOIN clinics c ON c.id = d.clinic_id
    WHERE d.id = new.dialogue_id;
END;

CREATE TRIGGER events_action_added AFTER INSERT ON events
WHEN new.kind = 'action_added'
BEGIN
    {_for_trigger(_ACTION_ADDED)};
END;

CREATE TRIGGER events_action_updated AFTER INSERT ON events
WHEN new.kind = 'action_updated'
BEGIN
    {_for_trigger(_ACTION_UPDATED)};
END;
"""


def _v2(conn: sqlite3.Connection) -> None:
    _script(conn, _V2)
    # Backfill: replay the stored action events in log order, then index all stored texts.
    added, updated = _for_params(_ACTION_ADDED), _for_params(_ACTION_UPDATED)
    rows = conn.execute(
        "SELECT dialogue_id, seq, kind, at, qid, text, payload FROM events "
        "WHERE kind IN ('action_added', 'action_updated') ORDER BY dialogue_id, seq"
    ).fetchall()
    for row in rows:
        params = dict(zip(_EVENT_COLUMNS, row, strict=True))
        conn.execute(added if params["kind"] == "action_added" else updated, params)
    conn.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")


# --- v3 -------------------------------------------------------------------------------------------

_V3 = """
-- clinic: the name as imported; clinic_key: its casefold() (see clinics.key). Not a foreign key:
-- data may name clinics that have had no dialogue yet.
CREATE TABLE indicator_values (
    clinic      TEXT NOT NULL,
    clinic_key  TEXT NOT NULL,
    indicator   TEXT NOT NULL,
    period      TEXT NOT NULL,
    numerator   REAL,
    denominator REAL,
    value       REAL,
    direction   TEXT,
    target      REAL,
    source      TEXT NOT NULL,
    imported    TEXT NOT NULL,
    PRIMARY KEY (clinic_key, indicator, period)
);
CREATE INDEX indicator_values_indicator ON indicator_values (indicator, period);
"""


def _v3(conn: sqlite3.Connection) -> None:
    _script(conn, _V3)


_V4 = """
CREATE TABLE flow_sources (
    sha256   TEXT PRIMARY KEY,
    flow_id  TEXT NOT NULL,
    version  INTEGER NOT NULL,
    source   TEXT NOT NULL,
    stored   TEXT NOT NULL
);
"""


def _v4(conn: sqlite3.Connection) -> None:
    _script(conn, _V4)


_V5 = """
ALTER TABLE indicator_values ADD COLUMN kind TEXT;
"""


def _v5(conn: sqlite3.Connection) -> None:
    _script(conn, _V5)


_V6 = """
ALTER TABLE dialogues ADD COLUMN review TEXT;
ALTER TABLE dialogues ADD COLUMN review_at TEXT;

CREATE TRIGGER events_project_review AFTER INSERT ON events
WHEN new.kind = 'reviewed'
BEGIN
    UPDATE dialogues SET
        review = CAST(json_extract(new.payload, '$.status') AS TEXT),
        review_at = new.at
    WHERE id = new.dialogue_id;
END;

UPDATE dialogues SET
    review = (SELECT CAST(json_extract(e.payload, '$.status') AS TEXT) FROM events e
              WHERE e.dialogue_id = dialogues.id AND e.kind = 'reviewed' ORDER BY e.seq DESC LIMIT 1),
    review_at = (SELECT e.at FROM events e
                 WHERE e.dialogue_id = dialogues.id AND e.kind = 'reviewed' ORDER BY e.seq DESC LIMIT 1);
"""


def _v6(conn: sqlite3.Connection) -> None:
    _script(conn, _V6)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "dialogues and their events", _v1),
    Migration(2, "actions projection and full-text search", _v2),
    Migration(3, "indicator values", _v3),
    Migration(4, "flow sources", _v4),
    Migration(5, "kind of clinic with indicator values", _v5),
    Migration(6, "documentation review status", _v6),
)

SCHEMA_VERSION = len(MIGRATIONS)
assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def apply(conn: sqlite3.Connection, migration: Migration) -> None:
    """Apply one migration inside the caller's open transaction and record it."""
    migration.apply(conn)
    conn.execute(f"PRAGMA user_version = {migration.version}")
    conn.execute(
        f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)",
        (f"migrated_to_{migration.version}", _now()),
    )


def migrate(
    conn: sqlite3.Connection, target: int = SCHEMA_VERSION, *, single_transaction: bool = False
) -> int:
    """Bring the database up to ``target``; returns the version it was at.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Each step runs in its own
    ``BEGIN IMMEDIATE`` transaction (or all of them in one with ``single_transaction``, used for a
    new database so a half-made schema never exists). The version is re-read under the write lock,
    so two processes opening an old database at once migrate it once.
    """
    if not 0 <= target <= SCHEMA_VERSION:
        raise ValueError(f"no schema version {target}")
    if user_version(conn) >= target:
        return user_version(conn)  # the common case: nothing to do, and no write lock taken
    start: int | None = None
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = user_version(conn)
            if start is None:
                start = current
            pending = [m for m in MIGRATIONS if current < m.version <= target]
            if not pending:
                conn.execute("COMMIT")
                return start
            for migration in pending if single_transaction else pending[:1]:
                apply(conn, migration)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

"""``Store``: Dialogstöd's SQLite database (one file, WAL mode), opened through sqlite-utils.

A dialogue is its append-only list of events (table ``events``); everything else — a dialogue's
status, ``updated`` and event count, the action list, the full-text index — is a projection kept
in step by triggers defined in ``storage.migrations``, so every write path (append, create,
bundle import, a migration's backfill) produces the same projections.

Writes are short ``BEGIN IMMEDIATE`` transactions: with WAL and a busy timeout, two processes
(the app and a CLI command, say) can write to one database without "database is locked".
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import sqlite3
import stat
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import sqlite_utils

from assistant.engine.events import EVENT_KINDS, Event
from assistant.fileio import kind_of, make_private_dirs
from assistant.privacy import mask_identity_numbers
from assistant.textsafe import json_text

from . import bundles
from .errors import DialogueMoved, StorageError, corrupt, foreign, from_sqlite, newer, not_sqlite
from .migrations import APPLICATION_ID, META_TABLE, SCHEMA_VERSION, migrate, user_version

STATUSES = bundles.STATUSES

BUSY_TIMEOUT_MS = 5000

# Page cache per connection (KiB; SQLite's default is 2 MiB). The dialogue list, its indexes and
# the hot part of the search index of a 10 000-dialogue archive fit in 16 MiB.
CACHE_KIB = 16 * 1024

# synchronous=FULL: in WAL mode every COMMIT fsyncs the WAL, so an event is on disk when
# append_events returns (NORMAL only syncs at checkpoints: a power cut could lose the last answers).
# benchmarks/bench_storage.py measures both, appending 1000 single events to a 1 M-event archive on
# a 2-core VM (ext4): FULL p50 0.34 ms / p99 1.3 ms, NORMAL p50 0.11 ms / p99 3.5 ms. FULL is well
# inside the 5 ms p99 target, so durability wins.
SYNCHRONOUS = "FULL"

# PRAGMA quick_check at open, bounded: a large archive (10 000 dialogues, ~300 MB) takes seconds to
# check in full, and every CLI command opens the database. The check is interrupted after this long
# and counts as passed if it found no problem by then; damage found later (on any read) is still a
# StorageError, via _guarded. Archives up to a few thousand dialogues are checked in full.
QUICK_CHECK_BUDGET_S = 0.1

_DIALOGUE_SELECT = """
SELECT d.id, d.clinic_id, d.flow_id, d.flow_version, d.flow_sha256, d.mode, d.participants,
       d.status, d.started, d.updated, d.event_count, d.review, d.review_at
FROM dialogues d
"""
_INDICATOR_TEXT = ("clinic", "indicator", "period")

_CLINIC_ID = "d.clinic_id = (SELECT id FROM clinics WHERE key = ?)"

P = ParamSpec("P")
R = TypeVar("R")


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Serialise access to the connection and turn sqlite3 errors into StorageError."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        self = args[0]
        assert isinstance(self, Store)
        with self._lock:
            if self._conn is None:
                raise StorageError(f"Databasen {self.path} är redan stängd.")
            try:
                return method(*args, **kwargs)
            except sqlite3.Error as exc:
                raise from_sqlite(self.path, exc) from exc

    return wrapper


def clean_clinic(name: str) -> str:
    """A clinic name as stored: NFC, stripped, inner whitespace collapsed."""
    if not isinstance(name, str):
        raise StorageError("Mottagningens namn måste vara text.")
    cleaned = " ".join(unicodedata.normalize("NFC", name).split())
    if not cleaned:
        raise StorageError("Ange mottagningens namn.")
    return cleaned


def clinic_key(name: str) -> str:
    """The case-insensitive identity of a clinic name (casefold also folds Å/Ä/Ö, unlike NOCASE)."""
    return clean_clinic(name).casefold()


def iso(at: datetime) -> str:
    """An event time as stored: ISO-8601 UTC with microseconds (so text order is time order)."""
    if not isinstance(at, datetime):
        raise StorageError(f"Händelsetiden {at!r} är inte en tidpunkt.")
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


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


def _fts_query(query: str) -> str:
    """The user's words as an FTS5 query: each word a quoted string (so no FTS syntax gets through),
    a trailing ``*`` kept as a prefix search; all words must match."""
    if not isinstance(query, str):
        raise StorageError("Sökningen måste vara text.")
    terms = []
    # Control characters separate words: a NUL would otherwise end the FTS5 query mid-string.
    spaced = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in unicodedata.normalize("NFC", query))
    for word in spaced.split():
        prefix = word.endswith("*")
        core = word.rstrip("*")
        if not any(ch.isalnum() for ch in core):
            continue
        terms.append('"' + core.replace('"', '""') + '"' + ("*" if prefix else ""))
    if not terms:
        if query.strip():
            raise StorageError(
                f"Sökningen {query.strip()!r} innehåller inga ord att söka efter. Skriv ett eller flera ord, "
                "gärna med * i slutet för att söka på ordets början (till exempel avvik*)."
            )
        raise StorageError("Skriv något att söka efter, till exempel avvik* eller ett ord ur ett svar.")
    return " ".join(terms)


def _number(value: Any, what: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StorageError(f"Indikatorvärdet {where} har ett {what} som inte är ett tal ({value!r}).")
    number = float(value)
    return None if math.isnan(number) else number


def _kind(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise StorageError(f"Indikatorvärdet {where} har en typ som inte är text ({value!r}).")
    text = " ".join(value.split())
    return text or None


# --- opening --------------------------------------------------------------------------------------


def _verdict(conn: sqlite3.Connection, path: Path, *, quick_check: bool) -> int | None:
    """Our schema version, or None for an empty SQLite database; StorageError if it is not ours."""
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = user_version(conn)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    if not tables:
        if app_id in (0, APPLICATION_ID) and version == 0:
            return None
        raise foreign(path)
    if META_TABLE not in tables or app_id != APPLICATION_ID:
        raise foreign(path)
    if version > SCHEMA_VERSION:
        raise newer(path, version, SCHEMA_VERSION)
    if version < 1:
        raise corrupt(path, "schemaversionen saknas")
    if quick_check:
        problems = _quick_check(conn, QUICK_CHECK_BUDGET_S)
        if problems:
            raise corrupt(path, "; ".join(problems))
    return version


def _quick_check(conn: sqlite3.Connection, budget_s: float) -> list[str]:
    """PRAGMA quick_check's problems (empty if none found within ``budget_s`` seconds).

    A timer thread interrupts the check (a progress handler cannot: most of the work is one VDBE
    instruction). The lock makes sure it never touches the connection once the check is over."""
    lock = threading.Lock()
    running = [True]

    def stop() -> None:
        with lock:
            if running[0]:
                conn.interrupt()

    timer = threading.Timer(budget_s, stop)
    timer.daemon = True
    timer.start()
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc):
            return []
        raise
    finally:
        with lock:
            running[0] = False
        timer.cancel()
    return [] if rows == ["ok"] else rows


def _inspect(path: Path) -> str:
    """Look at an existing file without changing it: 'missing', 'empty' or 'ours'.

    Refusals are StorageErrors. Only ever called before this process has a connection to the file
    (``Store.open`` finds an open one in ``_OPEN`` first), and the file is never opened with
    Python's own I/O: closing *any* descriptor of a file drops all of the process's POSIX locks
    on it, SQLite's included, and another process closing the database would then delete the
    -wal file still in use here ("How To Corrupt An SQLite Database File", section 2.2). SQLite
    itself reads the header: with ``immutable=1`` (no locks, no -wal/-shm files created), or
    read-only when a -wal file already exists (another process has the database open, and its
    newest data may be only in the WAL).
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        raise StorageError(
            f"Databasen {path} kan inte läsas ({exc.strerror}). Kontrollera sökvägen och behörigheterna."
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise StorageError(
            f"{path} är en katalog, inte en databasfil. Ange en fil med --db eller $DIALOGSTOD_DB."
        )
    if not stat.S_ISREG(st.st_mode):
        raise StorageError(
            f"{path} är {kind_of(st.st_mode)}, inte en databasfil. Ange en fil med --db eller $DIALOGSTOD_DB."
        )
    if st.st_size == 0:
        return "empty"
    if not os.access(path, os.R_OK):
        raise StorageError(
            f"Databasen {path} kan inte läsas (åtkomst nekas). Kontrollera behörigheterna."
        )
    in_use = Path(f"{path}-wal").exists()
    uri = path.resolve().as_uri() + ("?mode=ro" if in_use else "?immutable=1")
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise from_sqlite(path, exc) from exc
    try:
        version = _verdict(conn, path, quick_check=True)
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) == _NOTADB or "not a database" in str(exc):
            raise not_sqlite(path) from None
        raise from_sqlite(path, exc) from exc
    finally:
        conn.close()
    return "empty" if version is None else "ours"


_NOTADB = 26


def _create_file(path: Path) -> None:
    if path.is_symlink():
        # A dangling link: create what it points to (SQLite would follow the link and create the
        # file with the umask's permissions). The link's target directory must exist already.
        real = Path(os.path.realpath(path))
        if not real.parent.is_dir():
            raise StorageError(
                f"Databasen {path} är en länk till {real}, men katalogen {real.parent} finns inte. "
                "Skapa katalogen eller ange en annan fil med --db."
            )
        path = real
    else:
        make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return  # another process created it just now; Store.open checks it through its connection
    os.close(fd)
    os.chmod(path, 0o600)  # os.open's mode is filtered by the umask


def _set_wal(conn: sqlite3.Connection) -> None:
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _connect(target: Path, *, create: bool) -> sqlite3.Connection:
    """The process's first connection to ``target``: inspected, created or migrated as needed."""
    state = _inspect(target)
    if state == "missing":
        if not create:
            raise StorageError(
                f"Databasen {target} finns inte. Ange rätt fil med --db eller $DIALOGSTOD_DB."
            )
        try:
            _create_file(target)
        except OSError as exc:
            raise StorageError(
                f"Databasen {target} kan inte skapas ({exc.strerror}). Kontrollera katalogen och behörigheterna."
            ) from None
    elif state == "empty" and not create:
        raise StorageError(f"Databasen {target} är tom. Ange rätt fil med --db eller $DIALOGSTOD_DB.")
    try:
        conn = sqlite3.connect(
            str(target), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise from_sqlite(target, exc) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        # Check again through this connection (another process may have changed the file
        # since _inspect), before anything is written.
        version = _verdict(conn, target, quick_check=False)
        _set_wal(conn)
        conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        migrate(conn, single_transaction=not version)
        after = user_version(conn)
        if after > SCHEMA_VERSION:
            raise newer(target, after, SCHEMA_VERSION)
        return conn
    except sqlite3.Error as exc:
        conn.close()
        raise from_sqlite(target, exc) from exc
    except BaseException:
        conn.close()
        raise


class _Shared:
    """This process's one connection to one database file, shared by every ``Store`` opened on
    it: ``Store.open`` hands out handles, and the connection closes with the last handle."""

    def __init__(self, key: tuple[int, int], path: Path, conn: sqlite3.Connection):
        self.key = key
        self.path = path  # resolved, as opened
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        self.handles = 0
        self.pid = os.getpid()
        # SQLite opens a file it may not write read-only, and the connection stays so.
        self.read_only = not _writable(path)


def _writable(path: Path) -> bool:
    """Whether SQLite can open ``path`` for writing: the file, its directory, and its -wal and
    -shm files where they exist (SQLite creates them with the database file's permissions)."""
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return False
    return all(not p.exists() or os.access(p, os.W_OK) for p in (Path(f"{path}-wal"), Path(f"{path}-shm")))


# (st_dev, st_ino) -> the open connection. Keyed by the file itself, so a relative path, a
# symbolic link or a hard link to an open database finds the same connection.
_OPEN: dict[tuple[int, int], _Shared] = {}
_OPEN_LOCK = threading.Lock()


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _registered(path: Path) -> _Shared | None:
    key = _file_key(path)
    if key is None:
        return None
    shared = _OPEN.get(key)
    if shared is None:
        return None
    if shared.pid != os.getpid() or _file_key(shared.path) != key:
        # Inherited across fork() (that connection is the parent's), or the file it was opened on
        # is gone and the inode number was reused: not ours to share (nor to close).
        del _OPEN[key]
        return None
    return shared


def open_count() -> int:
    """How many database files this process has open (tests check that nothing is left open)."""
    with _OPEN_LOCK:
        return sum(1 for s in _OPEN.values() if s.pid == os.getpid())


class Store:
    """One open Dialogstöd database. Use ``Store.open(path)``; close it (or use ``with``)."""

    path: Path
    db: sqlite_utils.Database

    def __init__(self, path: Path, shared: _Shared):
        self.path = path
        self._shared = shared
        self._closed = False
        self._lock = shared.lock

    @property
    def db(self) -> sqlite_utils.Database:
        return self._shared.db

    @property
    def _conn(self) -> sqlite3.Connection | None:
        return None if self._closed else self._shared.conn

    # --- lifecycle --------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> Store:
        """The database at ``path`` (default: ``assistant.locations.db_path()``), created if missing.

        One connection per database file per process: opening a file this process already has
        open returns a new handle on the same connection, without touching the file (see
        ``_inspect``). Each handle is closed on its own; the connection closes with the last."""
        if path is None:
            from assistant.locations import db_path

            target = db_path()
        else:
            target = Path(path).expanduser()
        with _OPEN_LOCK:
            shared = _registered(target)
            if shared is None:
                conn = _connect(target, create=create)
                key = _file_key(target)
                if key is None:  # the file vanished under us (moved away by another program)
                    conn.close()
                    raise StorageError(f"Databasen {target} försvann medan den öppnades. Försök igen.")
                shared = _Shared(key, target.resolve(), conn)
                _OPEN[key] = shared
            shared.handles += 1
        return cls(target, shared)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        shared = self._shared
        with _OPEN_LOCK:
            shared.handles -= 1
            if shared.handles > 0:
                return
            if _OPEN.get(shared.key) is shared:
                del _OPEN[shared.key]
        with shared.lock:
            try:
                shared.conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
            shared.conn.close()

    def reopen_if_writable(self) -> bool:
        """Open the connection again if it was opened read-only (the file could not be written
        then) and the file can be written now; True if it did. Every handle gets the new one."""
        shared = self._shared
        with _OPEN_LOCK, shared.lock:
            if self._closed or not shared.read_only or not _writable(shared.path):
                return False
            shared.conn.close()  # SQLite's own close; this process then has no connection to the file
            try:
                conn = _connect(shared.path, create=False)
            except StorageError:
                conn = sqlite3.connect(
                    str(shared.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
                )  # keep the handles usable for reading; the caller's write fails as before
                shared.conn, shared.db = conn, sqlite_utils.Database(conn)
                return False
            shared.conn, shared.db = conn, sqlite_utils.Database(conn)
            shared.read_only = False
            return True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @property
    def schema_version(self) -> int:
        with self._lock:
            return user_version(self._connection)

    @property
    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError(f"Databasen {self.path} är redan stängd.")
        return self._conn

    @contextmanager
    def _write(self, busy_timeout_ms: int | None = None) -> Iterator[sqlite3.Connection]:
        """One short write transaction. BEGIN IMMEDIATE takes the write lock up front (waiting up to
        the busy timeout, or ``busy_timeout_ms`` for this one), so a transaction never fails
        half-way on a lock upgrade; a lock held too long is a ``StorageBusy``."""
        conn = self._connection
        if busy_timeout_ms is None:
            conn.execute("BEGIN IMMEDIATE")
        else:
            conn.execute(f"PRAGMA busy_timeout = {max(0, int(busy_timeout_ms))}")
            try:
                conn.execute("BEGIN IMMEDIATE")
            finally:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _dialogues(self, tail: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        """Dialogue dicts for ``_DIALOGUE_SELECT + tail``. Built by hand, with clinic names from a
        dict rather than a join: listing 10 000 dialogues is dominated by per-row Python work."""
        conn = self._connection
        names = dict(conn.execute("SELECT id, name FROM clinics").fetchall())
        rows = conn.execute(_DIALOGUE_SELECT + tail, params).fetchall()
        loads = json.loads
        out = []
        for (
            did,
            cid,
            flow_id,
            version,
            sha,
            mode,
            participants,
            status,
            started,
            updated,
            count,
            review,
            review_at,
        ) in rows:
            if cid not in names:  # a clinic added by another process since `names` was read
                names = dict(conn.execute("SELECT id, name FROM clinics").fetchall())
            out.append(
                {
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
            )
        return out

    def _rows(self, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        cursor = self.db.execute(sql, params)
        keys = tuple(d[0] for d in cursor.description)
        return [dict(zip(keys, row, strict=True)) for row in cursor]

    # --- clinics ----------------------------------------------------------------------------------

    def _clinic_id(self, conn: sqlite3.Connection, name: str) -> int:
        cleaned = clean_clinic(name)
        key = cleaned.casefold()
        conn.execute(
            "INSERT INTO clinics (name, key) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (cleaned, key)
        )
        return int(conn.execute("SELECT id FROM clinics WHERE key = ?", (key,)).fetchone()[0])

    @_guarded
    def ensure_clinic(self, name: str) -> int:
        """The id of the clinic called ``name`` (any case), creating it if needed."""
        with self._write() as conn:
            return self._clinic_id(conn, name)

    @_guarded
    def clinics(self) -> list[dict[str, Any]]:
        """Every clinic: id, name, dialogues (count), last (latest dialogue start, or None)."""
        return self._rows(
            """
            SELECT c.id, c.name, count(d.id) AS dialogues, max(d.started) AS last
            FROM clinics c LEFT JOIN dialogues d ON d.clinic_id = c.id
            GROUP BY c.id ORDER BY c.key
            """
        )

    # --- dialogues --------------------------------------------------------------------------------

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

    @_guarded
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

    @_guarded
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

    @_guarded
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

    @_guarded
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

    @_guarded
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
        where, params = [], []
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
        return self._dialogues(sql, tuple(params))

    @_guarded
    def set_status(self, dialogue_id: str, status: str) -> None:
        if status not in STATUSES:
            raise StorageError(f"Okänd status {status!r} (giltiga: {', '.join(STATUSES)}).")
        with self._write() as conn:
            cursor = conn.execute("UPDATE dialogues SET status = ? WHERE id = ?", (status, dialogue_id))
            if cursor.rowcount == 0:
                raise StorageError(f"Dialog {dialogue_id} finns inte i databasen {self.path}.")

    @_guarded
    def latest_dialogue_for_clinic(self, clinic: str, *, exclude: str | None = None) -> dict[str, Any] | None:
        """The clinic's most recently started dialogue (other than ``exclude``), or None."""
        rows = self._dialogues(
            f" WHERE {_CLINIC_ID} AND d.id IS NOT ? ORDER BY d.started DESC, d.updated DESC LIMIT 1",
            (clinic_key(clinic), exclude),
        )
        return rows[0] if rows else None

    # --- search -----------------------------------------------------------------------------------

    @_guarded
    def search(self, query: str, *, limit: int = 50, clinic: str | None = None) -> list[dict[str, Any]]:
        """Full-text search over prompts, answers, notes, actions, corrections and clinic names.

        Every word must occur, in the text or the clinic's name (case-insensitive; å, ä, ö are
        letters of their own); ``avvik*`` matches words starting with "avvik". Hits come most
        recently stored first: ranking every hit by relevance (bm25) costs ~300 ms for a common word
        in a 1 M-event archive, while newest-first stops after ``limit`` hits. The snippet marks
        hits with « and ». A query with no words is a StorageError."""
        match = _fts_query(query)
        sql = """
            SELECT e.dialogue_id, c.name AS clinic, d.flow_id, e.seq, e.kind, e.qid, e.at,
                   snippet(search_fts, -1, '«', '»', '…', 12) AS snippet
            FROM search_fts
            JOIN events e ON e.id = search_fts.rowid
            JOIN dialogues d ON d.id = e.dialogue_id
            JOIN clinics c ON c.id = d.clinic_id
            WHERE search_fts MATCH ?
        """
        params: list[Any] = [match]
        if clinic is not None:
            name = clean_clinic(clinic)
            if any(ch.isalnum() for ch in name):
                # Let the index narrow to the clinic's rows too (the key comparison stays exact).
                params[0] = f'clinic : "{name.replace(chr(34), chr(34) * 2)}" AND {match}'
            sql += " AND c.key = ?"
            params.append(name.casefold())
        sql += " ORDER BY search_fts.rowid DESC LIMIT ?"
        params.append(max(0, int(limit)))
        try:
            return self._rows(sql, tuple(params))
        except sqlite3.OperationalError as exc:
            # Cannot happen with quoted terms, but never let FTS syntax errors reach the user raw.
            raise StorageError(
                f"Sökningen {query!r} kunde inte tolkas ({exc}). Prova med enklare ord."
            ) from None

    # --- actions ----------------------------------------------------------------------------------

    @_guarded
    def list_actions(self, *, clinic: str | None = None, open_only: bool = False) -> list[dict[str, Any]]:
        """Actions (from action_added/action_updated events): newest dialogue first, then in the order added."""
        where, params = [], []
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
        return self._rows(sql, tuple(params))

    # --- indicator values -------------------------------------------------------------------------

    @_guarded
    def replace_indicator_values(self, rows: list[dict[str, Any]], *, source: str) -> dict[str, int]:
        """Insert or replace indicator values keyed by (clinic, indicator, period), all in one
        transaction. Rows equal to what is stored are left alone (counted as unchanged), so
        importing the same data again changes nothing. Values not in ``rows`` are kept."""
        if not isinstance(source, str) or not source.strip():
            raise StorageError("Ange varifrån indikatorvärdena kommer (källa).")
        source = mask_identity_numbers(source).text
        prepared: dict[tuple[str, str, str], dict[str, Any]] = {}
        for n, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                raise StorageError(f"Indikatorvärde nummer {n} är inte ett objekt.")
            # Text from a file is masked like typed text: a clinic, indicator or period that holds a
            # personal identity number is stored with the number masked.
            row = {k: mask_identity_numbers(v).text if k in _INDICATOR_TEXT else v for k, v in row.items()}
            try:
                clinic = clean_clinic(row.get("clinic"))  # type: ignore[arg-type]
            except StorageError:
                raise StorageError(f"Indikatorvärde nummer {n} saknar mottagning.") from None
            indicator, period = row.get("indicator"), row.get("period")
            if isinstance(period, int) and not isinstance(period, bool):
                period = str(period)
            if not isinstance(indicator, str) or not indicator.strip():
                raise StorageError(f"Indikatorvärde nummer {n} ({clinic}) saknar indikator.")
            if not isinstance(period, str) or not period.strip():
                raise StorageError(f"Indikatorvärde nummer {n} ({clinic}, {indicator}) saknar period.")
            indicator, period = indicator.strip(), period.strip()
            where = f"{clinic}/{indicator}/{period}"
            direction = row.get("direction")
            if direction is not None and not isinstance(direction, str):
                raise StorageError(
                    f"Indikatorvärdet {where} har en riktning som inte är text ({direction!r})."
                )
            value = {
                "clinic": clinic,
                "numerator": _number(row.get("numerator"), "täljare", where),
                "denominator": _number(row.get("denominator"), "nämnare", where),
                "value": _number(row.get("value"), "värde", where),
                "direction": direction,
                "target": _number(row.get("target"), "målvärde", where),
                "kind": _kind(row.get("kind"), where),
            }
            key = (clinic.casefold(), indicator, period)
            if key in prepared and prepared[key] != value:
                raise StorageError(
                    f"Indikatorvärdet {where} förekommer flera gånger med olika värden; inget har importerats."
                )
            prepared[key] = value
        compared = ("numerator", "denominator", "value", "direction", "target", "kind")
        counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        with self._write() as conn:
            for (ckey, indicator, period), value in prepared.items():
                stored = conn.execute(
                    "SELECT numerator, denominator, value, direction, target, kind FROM indicator_values "
                    "WHERE clinic_key = ? AND indicator = ? AND period = ?",
                    (ckey, indicator, period),
                ).fetchone()
                new = tuple(value[c] for c in compared)
                if stored is None:
                    conn.execute(
                        "INSERT INTO indicator_values (clinic, clinic_key, indicator, period, numerator, denominator, "
                        "value, direction, target, kind, source, imported) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (value["clinic"], ckey, indicator, period, *new, source, now),
                    )
                    counts["inserted"] += 1
                elif tuple(stored) != new:
                    conn.execute(
                        "UPDATE indicator_values SET clinic = ?, numerator = ?, denominator = ?, value = ?, "
                        "direction = ?, target = ?, kind = ?, source = ?, imported = ? "
                        "WHERE clinic_key = ? AND indicator = ? AND period = ?",
                        (value["clinic"], *new, source, now, ckey, indicator, period),
                    )
                    counts["updated"] += 1
                else:
                    counts["unchanged"] += 1
        return counts

    @_guarded
    def indicator_values(
        self, *, clinic: str | None = None, indicator: str | None = None, period: str | None = None
    ) -> list[dict[str, Any]]:
        where, params = [], []
        if clinic is not None:
            where.append("clinic_key = ?")
            params.append(clinic_key(clinic))
        if indicator is not None:
            where.append("indicator = ?")
            params.append(indicator)
        if period is not None:
            where.append("period = ?")
            params.append(str(period))
        sql = (
            "SELECT clinic, indicator, period, numerator, denominator, value, direction, target, kind, source, imported "
            "FROM indicator_values"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY clinic_key, indicator, period"
        return self._rows(sql, tuple(params))

    def indicator_clinics(self) -> list[str]:
        """The clinics the imported indicator data names (one spelling each), in name order."""
        return [
            r["clinic"]
            for r in self._rows("SELECT min(clinic) AS clinic FROM indicator_values GROUP BY clinic_key ORDER BY clinic_key")
        ]

    # --- bundles ----------------------------------------------------------------------------------

    def _resolve(self, ref: str) -> dict[str, Any]:
        row = self.get_dialogue(ref)
        if row is None:
            raise StorageError(f"Det finns ingen dialog {ref!r} i databasen {self.path}.")
        return row

    # ------------------------------------------------------------ flow sources

    @_guarded
    def save_flow_source(self, sha256: str, flow_id: str, version: int, source: str) -> None:
        """Keep the exact text of a flow (idempotent: the same hash is stored once)."""
        if hashlib.sha256(source.encode("utf-8")).hexdigest() != sha256:
            raise StorageError(f"Flödet {flow_id} stämmer inte med sin kontrollsumma och sparades inte.")
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO flow_sources (sha256, flow_id, version, source, stored) VALUES (?, ?, ?, ?, ?)",
                (sha256, flow_id, int(version), source, iso(datetime.now(UTC))),
            )

    @_guarded
    def flow_source(self, sha256: str) -> str | None:
        row = self.db.execute("SELECT source FROM flow_sources WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def _flow_sources_for(self, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for row in rows:
            sha = row.get("flow_sha256")
            if sha and sha not in out:
                found = self.db.execute(
                    "SELECT flow_id, version, source FROM flow_sources WHERE sha256 = ?", (sha,)
                ).fetchone()
                if found:
                    out[sha] = {"flow_id": found[0], "version": found[1], "source": found[2]}
        return out

    @_guarded
    def dump_dialogue(self, dialogue_id: str) -> dict[str, Any]:
        """One dialogue as ``{"dialogue": {...}, "events": [event.to_dict(), ...]}``."""
        row = self._resolve(dialogue_id)
        dialogue = {key: row[key] for key in bundles.DIALOGUE_FIELDS}
        return {"dialogue": dialogue, "events": [e.to_dict() for e in self._load_events(row["id"])]}

    @_guarded
    def export_dialogue_json(self, dialogue_id: str) -> str:
        """The dialogue as a pretty-printed, lossless ``dialogstod-dialogue`` JSON document."""
        entry = self.dump_dialogue(dialogue_id)
        doc = bundles.make_dialogue_export(entry, self._flow_sources_for([entry["dialogue"]]))
        return json_text(doc, indent=2) + "\n"

    @_guarded
    def export_bundle(self, dialogue_ids: list[str], path: str | os.PathLike[str], *, parents: bool = False) -> int:
        """Write the dialogues to a bundle file (mode 0600, replaced atomically, never over
        anything but a regular file; ``parents``: create missing directories); returns how many."""
        target = Path(path).expanduser()
        entries: list[dict[str, Any]] = []
        seen: set[str] = set()
        for ref in dialogue_ids:
            entry = self.dump_dialogue(ref)
            if entry["dialogue"]["id"] not in seen:
                seen.add(entry["dialogue"]["id"])
                entries.append(entry)
        flows = self._flow_sources_for([e["dialogue"] for e in entries])
        data = json_text(bundles.make_bundle(entries, flows), indent=1).encode("utf-8")
        from assistant.fileio import FileProblem, write_regular

        try:
            write_regular(target, data, parents=parents)
        except FileProblem as exc:
            raise StorageError(f"Paketet kunde inte skrivas: {exc}") from None
        return len(entries)

    @_guarded
    def import_bundle(
        self,
        path: str | os.PathLike[str],
        *,
        verify: Callable[[bundles.Entry, dict[str, dict[str, Any]]], bundles.Entry],
    ) -> dict[str, int]:
        """Import a bundle (or a single-dialogue export): all or nothing.

        ``verify(entry, carried_flows)`` is called for every dialogue before anything is written;
        it returns the entry to store or raises StorageError, which refuses the whole file (the
        product passes the one in ``assistant.session.import_bundle``: each dialogue must replay against its
        flow). Returns ``{"imported": n, "already_present": n, "extended": n}``: ``imported``
        counts the dialogues that changed here (new ones and ones extended with more events),
        ``extended`` those of them that existed and got new events, ``already_present`` those
        with nothing new.
        """
        source = Path(path).expanduser()
        parsed = bundles.parse(source, bundles.read(source))
        flows = parsed.flows
        entries = [verify(entry, flows) for entry in parsed.entries]
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

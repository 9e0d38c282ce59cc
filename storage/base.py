"""What every part of the Store shares: the handle on the process's connection, its lock, short
write transactions, and the ``guarded`` decorator that serialises access and turns sqlite3
errors into ``StorageError``. The parts (``dialogues``, ``search``, ``indicators``, ``bundles``)
are mixins of ``storage.store.Store`` built on ``StoreBase``.
"""

from __future__ import annotations

import functools
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from . import opening
from .errors import StorageError, from_sqlite
from .opening import Shared

if TYPE_CHECKING:
    import sqlite_utils

P = ParamSpec("P")
R = TypeVar("R")


def guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Serialise access to the connection and turn sqlite3 errors into StorageError."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        self = args[0]
        assert isinstance(self, StoreBase)
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


class StoreBase:
    """A handle on the process's connection to one database file (``opening.Shared``)."""

    path: Path

    def __init__(self, path: Path, shared: Shared):
        self.path = path
        self._shared = shared
        self._closed = False
        self._lock = shared.lock

    @property
    def db(self) -> sqlite_utils.Database:
        """The connection through sqlite-utils (imported when first asked for)."""
        return self._shared.database()

    @property
    def _conn(self) -> sqlite3.Connection | None:
        return None if self._closed else self._shared.conn

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
                conn.execute(f"PRAGMA busy_timeout = {opening.BUSY_TIMEOUT_MS}")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _rows(self, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return list(self._iter_rows(self._connection.execute(sql, params)))

    @staticmethod
    def _iter_rows(cursor: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
        keys = tuple(d[0] for d in cursor.description)
        for row in cursor:
            yield dict(zip(keys, row, strict=True))

    def _stream(self, sql: str, params: tuple[Any, ...], make: Callable[[Any], R], batch: int = 256) -> Iterator[R]:
        """``make(row)`` for each row of a query, ``batch`` rows at a time, holding the lock only
        while a batch is fetched: a one-shot command prints thousands of rows without building
        them all first (``Store.iter_dialogues``, ``Store.iter_actions``)."""
        with self._lock:
            try:
                cursor = self._connection.execute(sql, params)
            except sqlite3.Error as exc:
                raise from_sqlite(self.path, exc) from exc
        try:
            while True:
                with self._lock:
                    if self._conn is None:
                        raise StorageError(f"Databasen {self.path} är redan stängd.")
                    try:
                        made = [make(row) for row in cursor.fetchmany(batch)]
                    except sqlite3.Error as exc:
                        raise from_sqlite(self.path, exc) from exc
                if not made:
                    return
                yield from made
        finally:
            with self._lock:
                try:
                    cursor.close()
                except sqlite3.Error:
                    pass  # the store was closed meanwhile

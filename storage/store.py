"""``Store``: Dialogstöd's SQLite database (one file, WAL mode).

The Store is put together from parts with one job each:

- ``opening``: inspecting a file untouched, creating, checking and migrating it, and the process's
  one connection per database file;
- ``base``: the handle on that connection, its lock, write transactions, errors as StorageError;
- ``dialogues``: clinics, dialogues and their append-only events, actions, flow texts;
- ``search``: full-text search; ``indicators``: the clinics' indicator values;
- ``bundles``: whole dialogues out of and into the database.

Writes are short ``BEGIN IMMEDIATE`` transactions: with WAL and a busy timeout, two processes
(the app and a CLI command, say) can write to one database without "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from . import opening
from .base import guarded
from .bundles import Bundles
from .errors import StorageError, corrupt
from .indicators import Indicators
from .migrations import user_version
from .opening import OPEN, OPEN_LOCK, Shared, bounded_quick_check, connect, file_key, registered, writable
from .search import Search


class Store(Bundles, Search, Indicators):
    """One open Dialogstöd database. Use ``Store.open(path)``; close it (or use ``with``)."""

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True) -> Store:
        """The database at ``path``, created if missing (``assistant.database.open_store`` finds the
        user's: ``--db``, ``$DIALOGSTOD_DB``, the data directory).

        One connection per database file per process: opening a file this process already has
        open returns a new handle on the same connection, without touching the file (see
        ``opening.inspect``). Each handle is closed on its own; the connection closes with the last."""
        target = Path(path).expanduser()
        with OPEN_LOCK:
            shared = registered(target)
            if shared is None:
                conn = connect(target, create=create)
                key = file_key(target)
                if key is None:  # the file vanished under us (moved away by another program)
                    conn.close()
                    raise StorageError(f"Databasen {target} försvann medan den öppnades. Försök igen.")
                shared = Shared(key, target.resolve(), conn)
                OPEN[key] = shared
            shared.handles += 1
        return cls(target, shared)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        shared = self._shared
        with OPEN_LOCK:
            shared.handles -= 1
            if shared.handles > 0:
                return
            if OPEN.get(shared.key) is shared:
                del OPEN[shared.key]
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
        with OPEN_LOCK, shared.lock:
            if self._closed or not shared.read_only or not writable(shared.path):
                return False
            shared.conn.close()  # SQLite's own close; this process then has no connection to the file
            try:
                conn = connect(shared.path, create=False)
            except StorageError:
                shared.conn = sqlite3.connect(
                    str(shared.path), timeout=opening.BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
                )  # keep the handles usable for reading; the caller's write fails as before
                return False
            shared.conn = conn
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

    @guarded
    def check(self) -> None:
        """Check the whole file (``PRAGMA quick_check``, without the time limit of the check at
        open): a StorageError naming the damage, else nothing. ``dialogstod locate --check``."""
        problems = bounded_quick_check(self._connection, None)
        if problems:
            raise corrupt(self.path, "; ".join(problems))

"""Opening a database file: inspecting it untouched, creating, checking, migrating, and the
process's one connection per file.

``Store.open`` (``storage.store``) calls ``connect`` for a file this process does not have open
yet, and ``registered`` finds one it has. Nothing here reads the file with Python's own I/O (see
``inspect``).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from pathlib import Path
from typing import Any

from .errors import StorageError, corrupt, foreign, from_sqlite, newer, not_sqlite
from .files import kind_of, make_private_dirs
from .migrations import APPLICATION_ID, META_TABLE, SCHEMA_VERSION, migrate, user_version

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

# PRAGMA quick_check at open, bounded, when the file was not closed cleanly (see ``unclean``): a
# large archive (10 000 dialogues, ~300 MB) takes seconds to check in full. The check is
# interrupted after this long and counts as passed if it found no problem by then; damage found
# later (on any read) is still a StorageError, via ``guarded``. ``Store.check`` checks all of it.
QUICK_CHECK_BUDGET_S = 0.1

_NOTADB = 26


def unclean(path: Path) -> bool:
    """Whether the database was left without a clean close: its write-ahead log is still there
    and holds frames. The last connection to close a WAL database checkpoints it and deletes the
    ``-wal`` file, so one left with content means a process was killed, crashed or lost power
    with the database open – or another process has it open right now (then the bounded check
    costs at most ``QUICK_CHECK_BUDGET_S``)."""
    try:
        return os.stat(f"{path}-wal").st_size > 0
    except OSError:
        return False


def verdict(conn: sqlite3.Connection, path: Path, *, quick_check: bool) -> int | None:
    """Our schema version, or None for an empty SQLite database; StorageError if it is not ours.

    Every open reads the first entry of every table (``glance``: the root pages, a millisecond);
    ``quick_check`` also runs the bounded ``PRAGMA quick_check``."""
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
    glance(conn)
    if quick_check:
        problems = bounded_quick_check(conn, QUICK_CHECK_BUDGET_S)
        if problems:
            raise corrupt(path, "; ".join(problems))
    return version


def glance(conn: sqlite3.Connection) -> None:
    """Read the first row of every table: a file whose pages were overwritten or cut short fails
    here (``sqlite3.DatabaseError``), at the cost of a few page reads per table."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND rootpage > 0")]
    for name in names:
        conn.execute('SELECT * FROM "{}" LIMIT 1'.format(name.replace('"', '""'))).fetchall()


def bounded_quick_check(conn: sqlite3.Connection, budget_s: float | None) -> list[str]:
    """PRAGMA quick_check's problems (empty if none found within ``budget_s`` seconds; None: no
    limit).

    A timer thread interrupts the check (a progress handler cannot: most of the work is one VDBE
    instruction). The lock makes sure it never touches the connection once the check is over."""
    if budget_s is None:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
        return [] if rows == ["ok"] else rows
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


def inspect(path: Path) -> str:
    """Look at an existing file without changing it: 'missing', 'empty' or 'ours'.

    Refusals are StorageErrors. Only ever called before this process has a connection to the file
    (``Store.open`` finds an open one with ``registered`` first), and the file is never opened with
    Python's own I/O: closing *any* descriptor of a file drops all of the process's POSIX locks
    on it, SQLite's included, and another process closing the database would then delete the
    -wal file still in use here ("How To Corrupt An SQLite Database File", section 2.2). SQLite
    itself reads the header: with ``immutable=1`` (no locks, no -wal/-shm files created), or
    read-only when a -wal file already exists (another process has the database open, or one was
    killed with it open, and the newest data may be only in the WAL).
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
        version = verdict(conn, path, quick_check=unclean(path))
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) == _NOTADB or "not a database" in str(exc):
            raise not_sqlite(path) from None
        raise from_sqlite(path, exc) from exc
    finally:
        conn.close()
    return "empty" if version is None else "ours"


def create_file(path: Path) -> None:
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


def set_wal(conn: sqlite3.Connection) -> None:
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def connect(target: Path, *, create: bool) -> sqlite3.Connection:
    """The process's first connection to ``target``: inspected, created or migrated as needed."""
    state = inspect(target)
    if state == "missing":
        if not create:
            raise StorageError(
                f"Databasen {target} finns inte. Ange rätt fil med --db eller $DIALOGSTOD_DB."
            )
        try:
            create_file(target)
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
        # since inspect), before anything is written.
        version = verdict(conn, target, quick_check=False)
        set_wal(conn)
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


class Shared:
    """This process's one connection to one database file, shared by every ``Store`` opened on
    it: ``Store.open`` hands out handles, and the connection closes with the last handle."""

    def __init__(self, key: tuple[int, int], path: Path, conn: sqlite3.Connection):
        self.key = key
        self.path = path  # resolved, as opened
        self.conn = conn
        self._database: Any = None  # the sqlite-utils view of ``conn``, made when first asked for
        self.lock = threading.RLock()
        self.handles = 0
        self.pid = os.getpid()
        # SQLite opens a file it may not write read-only, and the connection stays so.
        self.read_only = not writable(path)

    def database(self) -> Any:
        """``sqlite_utils.Database`` over the connection. Imported on first use: sqlite-utils
        brings click, pluggy and – when it is installed – numpy (~0.2 s), which no command that
        only reads or appends needs; every query of the Store is SQL on the connection itself."""
        if self._database is None or self._database.conn is not self.conn:
            import sqlite_utils

            self._database = sqlite_utils.Database(self.conn)
        return self._database


def writable(path: Path) -> bool:
    """Whether SQLite can open ``path`` for writing: the file, its directory, and its -wal and
    -shm files where they exist (SQLite creates them with the database file's permissions)."""
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return False
    return all(not p.exists() or os.access(p, os.W_OK) for p in (Path(f"{path}-wal"), Path(f"{path}-shm")))


# (st_dev, st_ino) -> the open connection. Keyed by the file itself, so a relative path, a
# symbolic link or a hard link to an open database finds the same connection.
OPEN: dict[tuple[int, int], Shared] = {}
OPEN_LOCK = threading.Lock()


def file_key(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def registered(path: Path) -> Shared | None:
    key = file_key(path)
    if key is None:
        return None
    shared = OPEN.get(key)
    if shared is None:
        return None
    if shared.pid != os.getpid() or file_key(shared.path) != key:
        # Inherited across fork() (that connection is the parent's), or the file it was opened on
        # is gone and the inode number was reused: not ours to share (nor to close).
        del OPEN[key]
        return None
    return shared


def open_count() -> int:
    """How many database files this process has open (tests check that nothing is left open)."""
    with OPEN_LOCK:
        return sum(1 for s in OPEN.values() if s.pid == os.getpid())

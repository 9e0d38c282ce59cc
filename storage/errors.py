"""``StorageError``: a problem with the database or a bundle that the user can act on.

Its message is one complete Swedish sentence (or two) naming the file and, where there is one, a
way forward; ``assistant.cli`` prints ``str(exc)`` on one line. ``from_sqlite`` turns any
``sqlite3.Error`` into one, so no sqlite3 exception leaks out of ``Store``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class StorageError(Exception):
    """A storage problem, described for the user (in Swedish)."""


class StorageBusy(StorageError):
    """Another process held the write lock for longer than the busy timeout: worth waiting for."""


class StorageReadOnly(StorageError):
    """The database (or its directory) cannot be written: a read-only file or file system."""


class DialogueMoved(StorageError):
    """Events were appended to the dialogue by someone else since the caller read it.

    ``last_seq`` is the dialogue's last event number now; the caller catches up and tries again."""

    def __init__(self, message: str, dialogue_id: str, last_seq: int):
        super().__init__(message)
        self.dialogue_id = dialogue_id
        self.last_seq = last_seq


# Primary SQLite result codes (https://www.sqlite.org/rescode.html).
_BUSY, _LOCKED, _NOMEM, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = (
    5,
    6,
    7,
    8,
    10,
    11,
    13,
    14,
    26,
)


def not_sqlite(path: Path) -> StorageError:
    return StorageError(
        f"{path} är inte en Dialogstöd-databas (filen är inte en SQLite-databas). "
        "Filen har inte ändrats; ange en annan databasfil med --db eller $DIALOGSTOD_DB."
    )


def foreign(path: Path) -> StorageError:
    return StorageError(
        f"{path} är inte en Dialogstöd-databas (det är en SQLite-databas från ett annat program). "
        "Filen har inte ändrats; ange en annan databasfil med --db eller $DIALOGSTOD_DB."
    )


def newer(path: Path, version: int, supported: int) -> StorageError:
    return StorageError(
        f"Databasen {path} är skapad av en nyare version av Dialogstöd (schema {version}; den här "
        f"versionen kan läsa schema {supported}). Uppdatera Dialogstöd för att öppna den; filen har inte ändrats."
    )


def corrupt(path: Path, detail: str = "") -> StorageError:
    why = f" ({detail})" if detail else ""
    return StorageError(
        f"Databasen {path} är skadad och kan inte läsas{why}. Återställ den från en säkerhetskopia, "
        "eller flytta undan filen så skapas en ny, tom databas nästa gång."
    )


def from_sqlite(path: Path, exc: sqlite3.Error) -> StorageError:
    """A user-facing StorageError for an sqlite3 error that reached the Store's surface."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text:
        return corrupt(path, text)
    if primary in (_BUSY, _LOCKED) or "locked" in text:
        return StorageBusy(
            f"Databasen {path} är upptagen av ett annat Dialogstöd-fönster eller program. Försök igen om en stund."
        )
    if primary == _FULL:
        return StorageError(
            f"Det gick inte att skriva till databasen {path}: disken är full. Frigör utrymme och försök igen."
        )
    if primary == _READONLY:
        return StorageReadOnly(
            f"Det går inte att skriva till databasen {path} (filen eller katalogen är skrivskyddad). "
            "Kontrollera behörigheterna."
        )
    if primary == _CANTOPEN:
        return StorageError(
            f"Databasen {path} kan inte öppnas ({text}). Kontrollera sökvägen och behörigheterna."
        )
    if primary == _IOERR:
        return StorageError(
            f"Läs- eller skrivfel i databasen {path} ({text}). Kontrollera disken och försök igen."
        )
    if primary == _NOMEM:
        return StorageError(
            f"Minnet tog slut vid arbete med databasen {path}. Stäng andra program och försök igen."
        )
    return StorageError(f"Databasfel i {path}: {text}.")

"""Dialogstöd's storage: one SQLite file holding dialogues as append-only event logs.

    with Store.open(path) as store:      # assistant.database.open_store() finds the user's file
        store.create_dialogue(dialogue_id=..., clinic="Fysio Norr", ..., events=events)
        store.append_events(dialogue_id, more)
        events = store.load_events(dialogue_id)

Depends on the standard library, on ``assistant.events`` (the event record it stores) and on
nothing else of Dialogstöd (``tests/test_architecture.py``); sqlite-utils is imported only when
``Store.db`` is asked for. ``StorageError`` messages are written for the user (Swedish).
"""

from .bundles import Entry
from .errors import StorageError
from .migrations import SCHEMA_VERSION
from .store import Store

__all__ = ["SCHEMA_VERSION", "Entry", "StorageError", "Store"]

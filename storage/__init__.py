"""Dialogstöd's storage: one SQLite file holding dialogues as append-only event logs.

    with Store.open() as store:          # assistant.locations.db_path()
        store.create_dialogue(dialogue_id=..., clinic="Fysio Norr", ..., events=events)
        store.append_events(dialogue_id, more)
        events = store.load_events(dialogue_id)

Never imports Textual or the TUI; ``StorageError`` messages are written for the user (Swedish).
"""

from .errors import StorageError
from .migrations import SCHEMA_VERSION
from .store import Store

__all__ = ["SCHEMA_VERSION", "StorageError", "Store"]

"""The user's database: ``open_store()`` opens the file ``--db``, ``$DIALOGSTOD_DB`` or the user
data directory names (``assistant.locations.db_path``).

Light on purpose: a one-shot command (``list``, ``search``, ``actions``) imports this and
``storage`` and nothing of the dialogue engine, the flows, pydantic or Jinja.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage import Store


def open_store(path: str | os.PathLike[str] | None = None) -> Store:
    from assistant.locations import db_path
    from storage import Store

    return Store.open(db_path(path))

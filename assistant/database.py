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


def open_store(path: str | os.PathLike[str] | None = None, *, create: bool = True) -> Store:
    """The database, created if missing. ``create=False`` (the commands that only read): a file
    named by ``--db`` or ``$DIALOGSTOD_DB`` that does not exist is a mistyped path, a UserError
    (exit code 2, nothing written); the default file in the data directory is still created, so
    that ``list`` on a fresh machine says "Inga dialoger"."""
    from assistant.locations import DB_ENV, db_path
    from storage import Store

    target = db_path(path)
    if not create and (path or os.environ.get(DB_ENV)) and not target.expanduser().exists():
        from assistant.errors import UserError
        from assistant.textsafe import terminal_safe

        raise UserError(
            f"Databasen {terminal_safe(str(target))} finns inte. Kontrollera --db (eller $DIALOGSTOD_DB), "
            "eller skapa den genom att starta appen (`dialogstod`) eller en dialog (`dialogstod chat`)."
        )
    return Store.open(target)

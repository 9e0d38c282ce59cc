"""The two file-system helpers the database layer needs, shared with ``assistant.fileio``.

Kept here, below ``assistant``, so that ``storage`` depends on nothing above it (the event record
aside): the rest of Dialogstöd's file input and output is ``assistant/fileio.py``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, in Swedish."""
    if stat.S_ISDIR(mode):
        return "en katalog"
    if stat.S_ISCHR(mode):
        return "en teckenenhet"
    if stat.S_ISBLK(mode):
        return "en blockenhet"
    if stat.S_ISFIFO(mode):
        return "en namngiven rörledning (fifo)"
    if stat.S_ISSOCK(mode):
        return "en socket"
    return "ingen vanlig fil"


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents, each one created here with mode 0700."""
    missing: list[Path] = []
    p = folder
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(d, 0o700)  # mkdir's mode is filtered by the umask

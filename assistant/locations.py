"""Where Dialogstöd keeps things. ``dialogstod locate`` prints these.

- the database: ``--db PATH``, else ``$DIALOGSTOD_DB``, else ``<user data dir>/dialogstod.db``
- the shipped flows and templates: next to the package (a checkout) or inside it (a wheel)
- a region's own flows: ``<user data dir>/flows`` (a flow there with a shipped id replaces it)
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "dialogstod"
DB_ENV = "DIALOGSTOD_DB"
DATA_ENV = "DIALOGSTOD_DATA_DIR"

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    inside = _PACKAGE / "_shipped" / name
    if inside.is_dir():
        return inside
    return _PACKAGE.parent / name


def data_dir() -> Path:
    """The user data directory (not created here)."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override)
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env)
    return data_dir() / "dialogstod.db"


def shipped_flows_dir() -> Path:
    return _shipped("flows")


def user_flows_dir() -> Path:
    return data_dir() / "flows"


def flow_dirs() -> list[Path]:
    """Flow directories in order of precedence (later ones override earlier ids)."""
    return [shipped_flows_dir(), user_flows_dir()]


def templates_dir() -> Path:
    return _shipped("prompts")


def exports_dir() -> Path:
    return data_dir() / "exporter"

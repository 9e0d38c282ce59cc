"""Headless code never imports Textual; starting the app never imports the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

HEADLESS = ["assistant.engine", "assistant.flows", "assistant.render", "assistant.privacy", "storage"]


def imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    ).stdout
    return {line.split(".")[0] for line in out.split()}


def test_engine_and_storage_do_not_import_textual():
    mods = imported_after("\n".join(f"import {m}" for m in HEADLESS))
    assert "textual" not in mods
    assert "rich" not in mods


def test_headless_sources_have_no_textual_import():
    for folder in ("assistant/engine", "storage"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "import textual" not in text and "from textual" not in text, path

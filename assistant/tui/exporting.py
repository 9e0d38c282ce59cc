"""Exporting from the app, the same way for a dialogue and for the region's overview: choose a
format and a folder (the export folder by default, never the directory the app was started in),
say so before a file that exists is replaced, write it in a worker, and in a browser
(``dialogstod serve``) hand it to the browser as a download as well."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def free_name(path: Path) -> Path:
    """``name-2.ext``, ``name-3.ext`` … : the first name next to ``path`` that is not taken."""
    for n in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(path)


class ExportFlow:
    """``ExportFlow(screen, ...).start()``: the export dialog, the question before overwriting,
    and the write. ``filename(fmt)`` names the file, ``make(fmt)`` makes its bytes (in a worker)."""

    def __init__(
        self,
        screen: Any,
        *,
        title: str,
        formats: Sequence[tuple[str, str]],
        filename: Callable[[str], str],
        make: Callable[[str], bytes],
    ) -> None:
        self.screen = screen
        self.title = title
        self.formats = formats
        self.filename = filename
        self.make = make

    def start(self) -> None:
        from assistant import locations
        from assistant.tui.modals import ExportModal

        modal = ExportModal(str(locations.exports_dir()), self.formats, self.title)
        self.screen.app.push_screen(modal, self._chosen)

    def _chosen(self, choice: tuple[str, str] | None) -> None:
        if not choice:
            return
        fmt, folder = choice
        path = Path(folder) / self.filename(fmt)
        if not path.exists():
            self.write(fmt, path)
            return
        from assistant.tui.modals import ChoiceModal

        other = free_name(path)

        def decided(what: str | None) -> None:
            if what == "new":
                self.write(fmt, other)
            elif what == "overwrite":
                self.write(fmt, path)

        self.screen.app.push_screen(
            ChoiceModal(
                "Filen finns redan",
                f"{path.name} finns redan i {path.parent}. Spara som {other.name}, eller skriva över den?",
                [("Spara som ny fil", "new"), ("Skriv över", "overwrite")],
                default="new",
            ),
            decided,
        )

    def write(self, fmt: str, path: Path) -> None:
        self.screen.run_worker(lambda: self._write(fmt, path), thread=True, group="export")

    def _write(self, fmt: str, path: Path) -> None:
        from assistant.fileio import FileProblem, write_regular

        app = self.screen.app
        try:
            written = write_regular(path, self.make(fmt), parents=True)
        except FileProblem as exc:
            app.call_from_thread(app.notify, f"Kunde inte skriva exporten: {exc}", severity="error", markup=False)
            return
        message = f"Skrev {written}"
        if app.is_web:
            app.call_from_thread(app.deliver_binary, written, save_filename=written.name)
            message += " – och laddar ner den i webbläsaren."
        app.call_from_thread(app.notify, message, title="Exporterad", markup=False, timeout=12)

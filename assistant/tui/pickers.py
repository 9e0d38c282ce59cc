"""Picking a file to import and a folder to export to: textual-fspicker's dialogs, in Swedish,
fitted to an 80×24 window, with file names shown as text.

textual-fspicker (FileOpen, SelectDirectory) does the browsing: arrow keys and Enter, a double
click, a path typed with completion, "." for hidden files. What it leaves to us:

- its dialog is 80 % of the screen, which at 80×24 squeezed the file list to nothing and the filter
  list into a column of letters (``PICKER_CSS``);
- its words are English ("Open", "Cancel", "The file must exist", "Permission error");
- names from the file system are untrusted text: its file list draws them as rich ``Text`` (an
  escape sequence in a name was dropped, not shown) and its path line as markup. Names here pass
  through ``terminal_safe`` (␛ shows) and are never markup (``_safe_names``, checked by a test
  so that an upgrade that moves these parts is noticed).
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.content import Content
from textual_fspicker import FileOpen, Filters, SelectDirectory
from textual_fspicker.parts import CurrentDirectory

from assistant.textsafe import terminal_safe

PICKER_CSS = """
FileSystemPickerScreen Dialog { width: 100%; height: 100%; max-width: 110; max-height: 34; }
FileSystemPickerScreen InputBar FileFilter { width: 26; }
FileSystemPickerScreen InputBar { padding: 0 1; }
"""

IMPORT_FILTERS = Filters(
    ("Indikatordata (CSV, Excel)", lambda p: p.suffix.lower() in (".csv", ".txt", ".tsv", ".xlsx")),
    ("Alla filer", lambda _p: True),
)


class SafeCurrentDirectory(CurrentDirectory):
    """The path line: plain text, control characters shown."""

    def update(self, content="", *, layout: bool = True) -> None:  # type: ignore[override]
        super().update(Content(terminal_safe(str(content))), layout=layout)


def _safe_names() -> None:
    """Draw every entry's name through ``terminal_safe`` (once per process)."""
    from rich.text import Text
    from textual_fspicker.parts import directory_navigation as navigation
    from textual_fspicker.safe_tests import is_symlink

    entry = navigation.DirectoryEntry
    if getattr(entry, "_dialogstod_safe", False):
        return

    def _name(cls, location: Path) -> Text:
        return Text.assemble(terminal_safe(location.name), " ", cls.LINK_ICON if is_symlink(location) else "")

    entry._name = classmethod(_name)  # type: ignore[method-assign]
    entry._dialogstod_safe = True  # type: ignore[attr-defined]


class ImportFilePicker(FileOpen):
    """Choose an indicator file (CSV or .xlsx) to import: the arrow keys and Enter, a double click,
    or a path typed (a letter typed in the list goes to the name field)."""

    DEFAULT_CSS = PICKER_CSS
    SCOPED_CSS = False  # (scoped, "FileSystemPickerScreen …" would be read as a screen inside this one)
    ERROR_A_FILE_MUST_EXIST = "Filen finns inte"
    ERROR_A_FILE_MUST_BE_CHOSEN = "Välj en fil"
    ERROR_PERMISSION_ERROR = "Behörighet saknas"

    def __init__(self, location: str | Path) -> None:
        _safe_names()
        super().__init__(
            location,
            "Välj en fil med indikatordata",
            open_button="Importera",
            cancel_button="Avbryt",
            filters=IMPORT_FILTERS,
        )

    def _header_area(self) -> ComposeResult:
        yield SafeCurrentDirectory()

    def on_key(self, event) -> None:
        from textual.widgets import Input
        from textual_fspicker.parts import DirectoryNavigation

        if isinstance(self.focused, DirectoryNavigation) and event.is_printable and event.character and event.key not in ("space", "full_stop"):
            name = self.query_one(Input)
            event.stop()
            event.prevent_default()
            name.select_on_focus = False  # (or the next letter typed would replace this one)
            name.focus()
            name.insert_text_at_cursor(event.character)


class FolderPicker(SelectDirectory):
    """Choose the folder an export is written to."""

    DEFAULT_CSS = PICKER_CSS
    SCOPED_CSS = False
    ERROR_PERMISSION_ERROR = "Behörighet saknas"

    def __init__(self, location: str | Path, title: str = "Välj mapp för exporten") -> None:
        _safe_names()
        super().__init__(location, title, select_button="Välj mappen", cancel_button="Avbryt")

    def _input_bar(self) -> ComposeResult:
        yield SafeCurrentDirectory()


def start_folder(path: str | Path | None) -> Path:
    """Where a picker opens: ``path`` if it is a folder that exists, else the user's home."""
    candidate = Path(path).expanduser() if path else Path.home()
    while not candidate.is_dir() and candidate != candidate.parent:
        candidate = candidate.parent
    return candidate if candidate.is_dir() else Path.home()

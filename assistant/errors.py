"""The errors both doors show, in one place (as harlequin's ``exception.py`` is for its CLI and app).

``UserError`` is bad input or a state the user can fix, raised by the services and commands;
``user_error_lines(exc)`` turns it – or a flow, file, dialogue or storage error – into the lines
a door shows: the CLI prints each on stderr (exit code 2), the app shows them in a notice. Any
other exception is a bug (``None``): the CLI lets it raise, the app reports it as one.
"""

from __future__ import annotations

import sys


class UserError(Exception):
    """Bad input or a state the user can fix. ``lines`` are shown, one per line."""

    def __init__(self, *lines: str):
        super().__init__("\n".join(lines))
        self.lines = list(lines)


def no_such_dialogue(ref: str) -> str:
    return f"Det finns ingen dialog {ref!r}. Se `dialogstod list`."


def user_error_lines(exc: BaseException) -> list[str] | None:
    """The lines to show for an error a user can act on, or None for a bug.

    The modules that define the other error kinds are looked up only if already imported: an
    error from a module that was never imported cannot be one of its errors, and a command that
    did not read a flow (pydantic) or load the engine does not load them to print its message."""
    if isinstance(exc, UserError):
        return exc.lines
    toml = sys.modules.get("assistant.tomlfiles")
    if toml is not None and isinstance(exc, toml.FlowError):
        return exc.problems
    for module, name in (("assistant.fileio", "FileProblem"), ("assistant.session", "DialogueError"),
                         ("storage.errors", "StorageError")):
        found = sys.modules.get(module)
        if found is not None and isinstance(exc, getattr(found, name)):
            return [str(exc)]
    return None

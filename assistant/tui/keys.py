"""The app's side of the verb table (``assistant/verbs.py``): Textual bindings, the key bar's ranks
and labels, and the command palette's entries. Nothing here says what an action is or which key it
has: that is in the verb table, once, for both doors."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from assistant import verbs
from assistant.verbs import Verb

HELP_SECTIONS = verbs.SECTIONS


def binding(v: Verb):
    from textual.binding import Binding

    return Binding(v.keys, v.app_action, v.label, show=v.show, priority=v.priority)


def bindings(table: tuple[Verb, ...]) -> list:
    return [binding(v) for v in table if v.bind and v.keys]


_ALL = tuple(v for _, table in HELP_SECTIONS for v in table if v.keys)  # (the line mode's own commands have none)
_RANKS = {v.app_action: v.rank for v in _ALL}
_WHEN = {v.app_action: v.when for v in _ALL if v.when}
_OWN_ACTIONS = frozenset(v.app_action for v in _ALL) | {"cancel", "command_palette", "escape"}

# Keys of Textual's own widgets that reach the key bar (an open Select list, the palette), in Swedish.
# A widget key that is not here is left out of the bar rather than shown in English.
WIDGET_LABELS = {
    "Dismiss menu": "Stäng listan",
    "Exit the command palette": "Stäng",
    "Open link": "Öppna länken",
}


def rank_of(action: str) -> int:
    return 0 if action == "app.help" else _RANKS.get(action, 50)


def when_of(action: str) -> str:
    """The condition under which the key bar shows a key ("" always): the verb's ``when``."""
    return _WHEN.get(action, "")


def footer_label(action: str, description: str) -> str | None:
    """The label the key bar shows for a binding: ours as written, a Textual widget's in Swedish,
    None (not shown) for one we have no Swedish for."""
    if action in _OWN_ACTIONS or action.removeprefix("app.") in _OWN_ACTIONS or action.removeprefix("screen.") in _OWN_ACTIONS:
        return description
    return WIDGET_LABELS.get(description)


def palette_hint(v: Verb) -> str:
    """The palette's line under a verb's name: its help, with its key as bound ('… (Ctrl+S)')."""
    text = v.app_help[:1].upper() + v.app_help[1:]
    return f"{text} ({v.display})" if v.keys else text


def palette_entries(
    table: tuple[Verb, ...], target: object, applies: Callable[[str], bool] | None = None
) -> Iterator[tuple[str, str, Callable[[], object]]]:
    """(name, help, callback) for each verb of ``table`` the palette lists, calling ``target``'s
    ``action_…`` method; a verb with a ``when`` is listed while ``applies(when)`` holds."""
    for v in table:
        if not (v.palette and v.keys and v.bind):
            continue
        if v.when and applies is not None and not applies(v.when):
            continue
        method = getattr(target, "action_" + v.app_action.removeprefix("app."))
        yield v.name, palette_hint(v), method

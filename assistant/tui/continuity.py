"""From one dialogue to the next: what the clinic wished for last time and its open actions.

A small helper for the "Ny dialog" screen. It belongs in ``assistant/continuity.py`` once that
module exists (another developer's file); until then it lives here. Pure apart from ``preview``,
which reads the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

WISH_QUESTION = "aterkoppling.kommande_mote"

_P_AREA = re.compile(r"(?<![\w])(p\s?[1-5])(?![\w])", re.IGNORECASE)
_LETTER_AREAS = re.compile(r"\bområden?(?:a|t)?\s+([a-c](?:\s*(?:,|och|&|/|samt)\s*[a-c])*)\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def _title_key(title: str) -> str:
    """'Processer – utveckling, kvalitet och rutiner (Processer)' -> 'Processer'."""
    return re.split(r"\s+[–-]\s+|\s*\(", title, maxsplit=1)[0].strip()


def _stems(sections: list[Any]) -> dict[str, list[str]]:
    """Distinctive word stems per section: words of 5+ letters in the title (not genitives)
    that no other section's title uses."""
    words: dict[str, set[str]] = {}
    for s in sections:
        words[s.id] = {
            w.casefold()
            for w in _WORD.findall(_title_key(s.title))
            if len(w) >= 5 and not w.casefold().endswith(("ens", "ets"))
        }
    out: dict[str, list[str]] = {}
    for sid, mine in words.items():
        others = set().union(*(w for other, w in words.items() if other != sid))
        out[sid] = [w[: max(5, len(w) - 2)] for w in sorted(mine - others)]
    return out


def match_focus(text: str | None, sections: Iterable[Any], limit: int | None = None) -> list[str]:
    """Section ids a free-text wish names, in the order the text names them.

    Matches area codes (P1–P5, or "område A"/"områdena B och C") and distinctive words of the
    section titles ("patienterna" names Patienter), case-insensitively."""
    if not text:
        return []
    sections = [s for s in sections if getattr(s, "kind", "dialogue") == "dialogue"]
    by_area = {str(s.area).casefold(): s.id for s in sections if s.area}
    found: list[tuple[int, str]] = []
    for m in _P_AREA.finditer(text):
        code = m.group(1).replace(" ", "").casefold()
        if code in by_area:
            found.append((m.start(), by_area[code]))
    for m in _LETTER_AREAS.finditer(text):
        for letter in re.findall(r"[a-c]", m.group(1), re.IGNORECASE):
            if letter.casefold() in by_area:
                found.append((m.start(1), by_area[letter.casefold()]))
    stems = _stems(sections)
    for word in _WORD.finditer(text):
        w = word.group(0).casefold()
        for sid, options in stems.items():
            if any(w.startswith(stem) for stem in options):
                found.append((word.start(), sid))
    out: list[str] = []
    for _, sid in sorted(found):
        if sid not in out:
            out.append(sid)
    return out[:limit] if limit is not None else out


def preview(store: Any, clinic: str, *, exclude: str | None = None) -> Any | None:
    """The clinic's latest dialogue as a ``session.Preview`` (wish, open actions), or None."""
    from assistant.session import Dialogue, DialogueError, Preview

    clinic = (clinic or "").strip()
    if not clinic:
        return None
    row = store.latest_dialogue_for_clinic(clinic, exclude=exclude)
    if row is None:
        return None
    if row.get("status") != "finished":
        # A dialogue still in progress has no answer for next time yet: prefer the latest finished one.
        done = [r for r in store.list_dialogues(clinic=clinic, status="finished") if r["id"] != exclude]
        if done:
            row = max(done, key=lambda r: str(r.get("started", "")))
    try:
        state = Dialogue.resume(store, row["id"]).state
    except DialogueError:
        return None
    open_actions = [
        {"action_id": a.action_id, "text": a.text, "owner": a.owner, "due": a.due}
        for a in state.actions.values()
        if a.status != "done"
    ]
    return Preview(
        previous_id=row["id"],
        previous_started=str(row.get("started", "")),
        wish=state.answers.get(WISH_QUESTION),
        open_actions=open_actions,
        suggested_focus=[],
        flag_moves=[],
    )

"""Continuity between yearly dialogues: "Från förra dialogen".

When a new dialogue starts with a clinic that has an earlier one, show before the first question:
the earlier answer to "Kommande uppföljningsmöte? Önskemål om något fokusområde då?", the clinic's
open actions, and how its flags have moved. Areas named in that wish are offered as focus areas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from assistant import engine as E
from assistant.flows import Flow

WISH_QUESTION = "aterkoppling.kommande_mote"
PREVIOUS_PARTY = "önskemål från förra dialogen"
CARRY_QUESTIONS = ("sammanfattning.jobba_vidare",)



@dataclass
class Previous:
    dialogue_id: str
    started: str
    flow_title: str
    wish: str | None
    carried: dict[str, str] = field(default_factory=dict)  # question text -> answer
    open_actions: list[dict[str, Any]] = field(default_factory=list)
    flag_moves: list[str] = field(default_factory=list)
    focus: list[str] = field(default_factory=list)  # section ids of the NEW flow named in the wish

    @property
    def empty(self) -> bool:
        return not (self.wish or self.carried or self.open_actions or self.flag_moves)


def _words(text: str) -> set[str]:
    return {w.casefold() for w in re.findall(r"\w+", text)}


def _section_names(section) -> list[str]:
    title = section.title.split("(")[0]
    names = [title.split()[0]] if title.split() else []
    if "syfte" in section.title.casefold():
        names.append("syfte")
    names += [sub.title for sub in section.subareas]
    return [" ".join(re.findall(r"\w+", n.casefold())) for n in names if re.search(r"\w", n)]


# Swedish endings a named area may carry in free text ("mönstren", "patienterna", "syftet").
_SUFFIXES = {"", "s", "n", "na", "en", "et", "er", "ar", "or", "erna", "arna", "orna", "ens", "ets", "ns",
             "ren", "ret", "rna", "ers", "e", "t", "ten", "heten"}


def _stems(name: str) -> set[str]:
    stems = {name}
    if name.endswith("er") and len(name) > 5:
        stems.add(name[:-2])
    if name[-1:] in ("e", "a") and len(name) > 4:
        stems.add(name[:-1])
    return stems


def _names_word(name: str, words: set[str]) -> bool:
    return any(w.startswith(stem) and w[len(stem):] in _SUFFIXES for stem in _stems(name) for w in words)


def wished_sections(flow: Flow, wish: str | None) -> list[str]:
    """Sections of ``flow`` that a free-text wish names: by area ("P3", "B"), title or sub-area,
    in Swedish word forms ("mönstren", "tillgängligheten")."""
    if not wish:
        return []
    words = _words(wish)
    folded = " ".join(re.findall(r"\w+", wish.casefold()))
    found: list[str] = []
    for section in flow.sections:
        if not section.area:
            continue
        hit = section.area.casefold() in words
        for name in _section_names(section):
            if " " in name:
                hit = hit or f" {name} " in f" {folded} "
            else:
                hit = hit or _names_word(name, words)
        if hit and section.id not in found:
            found.append(section.id)
    return found


def _describe(flag: dict[str, Any]) -> str:
    from assistant.data.flags import STATE_LABELS

    words = [STATE_LABELS[s] for s in flag.get("states", []) if s in STATE_LABELS and s != "insufficient_data"]
    return ", ".join(words) if words else "inte flaggad"


def flag_moves(before: list[dict[str, Any]], now: list[Any]) -> list[str]:
    """How the flags shown last time compare with the clinic's flags now."""
    current = {f.indicator: f for f in now}
    lines = []
    seen = set()
    for old in before:
        ind = old["indicator"]
        seen.add(ind)
        new = current.get(ind)
        if new is None:
            lines.append(f"{old['label']}: {_describe(old)} ({old['period']}) – ingen ny data.")
            continue
        flagged_now = [s for s in new.states if s != "insufficient_data"]
        if str(new.period) == str(old["period"]):
            lines.append(f"{old['label']}: {_describe(old)} ({old['period']}) – ingen nyare data sedan förra dialogen.")
        elif not flagged_now:
            status = "för få observationer nu" if "insufficient_data" in new.states else "inte längre flaggad"
            lines.append(f"{old['label']}: {_describe(old)} ({old['period']}) → {status} ({new.period}).")
        else:
            lines.append(
                f"{old['label']}: {_describe(old)} ({old['period']}) → {_describe({'states': flagged_now})} ({new.period})."
            )
    for ind, new in current.items():
        if ind in seen:
            continue
        flagged_now = [s for s in new.states if s != "insufficient_data"]
        if flagged_now:
            lines.append(f"{new.label}: ny flagga – {_describe({'states': flagged_now})} ({new.period}).")
    return lines


def previous_dialogue(store, clinic: str, flow: Flow, current_flags: list[Any], *, exclude: str | None = None) -> Previous | None:
    """What the clinic's latest earlier dialogue hands on to a new one, or None if there is none."""
    from assistant.session import Dialogue, DialogueError

    row = store.latest_dialogue_for_clinic(clinic, exclude=exclude)
    if row is None:
        return None
    try:
        earlier = Dialogue.resume(store, row["id"])
    except DialogueError:
        return None
    state = earlier.state
    wish = state.answers.get(WISH_QUESTION)
    carried = {
        E.prompt_text(state, q): state.answers[q] for q in CARRY_QUESTIONS if q in state.answers
    }
    actions = [a for a in store.list_actions(clinic=clinic, open_only=True) if a["dialogue_id"] != exclude]
    return Previous(
        dialogue_id=row["id"],
        started=str(row["started"])[:10],
        flow_title=earlier.flow.title,
        wish=wish,
        carried=carried,
        open_actions=actions,
        flag_moves=flag_moves(state.flags_shown, current_flags),
        focus=wished_sections(flow, wish),
    )

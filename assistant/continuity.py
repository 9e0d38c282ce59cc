"""Continuity between yearly dialogues: "Från förra dialogen".

When a new dialogue starts with a clinic that has an earlier one, show before the first question:
the earlier answer to "Kommande uppföljningsmöte? Önskemål om något fokusområde då?", the clinic's
open actions (which can be ticked off or updated from the new dialogue), the questions left on the
previous dialogue's parking lot, and how its flags have moved. Areas named in that wish are offered
as focus areas. In a staged flow (Nära vård's Del 1–3) the next stage's dialogue continues the last.
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
    parked: list[str] = field(default_factory=list)  # questions left on the previous parking lot
    actions: list[dict[str, Any]] = field(default_factory=list)  # the previous dialogue's actions, any status
    flow_id: str = ""
    stage: str | None = None  # the previous dialogue's stage (staged flows)

    @property
    def empty(self) -> bool:
        return not (self.wish or self.carried or self.open_actions or self.flag_moves or self.parked)


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


_P_AREA = re.compile(r"(?<!\w)p\s?([1-5])(?!\w)", re.IGNORECASE)
_LETTER_AREAS = re.compile(r"\bområden?(?:a|t)?\s+([a-c](?:\s*(?:,|och|&|/|samt)\s*[a-c])*)\b", re.IGNORECASE)


def wished_sections(flow: Flow, wish: str | None) -> list[str]:
    """Sections of ``flow`` that a free-text wish names, in the order the text names them:
    by area code ("P3", "p 3", "område B", "områdena A och C"), or by a title or sub-area word in
    a Swedish word form ("mönstren", "tillgängligheten")."""
    if not wish:
        return []
    sections = [s for s in flow.sections if s.area]
    by_area = {s.area.casefold(): s.id for s in sections}
    found: list[tuple[int, str]] = []
    for m in _P_AREA.finditer(wish):
        if f"p{m.group(1)}" in by_area:
            found.append((m.start(), by_area[f"p{m.group(1)}"]))
    for m in _LETTER_AREAS.finditer(wish):
        for letter in re.findall(r"[a-c]", m.group(1), re.IGNORECASE):
            if letter.casefold() in by_area:
                found.append((m.start(1), by_area[letter.casefold()]))
    words = [(m.group(0).casefold(), m.start()) for m in re.finditer(r"\w+", wish)]
    folded = " ".join(w for w, _ in words)
    for section in sections:
        for name in _section_names(section):
            if " " in name:
                at = f" {folded} ".find(f" {name} ")
                if at >= 0:
                    found.append((at, section.id))
                continue
            for word, pos in words:
                if _names_word(name, {word}):
                    found.append((pos, section.id))
                    break
    out: list[str] = []
    for _, sid in sorted(found):
        if sid not in out:
            out.append(sid)
    return out


def _describe(flag: dict[str, Any]) -> str:
    from assistant.flagstates import state_words

    words = state_words(s for s in flag.get("states", []) if s != "insufficient_data")
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


def previous_dialogue(
    store, clinic: str, flow: Flow, current_flags: list[Any], *, exclude: str | None = None, look_back: int = 5
) -> Previous | None:
    """What the clinic's earlier dialogues hand on to a new one, or None if there is none.

    "Förra dialogen" is the newest earlier dialogue that was held (a prepared, unopened one is
    skipped). The wish for this meeting is the newest answer to the wish question among the last
    few held dialogues, so a self-assessment in between does not hide it. Open actions come from
    every earlier dialogue with the clinic.
    """
    from assistant.session import Dialogue, DialogueError

    rows = [
        r
        for r in store.list_dialogues(clinic=clinic)
        if r["id"] != exclude and r["status"] != "prepared"
    ]
    rows.sort(key=lambda r: str(r["started"]), reverse=True)
    if not rows:
        return None
    states = []
    for row in rows[:look_back]:
        try:
            states.append((row, Dialogue.resume(store, row["id"])))
        except DialogueError:
            continue
    if not states:
        return None
    row, latest = states[0]
    wish = next((d.state.answers[WISH_QUESTION] for _, d in states if WISH_QUESTION in d.state.answers), None)
    carried = {}
    for q in CARRY_QUESTIONS:
        holder = next((d for _, d in states if q in d.state.answers), None)
        if holder is not None:
            carried[E.prompt_text(holder.state, q)] = holder.state.answers[q]
    earlier = [a for a in store.list_actions(clinic=clinic) if a["dialogue_id"] != exclude]
    actions = [a for a in earlier if a["status"] != "done"]
    return Previous(
        flow_id=latest.flow.id,
        stage=latest.state.stage,
        parked=[E.prompt_text(latest.state, q) for q in latest.state.parked],
        actions=[a for a in earlier if a["dialogue_id"] == row["id"]],
        dialogue_id=row["id"],
        started=str(row["started"])[:10],
        flow_title=latest.flow.title,
        wish=wish,
        carried=carried,
        open_actions=actions,
        flag_moves=flag_moves(latest.state.flags_shown, current_flags),
        focus=wished_sections(flow, wish),
    )


def next_stage(flow: Flow, previous: Previous | None) -> str | None:
    """The stage a new dialogue in a staged flow belongs to: the one after the clinic's previous
    dialogue's stage on the same flow (the last stays the last), else the first."""
    stages = [p.id for p in flow.stages]
    if not stages:
        return None
    if previous is None or previous.flow_id != flow.id or previous.stage not in stages:
        return stages[0]
    return stages[min(stages.index(previous.stage) + 1, len(stages) - 1)]


def update_previous_action(store, action: dict[str, Any], command, *, via: str | None = None):
    """Tick off or update an action of an earlier dialogue from a new one: the change is an event in
    the action's own dialogue (the source of truth for it), noting the dialogue it was made from."""
    from dataclasses import replace

    from assistant.session import Dialogue

    owner = Dialogue.resume(store, action["dialogue_id"])
    made = owner.do(replace(command, via=via) if via else command)
    return owner, made

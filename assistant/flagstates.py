"""What the flag states are and mean, said once: their names, labels, which are claims, which say
worse or better, how much each weighs when suggestions are ranked, and the marker a flag gets.
Conditions, rules, the flags, the suggestions, both doors and the documents all use these.

Which test makes each state is in ``assistant/data/flags.py`` and ``docs/statistics.md``. Pure:
the standard library only, so the engine and the one-shot commands import it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FLAG_STATES = (
    "insufficient_data",
    "misses_target",
    "possibly_misses_target",
    "worse_than_peers",
    "better_than_peers",
    "clearly_worse_than_peers",
    "clearly_better_than_peers",
    "worse_than_previous",
    "better_than_previous",
)

STATE_LABELS = {
    "insufficient_data": "för lite underlag",
    "misses_target": "når inte målet",
    "possibly_misses_target": "under målet, kan vara vanlig variation",
    "worse_than_peers": "sämre än jämförbara enheter",
    "better_than_peers": "bättre än jämförbara enheter",
    "clearly_worse_than_peers": "tydligt sämre än jämförbara enheter",
    "clearly_better_than_peers": "tydligt bättre än jämförbara enheter",
    "worse_than_previous": "sämre än tidigare perioder",
    "better_than_previous": "bättre än tidigare perioder",
}

# A claim tells the meeting that something differs beyond common-cause variation. The other two
# states say the opposite: too little data for any conclusion, or a gap to the target that may be chance.
NOT_CLAIMS = frozenset({"insufficient_data", "possibly_misses_target"})
CLAIMS = tuple(s for s in FLAG_STATES if s not in NOT_CLAIMS)
WORSE = frozenset(
    {"misses_target", "possibly_misses_target", "worse_than_peers", "clearly_worse_than_peers", "worse_than_previous"}
)
BETTER = frozenset({"better_than_peers", "clearly_better_than_peers", "better_than_previous"})

# How much a state weighs when a rule's suggestion is ranked (``engine.suggest``): a clear gap to
# the peers first, then a missed target, a gap to the peers, a change for the worse, and a gap to
# the target that may be chance. Better states and "too little data" weigh nothing.
SEVERITY = {
    "clearly_worse_than_peers": 15,
    "misses_target": 12,
    "worse_than_peers": 10,
    "worse_than_previous": 8,
    "possibly_misses_target": 5,
}


def flag_marker(flag: Any) -> str:
    """▼ something worse, ▲ only something better, ◆ a neutral indicator outside its peers' or its
    own history's limits (``FlagRow.stands_out``), · nothing."""
    states = set(flag.states)
    if states & WORSE:
        return "▼"
    if states & BETTER:
        return "▲"
    if getattr(flag, "stands_out", False):
        return "◆"
    return "·"


def flagged(flags: Iterable[Any]) -> list[Any]:
    """Flags worth a question: a state other than 'insufficient_data' (never a reason to ask),
    or a neutral indicator outside its peers' or its own history's limits."""
    return [f for f in flags if flag_marker(f) != "·"]

# A state that a stronger one already says: "tydligt sämre än jämförbara enheter" is also "sämre än
# jämförbara enheter" (the row carries both states), so only the stronger is said.
IMPLIED_BY = {"worse_than_peers": "clearly_worse_than_peers", "better_than_peers": "clearly_better_than_peers"}


def state_words(states) -> list[str]:
    """The labels to show for a flag's states, each thing said once."""
    states = list(states)
    held = set(states)
    return [STATE_LABELS[s] for s in states if s in STATE_LABELS and IMPLIED_BY.get(s) not in held]

"""The names of the flag states, said once (conditions, rules, flags and the UI all use these).

Which test makes each state is in ``assistant/data/flags.py`` and ``docs/statistics.md``.
"""

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

# A state that a stronger one already says: "tydligt sämre än jämförbara enheter" is also "sämre än
# jämförbara enheter" (the row carries both states), so only the stronger is said.
IMPLIED_BY = {"worse_than_peers": "clearly_worse_than_peers", "better_than_peers": "clearly_better_than_peers"}


def state_words(states) -> list[str]:
    """The labels to show for a flag's states, each thing said once."""
    states = list(states)
    held = set(states)
    return [STATE_LABELS[s] for s in states if s in STATE_LABELS and IMPLIED_BY.get(s) not in held]

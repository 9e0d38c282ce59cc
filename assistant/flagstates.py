"""The names of the flag states, said once (conditions, rules, flags and the UI all use these)."""

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

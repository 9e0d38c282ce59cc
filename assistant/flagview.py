"""A clinic's flags as a dialogue shows and records them: computed from the imported indicator
data (``assistant.data.flags``) with each clinic's peers, and kept in the ``flags_shown`` event as
a snapshot with its marker and the data for its pictures. What the states mean and which marker
a flag gets is ``assistant.flagstates``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from assistant.flagstates import flag_marker


def clinic_flags(store, clinic: str, *, latest_only: bool = False, period: str | None = None) -> list[Any]:
    """Flags for a clinic from the imported indicator data (all clinics are the peers)."""
    rows = store.indicator_values()
    if not rows or not any(r["clinic"].casefold() == clinic.casefold() for r in rows):
        return []
    from assistant.data.flags import compute_flags, newest_per_indicator
    from assistant.indicators import default_catalogue

    name = next(r["clinic"] for r in rows if r["clinic"].casefold() == clinic.casefold())
    flags = compute_flags(rows, default_catalogue(), name, period=period, flow_kinds=FlowKinds(store))
    return newest_per_indicator(flags) if latest_only else flags


def flow_kinds(store) -> dict[str, str]:
    """clinic_key → the ``clinic_kind`` of the flow of the clinic's most recent dialogue: how a
    clinic's peers are chosen when the data does not say its kind (``data/peers.py``)."""
    from assistant.data.flags import clinic_key
    from assistant.flows import FlowError, get_flow

    out: dict[str, str] = {}
    of_flow: dict[str, str | None] = {}
    for row in store.iter_dialogues():  # most recently updated first
        key = clinic_key(row["clinic"])
        if key in out:
            continue
        flow_id = row["flow_id"]
        if flow_id not in of_flow:
            try:
                of_flow[flow_id] = get_flow(flow_id).flow.clinic_kind
            except FlowError:
                of_flow[flow_id] = None
        if of_flow[flow_id]:
            out[key] = of_flow[flow_id]
    return out


class FlowKinds(Mapping[str, str]):
    """``flow_kinds(store)``, read when a clinic's peers first need it: only a clinic that is in
    no regional peer group and whose data does not say its kind (``data/peers.py``). Data with a
    typ column never loads a flow for this."""

    def __init__(self, store: Any):
        self._store = store
        self._kinds: dict[str, str] | None = None

    def _read(self) -> dict[str, str]:
        if self._kinds is None:
            self._kinds = flow_kinds(self._store)
        return self._kinds

    def __getitem__(self, key: str) -> str:
        return self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


def flag_snapshot(flag: Any) -> dict[str, Any]:
    """A flag as the ``flags_shown`` event keeps it."""
    from assistant.data.charts import chart_data

    return {
        "indicator": flag.indicator,
        "label": flag.label,
        "period": str(flag.period),
        "text": flag.text,
        "states": list(flag.states),
        "value": flag.value,
        "n": flag.n,
        "target": flag.target,
        "marker": flag_marker(flag),
        "chart": chart_data(flag),  # the pictures, as the data was when shown (data/charts.py)
    }

"""Flags: what in a clinic's indicator data deserves a question – without crying wolf.

``compute_flags(rows, catalogue, clinic, period=None)`` turns imported rows (all clinics, so peers
can be compared) into one ``FlagRow`` per indicator and period of ``clinic``. Every state other
than ``insufficient_data`` and ``possibly_misses_target`` is a *claim*: it tells the meeting that
something differs by more than common-cause variation. Claims are made at the 99.8 % level; the
95 % limits are context only. The states, and the test that makes each (``docs/statistics.md``):

- ``insufficient_data``: n is below the indicator's ``min_n``. Such a row gets no other state.
- ``misses_target``: the value lies beyond the 99.8 % limit of a clinic whose level is exactly on
  the target – binomial noise plus the variation between periods that the clinics of its peer
  group show (``stats.period_variation``), on the wrong side.
- ``possibly_misses_target``: on the wrong side of the target, but within that limit – or n is
  unknown, so the uncertainty is unknown.
- ``worse_than_peers`` / ``better_than_peers``: outside the 99.8 % funnel limits around the pooled
  share of the clinic's peer group (``peers.resolve_groups``), widened by the additive
  random-effects variance between the clinics when they are overdispersed (``stats.dispersion``,
  which leaves clinics far outside out of that variance); at least ``MIN_OTHER_PEERS`` other
  clinics with sufficient n.
- ``clearly_worse_than_peers`` / ``clearly_better_than_peers``: outside the 99.99 % limits of the
  same funnel; such a row also carries the plain worse/better state.
- ``worse_than_previous`` / ``better_than_previous``: a special-cause signal at this period in the
  clinic's own control chart over all its periods up to this one (``stats.control_chart``: beyond
  the 99.8 % limits, a run of 7 on one side of its mean, or a trend of 7).

"Wrong side", worse and better follow the indicator's direction. Neutral indicators get no states;
their text says when they lie outside their peers' limits or their own history's
(``peer_position``, ``change_position``), without a verdict. A value on a limit is inside.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.data import stats
from assistant.data.peers import clinic_key
from assistant.flagstates import CLAIMS, STATE_LABELS, state_words
from assistant.flagstates import FLAG_STATES as STATES
from assistant.formatting import procent, tal
from assistant.indicators import Catalogue

__all__ = ["STATES", "STATE_LABELS", "FlagRow", "compute_flags", "flag_to_json", "newest_per_indicator"]

MIN_OTHER_PEERS = 3
DEFAULT_MIN_N = 30
NBSP = "\u00a0"

INTERVAL = "osäkerhetsintervall"  # the one word for the clinic's own 95 % interval (docs/statistics.md)
WIDENED_TEXT = "Gränserna är vidgade eftersom enheterna skiljer sig mer åt än slumpen förklarar."
CONTEXT_NOTE = (
    "Skillnader kan bero på patientgrupp, uppdrag eller hur data registreras – inte bara på kvalitet. "
    "Börja med att fråga om siffrorna stämmer."
)


@dataclass
class FlagRow:
    indicator: str
    label: str
    name: str
    period: str
    value: float | None
    n: int | None
    numerator: float | None
    target: float | None
    direction: str
    ci_low: float | None
    ci_high: float | None
    states: list[str] = field(default_factory=list)
    text: str = ""
    summary: str = ""  # value, n and target: the first clause of the text
    notes: list[str] = field(default_factory=list)
    source: str = ""
    clinic: str = ""
    kind: str = "share"
    min_n: int = DEFAULT_MIN_N
    target_origin: str | None = None  # where the target comes from (or that it is a regional setting)
    target_limit: float | None = None  # the 99.8 % limit of a clinic exactly on the target, at this n
    group: str | None = None  # the peer group's members in words ("fysioterapimottagningar")
    peer_count: int | None = None  # other clinics in the peer comparison (None: no comparison)
    pooled: float | None = None  # the pooled share of the peer group
    tau2: float = 0.0  # additive variance between clinics (0: exact binomial limits)
    centre_var: float = 0.0  # variance of the pooled share itself (widens the funnel of a small group)
    peer_low: float | None = None  # the 99.8 % funnel limits at this n
    peer_high: float | None = None
    peer_low95: float | None = None  # the 95 % funnel limits (context)
    peer_high95: float | None = None
    widened: bool = False  # funnel limits widened for overdispersion
    peer_points: list[tuple[float, float]] = field(default_factory=list)  # (n, value) of the other peers
    sigma2: float | None = None  # variation between periods beyond binomial noise (None: unknown)
    history: list[tuple[str, float, float]] = field(default_factory=list)  # (period, value, n), oldest first
    centre: float | None = None  # the mean of the own history (the control chart's centre line)
    signal: str | None = None  # "beyond", "run" or "trend" at this period
    change_position: str | None = None  # "higher"/"lower" when the signal says so (any direction)
    previous_period: str | None = None
    previous_value: float | None = None

    @property
    def state_labels(self) -> list[str]:
        return state_words(self.states)

    @property
    def peer_position(self) -> str | None:
        """'higher' or 'lower' when the value lies outside the 99.8 % funnel limits of its peers,
        whatever the indicator's direction (a neutral indicator has no worse/better state, but a
        visit mix far from its peers is still worth a question). None with insufficient data."""
        if "insufficient_data" in self.states or self.value is None:
            return None
        if self.peer_high is not None and self.value > self.peer_high:
            return "higher"
        if self.peer_low is not None and self.value < self.peer_low:
            return "lower"
        return None

    @property
    def claims(self) -> list[str]:
        """What this row tells the meeting beyond common-cause variation: claim states, and for a
        neutral indicator its position outside the peers' or its own history's limits."""
        out = [s for s in self.states if s in CLAIMS]
        if self.direction == "neutral":
            if self.peer_position:
                out.append(f"peers_{self.peer_position}")
            if self.change_position:
                out.append(f"change_{self.change_position}")
        return out

    @property
    def stands_out(self) -> bool:
        """Far from the peers or a special-cause signal in its own history: check the data first."""
        return bool(self.peer_position or self.change_position)


def flag_to_json(flag: FlagRow) -> dict[str, Any]:
    out = asdict(flag)
    out["state_labels"] = flag.state_labels
    return out


# ---------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Meta:
    id: str
    label: str
    name: str
    source: str
    kind: str
    direction: str
    target: float | None
    target_origin: str | None
    min_n: int


def _meta(indicator_id: str, row: Mapping[str, Any], catalogue: Catalogue) -> _Meta:
    ind = catalogue.get(indicator_id)
    row_target = _f(row.get("target"))
    from_file = "målet kommer från datafilen"
    if ind is not None:
        return _Meta(
            id=ind.id,
            label=ind.label,
            name=ind.name,
            source=ind.source,
            kind=ind.kind,
            direction=ind.direction,
            target=row_target if row_target is not None else ind.target,
            target_origin=from_file if row_target is not None else ind.target_origin,
            min_n=ind.min_n,
        )
    direction = row.get("direction") or "neutral"
    if direction not in ("higher", "lower", "neutral"):
        direction = "neutral"
    target = row_target if direction != "neutral" else None
    return _Meta(
        id=indicator_id,
        label=indicator_id,
        name=indicator_id,
        source="egen indikator (finns inte i katalogen)",
        kind="share",
        direction=direction,
        target=target,
        target_origin=from_file if target is not None else None,
        min_n=DEFAULT_MIN_N,
    )


def _f(x: Any) -> float | None:
    if x is None:
        return None
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _n(row: Mapping[str, Any]) -> int | None:
    den = _f(row.get("denominator"))
    if den is None or den <= 0:
        return None
    return int(round(den))


def _value(row: Mapping[str, Any]) -> float | None:
    value = _f(row.get("value"))
    if value is None:
        num, den = _f(row.get("numerator")), _f(row.get("denominator"))
        if num is not None and den:
            value = num / den
    return value


def _k(row: Mapping[str, Any], n: int, value: float) -> float:
    num = _f(row.get("numerator"))
    k = num if num is not None else value * n
    return min(max(k, 0.0), float(n))


def _pct(x: float | None, decimals: int = 0) -> str:
    return procent(x, decimals)


def _value_decimals(value: float, target: float | None) -> int:
    """One decimal for small shares (above 0 and under 10 %) and when whole per cents would hide the
    difference from the target; otherwise whole per cents."""
    if 0 < value < 0.10:
        return 1
    if target is not None and value != target and _pct(value) == _pct(target):
        return 1
    return 0


def _range_text(low: float, high: float) -> str:
    """'75–80 %' (one decimal for narrow ranges and small shares)."""
    decimals = 1 if (high - low < 0.02 or low < 0.10) else 0
    return f"{tal(low * 100, decimals)}–{procent(high, decimals)}"


def _n_text(n: int) -> str:
    return f"n = {tal(n)}"


def _share(x: float) -> str:
    return _pct(x, 1 if x < 0.10 else 0)


def _eligible(r: Mapping[str, Any], min_n: int) -> tuple[float, int] | None:
    """(k, n) for a row that can take part in a comparison (known n ≥ min_n and a value)."""
    n = _n(r)
    value = _value(r)
    if n is None or value is None or n < min_n:
        return None
    return _k(r, n, value), n


# ---------------------------------------------------------------- the analysis of one data set


class Analysis:
    """The rows of all clinics, indexed once; flags for any clinic, with the group statistics cached
    (so a region overview or a simulation computes each group's dispersion only once)."""

    def __init__(
        self,
        rows_all_clinics: Iterable[Mapping[str, Any]],
        catalogue: Catalogue,
        flow_kinds: Mapping[str, str] | None = None,
    ):
        from assistant.data.peers import resolve_groups

        self.catalogue = catalogue
        self.rows = [r for r in rows_all_clinics if r.get("clinic") and r.get("indicator") and r.get("period")]
        self.groups = resolve_groups(self.rows, catalogue, flow_kinds)
        self.by_ind_period: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        self.by_clinic: dict[str, list[Mapping[str, Any]]] = {}
        for r in self.rows:
            self.by_ind_period.setdefault((r["indicator"], r["period"]), []).append(r)
            self.by_clinic.setdefault(clinic_key(r["clinic"]), []).append(r)
        self._order = {ind.id: i for i, ind in enumerate(catalogue.indicators)}
        self._dispersion: dict[tuple, tuple[stats.Dispersion, list[stats.Unit]] | None] = {}
        self._variation: dict[tuple, stats.PeriodVariation | None] = {}

    def flags(self, clinic: str, period: str | None = None) -> list[FlagRow]:
        """Flags for ``clinic`` (every period when ``period`` is None; oldest first)."""
        key = clinic_key(clinic)
        mine = self.by_clinic.get(key, [])
        own = [r for r in mine if period is None or r["period"] == period]
        own.sort(
            key=lambda r: (
                stats.period_key(r["period"]),
                self._order.get(r["indicator"], len(self._order)),
                r["indicator"],
            )
        )
        return [self._flag_one(r, key) for r in own]

    # ------------------------------------------------------------ group statistics

    def group_of(self, key: str):
        from assistant.data.peers import UNKNOWN

        return self.groups.get(key, UNKNOWN)

    def peer_units(self, indicator: str, period: str, group_key: str, min_n: int) -> list[stats.Unit]:
        units = []
        for r in self.by_ind_period.get((indicator, period), []):
            if self.group_of(clinic_key(r["clinic"])).key != group_key:
                continue
            kn = _eligible(r, min_n)
            if kn is not None:
                units.append(stats.Unit(key=clinic_key(r["clinic"]), k=kn[0], n=kn[1]))
        return units

    def dispersion(self, indicator: str, period: str, group_key: str, min_n: int, exclude: str | None = None):
        """(Dispersion, units) over the group's eligible clinics (other than ``exclude``), or None
        with fewer than two."""
        cache_key = (indicator, period, group_key, exclude)
        if cache_key not in self._dispersion:
            units = [u for u in self.peer_units(indicator, period, group_key, min_n) if u.key != exclude]
            self._dispersion[cache_key] = (stats.dispersion(units), units) if len(units) >= 2 else None
        return self._dispersion[cache_key]

    def series(self, key: str, indicator: str, min_n: int, up_to: str | None = None) -> list[stats.Point]:
        """One clinic's eligible periods of an indicator, oldest first (up to and including ``up_to``)."""
        limit = stats.period_key(up_to) if up_to is not None else None
        points = []
        for r in self.by_clinic.get(key, []):
            if r["indicator"] != indicator:
                continue
            if limit is not None and stats.period_key(r["period"]) > limit:
                continue
            kn = _eligible(r, min_n)
            if kn is not None:
                points.append(stats.Point(r["period"], kn[0], kn[1]))
        points.sort(key=lambda p: stats.period_key(p.period))
        return points

    def variation(
        self, indicator: str, group_key: str, min_n: int, exclude: str | None = None
    ) -> stats.PeriodVariation | None:
        """The variation between periods over the group's series (other than ``exclude``'s)."""
        cache_key = (indicator, group_key, min_n, exclude)
        if cache_key not in self._variation:
            series = []
            for key, group in self.groups.items():
                if group.key == group_key and key != exclude:
                    s = self.series(key, indicator, min_n)
                    if len(s) >= 2:
                        series.append(s)
            self._variation[cache_key] = stats.period_variation(series)
        return self._variation[cache_key]

    # ------------------------------------------------------------ one row

    def _flag_one(self, row: Mapping[str, Any], key: str) -> FlagRow:
        meta = _meta(row["indicator"], row, self.catalogue)
        value = _value(row)
        n = _n(row)
        group = self.group_of(key)
        flag = FlagRow(
            indicator=meta.id,
            label=meta.label,
            name=meta.name,
            period=row["period"],
            value=value,
            n=n,
            numerator=_f(row.get("numerator")),
            target=meta.target if meta.direction != "neutral" else None,
            direction=meta.direction,
            ci_low=None,
            ci_high=None,
            source=meta.source,
            clinic=row["clinic"],
            kind=meta.kind,
            min_n=meta.min_n,
            target_origin=meta.target_origin if meta.direction != "neutral" else None,
            group=group.others,
        )
        if value is None:
            flag.text = flag.summary = "Värde saknas."
            return flag
        is_share = meta.kind == "share"
        target = flag.target
        shown = _pct if is_share else (lambda x, d=1: tal(x, d))
        decimals = _value_decimals(value, target) if is_share else 1

        head = shown(value, decimals)
        head += f" ({_n_text(n)})" if n is not None else " (antal saknas)"
        if target is not None:
            target_decimals = 0 if is_share and abs(target * 100 - round(target * 100)) < 1e-9 else 1
            head += f", mål {'högst ' if meta.direction == 'lower' else ''}{shown(target, target_decimals)}"
        flag.summary = head
        if is_share and n is not None:
            k = _k(row, n, value)
            flag.ci_low, flag.ci_high = stats.wilson(k, n)
            head += f", 95{NBSP}% {INTERVAL} {_range_text(flag.ci_low, flag.ci_high)}"
        parts: list[str] = [head + "."]
        if target is not None and flag.target_origin:
            flag.notes.append(f"Målet: {flag.target_origin}.")

        if meta.kind == "count":
            flag.history = [
                (p, v, 0.0)
                for p, v in sorted(
                    ((r["period"], _value(r)) for r in self.by_clinic.get(key, []) if r["indicator"] == meta.id),
                    key=lambda pv: stats.period_key(pv[0]),
                )
                if v is not None and stats.period_key(p) <= stats.period_key(row["period"])
            ]

        # ---- too few observations: nothing else, ever
        if n is not None and n < meta.min_n:
            flag.states = ["insufficient_data"]
            parts.append("För få observationer för att dra slutsatser.")
            flag.notes.append(
                f"För få observationer (n = {tal(n)}, minst {tal(meta.min_n)}) för att dra slutsatser – "
                "slumpen kan förklara skillnaden."
            )
            flag.text = " ".join(parts)
            return flag

        states: list[str] = []
        sigma2 = None
        if is_share and n is not None:
            sigma2 = self._sigma2(flag, meta, row, group.key, key)
        # ---- target
        if target is not None and meta.direction in ("higher", "lower"):
            parts.append(self._target(flag, meta, value, n, sigma2, is_share, states))
        if n is None:
            flag.notes.append(
                "Antal (n) saknas – osäkerheten är okänd, så värdet jämförs bara med målet, "
                "inte med andra enheter eller tidigare perioder."
            )
        if is_share and n is not None:
            peer_text = self._peers(flag, row, meta, value, n, key, group, states)
            if peer_text:
                parts.append(peer_text)
            history_text = self._history(flag, row, meta, key, sigma2, states)
            if history_text:
                parts.append(history_text)
            if not group.known and flag.peer_count is not None:
                flag.notes.append(
                    "Enhetens typ är inte känd, så den jämförs med andra enheter av okänd typ. Ange typ "
                    "(t.ex. fysioterapi eller vårdcentral) i datafilens kolumn typ för att jämföra med rätt enheter."
                )
        if any(s in CLAIMS for s in states) or flag.stands_out:
            flag.notes.append(CONTEXT_NOTE)
        flag.states = [s for s in STATES if s in states]
        flag.text = " ".join(parts)
        return flag

    def _sigma2(self, flag: FlagRow, meta: _Meta, row: Mapping[str, Any], group_key: str, key: str) -> float:
        """The variation between periods for this indicator over the peer group's series (see
        stats.period_variation); the variance between the clinics when it cannot be estimated;
        0 (binomial noise only) otherwise."""
        pv = self.variation(meta.id, group_key, meta.min_n)
        if pv is not None:
            flag.sigma2 = pv.sigma2
            return pv.sigma2
        disp = self.dispersion(meta.id, row["period"], group_key, meta.min_n)
        if disp is not None and len(disp[1]) > MIN_OTHER_PEERS:
            flag.sigma2 = disp[0].tau2
            flag.notes.append(
                "Variationen mellan perioder kunde inte skattas (för få serier); skillnaden mellan "
                "enheterna används i stället, så bedömningen mot mål och historik är försiktig."
            )
            return disp[0].tau2
        flag.notes.append(
            "Variationen mellan perioder och enheter kunde inte skattas (för lite data): mål och "
            "historik bedöms bara mot slumpen i antalet."
        )
        flag.sigma2 = None
        return 0.0

    def _target(
        self,
        flag: FlagRow,
        meta: _Meta,
        value: float,
        n: int | None,
        sigma2: float | None,
        is_share: bool,
        states: list[str],
    ) -> str:
        target = flag.target
        assert target is not None
        higher = meta.direction == "higher"
        wrong = value < target if higher else value > target
        if not wrong:
            return "Når målet." if higher else "Inom målet."
        under = "under målet" if higher else "över målet"
        if not is_share or n is None:
            states.append("possibly_misses_target")
            why = "antal saknas" if n is None else "osäkerheten kan inte beräknas för den här typen av värde"
            return f"Jämfört med målet: {under}, men osäkerheten är okänd ({why})."
        lim = stats.limits(n, target, sigma2 or 0.0)
        flag.target_limit = lim.low998 if higher else lim.high998
        beyond = value < lim.low998 if higher else value > lim.high998
        edge = _share(flag.target_limit)
        on_target = (
            f"en enhet som låg på målet skulle vid den här storleken nästan alltid hamna "
            f"{'över' if higher else 'under'} {edge}"
        )
        if beyond:
            states.append("misses_target")
            return (
                f"Jämfört med målet: {under} med mer än vanlig variation förklarar ({on_target}; "
                f"99,8{NBSP}%-gränsen)."
            )
        states.append("possibly_misses_target")
        return f"Jämfört med målet: {under}, men skillnaden ryms i vanlig variation ({on_target})."

    def _peers(
        self,
        flag: FlagRow,
        row: Mapping[str, Any],
        meta: _Meta,
        value: float,
        n: int,
        key: str,
        group: Any,
        states: list[str],
    ) -> str | None:
        found = self.dispersion(meta.id, row["period"], group.key, meta.min_n)
        others = [u for u in found[1] if u.key != key] if found else []
        if found is None or len(others) < MIN_OTHER_PEERS:
            flag.notes.append(
                f"Ingen jämförelse med andra enheter: bara {len(others)} andra {group.others} med "
                f"tillräckligt underlag (n ≥ {tal(meta.min_n)}) för perioden {row['period']} – "
                f"minst {MIN_OTHER_PEERS} behövs."
            )
            return None
        disp = found[0]
        lim = stats.funnel(n, disp.pooled, disp)
        flag.peer_count = len(others)
        flag.pooled = disp.pooled
        flag.tau2 = disp.tau2
        flag.centre_var = disp.var_centre if disp.tau2 > 0 else 0.0
        flag.peer_low, flag.peer_high = lim.low998, lim.high998
        flag.peer_low95, flag.peer_high95 = lim.low95, lim.high95
        flag.widened = lim.widened
        flag.peer_points = [(u.n, u.p) for u in others]

        intro = (
            f"Jämfört med {len(others)} andra {group.others} (sammanvägt {_share(disp.pooled)}; "
            f"vanlig variation vid den här storleken {_range_text(lim.low998, lim.high998)})"
        )
        widened = f" {WIDENED_TEXT}" if lim.widened else ""
        if lim.widened and (lim.position(value) or lim.context(value)):
            flag.notes.append(
                f"Enheterna skiljer sig mer åt än slumpen förklarar (Spiegelhalters test: m·φ = "
                f"{tal(disp.m * disp.phi, 1)} > {tal(disp.critical, 1)}); gränserna är vidgade med en "
                f"variation mellan enheter på τ = {tal(disp.tau2**0.5 * 100, 1)} procentenheter."
            )
        side = lim.position(value)
        if side is None:
            context = lim.context(value)
            if context is None:
                return f"{intro}: inom det förväntade.{widened}"
            word = "högre" if context == "higher" else "lägre"
            return (
                f"{intro}: {word} än de flesta, men inom gränserna för vanlig variation – "
                f"kan vara slump.{widened}"
            )
        clearly = lim.clearly(value)
        if meta.direction == "neutral":
            word = ("tydligt " if clearly else "") + ("högre" if side == "higher" else "lägre")
            return (
                f"{intro}: {word} än hos andra enheter, utanför gränserna för vanlig variation. "
                f"Indikatorn är neutral – ingen värdering, men skillnaden kan vara värd att prata om.{widened}"
            )
        worse = (side == "lower") == (meta.direction == "higher")
        base = "worse" if worse else "better"
        states.append(f"{base}_than_peers")
        if clearly:
            states.append(f"clearly_{base}_than_peers")
            word = ("tydligt sämre" if worse else "tydligt bättre") + " – långt utanför gränserna för vanlig variation"
        else:
            word = ("sämre" if worse else "bättre") + f" – utanför gränserna för vanlig variation (99,8{NBSP}%)"
        return f"{intro}: {word}.{widened}"

    def _history(
        self,
        flag: FlagRow,
        row: Mapping[str, Any],
        meta: _Meta,
        key: str,
        sigma2: float | None,
        states: list[str],
    ) -> str | None:
        points = self.series(key, meta.id, meta.min_n, up_to=row["period"])
        flag.history = [(p.period, p.p, p.n) for p in points]
        earlier = [r for r in self.by_clinic.get(key, []) if r["indicator"] == meta.id]
        earlier = [r for r in earlier if stats.period_key(r["period"]) < stats.period_key(row["period"])]
        if earlier:
            prev = max(earlier, key=lambda r: stats.period_key(r["period"]))
            flag.previous_period, flag.previous_value = prev["period"], _value(prev)
        if len(points) < 2 or points[-1].period != row["period"]:
            if earlier and len(points) < 2:
                flag.notes.append(
                    f"Ingen jämförelse med tidigare perioder: för lite underlag (n ≥ {tal(meta.min_n)}) "
                    "i de andra perioderna."
                )
            return None
        chart = stats.control_chart(points, sigma2 or 0.0)
        flag.centre = chart.centre
        last_lim = chart.limits[-1]
        span = f"{points[0].period}–{points[-1].period}"
        intro = (
            f"Jämfört med egna perioder {span} (medel {_share(chart.centre)}; vanlig variation "
            f"{_range_text(last_lim.low998, last_lim.high998)})"
        )
        signal = chart.signal
        if signal is None:
            context = last_lim.context(points[-1].p)
            if context is None:
                return f"{intro}: inom vanlig variation."
            word = "högre" if context == "higher" else "lägre"
            return f"{intro}: {word} än vanligt, men inom gränserna för vanlig variation."
        flag.signal = signal.rule
        flag.change_position = signal.side
        what = {
            "beyond": f"{row['period']} ligger utanför gränserna för vanlig variation (99,8{NBSP}%)",
            "run": f"de senaste {signal.length} perioderna ligger alla "
            f"{'över' if signal.side == 'higher' else 'under'} medel – ett skifte",
            "trend": f"{signal.length} perioder i rad har varje period varit "
            f"{'högre' if signal.side == 'higher' else 'lägre'} än den förra – en trend",
        }[signal.rule]
        if meta.direction == "neutral":
            return f"{intro}: {what}. Neutral indikator – ingen värdering."
        better = (signal.side == "higher") == (meta.direction == "higher")
        states.append("better_than_previous" if better else "worse_than_previous")
        return f"{intro}: {'bättre' if better else 'sämre'} – {what}."


def compute_flags(
    rows_all_clinics: Iterable[Mapping[str, Any]],
    catalogue: Catalogue,
    clinic: str,
    period: str | None = None,
    *,
    flow_kinds: Mapping[str, str] | None = None,
) -> list[FlagRow]:
    """Flags for ``clinic`` (every period when ``period`` is None; oldest first)."""
    return Analysis(rows_all_clinics, catalogue, flow_kinds).flags(clinic, period)


def newest_per_indicator(flags: Iterable[FlagRow]) -> list[FlagRow]:
    """Only each indicator's newest period (what a dialogue usually wants), in catalogue order.

    ``compute_flags(..., period=None)`` returns every period; an old period's state would
    otherwise still trigger rules.
    """
    newest: dict[str, FlagRow] = {}
    for flag in flags:
        seen = newest.get(flag.indicator)
        if seen is None or stats.period_key(flag.period) > stats.period_key(seen.period):
            newest[flag.indicator] = flag
    return list(newest.values())

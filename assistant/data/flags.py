"""Flags: what in a clinic's indicator data deserves a question – without crying wolf on small numbers.

``compute_flags(rows, catalogue, clinic, period=None)`` turns imported rows (all clinics, so peers
can be compared) into one ``FlagRow`` per indicator and period of ``clinic``. The states, exactly:

- ``insufficient_data``: n is below the indicator's ``min_n``. Such a row gets no other state.
- ``misses_target``: the whole 95 % Wilson interval lies on the wrong side of the target.
- ``possibly_misses_target``: the value is on the wrong side but the interval reaches the target –
  or n is unknown, so the uncertainty is unknown.
- ``worse_than_peers`` / ``better_than_peers``: outside the 95 % funnel limits around the pooled
  proportion of the clinics with sufficient n for that indicator and period (at least 3 others).
- ``clearly_worse_than_peers`` / ``clearly_better_than_peers``: outside the 99.8 % limits; such a
  row also carries the plain worse/better state.
- ``worse_than_previous`` / ``better_than_previous``: a change from the clinic's previous period
  (same indicator, the period sorting just before) significant at 5 %, two-sided.

"Wrong side", worse and better follow the indicator's direction. Neutral indicators get no target,
worse or better states; their text says when they differ from peers or from the previous period.
A value exactly on the target meets it; a value exactly on a funnel limit is inside.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from assistant.data import stats
from assistant.flagstates import FLAG_STATES as STATES
from assistant.indicators import Catalogue
from assistant.render import procent, tal

STATE_LABELS = {
    "insufficient_data": "för lite underlag",
    "misses_target": "når inte målet",
    "possibly_misses_target": "når kanske inte målet",
    "worse_than_peers": "sämre än andra enheter",
    "better_than_peers": "bättre än andra enheter",
    "clearly_worse_than_peers": "tydligt sämre än andra enheter",
    "clearly_better_than_peers": "tydligt bättre än andra enheter",
    "worse_than_previous": "sämre än förra perioden",
    "better_than_previous": "bättre än förra perioden",
}

MIN_OTHER_PEERS = 3
DEFAULT_MIN_N = 30
NBSP = "\u00a0"

WIDENED_TEXT = "Gränserna är vidgade eftersom variationen mellan enheter är större än slumpen förklarar."
CONTEXT_NOTE = (
    "Skillnader kan bero på patientgrupp, uppdrag eller hur data registreras – inte bara på kvalitet. "
    "Använd det som en fråga i dialogen, inte som ett betyg."
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
    notes: list[str] = field(default_factory=list)
    source: str = ""
    clinic: str = ""
    kind: str = "share"
    min_n: int = DEFAULT_MIN_N
    peer_count: int | None = None  # other clinics in the peer comparison (None: no comparison)
    pooled: float | None = None  # the pooled proportion of the comparison
    peer_low: float | None = None  # the 95 % funnel limits at this n
    peer_high: float | None = None
    widened: bool = False  # funnel limits widened for overdispersion
    previous_period: str | None = None
    previous_value: float | None = None
    change_p: float | None = None

    @property
    def state_labels(self) -> list[str]:
        return [STATE_LABELS[s] for s in self.states]

    @property
    def peer_position(self) -> str | None:
        """'higher' or 'lower' when the value lies outside the 95 % funnel limits of its peers,
        whatever the indicator's direction (a neutral indicator has no worse/better state, but a
        visit mix far from its peers is still worth a question). None with insufficient data."""
        if "insufficient_data" in self.states or self.value is None:
            return None
        if self.peer_high is not None and self.value > self.peer_high:
            return "higher"
        if self.peer_low is not None and self.value < self.peer_low:
            return "lower"
        return None


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
    min_n: int


def _meta(indicator_id: str, row: Mapping[str, Any], catalogue: Catalogue) -> _Meta:
    ind = catalogue.get(indicator_id)
    row_target = _f(row.get("target"))
    if ind is not None:
        return _Meta(
            id=ind.id,
            label=ind.label,
            name=ind.name,
            source=ind.source,
            kind=ind.kind,
            direction=ind.direction,
            target=row_target if row_target is not None else ind.target,
            min_n=ind.min_n,
        )
    direction = row.get("direction") or "neutral"
    if direction not in ("higher", "lower", "neutral"):
        direction = "neutral"
    return _Meta(
        id=indicator_id,
        label=indicator_id,
        name=indicator_id,
        source="egen indikator (finns inte i katalogen)",
        kind="share",
        direction=direction,
        target=row_target if direction != "neutral" else None,
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
    decimals = 1 if (high - low < 0.02 or low < 0.10) else 0  # small shares: as precise as the pooled value
    return f"{tal(low * 100, decimals)}–{procent(high, decimals)}"


def _ci_text(low: float, high: float) -> str:
    return f"95{NBSP}% KI {_range_text(low, high)}"


def _n_text(n: int) -> str:
    return f"n = {tal(n)}"


# ---------------------------------------------------------------- main


def compute_flags(
    rows_all_clinics: Iterable[Mapping[str, Any]],
    catalogue: Catalogue,
    clinic: str,
    period: str | None = None,
) -> list[FlagRow]:
    """Flags for ``clinic`` (every period when ``period`` is None; newest last)."""
    rows = [r for r in rows_all_clinics if r.get("clinic") and r.get("indicator") and r.get("period")]
    key = clinic_key(clinic)
    by_ind_period: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in rows:
        by_ind_period.setdefault((r["indicator"], r["period"]), []).append(r)
    mine = [r for r in rows if clinic_key(r["clinic"]) == key]
    own = [r for r in mine if period is None or r["period"] == period]
    order = {ind.id: i for i, ind in enumerate(catalogue.indicators)}
    own.sort(
        key=lambda r: (stats.period_key(r["period"]), order.get(r["indicator"], len(order)), r["indicator"])
    )
    own_periods: dict[str, list[str]] = {}
    for r in mine:
        own_periods.setdefault(r["indicator"], []).append(r["period"])
    dispersion_cache: dict[tuple[str, str], Any] = {}
    return [_flag_one(r, catalogue, key, by_ind_period, own_periods, dispersion_cache) for r in own]


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


@lru_cache(maxsize=65536)
def clinic_key(name: str) -> str:
    """How clinic names are compared: case-folded, whitespace collapsed (as storage keys them)."""
    return " ".join(unicodedata.normalize("NFC", str(name)).split()).casefold()


def _flag_one(
    row: Mapping[str, Any],
    catalogue: Catalogue,
    clinic: str,
    by_ind_period: dict[tuple[str, str], list[Mapping[str, Any]]],
    own_periods: dict[str, list[str]],
    dispersion_cache: dict[tuple[str, str], Any],
) -> FlagRow:
    meta = _meta(row["indicator"], row, catalogue)
    value = _value(row)
    n = _n(row)
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
    )
    if value is None:
        flag.text = "Värde saknas."
        return flag
    is_share = meta.kind == "share"
    target = flag.target
    shown = _pct if is_share else (lambda x, d=1: tal(x, d))
    decimals = _value_decimals(value, target) if is_share else 1

    head = shown(value, decimals)
    parts: list[str] = []
    if n is not None:
        head += f" ({_n_text(n)})"
    else:
        head += " (antal saknas)"
    if target is not None:
        target_decimals = 0 if is_share and abs(target * 100 - round(target * 100)) < 1e-9 else 1
        head += f", mål {'högst ' if meta.direction == 'lower' else ''}{shown(target, target_decimals)}"
    if is_share and n is not None:
        k = _k(row, n, value)
        flag.ci_low, flag.ci_high = stats.wilson(k, n)
        head += f", {_ci_text(flag.ci_low, flag.ci_high)}"
    parts.append(head + ".")

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
    # ---- target
    if target is not None and meta.direction in ("higher", "lower"):
        wrong = value < target if meta.direction == "higher" else value > target
        under = "Under målet" if meta.direction == "higher" else "Över målet"
        if not wrong:
            parts.append("Når målet." if meta.direction == "higher" else "Inom målet.")
        elif flag.ci_low is None or flag.ci_high is None:
            states.append("possibly_misses_target")
            why = "antal saknas" if n is None else "osäkerheten kan inte beräknas för den här typen av värde"
            parts.append(f"{under}, men osäkerheten är okänd ({why}).")
        else:
            clear = flag.ci_high < target if meta.direction == "higher" else flag.ci_low > target
            if clear:
                states.append("misses_target")
                parts.append(
                    f"{under} – hela konfidensintervallet ligger {'under' if meta.direction == 'higher' else 'över'} målet."
                )
            else:
                states.append("possibly_misses_target")
                parts.append(f"{under}, men intervallet når målet: skillnaden kan vara slump.")
    if n is None:
        flag.notes.append(
            "Antal (n) saknas – osäkerheten är okänd, så värdet jämförs bara med målet, "
            "inte med andra enheter eller förra perioden."
        )

    # ---- peers
    if is_share and n is not None:
        peer_text = _peers(flag, row, meta, value, n, by_ind_period, dispersion_cache, states)
        if peer_text:
            parts.append(peer_text)
        # ---- previous period
        prev_text = _previous(flag, row, meta, value, n, by_ind_period, own_periods, clinic, states)
        if prev_text:
            parts.append(prev_text)

    outside_peers = (
        flag.peer_low is not None
        and flag.peer_high is not None
        and not (flag.peer_low <= value <= flag.peer_high)
    )
    if states or outside_peers:
        flag.notes.append(CONTEXT_NOTE)
    flag.states = [s for s in STATES if s in states]
    flag.text = " ".join(parts)
    return flag


def _eligible(r: Mapping[str, Any], min_n: int) -> tuple[float, int] | None:
    """(k, n) for a row that can take part in a comparison (known n ≥ min_n and a value)."""
    n = _n(r)
    value = _value(r)
    if n is None or value is None or n < min_n:
        return None
    return _k(r, n, value), n


def _peers(
    flag: FlagRow,
    row: Mapping[str, Any],
    meta: _Meta,
    value: float,
    n: int,
    by_ind_period: dict[tuple[str, str], list[Mapping[str, Any]]],
    cache: dict[tuple[str, str], Any],
    states: list[str],
) -> str | None:
    key = (row["indicator"], row["period"])
    group = by_ind_period.get(key, [])
    units: list[stats.Unit] = []
    for r in group:
        kn = _eligible(r, meta.min_n)
        if kn is not None:
            units.append(stats.Unit(key=r["clinic"], k=kn[0], n=kn[1]))
    own_key = clinic_key(flag.clinic)
    others = [u for u in units if clinic_key(u.key) != own_key]
    if len(others) < MIN_OTHER_PEERS:
        flag.notes.append(
            f"Ingen jämförelse med andra enheter: bara {len(others)} andra "
            f"{'enhet' if len(others) == 1 else 'enheter'} med tillräckligt underlag (n ≥ {tal(meta.min_n)}) "
            f"för perioden {row['period']} – minst {MIN_OTHER_PEERS} behövs."
        )
        return None
    if key not in cache:
        cache[key] = stats.dispersion(units)
    disp: stats.Dispersion = cache[key]
    limits = stats.funnel(n, disp.pooled, disp)
    flag.peer_count = len(others)
    flag.pooled = disp.pooled
    flag.peer_low, flag.peer_high = limits.low95, limits.high95
    flag.widened = limits.widened

    below95, above95 = value < limits.low95, value > limits.high95
    below998, above998 = value < limits.low998, value > limits.high998
    pooled_text = _pct(disp.pooled, 1 if disp.pooled < 0.10 else 0)
    expected = f"förväntat {_range_text(limits.low95, limits.high95)} vid den här storleken"
    intro = f"Jämfört med {len(others)} andra enheter (sammanvägt {pooled_text}, {expected})"
    widened = f" {WIDENED_TEXT}" if limits.widened else ""
    if limits.widened:
        flag.notes.append(
            f"Överspridning mellan enheter (Spiegelhalters test: m·φ = {tal(disp.m * disp.phi, 1)} > "
            f"{tal(disp.critical, 1)}, χ² 95 %): gränserna är vidgade med en slumpeffekt mellan enheter "
            f"(additiv modell, τ = {tal(disp.tau2**0.5 * 100, 1)} procentenheter)."
        )
    if not (below95 or above95):
        return f"{intro}: inom det förväntade.{widened}"
    if meta.direction == "neutral":
        side = "lägre" if below95 else "högre"
        strength = "tydligt " if (below998 or above998) else ""
        return (
            f"{intro}: {strength}{side} än hos andra enheter. Indikatorn är neutral – ingen värdering, "
            f"men skillnaden kan vara värd att prata om.{widened}"
        )
    worse = below95 if meta.direction == "higher" else above95
    clearly = (
        (below998 if meta.direction == "higher" else above998)
        if worse
        else (above998 if meta.direction == "higher" else below998)
    )
    if worse:
        states.append("worse_than_peers")
        if clearly:
            states.append("clearly_worse_than_peers")
        word = "tydligt sämre (utanför 99,8 %-gränsen)" if clearly else "sämre (utanför 95 %-gränsen)"
    else:
        states.append("better_than_peers")
        if clearly:
            states.append("clearly_better_than_peers")
        word = "tydligt bättre (utanför 99,8 %-gränsen)" if clearly else "bättre (utanför 95 %-gränsen)"
    return f"{intro}: {word.replace(' %', NBSP + '%')}.{widened}"


def _previous(
    flag: FlagRow,
    row: Mapping[str, Any],
    meta: _Meta,
    value: float,
    n: int,
    by_ind_period: dict[tuple[str, str], list[Mapping[str, Any]]],
    own_periods: dict[str, list[str]],
    clinic: str,
    states: list[str],
) -> str | None:
    periods = sorted(set(own_periods.get(row["indicator"], [])), key=stats.period_key)
    here = stats.period_key(row["period"])
    earlier = [p for p in periods if stats.period_key(p) < here]
    if not earlier:
        return None
    prev_period = earlier[-1]
    prev = next(
        (
            r
            for r in by_ind_period.get((row["indicator"], prev_period), [])
            if clinic_key(r["clinic"]) == clinic
        ),
        None,
    )
    if prev is None:
        return None
    prev_value = _value(prev)
    prev_n = _n(prev)
    flag.previous_period = prev_period
    flag.previous_value = prev_value
    if prev_value is None:
        return None
    if prev_n is None or prev_n < meta.min_n:
        flag.notes.append(
            f"Ingen jämförelse med {prev_period}: för lite underlag den perioden "
            f"({'antal saknas' if prev_n is None else _n_text(prev_n)})."
        )
        return None
    change = stats.two_proportion_test(_k(prev, prev_n, prev_value), prev_n, _k(row, n, value), n)
    flag.change_p = change.p_value
    before = f"{prev_period} ({_pct(prev_value, 1 if prev_value < 0.10 else 0)}, {_n_text(prev_n)})"
    if not change.significant:
        return f"Ingen säker förändring sedan {before} – skillnaden kan vara slump."
    p_text = f"p = {tal(change.p_value, 3)}" if change.p_value >= 0.001 else "p < 0,001"
    if meta.direction == "neutral":
        side = "högre" if change.diff > 0 else "lägre"
        return f"{side.capitalize()} än {before[:-1]}; {p_text}) – neutral indikator, ingen värdering."
    better = change.diff > 0 if meta.direction == "higher" else change.diff < 0
    if better:
        states.append("better_than_previous")
        return f"Bättre än {before}; förändringen är större än slumpen brukar ge ({p_text})."
    states.append("worse_than_previous")
    return f"Sämre än {before}; förändringen är större än slumpen brukar ge ({p_text})."

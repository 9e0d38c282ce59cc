"""The one place a document asks for a picture of an indicator.

The pre-meeting pack shows, per indicator, the clinic among its peers (a funnel plot) and its
series over the periods (a run chart); the region overview shows each indicator's funnel of all
clinics. Every document asks ``clinic_figure`` / ``region_figure`` and gets a ``Figure``: always a
compact text form (a sparkline, the position among the peers, a table of clinics), plus an SVG
(for HTML) and PNG (for docx) where a plotting module provides them. Templates put ``figure.svg``
in the page only through ``svg_markup`` (an SVG this module vouches for, never text a person wrote).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.render import procent, tal

SPARKS = "▁▂▃▄▅▆▇█"


@dataclass
class Figure:
    title: str
    lines: list[str] = field(default_factory=list)  # the text form, always there
    rows: list[dict[str, Any]] = field(default_factory=list)  # a table behind the text form
    svg: str | None = None
    png: bytes | None = None
    alt: str = ""


def sparkline(values: Iterable[float | None]) -> str:
    nums = [v for v in values if v is not None]
    if not nums:
        return ""
    lo, hi = min(nums), max(nums)
    span = hi - lo
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif span == 0:
            out.append(SPARKS[len(SPARKS) // 2])
        else:
            out.append(SPARKS[round((v - lo) / span * (len(SPARKS) - 1))])
    return "".join(out)


def fmt_value(flag: Any, value: float | None) -> str:
    if value is None:
        return "–"
    return procent(value) if getattr(flag, "kind", "share") == "share" else tal(value, 1)


def position_text(flag: Any) -> str:
    """Where the clinic's value lies among its peers, in words (for the text form)."""
    if "insufficient_data" in flag.states:
        return f"för få observationer för en jämförelse (n = {tal(flag.n) if flag.n else 'okänt'})"
    if flag.peer_low is None or flag.peer_high is None:
        return "ingen jämförelse (för få jämförbara enheter)"
    limits = f"{fmt_value(flag, flag.peer_low)}–{fmt_value(flag, flag.peer_high)}"
    clearly = any(s.startswith("clearly_") for s in flag.states)
    where = {"higher": "över", "lower": "under"}.get(flag.peer_position or "", "")
    if not where:
        return f"inom de jämförbara enheternas gränser ({limits} vid detta n)"
    strength = "långt " if clearly else ""
    return f"{strength}{where} de jämförbara enheternas gränser ({limits} vid detta n)"


def clinic_figure(flag: Any, series: list[Any]) -> Figure:
    """One clinic's indicator: its series over the periods (``series``: its FlagRows, oldest first)
    and its place among the peers in the newest period (``flag``)."""
    title = f"{flag.label}"
    values = [s.value for s in series]
    spark = sparkline(values)
    points = " · ".join(f"{s.period} {fmt_value(flag, s.value)}" for s in series)
    lines = [f"Över tid: {points}" + (f"  {spark}" if len(series) > 1 else "")]
    lines.append(f"Bland jämförbara enheter ({flag.period}): {fmt_value(flag, flag.value)}, {position_text(flag)}.")
    if flag.target is not None:
        lines.append(f"Mål: {fmt_value(flag, flag.target)}.")
    alt = f"{flag.label}: " + points
    return Figure(title=title, lines=lines, alt=alt, rows=[{"period": s.period, "value": s.value, "n": s.n} for s in series])


def region_figure(label: str, period: str, flags: Mapping[str, Any]) -> Figure:
    """An indicator's funnel of all clinics for one period: ``flags`` maps clinic -> its FlagRow."""
    rows = []
    for clinic, f in flags.items():
        rows.append(
            {
                "clinic": clinic,
                "value": f.value,
                "value_text": fmt_value(f, f.value),
                "n": f.n,
                "position": _short_position(f),
            }
        )
    rows.sort(key=lambda r: (r["value"] is None, -(r["value"] or 0.0)))
    lines = [f"{r['clinic']}: {r['value_text']} (n = {tal(r['n']) if r['n'] else '–'}) – {r['position']}" for r in rows]
    return Figure(title=f"{label} {period}", lines=lines, rows=rows, alt=f"{label} {period}: {len(rows)} enheter")


def _short_position(flag: Any) -> str:
    if "insufficient_data" in flag.states:
        return "för få observationer"
    if flag.peer_low is None or flag.peer_high is None:
        return "ingen jämförelse"
    where = {"higher": "över", "lower": "under"}.get(flag.peer_position or "")
    if not where:
        return "inom gränserna"
    return ("långt " if any(s.startswith("clearly_") for s in flag.states) else "") + f"{where} gränserna"

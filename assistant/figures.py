"""The one place a document asks for a picture of an indicator.

The pre-meeting pack shows, per indicator, the clinic among its peers (a funnel plot) and its
series over the periods (a run chart); the region overview shows each indicator's funnel of all
clinics in a peer group. Every document asks ``clinic_figure`` / ``region_figures`` and gets
``Figure``s: always a compact text form (the values over time, the position among the peers, a
table of clinics) and the ``chart`` data that ``assistant.data.charts`` draws. ``with_pictures``
renders them for a format: SVG for HTML (inline, drawn by matplotlib, no scripts, text escaped),
PNG for docx; Markdown keeps the text form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.formatting import procent, tal

SPARKS = "▁▂▃▄▅▆▇█"


@dataclass
class Figure:
    title: str
    lines: list[str] = field(default_factory=list)  # the text form, always there
    rows: list[dict[str, Any]] = field(default_factory=list)  # a table behind the text form
    chart: dict[str, Any] | None = None  # what assistant.data.charts draws (None: text only)
    svgs: list[str] = field(default_factory=list)  # filled for HTML by with_pictures
    pngs: list[bytes] = field(default_factory=list)  # filled for docx by with_pictures
    alt: str = ""


def with_pictures(figure: dict[str, Any], fmt: str, which: tuple[str, ...] | None = None) -> None:
    """Draw a figure's pictures (a ``Figure`` as a dict, as the documents carry it) for ``fmt``."""
    from assistant.data import charts

    chart = figure.get("chart")
    kinds = which or (charts.FUNNEL, charts.RUN)
    drawable = [w for w in kinds if charts.available(chart, w)]
    if fmt == "html":
        from markupsafe import Markup

        figure["svgs"] = [Markup(charts.svg(chart, w)) for w in drawable]
    elif fmt == "docx":
        figure["pngs"] = [charts.png(chart, w) for w in drawable]


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
    from assistant.data import charts

    title = f"{flag.label}"
    values = [s.value for s in series]
    spark = sparkline(values)
    points = " · ".join(f"{s.period} {fmt_value(flag, s.value)}" for s in series)
    lines = [f"Över tid: {points}" + (f"  {spark}" if len(series) > 1 else "")]
    lines.append(f"Bland jämförbara enheter ({flag.period}): {fmt_value(flag, flag.value)}, {position_text(flag)}.")
    if flag.target is not None:
        lines.append(f"Mål: {fmt_value(flag, flag.target)}.")
    chart = charts.chart_data(flag)
    strip = charts.position_strip(chart) if chart else None
    if strip:
        lines.append(f"Läge: {strip}  ({charts.STRIP_LEGEND})")
    alt = f"{flag.label}: " + points
    rows = [{"period": s.period, "value": s.value, "n": s.n} for s in series]
    return Figure(title=title, lines=lines, alt=alt, rows=rows, chart=chart)


def region_figures(label: str, period: str, flags: Mapping[str, Any]) -> list[Figure]:
    """An indicator's funnel of all clinics for one period, one figure per peer group (a clinic is
    compared only with its peers): ``flags`` maps clinic -> its FlagRow."""
    from assistant.data import charts

    groups: dict[str, dict[str, Any]] = {}
    for clinic, f in flags.items():
        groups.setdefault(getattr(f, "group", None) or "", {})[clinic] = f
    out = []
    for group, members in groups.items():
        rows = []
        for clinic, f in members.items():
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
        chart = None
        base = next((charts.chart_data(f) for f in members.values() if charts.chart_data(f)), None)
        points = []
        if base is not None and base.get("funnel"):
            points = [[round(f.n), round(f.value, 6)] for f in members.values()
                      if f.n and f.value is not None and "insufficient_data" not in f.states]
        if points:
            chart = {**base, "value": None, "n": None, "history": None,
                     "funnel": {**base["funnel"], "points": points}}
        title = f"{label} {period}" + (f" – {group}" if group and len(groups) > 1 else "")
        out.append(Figure(title=title, lines=lines, rows=rows, chart=chart, alt=f"{title}: {len(rows)} enheter"))
    return out


def _short_position(flag: Any) -> str:
    if "insufficient_data" in flag.states:
        return "för få observationer"
    if flag.peer_low is None or flag.peer_high is None:
        return "ingen jämförelse"
    where = {"higher": "över", "lower": "under"}.get(flag.peer_position or "")
    if not where:
        return "inom gränserna"
    return ("långt " if any(s.startswith("clearly_") for s in flag.states) else "") + f"{where} gränserna"

"""Pictures of indicator data, to look at together: a funnel plot and a run (control) chart.

One reusable module for every place that shows them – the app's data view, the HTML export and
the pre-meeting pack (SVG), docx (PNG) and the line mode (text):

- ``chart_data(flag)`` → a small JSON-able dict: the peers (n, share) and the funnel's parameters,
  the clinic's own series with its centre line and the variation between periods, and the target.
  It is what a ``flags_shown`` event keeps, so a document shows the data as shown at the meeting.
- ``funnel_curves(data)`` / ``run_limits(data)`` → the limit lines, recomputed from the parameters
  with ``stats.limits`` (the same limits the flags use).
- ``svg(data, which)`` / ``png(data, which)`` → a picture drawn with matplotlib, imported lazily
  (start-up never pays for it; ``tests/test_import_hygiene.py`` checks). SVG output is
  deterministic, has no scripts, no external references and no mathtext: text from a data file
  (a clinic's name) is escaped by matplotlib's XML writer and never interpreted.
- ``sparkline(values)`` and ``position_strip(data)`` → the compact text form.
"""

from __future__ import annotations

import hashlib
import html
import io
import math
import re
import warnings
from typing import Any

from assistant.data import stats
from assistant.textsafe import terminal_safe

SPARKS = "▁▂▃▄▅▆▇█"
STRIP_WIDTH = 29
STRIP_LEGEND = "● enheten  ┼ sammanvägt  │ gränser för vanlig variation (99,8 %)  · andra enheter"
FUNNEL = "funnel"
RUN = "run"

# Colours (also used by the app's data view): readable in print and for colour-blind readers.
OWN = "#b2182b"
PEER = "#7a7a7a"
LIMIT_998 = "#404040"
LIMIT_95 = "#9a9a9a"
CENTRE = "#2166ac"
TARGET = "#1b7837"


# ---------------------------------------------------------------- data


def chart_data(flag: Any) -> dict[str, Any] | None:
    """What the pictures of one flag need (None when there is nothing to draw)."""
    if getattr(flag, "value", None) is None or "insufficient_data" in getattr(flag, "states", ()):
        return None
    out: dict[str, Any] = {
        "label": flag.label,
        "period": str(flag.period),
        "kind": flag.kind,
        "direction": flag.direction,
        "target": flag.target,
        "value": flag.value,
        "n": flag.n,
    }
    if flag.pooled is not None and flag.n:
        out["funnel"] = {
            "pooled": flag.pooled,
            "tau2": flag.tau2,
            "centre_var": getattr(flag, "centre_var", 0.0),
            "group": flag.group,
            "points": [[round(n), round(p, 6)] for n, p in flag.peer_points],
        }
    history = [h for h in flag.history if h[1] is not None]
    if len(history) >= 2:
        out["history"] = {
            "points": [[str(period), round(value, 6), round(n)] for period, value, n in history],
            "centre": flag.centre,
            "sigma2": flag.sigma2 or 0.0,
        }
    if "funnel" not in out and "history" not in out:
        return None
    return out


def funnel_curves(data: dict[str, Any], steps: int = 48) -> dict[str, list[tuple[float, float, float]]]:
    """The funnel's limit lines: {"95": [(n, low, high), …], "998": […]} over the range of n shown."""
    f = data["funnel"]
    sizes = [n for n, _ in f["points"]] + ([data["n"]] if data.get("n") else [])
    lo_n = max(10.0, min(sizes) / 1.5)
    hi_n = max(sizes) * 1.3
    curves: dict[str, list[tuple[float, float, float]]] = {"95": [], "998": []}
    for i in range(steps + 1):
        n = math.exp(math.log(lo_n) + (math.log(hi_n) - math.log(lo_n)) * i / steps)
        lim = stats.limits(n, f["pooled"], f["tau2"], extra=f.get("centre_var", 0.0))
        curves["95"].append((n, lim.low95, lim.high95))
        curves["998"].append((n, lim.low998, lim.high998))
    return curves


def run_limits(data: dict[str, Any]) -> list[tuple[str, float, float, float, float]]:
    """Per period of the history: (period, low95, high95, low998, high998) around its centre line."""
    h = data["history"]
    if h.get("centre") is None:
        return []
    out = []
    for period, _value, n in h["points"]:
        if not n:
            continue
        lim = stats.limits(n, h["centre"], h["sigma2"])
        out.append((period, lim.low95, lim.high95, lim.low998, lim.high998))
    return out


# ---------------------------------------------------------------- text


def sparkline(values: list[float], lo: float | None = None, hi: float | None = None) -> str:
    """'▄▄▅▁' – a series on a scale from ``lo`` to ``hi`` (default: its own minimum and maximum).
    Drawn between the control limits, common-cause variation stays near the middle and only a
    special cause reaches the bottom or the top."""
    if not values:
        return ""
    lo = min(values) if lo is None else min(lo, *values)
    hi = max(values) if hi is None else max(hi, *values)
    if hi - lo < 1e-12:
        return SPARKS[3] * len(values)
    return "".join(SPARKS[min(len(SPARKS) - 1, int((v - lo) / (hi - lo) * (len(SPARKS) - 1) + 0.5))] for v in values)


def position_strip(data: dict[str, Any], width: int = STRIP_WIDTH) -> str | None:
    """The clinic among its peers on one line: '·· │·· ┼ ·│  ●' (see STRIP_LEGEND)."""
    f = data.get("funnel")
    if not f or not data.get("n"):
        return None
    lim = stats.limits(data["n"], f["pooled"], f["tau2"], extra=f.get("centre_var", 0.0))
    xs = [p for _, p in f["points"]] + [lim.low998, lim.high998, data["value"], f["pooled"]]
    lo, hi = min(xs), max(xs)
    span = hi - lo or 1.0

    def col(x: float) -> int:
        return min(width - 1, max(0, round((x - lo) / span * (width - 1))))

    cells = [" "] * width
    for _, p in f["points"]:
        cells[col(p)] = "·"
    cells[col(lim.low998)] = "│"
    cells[col(lim.high998)] = "│"
    cells[col(f["pooled"])] = "┼"
    cells[col(data["value"])] = "●"
    return "".join(cells)


def text_lines(data: dict[str, Any] | None) -> list[str]:
    """The compact text form: the series as a sparkline, and the position among the peers."""
    if not data:
        return []
    out = []
    h = data.get("history")
    if h:
        values = [v for _, v, _ in h["points"]]
        periods = [p for p, _, _ in h["points"]]
        lims = run_limits(data) if data.get("kind", "share") == "share" else []
        lo = min(x[3] for x in lims) if lims else None
        hi = max(x[4] for x in lims) if lims else None
        scale = " (mellan gränserna för vanlig variation)" if lims else ""
        out.append(f"{periods[0]}–{periods[-1]}  {sparkline(values, lo, hi)}{scale}")
    strip = position_strip(data)
    if strip:
        out.append(f"bland {data['funnel'].get('group') or 'andra enheter'}: {strip}")
    return out


# ---------------------------------------------------------------- pictures (matplotlib, lazily)


def _pct(x: float, _pos: Any = None) -> str:
    return f"{x * 100:.0f} %"


def _count(x: float, _pos: Any = None) -> str:
    return f"{x:,.0f}".replace(",", "\u2009")


def _figure(data: dict[str, Any], which: str):
    from matplotlib.figure import Figure

    # Text from a data file (a peer group's name) may hold control characters, which XML forbids:
    # they become visible symbols, as everywhere else (textsafe).
    data = {**data, "label": terminal_safe(str(data.get("label", ""))), "period": terminal_safe(str(data.get("period", "")))}
    if data.get("funnel"):
        data["funnel"] = {**data["funnel"], "group": terminal_safe(str(data["funnel"].get("group") or "andra enheter"))}
    if data.get("history"):
        data["history"] = {
            **data["history"],
            "points": [[terminal_safe(str(p)), v, n] for p, v, n in data["history"]["points"]],
        }
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    share = data.get("kind", "share") == "share"
    fig = Figure(figsize=(5.6, 3.2), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, axis="y", color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)
    target = data.get("target")
    if which == FUNNEL:
        f = data["funnel"]
        curves = funnel_curves(data)
        for key, color, style, label in (
            ("998", LIMIT_998, "-", "99,8 %-gränser"),
            ("95", LIMIT_95, "--", "95 %-gränser"),
        ):
            ns = [c[0] for c in curves[key]]
            ax.plot(ns, [c[1] for c in curves[key]], style, color=color, linewidth=1, label=label)
            ax.plot(ns, [c[2] for c in curves[key]], style, color=color, linewidth=1)
        ax.axhline(f["pooled"], color=CENTRE, linewidth=1, label="sammanvägt")
        if target is not None:
            ax.axhline(target, color=TARGET, linewidth=1, linestyle=":", label="mål")
        if f["points"]:
            ax.scatter([n for n, _ in f["points"]], [p for _, p in f["points"]], s=14, color=PEER, label="andra enheter", zorder=3)
        if data.get("n") and data.get("value") is not None:  # a region's funnel of all its clinics has no "own" unit
            ax.scatter([data["n"]], [data["value"]], s=46, color=OWN, edgecolor="white", linewidth=0.8, label="enheten", zorder=4)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(_count))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("Antal (n)")
        ax.set_title(f"{data['label']} {data['period']}: jämfört med {f.get('group') or 'andra enheter'}", fontsize=9, loc="left")
    else:
        h = data["history"]
        periods = [p for p, _, _ in h["points"]]
        xs = list(range(len(periods)))
        values = [v for _, v, _ in h["points"]]
        lims = run_limits(data) if share else []
        if lims:
            ax.step(xs, [x[3] for x in lims], where="mid", color=LIMIT_998, linewidth=1, label="99,8 %-gränser")
            ax.step(xs, [x[4] for x in lims], where="mid", color=LIMIT_998, linewidth=1)
            ax.step(xs, [x[1] for x in lims], where="mid", color=LIMIT_95, linewidth=1, linestyle="--", label="95 %-gränser")
            ax.step(xs, [x[2] for x in lims], where="mid", color=LIMIT_95, linewidth=1, linestyle="--")
        if h.get("centre") is not None:
            ax.axhline(h["centre"], color=CENTRE, linewidth=1, label="medel")
        if target is not None:
            ax.axhline(target, color=TARGET, linewidth=1, linestyle=":", label="mål")
        ax.plot(xs, values, "-o", color=PEER, markersize=4, linewidth=1.2, zorder=3)
        ax.scatter([xs[-1]], [values[-1]], s=46, color=OWN, edgecolor="white", linewidth=0.8, zorder=4, label="senaste perioden")
        step = max(1, len(periods) // 8)
        ax.set_xticks(xs[::step], [periods[i] for i in xs[::step]], fontsize=8)
        title = "egna perioder" if share else "över tid"
        ax.set_title(f"{data['label']}: {title}", fontsize=9, loc="left")
    if share:
        ax.yaxis.set_major_formatter(FuncFormatter(_pct))
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, frameon=False, loc="best")
    fig.subplots_adjust(left=0.11, right=0.98, top=0.90, bottom=0.17)
    return fig


def _render(data: dict[str, Any], which: str, fmt: str, salt: str) -> bytes:
    import matplotlib

    params = {
        "svg.hashsalt": salt,  # stable ids, distinct per picture (several SVGs live in one page)
        "svg.fonttype": "none",  # text as text: small, searchable, drawn in the page's font
        "text.usetex": False,
        "text.parse_math": False,  # "$x$" in a clinic's name is text, never mathtext
        "font.family": "sans-serif",
    }
    with matplotlib.rc_context(params), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")  # ␛ and friends
        fig = _figure(data, which)
        buf = io.BytesIO()
        if fmt == "svg":
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        else:
            fig.savefig(buf, format="png", dpi=150, metadata={"Software": None})
    return buf.getvalue()


def available(data: dict[str, Any] | None, which: str) -> bool:
    if not data:
        return False
    return bool(data.get("funnel")) if which == FUNNEL else bool(data.get("history"))


_XML_HEAD = re.compile(r"^.*?(?=<svg)", re.S)


def svg(data: dict[str, Any], which: str) -> str:
    """An inline <svg> element (no XML declaration or doctype), titled for screen readers."""
    salt = f"{which}-{data.get('label', '')}-{data.get('period', '')}"
    text = _render(data, which, "svg", salt).decode("utf-8")
    text = _XML_HEAD.sub("", text, count=1)
    # Several pictures share one page: give every id (and every reference to one) this picture's prefix.
    prefix = "c" + hashlib.sha1(salt.encode("utf-8")).hexdigest()[:8] + "-"
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'(url\(#|href="#)([^)"]+)', lambda m: f"{m.group(1)}{prefix}{m.group(2)}", text)
    what = "Trattdiagram" if which == FUNNEL else "Serie över tid"
    title = html.escape(terminal_safe(f"{what}: {data.get('label', '')} {data.get('period', '')}"), quote=False)
    return re.sub(r"(<svg\b[^>]*>)", r'\1<title>' + title.replace("\\", "\\\\") + "</title>", text, count=1)


def png(data: dict[str, Any], which: str) -> bytes:
    return _render(data, which, "png", which)

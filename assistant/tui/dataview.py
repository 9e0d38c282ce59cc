"""The data view of a dialogue: each indicator's funnel plot and run chart, to look at together.

A screen of its own (F4 or the palette from the dialogue; Esc back), so the dialogue screen only
gains one key. The pictures are drawn with textual-plotext from the same chart data as the
documents (``assistant/data/charts.py``); plotext is imported when the screen opens, never at
start-up. Text from a data file (a peer group's name) is made terminal-safe before plotext sees
it: plotext's output is read back as ANSI, so an escape sequence in a name must never reach it.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from assistant import verbs
from assistant.data import charts
from assistant.textsafe import terminal_safe
from assistant.tui.keys import bindings
from assistant.tui.text import flag_mark, plain
from assistant.tui.widgets import KeyBar, TopBar

COMPACT_HEIGHT = 34  # below this one picture at a time (V switches)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _pct_ticks(lo: float, hi: float, count: int = 5) -> tuple[list[float], list[str]]:
    step = (hi - lo) / max(1, count - 1) if hi > lo else 0.01
    ticks = [lo + i * step for i in range(count)]
    decimals = 1 if hi - lo < 0.05 else 0
    return ticks, [f"{t * 100:.{decimals}f} %".replace(".", ",") for t in ticks]


class DataScreen(Screen):
    """The clinic's indicators (left) and the selected one's pictures and explanation (right)."""

    BINDINGS = bindings(verbs.DATA)
    DEFAULT_CSS = """
    DataScreen #data-body { height: 1fr; }
    DataScreen #indicator-list { width: 30; height: 1fr; }
    DataScreen #data-right { width: 1fr; height: 1fr; }
    DataScreen #explanation { height: auto; max-height: 9; padding: 0 1; }
    DataScreen.compact #explanation { max-height: 5; }
    DataScreen .plot { height: 1fr; min-height: 8; }
    DataScreen.compact .plot.hidden { display: none; }
    DataScreen #plot-caption { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, clinic: str, flags: list[Any]) -> None:
        super().__init__()
        self.clinic = clinic
        self.flags = [f for f in flags if f.value is not None]
        self.showing = charts.FUNNEL

    def compose(self) -> ComposeResult:
        from textual_plotext import PlotextPlot

        back = next(v for v in verbs.DATA if v.id == "back")
        yield TopBar(
            Content.assemble(("Data · ", "bold"), plain(self.clinic, "bold")),
            Content(f"{back.display} {back.help}"),
            id="topbar",
        )
        with Horizontal(id="data-body"):
            options = [
                Option(Content.assemble(flag_mark(f), " ", plain(f.label), (f" {f.period}", "$text-muted")), id=str(i))
                for i, f in enumerate(self.flags)
            ]
            yield OptionList(*options, id="indicator-list")
            with Vertical(id="data-right"):
                with VerticalScroll(id="explanation"):
                    yield Static("", id="explanation-text", markup=False)
                yield Static("", id="plot-caption", markup=False)
                yield PlotextPlot(id="funnel", classes="plot")
                yield PlotextPlot(id="run", classes="plot")
        yield KeyBar()

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        if self.flags:
            first = next((i for i, f in enumerate(self.flags) if f.states or f.stands_out), 0)
            listing.highlighted = first
            self.show(first)
        else:
            self.query_one("#explanation-text", Static).update(Content("Ingen data importerad för mottagningen."))
        listing.focus()
        self.layout_for(self.size.height)

    def on_resize(self, event: Any) -> None:
        self.layout_for(event.size.height)

    def layout_for(self, height: int) -> None:
        compact = height < COMPACT_HEIGHT
        self.set_class(compact, "compact")
        self.query_one("#funnel").set_class(compact and self.showing != charts.FUNNEL, "hidden")
        self.query_one("#run").set_class(compact and self.showing != charts.RUN, "hidden")
        caption = "V växlar mellan trattdiagram och serie över tid." if compact else ""
        self.query_one("#plot-caption", Static).update(Content(caption))

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self.show(int(event.option.id))

    def action_switch(self) -> None:
        self.showing = charts.RUN if self.showing == charts.FUNNEL else charts.FUNNEL
        self.layout_for(self.size.height)

    def action_back(self) -> None:
        self.app.pop_screen()

    # ------------------------------------------------------------ drawing

    def show(self, index: int) -> None:
        flag = self.flags[index]
        data = charts.chart_data(flag)
        text = [plain(flag.label + " " + str(flag.period), "bold"), "\n", plain(flag.text)]
        for line in charts.text_lines(data):
            text += ["\n", plain(line, "$text-muted")]
        self.query_one("#explanation-text", Static).update(Content.assemble(*text))
        self.draw_funnel(data)
        self.draw_run(data)

    def _plot(self, which: str):
        from textual_plotext import PlotextPlot

        widget = self.query_one(f"#{which}", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        return widget, plt

    def draw_funnel(self, data: dict[str, Any] | None) -> None:
        widget, plt = self._plot(charts.FUNNEL)
        if not charts.available(data, charts.FUNNEL):
            plt.title("Ingen jämförelse med andra enheter")
            widget.refresh()
            return
        f = data["funnel"]
        curves = charts.funnel_curves(data)
        for key, colour in (("998", charts.LIMIT_998), ("95", charts.LIMIT_95)):
            ns = [c[0] for c in curves[key]]
            plt.plot(ns, [c[1] for c in curves[key]], color=_rgb(colour), marker="braille")
            plt.plot(ns, [c[2] for c in curves[key]], color=_rgb(colour), marker="braille")
        plt.hline(f["pooled"], _rgb(charts.CENTRE))
        if data.get("target") is not None:
            plt.hline(data["target"], _rgb(charts.TARGET))
        if f["points"]:
            plt.scatter([n for n, _ in f["points"]], [p for _, p in f["points"]], color=_rgb(charts.PEER), marker="•")
        plt.scatter([data["n"]], [data["value"]], color=_rgb(charts.OWN), marker="●")
        plt.xscale("log")
        lo_n, hi_n = curves["998"][0][0], curves["998"][-1][0]
        nticks = [lo_n * (hi_n / lo_n) ** (i / 4) for i in range(5)]
        plt.xticks(nticks, [f"{round(n):,}".replace(",", " ") for n in nticks])
        ys = [c[1] for c in curves["998"]] + [c[2] for c in curves["998"]] + [p for _, p in f["points"]] + [data["value"]]
        ticks, labels = _pct_ticks(min(ys), max(ys))
        plt.yticks(ticks, labels)
        group = terminal_safe(str(f.get("group") or "andra enheter"))
        plt.title(terminal_safe(f"{data['label']} {data['period']} bland {group}"))
        plt.xlabel("antal (n) – ● enheten, • andra, linjer: 95 % och 99,8 %, sammanvägt, mål")
        widget.refresh()

    def draw_run(self, data: dict[str, Any] | None) -> None:
        widget, plt = self._plot(charts.RUN)
        if not charts.available(data, charts.RUN):
            plt.title("För få perioder för en serie")
            widget.refresh()
            return
        h = data["history"]
        periods = [terminal_safe(str(p)) for p, _, _ in h["points"]]
        xs = list(range(1, len(periods) + 1))
        values = [v for _, v, _ in h["points"]]
        lims = charts.run_limits(data) if data.get("kind", "share") == "share" else []
        ys = list(values)
        if lims:
            for idx, colour in ((3, charts.LIMIT_998), (4, charts.LIMIT_998), (1, charts.LIMIT_95), (2, charts.LIMIT_95)):
                line = [x[idx] for x in lims]
                ys += line
                plt.plot(xs, line, color=_rgb(colour), marker="braille")
        if h.get("centre") is not None:
            plt.hline(h["centre"], _rgb(charts.CENTRE))
        if data.get("target") is not None:
            plt.hline(data["target"], _rgb(charts.TARGET))
        plt.plot(xs, values, color=_rgb(charts.PEER), marker="braille")
        plt.scatter(xs[:-1], values[:-1], color=_rgb(charts.PEER), marker="•")
        plt.scatter([xs[-1]], [values[-1]], color=_rgb(charts.OWN), marker="●")
        plt.xticks(xs, periods)
        if data.get("kind", "share") == "share":
            ticks, labels = _pct_ticks(min(ys), max(ys))
            plt.yticks(ticks, labels)
        plt.title(terminal_safe(f"{data['label']}: egna perioder"))
        plt.xlabel("● senaste perioden – linjer: 95 % och 99,8 %, medel, mål")
        widget.refresh()

"""The command palette (Ctrl+P) in Swedish: Textual's own, with its words translated."""

from __future__ import annotations

from textual.binding import Binding
from textual.command import CommandList, CommandPalette
from textual.widgets.option_list import Option

PLACEHOLDER = "Sök bland kommandon …"
THEMES_PLACEHOLDER = "Sök bland färgteman …"
NO_MATCHES = "Inga kommandon matchar"


class SwedishPalette(CommandPalette):
    BINDINGS = [
        Binding("ctrl+end, shift+end", "command_list('last')", "Till slutet", show=False),
        Binding("ctrl+home, shift+home", "command_list('first')", "Till början", show=False),
        Binding("down", "cursor_down", "Nästa", show=False),
        Binding("escape", "escape", "Stäng"),
        Binding("pagedown", "command_list('page_down')", "Nästa sida", show=False),
        Binding("pageup", "command_list('page_up')", "Förra sidan", show=False),
        Binding("up", "command_list('cursor_up')", "Föregående", show=False),
    ]

    def __init__(self, *args, placeholder: str = PLACEHOLDER, **kwargs) -> None:
        super().__init__(*args, placeholder=placeholder, **kwargs)

    def _start_no_matches_countdown(self, search_value: str) -> None:
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                from rich.align import Align
                from rich.text import Text

                self.query_one(CommandList).add_option(
                    Option(Align.center(Text(NO_MATCHES, style="not bold")), disabled=True, id=self._NO_MATCHES)
                )
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)

"""The Textual app: `dialogstod` (no subcommand) and `dialogstod serve`.

The TUI keeps no dialogue state of its own: it holds an ``assistant.session.Dialogue`` and re-reads
``dialogue.state`` after each ``dialogue.do(...)``. User text is always shown as plain content
(never markup) and passed through ``assistant.textsafe.terminal_safe`` first.

Start-up is a budget: ``assistant.tui.app`` imports only Textual and the start screen; storage,
the engine and the other screens are imported in a worker after the first paint.
"""

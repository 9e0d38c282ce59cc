"""What the engine refuses: a command that does not fit the state (``EngineError``) and events
that do not fit the flow or each other (``ReplayError``). Both messages are Swedish, for the user."""


class EngineError(Exception):
    """A command that does not fit the state. The message is Swedish and meant for the user."""


class ReplayError(Exception):
    """The events do not fit the flow or each other (a damaged or foreign log)."""

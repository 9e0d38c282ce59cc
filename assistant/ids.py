"""Stable identifiers used in flows, rules and the indicator catalogue."""

from typing import Annotated

from pydantic import StringConstraints

# Lower-case ASCII words joined by '.', '_' or '-': "p4.konkret.omrade", "fysioterapi-2023".
ID_PATTERN = r"^[a-z0-9]+([._-][a-z0-9]+)*$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=120)]

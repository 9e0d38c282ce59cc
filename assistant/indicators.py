"""The indicator catalogue (``flows/indicators.toml``): what each indicator is and how to read it.

Which questions an indicator belongs to is said once, on the question (``indicators = [...]`` in a
flow file); ``Flow.questions_for_indicator`` gives the inverse.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.ids import Id


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: Id
    name: str = Field(min_length=1, max_length=200)
    short: str | None = Field(default=None, max_length=40)
    source: str = Field(min_length=1, max_length=200)
    kind: Literal["share", "mean", "count"] = "share"
    direction: Literal["higher", "lower", "neutral"] = "neutral"
    target: float | None = None
    min_n: int = Field(default=30, ge=1, le=1_000_000)
    description: str | None = Field(default=None, max_length=2000)
    unit: str | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def _target_fits(self) -> Indicator:
        if self.kind == "share" and self.target is not None and not 0.0 <= self.target <= 1.0:
            raise ValueError("målet för en andel ska ligga mellan 0 och 1")
        return self

    @property
    def label(self) -> str:
        return self.short or self.name


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    indicators: list[Indicator] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        seen: set[str] = set()
        for i, ind in enumerate(self.indicators):
            if ind.id in seen:
                raise ValueError(f"indicators[{i}].id: id {ind.id!r} finns redan")
            seen.add(ind.id)
        return self

    def get(self, indicator_id: str) -> Indicator | None:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        return None

    @property
    def ids(self) -> set[str]:
        return {ind.id for ind in self.indicators}

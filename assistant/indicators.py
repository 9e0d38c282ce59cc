"""The indicator catalogue (``flows/indicators.toml``): what each indicator is, where its numbers
come from, how to read it – and which clinics are compared with which.

Which questions an indicator belongs to is said once, on the question (``indicators = [...]`` in a
flow file); ``Flow.questions_for_indicator`` gives the inverse.

Peers: a clinic is compared only with clinics of its own peer group (``assistant/data/peers.py``):
a group the region defines here (``[[peer_groups]]``), else the clinic's kind (``[[kinds]]``: from a
``typ``/``jämförelsegrupp`` column in the data, or from the flow of the clinic's dialogues), else
the group of clinics whose kind is not known.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.ids import Id
from assistant.tomlfiles import CATALOGUE_NAME, load_validated


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: Id
    name: str = Field(min_length=1, max_length=200)
    short: str | None = Field(default=None, max_length=40)
    source: str = Field(min_length=1, max_length=200)
    kind: Literal["share", "mean", "count"] = "share"
    direction: Literal["higher", "lower", "neutral"] = "neutral"
    target: float | None = None
    # Where the target comes from: a named source, or explicitly the region's own setting (a target
    # with neither is read as a regional setting; the shipped catalogue always says which – a test checks).
    target_source: str | None = Field(default=None, min_length=1, max_length=300)
    target_regional: bool = False
    min_n: int = Field(default=30, ge=1, le=1_000_000)
    description: str | None = Field(default=None, max_length=2000)
    unit: str | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def _target_fits(self) -> Indicator:
        if self.kind == "share" and self.target is not None and not 0.0 <= self.target <= 1.0:
            raise ValueError("målet för en andel ska ligga mellan 0 och 1")
        if self.target is not None and self.direction == "neutral":
            raise ValueError("en neutral indikator kan inte ha mål")
        if self.target is None and (self.target_source or self.target_regional):
            raise ValueError("target_source och target_regional gäller bara en indikator med mål")
        return self

    @property
    def label(self) -> str:
        return self.short or self.name

    @property
    def target_origin(self) -> str | None:
        """How the explanation names where the target comes from (None without a target)."""
        if self.target is None:
            return None
        if self.target_source:
            return self.target_source
        return "regional inställning i indikatorkatalogen, inte en nationell norm"


class ClinicKind(BaseModel):
    """A kind of clinic (fysioterapi, vårdcentral): clinics of one kind are each other's peers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    name: str = Field(min_length=1, max_length=100)  # "fysioterapimottagning"
    plural: str = Field(min_length=1, max_length=100)  # "fysioterapimottagningar"
    aliases: list[str] = Field(default_factory=list, max_length=50)  # other spellings in a data file


class PeerGroup(BaseModel):
    """A peer group the region defines: these clinics are compared with each other only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    clinics: list[str] = Field(min_length=2, max_length=10_000)


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    indicators: list[Indicator] = Field(default_factory=list, max_length=10_000)
    kinds: list[ClinicKind] = Field(default_factory=list, max_length=100)
    peer_groups: list[PeerGroup] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        seen: set[str] = set()
        for i, ind in enumerate(self.indicators):
            if ind.id in seen:
                raise ValueError(f"indicators[{i}].id: id {ind.id!r} finns redan")
            seen.add(ind.id)
        kinds: set[str] = set()
        for i, kind in enumerate(self.kinds):
            if kind.id in kinds:
                raise ValueError(f"kinds[{i}].id: id {kind.id!r} finns redan")
            kinds.add(kind.id)
        members: dict[str, str] = {}
        names: set[str] = set()
        for i, group in enumerate(self.peer_groups):
            if group.name.casefold() in names:
                raise ValueError(f"peer_groups[{i}].name: gruppen {group.name!r} finns redan")
            names.add(group.name.casefold())
            for clinic in group.clinics:
                key = " ".join(clinic.split()).casefold()
                if key in members and members[key] != group.name:
                    raise ValueError(
                        f"peer_groups[{i}]: enheten {clinic!r} finns redan i gruppen {members[key]!r}"
                    )
                members[key] = group.name
        return self

    def get(self, indicator_id: str) -> Indicator | None:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        return None

    def kind(self, kind_id: str) -> ClinicKind | None:
        for kind in self.kinds:
            if kind.id == kind_id:
                return kind
        return None

    @property
    def ids(self) -> set[str]:
        return {ind.id for ind in self.indicators}


# ---------------------------------------------------------------- loading


def load_catalogue(path: Path) -> Catalogue:
    """One indicator catalogue file, validated (a located FlowError)."""
    return load_validated(path, Catalogue)


def default_catalogue() -> Catalogue | None:
    """The shipped indicator catalogue, with a region's own ``indicators.toml`` (in the user flows
    directory) laid over it: an indicator or kind there replaces the shipped one with the same id
    (a region's own target, say), new ids are added, and its ``peer_groups`` are the groups used."""
    from assistant import locations

    shipped = locations.shipped_flows_dir() / CATALOGUE_NAME
    own = locations.user_flows_dir() / CATALOGUE_NAME
    key = tuple((str(p), p.stat().st_mtime) for p in (shipped, own) if p.exists())
    if not key:
        return None
    cached = _CATALOGUES.get(key)
    if cached is None:
        merged: dict[str, Any] = {}
        kinds: dict[str, Any] = {}
        groups: list[Any] = []
        for path in (shipped, own):
            if path.exists():
                loaded = load_catalogue(path)
                for ind in loaded.indicators:
                    merged[ind.id] = ind
                for kind in loaded.kinds:
                    kinds[kind.id] = kind
                if loaded.peer_groups:
                    groups = list(loaded.peer_groups)  # the region's own groups replace any shipped ones
        cached = Catalogue(indicators=list(merged.values()), kinds=list(kinds.values()), peer_groups=groups)
        _CATALOGUES.clear()
        _CATALOGUES[key] = cached
    return cached


_CATALOGUES: dict[tuple, Catalogue] = {}

"""Peer groups: whom a clinic is compared with.

A clinic is compared only with the clinics of its peer group, decided in this order:

1. a group the region defines in the indicator catalogue (``[[peer_groups]]``: a name and clinics);
2. the clinic's kind from the data (a ``typ``/``jämförelsegrupp`` column), read through the
   catalogue's ``[[kinds]]`` and their aliases ("Fysio", "fysioterapimottagning" → fysioterapi);
   a kind the catalogue does not know is a group of its own, by its text;
3. the kind of the flow of the clinic's dialogues (``clinic_kind`` in the flow file);
4. otherwise the clinic's kind is not known, and all such clinics form one group – so a plain
   data file without that column still gets comparisons, while a vårdcentral whose kind is known
   is never compared with physiotherapy clinics.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from assistant.data.importer import fold
from assistant.indicators import Catalogue

UNKNOWN_KEY = "okänd"


@dataclass(frozen=True)
class PeerGroup:
    key: str  # what makes clinics peers: "kind:fysioterapi", "group:…", "data:…" or "okänd"
    others: str  # how the explanation names the other members: "fysioterapimottagningar"
    source: str  # "region", "data", "flow" or "unknown"

    @property
    def known(self) -> bool:
        return self.source != "unknown"


UNKNOWN = PeerGroup(UNKNOWN_KEY, "enheter vars typ inte är känd", "unknown")


@lru_cache(maxsize=65536)
def clinic_key(name: str) -> str:
    """How clinic names are compared: case-folded, whitespace collapsed (as storage keys them)."""
    return " ".join(unicodedata.normalize("NFC", str(name)).split()).casefold()


def _kind_group(kind_id: str, catalogue: Catalogue, source: str) -> PeerGroup:
    kind = catalogue.kind(kind_id)
    return PeerGroup(f"kind:{kind_id}", kind.plural if kind else kind_id, source)


def kind_of_text(text: str, catalogue: Catalogue) -> str | None:
    """The catalogue kind a data file's typ text names (id, name, plural or an alias), or None."""
    folded = fold(text)
    for kind in catalogue.kinds:
        if folded in {fold(kind.id), fold(kind.name), fold(kind.plural), *(fold(a) for a in kind.aliases)}:
            return kind.id
    return None


def resolve_groups(
    rows: Iterable[Mapping[str, Any]],
    catalogue: Catalogue,
    flow_kinds: Mapping[str, str] | None = None,
) -> dict[str, PeerGroup]:
    """clinic_key → PeerGroup for every clinic in ``rows``.

    ``flow_kinds`` maps clinic_key → the ``clinic_kind`` of the flow its dialogues use. A row's
    ``kind`` is the text of the data's typ column (the clinic's newest non-empty one counts).
    """
    region: dict[str, PeerGroup] = {}
    for group in catalogue.peer_groups:
        for clinic in group.clinics:
            region[clinic_key(clinic)] = PeerGroup(
                f"group:{group.name.casefold()}", f"enheter i jämförelsegruppen {group.name}", "region"
            )
    data_kind: dict[str, tuple[tuple, str]] = {}
    clinics: set[str] = set()
    from assistant.data.stats import period_key

    for r in rows:
        key = clinic_key(r["clinic"])
        clinics.add(key)
        text = (r.get("kind") or "").strip()
        if text:
            order = period_key(str(r.get("period", "")))
            if key not in data_kind or order >= data_kind[key][0]:
                data_kind[key] = (order, text)
    out: dict[str, PeerGroup] = {}
    for key in clinics:
        if key in region:
            out[key] = region[key]
        elif key in data_kind:
            text = data_kind[key][1]
            kind_id = kind_of_text(text, catalogue)
            if kind_id is not None:
                out[key] = _kind_group(kind_id, catalogue, "data")
            else:
                out[key] = PeerGroup(f"data:{fold(text)}", f"enheter av typen {text}", "data")
        elif flow_kinds is not None and flow_kinds.get(key):
            out[key] = _kind_group(flow_kinds[key], catalogue, "flow")
        else:
            out[key] = UNKNOWN
    return out


def _bare(name: str) -> str:
    """'Fysio Norr (påhittad)' -> 'fysio norr': without a parenthesis at the end, case or extra spaces."""
    import re

    return " ".join(re.sub(r"\s*\([^)]*\)\s*$", "", name).split()).casefold()


def likely_clinic(known: list[str], typed: str) -> str | None:
    """The one known clinic a name that is not known probably means: "Fysio Norr" for "Fysio Norr
    (påhittad)" (the same name without its parenthesis), or the only one that begins with it. None
    when the name is known as typed, or when it could mean none or several."""
    wanted = " ".join(typed.split()).casefold()
    if not wanted or any(k.casefold() == wanted for k in known):
        return None
    same = [k for k in known if _bare(k) == _bare(typed)]
    if len(same) == 1:
        return same[0]
    starts = [k for k in known if k.casefold().startswith(wanted)] if len(wanted) >= 4 else []
    return starts[0] if len(starts) == 1 else None

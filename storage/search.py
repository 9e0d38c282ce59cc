"""Full-text search over what was said in every dialogue (FTS5, kept by triggers)."""

from __future__ import annotations

import sqlite3
import unicodedata
from typing import Any

from .base import StoreBase, clean_clinic, guarded
from .errors import StorageError


def _fts_query(query: str) -> str:
    """The user's words as an FTS5 query: each word a quoted string (so no FTS syntax gets through),
    a trailing ``*`` kept as a prefix search; all words must match."""
    if not isinstance(query, str):
        raise StorageError("Sökningen måste vara text.")
    terms = []
    # Control characters separate words: a NUL would otherwise end the FTS5 query mid-string.
    spaced = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in unicodedata.normalize("NFC", query))
    for word in spaced.split():
        prefix = word.endswith("*")
        core = word.rstrip("*")
        if not any(ch.isalnum() for ch in core):
            continue
        terms.append('"' + core.replace('"', '""') + '"' + ("*" if prefix else ""))
    if not terms:
        if query.strip():
            raise StorageError(
                f"Sökningen {query.strip()!r} innehåller inga ord att söka efter. Skriv ett eller flera ord, "
                "gärna med * i slutet för att söka på ordets början (till exempel avvik*)."
            )
        raise StorageError("Skriv något att söka efter, till exempel avvik* eller ett ord ur ett svar.")
    return " ".join(terms)



class Search(StoreBase):
    @guarded
    def search(self, query: str, *, limit: int = 50, clinic: str | None = None) -> list[dict[str, Any]]:
        """Full-text search over prompts, answers, notes, actions, corrections and clinic names.

        Every word must occur, in the text or the clinic's name (case-insensitive; å, ä, ö are
        letters of their own); ``avvik*`` matches words starting with "avvik". Hits come most
        recently stored first: ranking every hit by relevance (bm25) costs ~300 ms for a common word
        in a 1 M-event archive, while newest-first stops after ``limit`` hits. The snippet marks
        hits with « and ». A query with no words is a StorageError."""
        match = _fts_query(query)
        sql = """
            SELECT e.dialogue_id, c.name AS clinic, d.flow_id, e.seq, e.kind, e.qid, e.at,
                   snippet(search_fts, -1, '«', '»', '…', 12) AS snippet
            FROM search_fts
            JOIN events e ON e.id = search_fts.rowid
            JOIN dialogues d ON d.id = e.dialogue_id
            JOIN clinics c ON c.id = d.clinic_id
            WHERE search_fts MATCH ?
        """
        params: list[Any] = [match]
        if clinic is not None:
            name = clean_clinic(clinic)
            if any(ch.isalnum() for ch in name):
                # Let the index narrow to the clinic's rows too (the key comparison stays exact).
                params[0] = f'clinic : "{name.replace(chr(34), chr(34) * 2)}" AND {match}'
            sql += " AND c.key = ?"
            params.append(name.casefold())
        sql += " ORDER BY search_fts.rowid DESC LIMIT ?"
        params.append(max(0, int(limit)))
        try:
            return self._rows(sql, tuple(params))
        except sqlite3.OperationalError as exc:
            # Cannot happen with quoted terms, but never let FTS syntax errors reach the user raw.
            raise StorageError(
                f"Sökningen {query!r} kunde inte tolkas ({exc}). Prova med enklare ord."
            ) from None

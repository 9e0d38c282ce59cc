"""The words of Dialogstöd, said once: the terms the app, the line mode, the exports and the help
use, what each means, and the small phrases built from them (counts, the meeting clock, the hint
under a choice question). Operating system errors are said in Swedish by ``assistant.fileio.reason``.

A term is never said with a synonym: ``AVOID`` lists the words that are not used (a test reads the
code, the templates, the flows and the user guide for them). The statistical terms are explained
at length in ``docs/statistics.md``, whose glossary table uses these words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    word: str
    means: str


# ---------------------------------------------------------------- the meeting

TOUCHED = Term(
    "berört",
    "Ett område är berört när minst en av områdets egna frågor är besvarad. Övningen Konkret exempel "
    "räknas för sig: den gör inte sitt område berört.",
)
UNTOUCHED = Term("ej berört", "Ingen av områdets egna frågor är besvarad ännu.")
COMPLETE = Term("klart", "Alla områdets frågor är besvarade eller överhoppade, ingen är parkerad.")
FOCUS = Term("fokusområde", "Ett område som en part valt ut som extra viktigt att diskutera; det tas först.")
PARKED = Term("parkeringsplatsen", "Frågor som sparats till senare i mötet.")
MEETING_TIME = Term(
    "mötestid",
    "Tiden som gått i mötet, mot den planerade tiden. Ett uppehåll på mer än 30 minuter räknas som paus.",
)
DISCUSSED_DATA = Term(
    "data som diskuterades",
    "Data som visades när mötet började och som dialogen tog upp: ett förslag om den togs, en fråga om "
    "den (också en fråga om samma ämne) besvarades, eller en anteckning eller åtgärd gjordes medan en "
    "sådan fråga var uppe.",
)

# ---------------------------------------------------------------- the data (docs/statistics.md)

TARGET = Term(
    "mål",
    "Den nivå en indikator följs upp mot, t.ex. 85 % för telefontillgänglighet (katalogen, datafilen "
    "eller regionens egen inställning säger varifrån).",
)
UNCERTAINTY = Term(
    "osäkerhetsintervall",
    "Hur mycket andelen skulle kunna variera av slumpen i en jämförbar period (95 %). Det enda "
    "intervallet i texterna.",
)
COMMON_VARIATION = Term(
    "gränser för vanlig variation",
    "Hur långt från ett mittvärde en andel kan hamna bara av vanlig variation (95 % och 99,8 %): runt "
    "jämförbara enheter, runt målet och runt enhetens egna perioder.",
)
POOLED = Term("sammanvägt", "Andelen för alla jämförbara enheter tillsammans.")
CLEARLY = Term("tydligt", "Utanför 99,99 %-gränserna: mycket mer än vanlig variation förklarar.")

MEETING_TERMS = (TOUCHED, UNTOUCHED, COMPLETE, FOCUS, PARKED, MEETING_TIME, DISCUSSED_DATA)
DATA_TERMS = (TARGET, UNCERTAINTY, COMMON_VARIATION, POOLED, CLEARLY)
GLOSSARY = MEETING_TERMS + DATA_TERMS

def document_terms(*, data: bool, focus: bool) -> tuple[Term, ...]:
    """The terms a documentation document explains at its end ("Ord i dokumentet")."""
    terms = [TOUCHED, UNTOUCHED] + ([FOCUS] if focus else []) + [PARKED]
    if data:
        terms += [DISCUSSED_DATA, *DATA_TERMS]
    return tuple(terms)


# Words that are not used, and the term that is (the test looks for them case-insensitively).
AVOID = {
    "tröskel": TARGET.word,
    "tröskelvärde": TARGET.word,
    "konfidensintervall": UNCERTAINTY.word,
    "felmarginal": UNCERTAINTY.word,
    "oberört": UNTOUCHED.word,
    "oberörda": "ej berörda",
    "täckt": TOUCHED.word,
}

# ---------------------------------------------------------------- coverage marks

COVERAGE_MARKS = {"complete": "✓", "touched": "●", "untouched": "○"}
COVERAGE_WORDS = {"complete": COMPLETE.word, "touched": TOUCHED.word, "untouched": UNTOUCHED.word}


def coverage_mark(status: str) -> str:
    """○ ej berört, ● berört, ✓ klart."""
    return COVERAGE_MARKS.get(status, COVERAGE_MARKS["untouched"])


def coverage_legend() -> str:
    return " · ".join(f"{COVERAGE_MARKS[s]} {COVERAGE_WORDS[s]}" for s in ("untouched", "touched", "complete"))


# ---------------------------------------------------------------- phrases


def counted(n: int, one: str, many: str) -> str:
    """'1 rad', '2 rader', '0 rader'."""
    return f"{n} {one if n == 1 else many}"


def minutes(seconds: float) -> int:
    return int(max(0.0, seconds) // 60)


def meeting_time(elapsed_seconds: float, planned_minutes: int) -> str:
    """'Mötestid 12 av 90 min' – the same in the app's header, the line mode and /status."""
    return f"Mötestid {minutes(elapsed_seconds)} av {planned_minutes} min"


def question_counter(position: int, total: int) -> str:
    """'fråga 3 av 8' (in its area), 'följdfråga' for a question outside the bank."""
    return f"fråga {position} av {total}" if position else "följdfråga"


def answer_hint(kind: str, *, allow_other: bool = False, scale: tuple[int, int] | None = None) -> str | None:
    """The line under a question that says how to answer it."""
    other = " eller skriv ett eget svar" if allow_other else " eller texten"
    if kind == "single":
        return f"Svara med siffran{other}."
    if kind == "multi":
        return f"Svara med en eller flera siffror (t.ex. 1, 3){other}."
    if kind == "scale" and scale:
        return f"Svara {scale[0]}–{scale[1]}."
    if kind == "number":
        return "Svara med ett tal."
    return None


def suggestion_leads_to(labels: tuple[str, ...] | list[str], shown: int = 2) -> tuple[list[str], str | None]:
    """The questions a suggestion would ask: the first ``shown``, and "och N frågor till" for the rest."""
    rest = len(labels) - shown
    return [str(label) for label in labels[:shown]], ("och " + counted(rest, "fråga till", "frågor till")) if rest > 0 else None

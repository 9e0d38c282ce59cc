"""Swedish words: the lemma of a word form and the parts of a compound.

    lemma("ramlat") == "ramla"      lemma("föll") == "falla"      lemma("vakanta") == "vakant"
    lemma("levnadsvanesamtalen") == "levnadsvanesamtal"   (an unknown compound: its last part's lemma)
    parts("levnadsvanesamtalen") == (Part("levnadsvane", "levnadsvana"), Part("samtalen", "samtal"))

Both are pure functions over a fixed dictionary: simplemma's Swedish word list (~960 000 word forms,
each with its lemma). The same word always gives the same answer. The dictionary is read on first use
(about a second, ~20 MB), never at start-up: nothing imports simplemma until a word is looked up, and
``warm()`` lets a worker thread pay that second before anyone waits for it. The memory-frugal
variant of simplemma's dictionary is used (a sparse index over the compressed word list): the
ordinary one costs ~100 MB, which is more than the whole app.

Compounds are split against the same dictionary: the longest last part that is a Swedish word form,
and a first part that is a word itself, or one once the linking letters Swedish puts between the
parts are undone (levnadsvane → levnadsvana, arbets → arbete, kyrko → kyrka), or a compound of its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

LANG = "sv"
MIN_PART = 3  # shorter "parts" (en, av, ut, ö) split far too many plain words
MIN_COMPOUND = 6
MAX_WORD = 60  # longer tokens are not words (URLs, pasted data): not analysed

_lock = threading.Lock()
_loaded: dict[str, Any] = {}


@dataclass(frozen=True)
class Part:
    """One part of a compound: as written inside the word, and its lemma."""

    form: str
    lemma: str


def _resources() -> dict[str, Any]:
    if "lemmatizer" not in _loaded:
        with _lock:
            if "lemmatizer" not in _loaded:
                from simplemma import Lemmatizer
                from simplemma.strategies import DefaultStrategy
                from simplemma.strategies.dictionaries import StreamDictionaryFactory

                factory = StreamDictionaryFactory()
                words = factory.get_dictionary(LANG)  # the one slow step
                _loaded["words"] = words
                _loaded["lemmatizer"] = Lemmatizer(
                    cache_max_size=0, lemmatization_strategy=DefaultStrategy(dictionary_factory=factory)
                )
    return _loaded


def is_loaded() -> bool:
    return "lemmatizer" in _loaded


def warm() -> None:
    """Read the dictionary now (from a worker thread), so the first answer does not wait for it."""
    _resources()


def _lookup(form: str) -> str | None:
    """The lemma of an exact word form in the dictionary, or None."""
    return _resources()["words"].get(form)


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """The lemma of a (lower-case) word form; an unknown word is its own lemma."""
    if not word or len(word) > MAX_WORD:
        return word
    found = _lookup(word)
    if found is not None:
        return found
    split = parts(word)
    if split:  # an unknown compound: its first parts as written, its last part's lemma
        return "".join(p.form for p in split[:-1]) + split[-1].lemma
    return _resources()["lemmatizer"].lemmatize(word, LANG).casefold()


def linking_forms(word: str) -> list[str]:
    """How a word may be written as the first part of a compound (the inverse of undoing linking
    letters): levnadsvana → levnadsvane-, arbete → arbets-, fall → falls-."""
    out = [word, word + "s"]
    if word.endswith("a"):
        out += [word[:-1] + "e", word[:-1] + "o", word[:-1] + "u", word[:-1]]
    if word.endswith("e"):
        out += [word[:-1], word[:-1] + "s"]
    return [f for f in dict.fromkeys(out) if len(f) >= MIN_PART]


def _first_part_forms(head: str) -> list[str]:
    """What a compound's first part may be as a word of its own, linking letters undone."""
    out = [head]
    last = head[-1]
    if last == "s":  # arbets-miljö, levnads-vana, sjukdoms-fall
        out += [head[:-1], head[:-1] + "e", head[:-1] + "a"]
    if last in "eou":  # levnadsvane-samtal, kyrko-gård, gatu-kök
        out.append(head[:-1] + "a")
    if last == "e":
        out.append(head[:-1])
    if last not in "aeiouyåäö":  # flick-vän, pojk-rum
        out += [head + "a", head + "e"]
    return [f for f in out if len(f) >= MIN_PART]


@lru_cache(maxsize=65536)
def first_part_lemma(head: str) -> str | None:
    """The lemma of a compound's first part as written inside it, linking letters undone."""
    for form in _first_part_forms(head):
        found = _lookup(form)
        if found is not None:
            return found
    return None


def _split(word: str, depth: int) -> tuple[Part, ...] | None:
    tails = [(i, t) for i in range(MIN_PART, len(word) - MIN_PART + 1) if (t := _lookup(word[i:])) is not None]
    for i, tail_lemma in tails:  # two parts, the longest last part first
        head = first_part_lemma(word[:i])
        if head is not None:
            return (Part(word[:i], head), Part(word[i:], tail_lemma))
    if depth > 0:  # a first part that is a compound of its own
        for i, tail_lemma in tails:
            if i >= 2 * MIN_PART and (first := _split(word[:i], depth - 1)) is not None:
                return first + (Part(word[i:], tail_lemma),)
    return None


@lru_cache(maxsize=65536)
def is_word_or_compound(form: str) -> bool:
    """A word form the dictionary knows, or a compound of such words."""
    return len(form) >= MIN_PART and (is_word(form) or bool(parts(form)))


@lru_cache(maxsize=65536)
def parts(word: str) -> tuple[Part, ...]:
    """The parts of a compound, first to last; () for a word that is not one."""
    if len(word) < MIN_COMPOUND or len(word) > MAX_WORD or not word.isalpha():
        return ()
    return _split(word, depth=2) or ()


@lru_cache(maxsize=65536)
def is_word(form: str) -> bool:
    """Whether the dictionary knows this exact word form."""
    return bool(form) and len(form) <= MAX_WORD and _lookup(form) is not None

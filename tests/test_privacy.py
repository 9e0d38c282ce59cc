"""Swedish personal identity numbers are masked before anything is stored or exported."""

from __future__ import annotations

import pytest

from assistant.privacy import MASK, luhn_ok, mask_identity_numbers

VALID = [
    "811218-9876",  # Skatteverket's example
    "8112189876",
    "19811218-9876",
    "198112189876",
    "811218+9876",  # a centenarian's separator
    "701063-2391",  # samordningsnummer (day + 60)
]
NOT_NUMBERS = [
    "811218-9875",  # wrong check digit
    "811318-9876",  # month 13
    "811232-9876",  # day 32
    "070-123 45 67",  # mobile number
    "0701234567",  # mobile number, digits only (not a valid date)
    "2024-01-15",  # an ISO date
    "20240115",  # a compact date
    "1234567890",
    "5561234567",  # looks like an organisationsnummer
    "ref 811218-98761",  # longer digit run
    "Tel 08-123 456 78",
    "20000229-1234",  # a real leap day, but the check digit is wrong
]


def test_luhn():
    assert luhn_ok("8112189876")
    assert not luhn_ok("8112189875")


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_are_found_and_masked(number):
    text = f"Patienten {number} ringde."
    masked = mask_identity_numbers(text)
    assert masked.count == 1
    assert masked.text == f"Patienten {MASK} ringde."


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_look_alikes_are_left_alone(text):
    assert mask_identity_numbers(text).text == text


def test_several_numbers_in_one_text():
    masked = mask_identity_numbers("811218-9876 och 19811218-9876, inte 2024-01-15")
    assert masked.count == 2
    assert masked.text == f"{MASK} och {MASK}, inte 2024-01-15"

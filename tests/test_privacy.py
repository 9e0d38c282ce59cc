"""Swedish personal identity numbers are masked before anything is stored or exported."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.privacy import MASK, luhn_ok, mask_identity_numbers

VALID = [
    "811218-9876",  # Skatteverket's example
    "8112189876",
    "19811218-9876",
    "198112189876",
    "811218+9876",  # a centenarian's separator
    "701063-2391",  # samordningsnummer (day + 60)
    "811218\u20139876",  # en dash
    "811218\u22129876",  # minus sign
    "811218\u20119876",  # non-breaking hyphen
    "811218\uff0d9876",  # full-width hyphen
    "19811218 9876",  # a space
    "811218\u00a09876",  # a no-break space
    "811218 - 9876",  # a hyphen with spaces around it
    "pnr19811218-9876",  # letters glued on
    "19811218-9876abc",
    "070123-4569",  # a child born 2007: with the separator after the date it is no phone number
    "20070123-4569",
    "200701234569",
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
    "Ring 0701234569",  # a mobile number that also passes as the personnummer of a child born 2007
    "tel. 0812121218",  # Stockholm, 10 digits: also a valid date and check digit
    "3.8112189876",  # part of a decimal number
    "Ring upp nummer 0701234569",  # "p nummer" inside another word is not "personnummer"
]


@pytest.mark.parametrize(
    "text", ["pnr 0701234569", "personnummer: 0701234569", "Personnumret 0701234569", "P-nr. 0701234569", "pnr0701234569"]
)
def test_a_phone_like_number_called_a_personnummer_is_masked(text):
    masked = mask_identity_numbers(text)
    assert masked.count == 1 and "0701234569" not in masked.text


@given(st.integers(min_value=10_000_000, max_value=99_999_999), st.sampled_from(["70", "72", "73", "76", "79", "8", "31", "40"]))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_swedish_phone_numbers_are_never_masked(subscriber, prefix):
    # 0 + an area or mobile prefix, 10 digits in all, however it is written
    digits = ("0" + prefix + str(subscriber))[:10]
    for shown in (digits, f"{digits[:3]}-{digits[3:]}", f"{digits[:3]}-{digits[3:6]} {digits[6:8]} {digits[8:]}"):
        text = f"Ring {shown} efter lunch"
        assert mask_identity_numbers(text).text == text


def test_luhn():
    assert luhn_ok("8112189876")
    assert not luhn_ok("8112189875")


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_are_found_and_masked(number):
    text = f"Patienten {number} ringde."
    masked = mask_identity_numbers(text)
    assert masked.count == 1
    assert masked.text == f"Patienten {number.replace(number.strip('pnrabc'), MASK)} ringde."


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_look_alikes_are_left_alone(text):
    assert mask_identity_numbers(text).text == text


def test_several_numbers_in_one_text():
    masked = mask_identity_numbers("811218-9876 och 19811218-9876, inte 2024-01-15")
    assert masked.count == 2
    assert masked.text == f"{MASK} och {MASK}, inte 2024-01-15"

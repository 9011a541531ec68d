"""Search folding: what a person types and what is stored meet in one form."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.search_text import fold


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("YILMAZ", "Yılmaz"),
        ("yilmaz", "Yılmaz"),
        ("yılmaz", "YILMAZ"),
        ("İSTANBUL", "istanbul"),
        ("Istanbul", "İstanbul"),
        ("sahin", "Şahin"),
        ("SAHİN", "şahin"),
        ("dogan", "Doğan"),
        ("cicek", "Çiçek"),
        ("ozturk", "Öztürk"),
        ("ÜSKÜDAR", "uskudar"),
        ("ＹＩＬＭＡＺ", "Yılmaz"),  # full-width letters, as some keyboards send them
        ("i\u0307stanbul", "İstanbul"),  # i with a combining dot above, as lower('İ') gives
    ],
)
def test_the_ways_a_name_is_typed_fold_to_the_same_text(typed, stored):
    assert fold(typed) == fold(stored)


def test_folded_text_is_plain_lower_case_ascii_for_turkish_names():
    assert fold("Ağaoğlu İlkokulu Şişli Çamlıca Öğretmen Üçüncü") == (
        "agaoglu ilkokulu sisli camlica ogretmen ucuncu"
    )


def test_different_names_stay_different():
    assert fold("Kaya") != fold("Kara")
    assert fold("Ece") != fold("Ecem")


@given(st.text())
def test_folding_twice_changes_nothing(text):
    assert fold(fold(text)) == fold(text)


TURKISH_LETTERS = "abcçdefgğhıijklmnoöprsştuüvyzABCÇDEFGĞHIİJKLMNOÖPRSŞTUÜVYZ "


@given(st.text(alphabet=TURKISH_LETTERS))
def test_case_never_matters_whichever_way_a_keyboard_changes_it(text):
    assert fold(text.upper()) == fold(text.lower()) == fold(text)

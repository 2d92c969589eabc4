"""The one lookup of the modules' vocabulary tables."""

import pytest

from healthreach.errors import InputError
from healthreach.i18n import words

TABLE = {"note": {"zh": "来自{table}（{key}）", "en": "from {table} ({key})"}, "plain": {"zh": "图例", "en": "Legend"}}


def test_values_may_carry_any_name_and_the_language_is_checked():
    assert words(TABLE, "note", "en", table="districts.csv", key="code") == "from districts.csv (code)"
    assert words(TABLE, "note", "zh", table="districts.csv", key="code") == "来自districts.csv（code）"
    assert words(TABLE, "plain") == "图例"
    with pytest.raises(InputError):
        words(TABLE, "plain", "fr")

"""Text columns as Arrow arrays: missing and blank values become null, normalizing agrees with the one-value
normalizer of the merge (hypothesis)."""

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from digiops.merge.normalize import normalize_text
from digiops.text_columns import arrow_text, blank_to_null, fullmatch, normalized_text, text_column


def test_missing_and_blank_values_are_null():
    values = pd.Series(["a", "", None, float("nan"), " \u3000\u200b "], dtype=object)

    assert arrow_text(values).to_pylist() == ["a", "", None, None, " \u3000\u200b "]
    assert blank_to_null(pa.array(["a", "", None])).to_pylist() == ["a", None, None]
    assert normalized_text(values).to_pylist() == ["a", None, None, None, None]


def test_fullmatch_is_false_for_missing_and_partial_matches():
    values = pd.Series(["2025-05-01", "2025-05-01 09:00", None], dtype=object)

    assert fullmatch(values, r"[0-9]{4}-[0-9]{2}-[0-9]{2}").tolist() == [True, False, False]


def test_text_column_keeps_the_index():
    column = text_column(pa.array(["x", None]), pd.Index([7, 9]))

    assert column.index.tolist() == [7, 9] and column.isna().tolist() == [False, True]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="　 \t\u200b\xa0\u2028ａ張1é.", max_size=8)), min_size=1,
                max_size=30))
def test_normalized_text_equals_normalize_text(values):
    assert normalized_text(pd.Series(values, dtype=object)).to_pylist() == [normalize_text(v) for v in values]

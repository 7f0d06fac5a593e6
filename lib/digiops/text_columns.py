"""Columns of text as Arrow string arrays: the primitives shared by the parsers of source values.

Every cell of a source is read as text (:mod:`digiops.io`). The date parser (:mod:`digiops.dates`) and the merge's
normalizers (:mod:`digiops.merge.normalize`) work on whole columns of it in Arrow's C++ kernels, without a Python
call per value; these are the conversions and the text normalization they both use. Null stands for a missing (and,
after normalizing, a blank) value.

Example:
    >>> import pandas as pd
    >>> text_column(normalized_text(pd.Series(["　张 三\\u200b ", "", None, "a  b"]))).tolist()
    ['张 三', nan, nan, 'a b']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: What Python's ``str.split()`` and ``\\s`` take for whitespace, in RE2 (Arrow's regex engine).
SPACES_RE2 = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}]+"
_ZERO_WIDTH_RE2 = "[\u200b\u200c\u200d\u2060\ufeff]"
#: Text that normalizing may change: anything but printable ASCII and CJK Unified Ideographs (which NFKC leaves
#: alone and which hold no zero-width character or other space), a double space, an outer space.
_NOT_PLAIN_RE2 = r"[^\x{20}-\x{7e}\x{4e00}-\x{9fff}]|  |^ | $"


def fullmatch(values: pd.Series, pattern: str) -> np.ndarray:
    """Which values match ``pattern`` entirely (Arrow's regex engine, no Python call per value)."""
    return values.astype("str").str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)


def arrow_text(values: pd.Series):
    """A column as one Arrow string array, null for missing (no copy when the column is Arrow-backed text)."""
    import pyarrow as pa

    array = pa.array(values.astype("str"), from_pandas=True)
    return (array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array).cast(pa.string())


def normalized_text(values: pd.Series):
    """A column's text normalized (:func:`normalized_array`), as an Arrow array; null for missing and blank
    values."""
    return normalized_array(arrow_text(values))


def normalized_array(array):
    """An Arrow string array's text normalized in Arrow's kernels: NFKC, zero-width characters removed, every kind
    of whitespace (the ideographic space U+3000 included) collapsed to one space, outer spaces trimmed, blank to
    null — :func:`digiops.merge.normalize.normalize_text` of every value."""
    import pyarrow.compute as pc

    odd = pc.fill_null(pc.match_substring_regex(array, _NOT_PLAIN_RE2), False)
    if pc.any(odd).as_py():  # only text the rules can change pays for them (NFKC costs most)
        part = pc.utf8_normalize(array.filter(odd), "NFKC")
        part = pc.replace_substring_regex(part, _ZERO_WIDTH_RE2, "")
        part = pc.utf8_trim(pc.replace_substring_regex(part, SPACES_RE2, " "), " ")
        array = pc.replace_with_mask(array, odd, part)
    return blank_to_null(array)


def blank_to_null(array):
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def text_column(array, index: pd.Index | None = None) -> pd.Series:
    """An Arrow text array as an Arrow-backed ``str`` column (no copy; null becomes missing)."""
    return pd.Series(pd.array(array, dtype="str"), index=index)

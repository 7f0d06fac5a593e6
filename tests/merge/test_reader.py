"""The columnar CSV reader of ``digiops.io`` gives exactly what the row-by-row reader gives (cells and ``_row``), and
hands files it cannot number exactly to the row reader."""

from __future__ import annotations

import pandas as pd
import pytest

from digiops import io

FILES = {
    "ordinary": "title\n\n客户,手机,金额\nA1,138 0013 8000,\"1,299.00\"\nA2,,5\n",
    "blank lines": "id,name\n1,a\n\n2,b\n,\n3,c\n",
    "quoted line break": "id,note\n1,\"two\nlines\"\n2,x\n",
    "short rows": "id,a,b\n1,x\n2,y,z\n",
    "empty cells row": "id,a\n1,x\n , \n2,y\n",
    "crlf": "id,a\r\n1,x\r\n2,y\r\n",
    "no trailing newline": "id,a\n1,x\n2,y",
    "header only": "id,a\n",
}


@pytest.mark.parametrize("name", list(FILES))
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_columnar_reader_matches_row_reader(tmp_path, name, encoding):
    path = tmp_path / "f.csv"
    path.write_bytes(FILES[name].encode(encoding))
    header_row = 3 if name == "ordinary" else 1
    fast = io._read_csv(path, encoding, header_row, "f.csv", None)
    rows = io._read_csv_rows(path, encoding, header_row, "f.csv", None)
    pd.testing.assert_frame_equal(fast, rows)


def test_ordinary_file_takes_the_columnar_path(tmp_path):
    data = "id,a\n1,x\n2,y\n".encode()
    frame = io._read_csv_columnar(data, "utf-8", 1)
    assert frame is not None and frame["_row"].tolist() == [2, 3]


@pytest.mark.parametrize("text", ["id,a\n1,x\n\n2,y\n", "id,a\n1,\"x\ny\"\n", "id,a\n1,x,z\n", "\"i\nd\",a\n1,x\n"])
def test_unusual_files_fall_back_to_the_row_reader(text):
    assert io._read_csv_columnar(text.encode(), "utf-8", 1) is None

"""A client's sources as the engagement file declares them: the settings reach the reader, mapped columns are
checked with a fix that names the delimiter that works, canonical frames; loading an engagement reads no source,
checking them is a separate, explicit step."""

from __future__ import annotations

from pathlib import Path

import pytest

from digiops import sources
from digiops.engagement import Engagement, load_engagement
from digiops.errors import SourceError
from tests.conftest import write_engagement
from tests.test_io import FIXED, SEPARATED, TITLE


def _source(tmp_path: Path, content: bytes, setting: str) -> Engagement:
    folder = tmp_path / "acme"
    path = write_engagement(folder, sources=f"""
          crm:
            path: raw/crm.txt
            kind: customers
            header_row: 4{setting}
            id_column: 编号
            columns: {{姓名: full_name, 金额: member_level}}""")
    (folder / "raw" / "crm.txt").write_bytes(content)
    return load_engagement(path)


def test_wrong_delimiter_gives_column_not_found_and_names_the_one_that_works(tmp_path):
    engagement = _source(tmp_path, (TITLE + SEPARATED.format(d="\t", amount="5")).encode("gb18030"),
                         "\n            delimiter: semicolon")

    with pytest.raises(SourceError) as info:
        sources.check_source(engagement, "crm")

    assert str(info.value).startswith("engagement.yaml: sources.crm.columns: '姓名' is not a column of raw/crm.txt "
                                      "(columns: 编号\t姓名\t金额)")
    assert info.value.fix == "the file is tab-separated: set delimiter: tab (or auto)"


def test_aligned_printout_read_as_one_column_names_fixed(tmp_path):
    engagement = _source(tmp_path, (TITLE + FIXED.replace("1,299.00", "1299.00")).encode("gb18030"), "")

    with pytest.raises(SourceError) as info:
        sources.check_source(engagement, "crm")

    assert "is not a column of raw/crm.txt" in str(info.value)
    assert info.value.fix.startswith("the columns are aligned with spaces: set delimiter: fixed")


@pytest.mark.parametrize("setting, delimiter", [("", "tab"), ("\n            delimiter: tab", "tab"),
                                                 ("\n            delimiter: fixed", "fixed")])
def test_source_settings_reach_the_reader(tmp_path, setting, delimiter):
    text = FIXED if delimiter == "fixed" else SEPARATED.format(d="\t", amount="5")
    engagement = _source(tmp_path, (TITLE + text).encode("gb18030"), setting)

    table = sources.check_source(engagement, "crm")

    assert (table.delimiter, table.encoding, table.header_row) == (delimiter, "gb18030", 4)
    assert sources.canonical_frame(engagement, "crm", table)["full_name"].tolist()[:2] == ["张三", "曾　晓"]


@pytest.mark.hardening
def test_excel_unicode_text_with_a_wrong_delimiter_names_tab(tmp_path):
    engagement = _source(tmp_path, "\ufeff".encode("utf-16-le") + (TITLE + SEPARATED.format(d="\t", amount="5"))
                         .encode("utf-16-le"), "\n            delimiter: semicolon")

    with pytest.raises(SourceError) as info:
        sources.check_source(engagement, "crm")

    assert info.value.fix == "the file is tab-separated: set delimiter: tab (or auto)"


def test_a_missing_column_with_no_better_delimiter_gets_the_usual_fix(tmp_path):
    engagement = _source(tmp_path, (TITLE + "编号,姓名\n1,张三\n").encode("gb18030"), "")

    with pytest.raises(SourceError) as info:
        sources.check_source(engagement, "crm")

    assert "'金额' is not a column of raw/crm.txt (columns: 编号, 姓名)" in str(info.value)
    assert info.value.fix == "map a column that exists, or correct header_row / sheet"


def test_missing_source_file(tmp_path):
    path = write_engagement(tmp_path / "acme", sources="{crm: {path: raw/crm.csv, kind: customers}}")

    with pytest.raises(SourceError) as info:
        sources.check_sources(load_engagement(path))

    assert str(info.value) == ("raw/crm.csv: file not found (fix: check the path in the engagement file, or add the "
                               "file)")


def test_mapped_column_absent_lists_columns(client_dir):
    text = (client_dir / "engagement.yaml").read_text(encoding="utf-8").replace("手机号: phone", "手机: phone")
    (client_dir / "engagement.yaml").write_text(text, encoding="utf-8")

    with pytest.raises(SourceError) as info:
        sources.check_sources(load_engagement(client_dir / "engagement.yaml"))

    assert str(info.value).startswith("engagement.yaml: sources.crm.columns: '手机' is not a column of raw/crm.csv "
                                      "(columns: 客户编号, 姓名, 手机号, 城市)")


def test_loading_reads_no_source_and_check_sources_checks_every_one(tmp_path):
    # Arrange: the first source is fine, the second's file is missing
    folder = tmp_path / "acme"
    path = write_engagement(folder, sources="""
          crm: {path: raw/crm.csv, kind: customers, columns: {姓名: full_name}}
          pos: {path: raw/pos.csv, kind: customers, columns: {姓名: full_name}}""")
    (folder / "raw" / "crm.csv").write_text("编号,姓名\n1,张三\n", encoding="utf-8")

    # Act
    engagement = load_engagement(path)  # the paths are checked, the files are not read
    with pytest.raises(SourceError) as info:
        sources.check_sources(engagement)

    # Assert
    assert str(info.value).startswith("raw/pos.csv: file not found")
    (folder / "raw" / "pos.csv").write_text("姓名\n李四\n", encoding="utf-8")
    assert sources.check_sources(engagement) is None


def test_reading_an_unknown_source_names_the_known_ones(tmp_path):
    engagement = _source(tmp_path, (TITLE + SEPARATED.format(d="\t", amount="5")).encode("gb18030"), "")

    with pytest.raises(SourceError) as info:
        sources.read_source(engagement, "pos")

    assert str(info.value) == ("engagement.yaml: sources: no source named 'pos' (fix: use one of: crm)")


def test_canonical_frame_without_an_id_column_numbers_the_rows(tmp_path):
    folder = tmp_path / "acme"
    path = write_engagement(folder, sources="""
          crm: {path: raw/crm.csv, kind: customers, header_row: 2, columns: {姓名: full_name}}""")
    (folder / "raw" / "crm.csv").write_text("导出\n姓名,城市\n张三,上海\n李四,北京\n", encoding="utf-8")

    frame = sources.canonical_frame(load_engagement(path), "crm")

    assert list(frame.columns) == ["source", "record_id", "full_name", "_row"]
    assert frame.values.tolist() == [["crm", "3", "张三", 3], ["crm", "4", "李四", 4]]

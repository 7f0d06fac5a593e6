"""The dirt real Chinese platform exports carry: each kind is recognised, kept as partial evidence where there is
some (a masked phone's visible key, a surname), recorded in ``phone_kind`` / ``name_kind`` / ``address_kind``, and
counted per source — while real names, phones and addresses stay what they are."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write_engagement
from digiops.io import ROW
from digiops.merge import normalize as nz
from digiops.merge import prepare, report
from digiops.merge.clean import clean_source
from digiops.merge.quality import DIRT, DIRT_NAMES, measure

AS_OF, EARLIEST = dt.date(2026, 11, 1), dt.date(1900, 1, 1)
#: A real mobile number (not a placeholder: 13812345678 ends in the run 12345678, which is one).
NUMBER, E164 = "13857246913", "+8613857246913"
VIRTUAL = "17057246913"


def _phone(raw: object) -> dict:
    return dict(zip(nz.PHONE_COLUMNS, nz.phone_parts(raw)))


def _clean(frame: pd.DataFrame, *, kind: str = "customers", has_id_column: bool = False) -> pd.DataFrame:
    raw = frame.astype("str")
    raw.insert(0, "source", "src")
    raw.insert(1, "record_id", [f"r{i}" for i in range(len(raw))])
    raw[ROW] = range(2, len(raw) + 2)
    return clean_source(raw, name="src", kind=kind, as_of=AS_OF, earliest=EARLIEST, has_id_column=has_id_column)


# --- phones -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [f"{NUMBER}.0", f"{NUMBER}.00", "1.3857246913E+10", "1.3857246913e10",
                                 "1.3857246913E10", f"'{NUMBER}", f"\t{NUMBER}", f"{NUMBER}\t", f'="{NUMBER}"',
                                 f'"{NUMBER}"', f"＝＂{NUMBER}＂", f"86{NUMBER}.0"])
def test_a_number_a_spreadsheet_mangled_but_left_whole_is_recovered(raw):
    assert _phone(raw) == {"phone": E164, "phone_masked": None, "phone_virtual": None, "phone_kind": "recovered"}


@pytest.mark.parametrize("raw", [NUMBER, "+86 138-5724-6913", "138 5724 6913", "0086 13857246913", f"86{NUMBER}",
                                 "(+86) 138 5724 6913", "１３８５７２４６９１３", "＋８６ １３８-５７２４-６９１３"])
def test_real_numbers_written_the_usual_ways_stay_plain_numbers(raw):
    assert _phone(raw) == {"phone": E164, "phone_masked": None, "phone_virtual": None, "phone_kind": "number"}


@pytest.mark.parametrize("raw, phone", [("13857246910", "+8613857246910"), ("(021) 6234 5678", "+862162345678"),
                                        ("021-62345678", "+862162345678"), ("+1 415 555 2671", "+14155552671"),
                                        ("138-0013-8000", "+8613800138000")])
def test_other_real_numbers_are_no_dirt(raw, phone):
    assert _phone(raw)["phone"] == phone and _phone(raw)["phone_kind"] == "number"


@pytest.mark.parametrize("raw", ["1.38572E+10", "1.385724691E+10", "1.4E+10"])
def test_scientific_notation_that_lost_digits_is_no_phone(raw):
    # 1.385724691E+10 may be 13857246910 or a rounded 1385724691x: a trailing zero dropped looks like a lost digit
    assert _phone(raw) == {"phone": None, "phone_masked": None, "phone_virtual": None, "phone_kind": "lost_digits"}


@pytest.mark.parametrize("raw", ["138****6913", "138＊＊＊＊6913", "+86 138****6913", "86-138-****-6913", "138*6913",
                                 "138******6913", "138 **** 6913", "'138****6913", "1385****6913"])
def test_a_masked_number_keeps_its_visible_key_and_is_no_phone(raw):
    assert _phone(raw) == {"phone": None, "phone_masked": "138*6913", "phone_virtual": None, "phone_kind": "masked"}


@pytest.mark.parametrize("raw", ["1385724****", "****6913", "13****6913", "138****691", "*", "****"])
def test_a_masked_number_showing_less_has_no_key(raw):
    assert _phone(raw) == {"phone": None, "phone_masked": None, "phone_virtual": None, "phone_kind": "masked"}


@pytest.mark.parametrize("separator", ["-", "转", "_", ",", "，", "#", " ext ", "ext.", " x ", "分机", " 转 ", "＃"])
def test_a_number_with_an_extension_is_a_virtual_number(separator):
    assert _phone(f"{VIRTUAL}{separator}1234") == {"phone": None, "phone_masked": None,
                                                    "phone_virtual": "+8617057246913#1234", "phone_kind": "virtual"}
    assert _phone(f"{NUMBER}{separator}88")["phone_virtual"] == E164 + "#88"  # any relay number, not only 170


@pytest.mark.parametrize("segment", nz.VIRTUAL_SEGMENTS)
def test_virtual_operator_segments_are_virtual_not_phones(segment):
    raw = segment + "57246913"
    assert _phone(raw) == {"phone": None, "phone_masked": None, "phone_virtual": "+86" + raw, "phone_kind": "virtual"}


@pytest.mark.parametrize("raw", ["17357246913", "17757246913", "16657246913", "15057246913", "19957246913"])
def test_mobiles_next_to_the_virtual_segments_stay_phones(raw):
    assert _phone(raw)["phone"] == "+86" + raw and _phone(raw)["phone_kind"] == "number"


@pytest.mark.parametrize("raw, kind", [("13800000000", "placeholder"), ("13888888888", "placeholder"),
                                       ("13812345678", "placeholder"), ("13800000000.0", "placeholder"),
                                       ("无", "placeholder"), ("-", "placeholder"), ("NULL", "placeholder"),
                                       ("1380013800", "invalid"), ("138572469", "invalid"),
                                       (f"{NUMBER}.5", "invalid"), (f"{NUMBER} 13957246913", "invalid"),
                                       ("13800000000转12", "placeholder")])
def test_placeholders_and_broken_numbers_are_no_phone(raw, kind):
    assert _phone(raw) == {"phone": None, "phone_masked": None, "phone_virtual": None, "phone_kind": kind}


@pytest.mark.parametrize("raw", ["", "  ", None, float("nan")])
def test_no_value_has_no_kind(raw):
    assert _phone(raw) == dict.fromkeys(nz.PHONE_COLUMNS)


def test_clean_source_writes_the_four_phone_columns():
    cleaned = _clean(pd.DataFrame({"full_name": ["张伟"] * 4,
                                   "phone": [f"{NUMBER}.0", "138****6913", f"{VIRTUAL}转1234", "1.38572E+10"]})).clean
    assert cleaned["phone"].tolist()[:1] == [E164] and cleaned["phone"].iloc[1:].isna().all()
    assert cleaned["phone_masked"].tolist()[1] == "138*6913"
    assert cleaned["phone_virtual"].tolist()[2] == "+8617057246913#1234"
    assert cleaned["phone_kind"].tolist() == ["recovered", "masked", "virtual", "lost_digits"]


PHONE_DIRT = [NUMBER, f"{NUMBER}.0", "1.3857246913E+10", "1.38572E+10", "138****6913", f"{VIRTUAL}转1234", VIRTUAL,
              f"'{NUMBER}", "13800000000", "无", "", None, "１３８５７２４６９１３", "+86 138-5724-6913", "(021) 6234 5678",
              "1385724****", f"{NUMBER}-12"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PHONE_DIRT), st.from_regex(r"1[3-9][0-9]{9}(\.0|-[0-9]{1,4})?",
                                                                      fullmatch=True)), min_size=1, max_size=20))
def test_a_column_is_classified_as_its_values_one_by_one(values):
    columns = nz.phone_columns(pd.Series(values, dtype=object))
    assert [tuple(None if pd.isna(v) else v for v in row) for row in columns.itertuples(index=False)] == \
           [nz.phone_parts(v) for v in values]
    assert columns["phone_kind"].isin([*nz.PHONE_KINDS]).sum() == columns["phone_kind"].notna().sum()


# --- names --------------------------------------------------------------------------------------------------------
def _name(raw: object) -> dict:
    found = nz.name_columns(pd.Series([raw], dtype=object)).iloc[0]
    return {k: None if pd.isna(v) else v for k, v in found.items()}


@pytest.mark.parametrize("raw, surname", [("王先生", "wang"), ("张总", "zhang"), ("李姐", "li"), ("刘经理", "liu"),
                                          ("陈老板", "chen"), ("赵哥", "zhao"), ("王大哥", "wang"), ("张*", "zhang"),
                                          ("张**", "zhang"), ("张某", "zhang"), ("张某某", "zhang"), ("张*明", "zhang"),
                                          ("张xx", "zhang"), ("欧阳*", "ouyang"), ("欧阳总", "ouyang"),
                                          ("欧阳", "ouyang"), ("欧阳先生", "ouyang"), ("張＊", "zhang")])
def test_a_surname_alone_is_kept_as_a_surname_with_no_given_name(raw, surname):
    found = _name(raw)
    assert found["name_kind"] == "surname"
    assert nz.parse_clean_name(found["full_name"]) == ((surname,), "")


@pytest.mark.parametrize("raw", ["*伟", "**", "某某", "*", "某先生"])
def test_a_mask_without_a_surname_is_no_name(raw):
    assert _name(raw) == {"full_name": None, "name_kind": "masked"}


@pytest.mark.parametrize("raw", ["小鱼儿🐟", "小鱼儿", "抖音用户3381", "微信用户", "用户_a8f3", "淘宝会员", "Lily", "Mary", "🐟",
                                 "快乐的小猪", "糖糖", "张3", "宝宝", "Lily🌸", "a8f3"])
def test_nicknames_are_no_name(raw):
    assert _name(raw) == {"full_name": None, "name_kind": "nickname"}


@pytest.mark.parametrize("raw", ["无", "空", "客户", "顾客", "买家", "收货人", "test", "TEST", "测试", "未知", "n/a", "N/A", "-",
                                 ".", "先生", "女士", "test01", "null"])
def test_placeholders_are_no_name(raw):
    assert _name(raw) == {"full_name": None, "name_kind": "placeholder"}


@pytest.mark.parametrize("raw", ["前台代收", "门卫", "快递柜", "丰巢", "丰巢快递柜", "驿站", "菜鸟驿站", "物业", "保安", "代收",
                                 "张三(代收)", "物业王姐"])
def test_proxy_receivers_are_no_name(raw):
    assert _name(raw) == {"full_name": None, "name_kind": "proxy"}


@pytest.mark.parametrize("raw", ["张伟", "李娜", "小明", "王小二", "李宝儿", "张三丰", "欧阳修", "司马相如", "诸葛亮", "曾小明",
                                 "王保安", "王建哥", "乐乐", "陈小明先生", "阿卜杜拉·买买提", "張 偉", "Zhang Xiaoming",
                                 "xiaoming zhang", "John Smith", "Mary-Ann van Galen", "Li Na", "zhangxiaoming",
                                 "Xiaoming", "Anna"])
def test_real_names_stay_names(raw):
    found = _name(raw)
    assert found == {"full_name": nz.normalize_name(raw), "name_kind": "name"}
    readings, given_name = nz.parse_clean_name(found["full_name"])
    assert given_name != ""


def test_a_pinyin_surname_alone_is_a_surname():
    assert _name("Wang") == {"full_name": "Wang", "name_kind": "surname"}
    assert nz.parse_clean_name("Wang") == (("wang",), "")


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_no_name_has_no_kind(raw):
    assert _name(raw) == {"full_name": None, "name_kind": None}


NAME_PIECES = st.sampled_from(["王", "张", "小", "明", "伟", "鱼", "儿", "先生", "总", "*", "某", "用户", "代收", "的", "🐟", "3",
                               "Li", " ", "Na", "-", "保安", "欧阳", "糖", "Lily", "无", "客户", "司马", "〇", "顾客"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(NAME_PIECES, max_size=4).map("".join)), min_size=1, max_size=25))
def test_the_arrow_path_classifies_names_as_name_kind_does(values):
    found = nz.name_columns(pd.Series(values, dtype=object))
    cleaned = [nz.normalize_name(v) for v in values]
    expected = [nz.name_kind(c) if c else ("placeholder" if nz.normalize_text(v) else None)
                for v, c in zip(values, cleaned)]
    assert [None if pd.isna(k) else k for k in found["name_kind"]] == expected
    kept = [c if k in nz.NAME_EVIDENCE else None for c, k in zip(cleaned, expected)]
    assert [None if pd.isna(n) else n for n in found["full_name"]] == kept


def test_given_and_family_names_stay_cleaned_as_they_are():
    cleaned = _clean(pd.DataFrame({"given_name": ["Mary", "伟"], "family_name": ["Smith", "张"],
                                   "phone": [NUMBER, NUMBER]})).clean
    assert cleaned["given_name"].tolist() == ["Mary", "伟"]  # "Mary" alone would be a nickname as a full name
    assert cleaned["family_name"].tolist() == ["Smith", "张"]
    assert cleaned["full_name"].tolist() == ["Mary Smith", "张伟"]


def test_clean_source_drops_names_that_are_no_evidence_and_says_why():
    cleaned = _clean(pd.DataFrame({"full_name": ["张伟", "张总", "微信用户", "丰巢", "客户", "*伟"],
                                   "phone": [NUMBER] * 6})).clean
    assert cleaned["full_name"].tolist()[:2] == ["张伟", "张总"] and cleaned["full_name"].iloc[2:].isna().all()
    assert cleaned["name_kind"].tolist() == ["name", "surname", "nickname", "proxy", "placeholder", "masked"]


# --- addresses ----------------------------------------------------------------------------------------------------
SAME_ADDRESS = [
    ("浙江省杭州市西湖区文三路18号", "浙江省杭州市西湖区文三路18弄"),
    ("浙江省杭州市西湖区文三路18号", "浙江省杭州市西湖区文三路#18"),
    ("浙江省杭州市西湖区文三路18号", "浙江省杭州市西湖区文三路No.18"),
    ("浙江省杭州市西湖区文三路18号", "浙江省杭州市西湖区文三路十八号"),
    ("浙江省杭州市西湖区文三路18号5栋", "浙江省杭州市西湖区文三路18号5幢"),
    ("浙江省杭州市西湖区文三路18号5栋", "浙江省杭州市西湖区文三路18号5号楼"),
    ("浙江省杭州市西湖区文三路18号5栋", "浙江省杭州市西湖区文三路18号5座"),
    ("浙江省杭州市西湖区文三路18号5-2-1201", "浙江省杭州市西湖区文三路18号5栋2单元1201室"),
    ("浙江省杭州市西湖区文三路18号5-2-1201", "浙江省杭州市西湖区文三路18号5幢2单元1201"),
    ("浙江省杭州市西湖区文三路18号5-2-1201", "浙江省杭州市西湖区文三路18号五栋二单元一二零一室"),
    ("浙江省杭州市西湖区5-2-1201", "浙江省杭州市西湖区5号楼2单元1201室"),
]


@pytest.mark.parametrize("one, other", SAME_ADDRESS)
def test_one_address_written_two_ways_has_one_street_key(one, other):
    cleaned = _clean(pd.DataFrame({"full_name": ["张伟", "张伟"], "address": [one, other]})).clean
    assert cleaned["street_key"].notna().all()
    assert cleaned["street_key"].iloc[0] == cleaned["street_key"].iloc[1]
    assert cleaned["address_kind"].tolist() == ["address", "address"]


@pytest.mark.parametrize("one, other", [("文三路18号", "文三路19号"), ("文三路18号5-2-1201", "文三路18号5-2-1202"),
                                        ("文三路18号5栋", "文三路18号6栋"), ("文三路18号", "文二路18号")])
def test_different_addresses_keep_different_keys(one, other):
    first, second = (nz.normalize_street(v) for v in (one, other))
    assert first and second and first != second


@pytest.mark.parametrize("raw", ["同上", "不详", "无", "未知", "见备注", "详见备注", "-"])
def test_a_placeholder_address_has_no_street_key(raw):
    for address in (raw, "浙江省杭州市西湖区" + raw):
        cleaned = _clean(pd.DataFrame({"full_name": ["张伟"], "address": [address]})).clean
        assert pd.isna(cleaned["street_key"].iloc[0])
        assert cleaned["address_kind"].iloc[0] == "placeholder"
    assert cleaned["district"].iloc[0] == "西湖区"  # what it does say still counts


@pytest.mark.parametrize("raw", ["浙江省杭州市西湖区****", "浙江省杭州市西湖区文三路***号", "浙江省杭州市西湖区＊＊＊＊"])
def test_a_masked_address_keeps_its_district_but_has_no_street_key(raw):
    cleaned = _clean(pd.DataFrame({"full_name": ["张伟"], "address": [raw]})).clean
    assert pd.isna(cleaned["street_key"].iloc[0])
    assert cleaned["district"].iloc[0] == "西湖区" and cleaned["city"].iloc[0] == "杭州市"
    assert cleaned["address_kind"].iloc[0] == "masked"


def test_latin_addresses_and_no_address():
    cleaned = _clean(pd.DataFrame({"full_name": ["John Smith"] * 4, "address": ["No. 18 Baker St", "18 Baker St",
                                                                               "n/a", ""]})).clean
    assert cleaned["street_key"].tolist()[:2] == ["18 baker st", "18 baker st"]
    assert pd.isna(cleaned["street_key"].iloc[2]) and cleaned["address_kind"].tolist()[2] == "placeholder"
    assert cleaned["address_kind"].tolist()[0] == "address" and pd.isna(cleaned["address_kind"].iloc[3])


# --- quality and the report ---------------------------------------------------------------------------------------
DIRTY = pd.DataFrame({
    "full_name": ["张伟", "张*", "微信用户", "前台代收", "王先生", "客户", "李娜", "*伟"],
    "phone": [NUMBER, "138****6913", f"{VIRTUAL}转1234", "13957246913", f"{NUMBER}.0", "1.38572E+10", VIRTUAL,
              "138****6913"],
    "address": ["浙江省杭州市西湖区文三路18号", "浙江省杭州市西湖区****", "同上", "", "浙江省杭州市西湖区不详",
                "上海市浦东新区张江路88号", "上海市浦东新区张江路88号", "上海市浦东新区张江路88号"]})


def _prepared(tmp_path, frame: pd.DataFrame):
    """The prepared source of ``frame`` with a member card on every row (so no row is quarantined)."""
    frame = frame.assign(member_id=[f"M{i}" for i in range(len(frame))])
    spec = {"kind": "customers", "columns": {c: c for c in frame.columns}, "id_column": "member_id"}
    engagement = write_engagement(tmp_path, {"src": (frame, spec)})
    return prepare.prepare_source(engagement, "src", tmp_path / "work", as_of=AS_OF, earliest=EARLIEST,
                                  test_markers=[])


def test_validity_counts_masked_nickname_placeholder_and_proxy_names_and_masked_and_virtual_phones_invalid(tmp_path):
    quality = _prepared(tmp_path, DIRTY).quality.set_index(["field", "phase"])
    # names: 张伟, 张* (surname), 王先生 (surname), 李娜 are valid; 微信用户, 前台代收, 客户, *伟 are not
    assert quality.loc[("full_name", "before"), "validity"] == pytest.approx(4 / 8)
    # phones: the number, the recovered .0 and 139… are valid; masked, virtual, lost digits are not
    assert quality.loc[("phone", "before"), "validity"] == pytest.approx(3 / 8)
    assert quality.loc[("full_name", "after"), "validity"] == 1.0


def test_dirt_is_counted_over_every_row_read_quarantined_rows_too():
    raw = DIRTY.astype("str")
    raw.insert(0, "source", "src")
    raw.insert(1, "record_id", [f"r{i}" for i in range(len(raw))])
    raw[ROW] = range(2, len(raw) + 2)
    cleaned = clean_source(raw, name="src", kind="customers", as_of=AS_OF, earliest=EARLIEST, has_id_column=False)
    # 客户 with a number that lost its digits identifies no one: quarantined, and still counted as dirt met (微信用户
    # with a privacy number and *伟 with a masked number are kept: what their numbers show is partial evidence)
    assert cleaned.quarantine["row"].tolist() == raw[ROW].iloc[[5]].tolist()
    measured = measure(raw, prepare.arrow_table(cleaned.clean), kind="customers", as_of=AS_OF, earliest=EARLIEST)
    counts = measured.dirt.set_index(["column", "kind"])["rows"]
    assert counts[("phone_kind", "masked")] == 2 and counts[("name_kind", "masked")] == 1
    assert counts.loc["name_kind"].sum() == 8


def test_dirt_table_gives_each_kind_of_dirt_per_source(tmp_path):
    prepared = _prepared(tmp_path, DIRTY)
    table = report.dirt_table({"src": prepared}).set_index("source")
    assert list(table.columns) == list(DIRT) and set(DIRT) == set(DIRT_NAMES)
    row = table.loc["src"]
    # counted over the rows kept (all eight here): eight phones, eight names, seven addresses given
    assert row["masked_phone"] == pytest.approx(round(100 * 2 / 8, 1))
    assert row["virtual_phone"] == pytest.approx(round(100 * 2 / 8, 1))
    assert row["recovered_phone"] == pytest.approx(round(100 / 8, 1))
    assert row["lost_digits_phone"] == pytest.approx(round(100 / 8, 1))
    assert row["surname_only_name"] == pytest.approx(round(100 * 2 / 8, 1))
    assert row["nickname"] == row["proxy_receiver"] == row["placeholder_name"] == row["masked_name"] == \
        pytest.approx(round(100 / 8, 1))
    assert row["masked_address"] == pytest.approx(round(100 / 7, 1))
    assert row["placeholder_address"] == pytest.approx(round(100 * 2 / 7, 1))
    assert row["placeholder_phone"] == 0.0


def test_dirt_table_prefers_the_counts_preparation_kept(tmp_path):
    prepared = _prepared(tmp_path, DIRTY)
    prepared.dirt = pd.DataFrame([["phone_kind", "masked", 3], ["phone_kind", "number", 1]],
                                 columns=["column", "kind", "rows"])
    found = report.dirt_met({"src": prepared}).set_index("dirt")
    assert found.loc["masked_phone", "share"] == 0.75 and "nickname" not in found.index

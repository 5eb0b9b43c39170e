"""The provincial index: the published formula and figures, ranks with ties, change, CSV checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ictgov.dx.dti import (
    DtiInputError,
    compute,
    group_scores,
    index_value,
    read_csv,
    rows_from_values,
    run,
)
from ictgov.dx.framework import get
from ictgov.stats.areas import reference_specs

DTI_2022 = ["awareness", "institutions", "infrastructure", "human_resources", "cybersecurity", "smart_city",
            "digital_government", "digital_economy", "digital_society"]


@pytest.fixture(scope="module")
def fw22():
    return get("dti-2022", "index")


@pytest.fixture(scope="module")
def fw20():
    return get("dti-2020", "index")


def provinces_63() -> list[tuple[str, str]]:
    """(GSO code, name) of the 63 provinces in force before the 2025 reform, from the bundled areas."""
    return [(s.code, s.name) for s in reference_specs()
            if s.level == "province" and s.boundary_version in ("63", "63+34")]


def csv_text(header: list[str], rows: list[list]) -> str:
    return "\n".join([",".join(header)] + [",".join(str(c) for c in r) for r in rows]) + "\n"


# -- the formula against published figures --------------------------------------------------


def test_bac_ninh_2020_published_figure(fw20):
    values = {"digital_government": Decimal("0.4449"), "digital_economy": Decimal("0.3668"),
              "digital_society": Decimal("0.4052")}
    assert index_value(fw20, values) == Decimal("0.40956")
    result = compute(fw20, rows_from_values(fw20, [{"area_code": "27", "area_name": "Bắc Ninh", "year": 2020,
                                                     **values}]), draws=0)
    assert result.areas[0].index == Decimal("0.4096")


def test_bac_ninh_2020_through_the_csv(fw20):
    text = csv_text(["area", "year", "digital_government", "digital_economy", "digital_society"],
                    [["Bắc Ninh", 2020, "0.4449", "0.3668", "0.4052"]])
    result = run(text, fw20)
    (a,) = result.areas
    assert (a.area_code, a.area_name, a.index, a.rank) == ("27", "Bắc Ninh", Decimal("0.4096"), 1)
    assert a.groups == {"government": Decimal("0.4449"), "economy": Decimal("0.3668"), "society": Decimal("0.4052")}
    assert result.framework["id"] == "dti-2020" and result.framework["version"] == 1
    assert result.uncertainty is None or result.uncertainty["draws"] == 1000


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=9, max_size=9))
def test_dti_2022_is_the_weighted_sum(ints):
    fw = get("dti-2022", "index")
    values = {code: Decimal(i) / 10_000 for code, i in zip(DTI_2022, ints, strict=True)}
    points = {"awareness": 100, "institutions": 100, "infrastructure": 100, "human_resources": 100,
              "cybersecurity": 100, "smart_city": 0, "digital_government": 200, "digital_economy": 150,
              "digital_society": 150}
    expected = sum(values[c] * points[c] for c in DTI_2022) / 1000
    assert index_value(fw, values) == expected
    groups = group_scores(fw, values)
    foundation = sum(values[c] for c in DTI_2022[:5]) / 5
    assert groups["foundation"] == foundation
    assert groups["government"] == values["digital_government"]
    assert 0 <= index_value(fw, values) <= 1
    # the index is the groups weighted by their points
    weighted = (groups["foundation"] * 500 + groups["government"] * 200 + groups["economy"] * 150
                + groups["society"] * 150) / 1000
    assert abs(weighted - expected) < Decimal("1e-20")


def test_smart_city_is_collected_not_scored(fw22):
    base = dict.fromkeys(DTI_2022, Decimal("0.5"))
    assert index_value(fw22, dict(base, smart_city=Decimal(1))) == index_value(fw22, dict(base, smart_city=Decimal(0)))
    header = ["area", "year", *[c for c in DTI_2022 if c != "smart_city"]]
    result = run(csv_text(header, [["Đà Nẵng", 2022, *["0.5"] * 8]]), fw22, draws=0)
    assert result.areas[0].index == Decimal("0.5000") and result.areas[0].values["smart_city"] is None


# -- ranks, ties, change ------------------------------------------------------------------------


def test_ties_share_a_rank_as_in_the_published_table(fw22):
    """Two provinces tied at 15 (as Thanh Hóa and Yên Bái in 2022), the next one 17th."""
    provinces = provinces_63()
    assert len(provinces) == 63
    rows = []
    for i, (code, _) in enumerate(provinces):
        x = Decimal(900 - 10 * i) / 1000
        if i == 15:
            x = Decimal(900 - 10 * 14) / 1000  # same value as the 15th
        rows.append([code, 2022, *[x] * 9])
    result = run(csv_text(["area", "year", *DTI_2022], rows), fw22, draws=200)
    ranks = [a.rank for a in result.areas]
    assert ranks[:18] == [*range(1, 15), 15, 15, 17, 18]
    assert ranks[-1] == 63
    tied = [a for a in result.areas if a.rank == 15]
    assert len(tied) == 2 and tied[0].index == tied[1].index
    # identical values rank together in every draw too
    assert (tied[0].rank_low, tied[0].rank_high) == (tied[1].rank_low, tied[1].rank_high) == (15, 15)


def test_ranks_are_taken_at_the_published_precision(fw20):
    rows = [["Hà Nội", 2020, "0.50004", "0.5", "0.5"], ["Hải Phòng", 2020, "0.50001", "0.5", "0.5"],
            ["Cần Thơ", 2020, "0.5003", "0.5", "0.5"]]
    result = run(csv_text(["area", "year", "digital_government", "digital_economy", "digital_society"], rows),
                 fw20, draws=0)
    by_name = {a.area_name: a for a in result.areas}
    assert by_name["Cần Thơ"].rank == 1
    assert by_name["Hà Nội"].rank == by_name["Hải Phòng"].rank == 2  # both 0.5000 as published
    assert by_name["Hà Nội"].index_exact != by_name["Hải Phòng"].index_exact


def test_change_against_the_previous_year(fw22):
    header = ["area", "year", *DTI_2022]
    rows = [["Đà Nẵng", 2021, *["0.6"] * 9], ["Bắc Ninh", 2021, *["0.5"] * 9], ["Lạng Sơn", 2021, *["0.4"] * 9],
            ["Đà Nẵng", 2022, *["0.65"] * 9], ["Bắc Ninh", 2022, *["0.45"] * 9], ["Lạng Sơn", 2022, *["0.55"] * 9],
            ["Cao Bằng", 2022, *["0.2"] * 9]]
    result = run(csv_text(header, rows), fw22, draws=100)
    assert result.years == [2021, 2022]
    y22 = {a.area_name: a for a in result.year(2022)}
    assert y22["Lạng Sơn"].change == Decimal("0.1500") and y22["Lạng Sơn"].rank_change == 1
    assert y22["Lạng Sơn"].change_pct == 37.5
    assert y22["Bắc Ninh"].change == Decimal("-0.0500") and y22["Bắc Ninh"].rank_change == -1
    assert y22["Cao Bằng"].change is None and y22["Cao Bằng"].previous_rank is None
    assert all(a.change is None for a in result.year(2021))
    assert result.averages == {2021: Decimal("0.5000"), 2022: Decimal("0.4625")}
    data = result.as_dict()
    assert data["areas"][3]["year"] == 2022 and data["areas"][3]["rank_interval"] is not None


def test_rank_intervals_come_with_every_area(fw22):
    rows = [[code, 2022, *[Decimal(i % 7) / 10 + Decimal(i) / 1000] * 9] for i, (code, _) in enumerate(provinces_63())]
    result = run(csv_text(["area", "year", *DTI_2022], rows), fw22, draws=300, perturb=0.2, seed=4)
    assert result.uncertainty == {"draws": 300, "perturb": 0.2, "seed": 4, "interval": 0.9}
    for a in result.areas:
        assert 1 <= a.rank_low <= a.rank_high <= 63
    # all nine indicators equal per area: weights cannot reorder them, intervals are the ranks
    assert all(a.rank_low == a.rank_high == a.rank for a in result.areas)


def test_published_column_is_checked(fw20):
    rows = [["Bắc Ninh", 2020, "0.4449", "0.3668", "0.4052", "0.4096"],
            ["Đà Nẵng", 2020, "0.5", "0.5", "0.45", "0.4900"]]
    result = run(csv_text(["area", "year", "digital_government", "digital_economy", "digital_society", "dti"],
                          rows), fw20, draws=0)
    flags = {a.area_name: a.published_differs for a in result.areas}
    assert flags == {"Bắc Ninh": False, "Đà Nẵng": True}


# -- reading CSVs -----------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["Tỉnh Bắc Ninh", "Bắc Ninh", "bac ninh", "BAC NINH", "27", "27.0",
                                     "tinh Bac Ninh"])
def test_area_names_as_written(fw20, written):
    rows = read_csv(csv_text(["area", "year", "digital_government", "digital_economy", "digital_society"],
                             [[written, 2020, "0.1", "0.2", "0.3"]]), fw20)
    assert rows[0].area_code == "27"


def test_city_names(fw20):
    names = {"TP. Hồ Chí Minh": "79", "Thành phố Hà Nội": "01", "Thua Thien Hue": "46", "Thừa Thiên-Huế": "46",
             "TP Cần Thơ": "92", "Thành phố Đà Nẵng": "48"}
    # one year each: the same province twice in a year is a duplicate
    rows = read_csv(csv_text(["area", "year", "digital_government", "digital_economy", "digital_society"],
                             [[n, 2015 + i, "0.1", "0.2", "0.3"] for i, n in enumerate(names)]), fw20)
    assert [r.area_code for r in rows] == list(names.values())


def _rejected(text, fw) -> DtiInputError:
    with pytest.raises(DtiInputError) as info:
        read_csv(text, fw, source="upload.csv")
    return info.value


def test_missing_column_is_refused_on_line_1(fw22):
    header = ["area", "year", *[c for c in DTI_2022 if c != "cybersecurity"]]
    exc = _rejected(csv_text(header, [["Đà Nẵng", 2022, *["0.5"] * 8]]), fw22)
    (e,) = exc.errors
    assert (e.line, e.column) == (1, "cybersecurity")
    assert "missing column 'cybersecurity'" in e.message
    assert str(exc).startswith("upload.csv: 1 error(s)")


def test_unknown_column_is_refused(fw22):
    exc = _rejected(csv_text(["area", "year", *DTI_2022, "awarenes"], [["Đà Nẵng", 2022, *["0.5"] * 10]]), fw22)
    assert "unknown column 'awarenes'" in exc.errors[0].message


def test_values_outside_0_1_are_refused_with_their_line(fw22):
    rows = [["Đà Nẵng", 2022, *["0.5"] * 9],
            ["Bắc Ninh", 2022, "1.2", *["0.5"] * 8],
            ["Lạng Sơn", 2022, *["0.5"] * 8, "-0.1"],
            ["Quảng Ninh", 2022, *["0.5"] * 6, "64.2", "0.5", "0.5"],
            ["Cần Thơ", 2022, *["0.5"] * 5, "", "abc", "0.5", "0.5"]]
    exc = _rejected(csv_text(["area", "year", *DTI_2022], rows), fw22)
    got = [(e.line, e.column) for e in exc.errors]
    assert got == [(3, "awareness"), (4, "digital_society"), (5, "digital_government"), (6, "digital_government")]
    assert "value 1.2 is outside [0, 1]" in exc.errors[0].message
    assert "percentages are written as fractions" in exc.errors[2].message
    assert "'abc' is not a number" in exc.errors[3].message


def test_missing_value_is_refused(fw22):
    exc = _rejected(csv_text(["area", "year", *DTI_2022], [["Đà Nẵng", 2022, "", *["0.5"] * 8]]), fw22)
    assert (exc.errors[0].line, exc.errors[0].column) == (2, "awareness")
    assert "missing value" in exc.errors[0].message


def test_unknown_areas_are_all_listed(fw20):
    rows = [["Bắc Ninh", 2020, "0.1", "0.2", "0.3"], ["Bac Nimh", 2020, "0.1", "0.2", "0.3"],
            ["Atlantis", 2020, "0.1", "0.2", "0.3"], ["Tây Nguyên", 2020, "0.1", "0.2", "0.3"],
            ["Atlantis", 2020, "0.1", "0.2", "0.3"]]
    exc = _rejected(csv_text(["area", "year", "digital_government", "digital_economy", "digital_society"], rows),
                    fw20)
    assert exc.unknown_areas == ["Bac Nimh", "Atlantis"]
    by_line = {e.line: e.message for e in exc.errors}
    assert "did you mean Bắc Ninh (27)" in by_line[3]
    assert set(by_line) == {3, 4, 5, 6}
    assert "a region, not a province" in by_line[5]


def test_duplicate_area_year(fw20):
    rows = [["Bắc Ninh", 2020, "0.1", "0.2", "0.3"], ["27", 2020, "0.1", "0.2", "0.3"],
            ["Bắc Ninh", 2021, "0.1", "0.2", "0.3"]]
    exc = _rejected(csv_text(["area", "year", "digital_government", "digital_economy", "digital_society"], rows),
                    fw20)
    (e,) = exc.errors
    assert e.line == 3 and "Bắc Ninh (27) 2020 is already on line 2" in e.message


def test_a_province_merged_in_2025_is_refused_for_2025(fw22):
    exc = _rejected(csv_text(["area", "year", *DTI_2022], [["Hà Giang", 2025, *["0.5"] * 9]]), fw22)
    assert "merged into" in exc.errors[0].message
    assert read_csv(csv_text(["area", "year", *DTI_2022], [["Hà Giang", 2024, *["0.5"] * 9]]), fw22)[0].area_code == "02"


def test_semicolons_decimal_commas_bom_and_blank_lines(fw20):
    text = "\ufeffTỉnh;Năm;Chính quyền số;Kinh tế số;Xã hội số\n\nBắc Ninh;2020;0,4449;0,3668;0,4052\n"
    result = run(text.encode("utf-8"), fw20, draws=0)
    assert result.areas[0].index == Decimal("0.4096") and result.areas[0].line == 3


def test_bad_year_bad_encoding_empty_and_short_rows(fw20):
    header = ["area", "year", "digital_government", "digital_economy", "digital_society"]
    exc = _rejected(csv_text(header, [["Bắc Ninh", "năm 2020", "0.1", "0.2", "0.3"],
                                      ["Bắc Ninh", 2020, "0.1", "0.2", "0.3", "9"]]), fw20)
    assert [(e.line, e.column) for e in exc.errors] == [(2, "year"), (3, None)]
    assert "not UTF-8" in str(_rejected("area,year\nBắc Ninh".encode("utf-16"), fw20))
    assert "empty file" in str(_rejected("", fw20))
    assert "no data rows" in str(_rejected(csv_text(header, []), fw20))


def test_multiline_quoted_cell_keeps_line_numbers(fw20):
    text = ('area,year,digital_government,digital_economy,digital_society\n'
            '"Bắc\nNinh",2020,0.1,0.2,0.3\n'
            'Đà Nẵng,2020,1.5,0.2,0.3\n')
    exc = _rejected(text, fw20)
    assert [e.line for e in exc.errors] == [4]  # the quoted name spans lines 2-3


def test_rows_from_values_checks_ranges(fw20):
    with pytest.raises(DtiInputError, match="outside"):
        rows_from_values(fw20, [{"area_code": "27", "year": 2020, "digital_government": 2,
                                 "digital_economy": 0.1, "digital_society": 0.1}])


def test_fractional_points_in_a_new_framework(tmp_path):
    """A framework may weigh indicators 62.5 / 37.5 ...; the index stays exact."""
    text = """
id: dti-test
version: 1
kind: index
unit: province
name: {vi: Thử nghiệm, en: Test}
source: generated by the test suite
reading: fractional points
total: 100
precision: 4
groups:
  - {code: a, name: {vi: A, en: A}, points: 62.5}
  - {code: b, name: {vi: B, en: B}, points: 37.5}
indicators:
  - {code: x, name: {vi: X, en: X}, points: 62.5, group: a}
  - {code: y, name: {vi: Y, en: Y}, points: 37.5, group: b}
"""
    path = tmp_path / "dti-test.v1.yaml"
    path.write_text(text, encoding="utf-8")
    fw = get(str(path), "index")
    assert index_value(fw, {"x": Decimal("0.4"), "y": Decimal("0.8")}) == Decimal("0.55")
    result = run("area,year,x,y\nHà Nội,2022,0.4,0.8\nHải Phòng,2022,0.8,0.4\n", fw, draws=100)
    assert [(a.area_name, a.index, a.rank) for a in result.areas] == [
        ("Hải Phòng", Decimal("0.6500"), 1), ("Hà Nội", Decimal("0.5500"), 2)]

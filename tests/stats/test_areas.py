"""Reference areas on both backends: the two boundary versions, resolution, hierarchy, successions."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ictgov.stats.areas import (
    AreaError,
    AreaResolver,
    areas_in_force,
    find_area_by_code,
    hierarchy,
    load_reference_areas,
    reference_specs,
    successor_map,
)
from ictgov.stats.models import Area, AreaSuccession

OLD = date(2021, 1, 1)
NEW = date(2026, 1, 1)
FIGURES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "vn_ict_figures" / "vn_ict_figures.csv"


@pytest.fixture
def loaded(session):
    load_reference_areas(session)
    return session


@pytest.fixture
def resolver(loaded):
    return AreaResolver(loaded)


# -- loading ------------------------------------------------------------------------------


def test_loader_counts_and_is_idempotent(session):
    first = load_reference_areas(session)
    assert first["areas_created"] == first["areas"] == 109  # 1 + 6 + 63 + 23 + 7 operators + 9 ministries
    assert first["successions_created"] == first["successions"] == 52
    session.commit()
    second = load_reference_areas(session)
    assert (second["areas_created"], second["areas_updated"], second["successions_created"]) == (0, 0, 0)
    assert session.scalar(select(func.count()).select_from(Area)) == 109
    assert session.scalar(select(func.count()).select_from(AreaSuccession)) == 52


def test_loader_keeps_aliases_an_administrator_added(loaded):
    hanoi = find_area_by_code(loaded, "01", on=OLD)
    hanoi.aliases = [*hanoi.aliases, "thu do"]
    loaded.flush()
    again = load_reference_areas(loaded)
    assert again["areas_updated"] == 0
    assert "thu do" in find_area_by_code(loaded, "01", on=OLD).aliases


def test_province_counts_by_version(loaded):
    assert len(areas_in_force(loaded, OLD, "province")) == 63
    assert len(areas_in_force(loaded, NEW, "province")) == 34
    assert len(areas_in_force(loaded, date(2025, 6, 30), "province")) == 63
    assert len(areas_in_force(loaded, date(2025, 7, 1), "province")) == 34
    assert len(areas_in_force(loaded, NEW, "region")) == 6
    assert [a.code for a in areas_in_force(loaded, NEW, "nation")] == ["VN"]


def test_region_counts_2021_match_gso(loaded):
    regions = {a.id: a.code for a in areas_in_force(loaded, OLD, "region")}
    counts = Counter(regions[p.parent_id] for p in areas_in_force(loaded, OLD, "province"))
    # Red River Delta 11, Northern midlands 14, North Central & Central coast 14,
    # Central Highlands 5, South East 6, Mekong Delta 13 (shared/data/vn_provinces/SOURCE.md).
    assert counts == {"R1": 11, "R2": 14, "R3": 14, "R4": 5, "R5": 6, "R6": 13}


def test_unchanged_units_are_one_row(loaded):
    rows = loaded.scalars(select(Area).where(Area.code.in_(["01", "46", "22"]))).all()
    assert len(rows) == 3
    assert all(r.valid_from == date(2008, 8, 1) and r.valid_to is None for r in rows)
    merged = loaded.scalars(select(Area).where(Area.code == "08").order_by(Area.valid_from)).all()
    assert [(r.valid_from, r.valid_to) for r in merged] == [
        (date(2008, 8, 1), date(2025, 6, 30)),
        (date(2025, 7, 1), None),
    ]
    nation = find_area_by_code(loaded, "VN")
    assert nation.valid_from is None and nation.valid_to is None


def test_reporting_units(loaded):
    operators = {a.code for a in areas_in_force(loaded, NEW, "operator")}
    assert operators == {"VIETTEL", "VINAPHONE", "MOBIFONE", "VIETNAMOBILE", "GMOBILE", "ITEL", "REDDI"}
    mic = find_area_by_code(loaded, "mic", level="ministry")
    assert mic is not None and mic.parent_id is None


# -- codes ---------------------------------------------------------------------------------


def test_find_by_code_picks_the_version_in_force(loaded):
    assert find_area_by_code(loaded, "1", on=OLD).name == "Hà Nội"
    assert find_area_by_code(loaded, "80", on=OLD).name == "Long An"
    assert find_area_by_code(loaded, "80", on=NEW).name == "Tây Ninh"
    assert find_area_by_code(loaded, "80").name == "Tây Ninh"  # today
    assert find_area_by_code(loaded, "02", on=NEW) is None  # Hà Giang no longer exists
    assert find_area_by_code(loaded, "01", level="region") is None
    assert find_area_by_code(loaded, "r3").level == "region"


# -- resolving ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "on", "code"),
    [
        ("VN", OLD, "VN"),
        ("Vietnam", OLD, "VN"),
        ("Việt Nam", NEW, "VN"),
        ("toàn quốc", NEW, "VN"),
        ("R6", OLD, "R6"),
        ("Red River Delta (region)", OLD, "R1"),
        ("Đồng bằng sông Cửu Long", NEW, "R6"),
        ("1", OLD, "01"),
        ("1.0", OLD, "01"),
        ("TP. Hồ Chí Minh", OLD, "79"),
        ("tp hcm", NEW, "79"),
        ("HCMC", OLD, "79"),
        ("Ho Chi Minh City", OLD, "79"),
        ("Sài Gòn", NEW, "79"),
        ("TP. Hà Nội", OLD, "01"),
        ("Thành phố Hà Nội", NEW, "01"),
        ("Thua Thien Hue", OLD, "46"),
        ("Thừa Thiên - Huế", OLD, "46"),
        ("Huế", NEW, "46"),
        ("Tỉnh Trà Vinh", OLD, "84"),
        ("Da Nang", OLD, "48"),
        ("Khánh Hoà", NEW, "56"),
        ("BR-VT", OLD, "77"),
        ("Bà Rịa - Vũng Tàu", OLD, "77"),
        ("Quảng Ninh province", NEW, "22"),
        ("viettel", NEW, "VIETTEL"),
        ("VNPT-VinaPhone", NEW, "VINAPHONE"),
        ("Bộ Thông tin và Truyền thông", OLD, "MIC"),
    ],
)
def test_resolves_spellings(resolver, text, on, code):
    assert resolver.resolve(text, on).code == code


def test_same_name_two_versions(resolver):
    old, new = resolver.resolve("Bac Ninh", OLD), resolver.resolve("Bắc Ninh", NEW)
    assert (old.code, new.code) == ("27", "24")
    old, new = resolver.resolve("Đồng Tháp", OLD), resolver.resolve("Dong Thap", NEW)
    assert (old.code, new.code) == ("87", "82")


def test_merged_name_explains_where_it_went(resolver):
    with pytest.raises(AreaError, match=r"^area: 'Hà Giang' is Hà Giang \(02\), merged into Tuyên Quang "
                                        r"\(08\) on 2025-07-01"):
        resolver.resolve("Hà Giang", NEW)
    with pytest.raises(AreaError, match=r"merged into Đồng Tháp \(82\)"):
        resolver.resolve("Tiền Giang", date(2025, 7, 1))
    with pytest.raises(AreaError, match=r"merged into Tây Ninh \(80\)"):
        resolver.resolve("Long An", NEW)
    assert resolver.resolve("Hà Giang", date(2025, 6, 30)).code == "02"


def test_before_2008_is_out_of_force(resolver):
    with pytest.raises(AreaError, match=r"in force from 2008-08-01"):
        resolver.resolve("Hà Nội", date(2005, 1, 1))
    assert resolver.resolve("Vietnam", date(2005, 1, 1)).code == "VN"


def test_unknown_area_suggests(resolver):
    with pytest.raises(AreaError, match=r"^area: unknown area 'Foo'$"):
        resolver.resolve("Foo", OLD)
    with pytest.raises(AreaError, match=r"^area: unknown area 'Thai Nguyn'; did you mean Thái Nguyên \(19\)"):
        resolver.resolve("Thai Nguyn", OLD)
    with pytest.raises(AreaError, match="empty"):
        resolver.resolve("  ", OLD)


def test_ambiguous_area(loaded):
    loaded.add(Area(code="99", level="province", name="Foo Nam", aliases=["quang"],
                    valid_from=date(2008, 8, 1), sort_order=199))
    loaded.add(Area(code="98", level="province", name="Foo Bac", aliases=["quang"],
                    valid_from=date(2008, 8, 1), sort_order=198))
    loaded.flush()
    with pytest.raises(AreaError, match=r"^area: 'Quang' is ambiguous: Foo Bac \(98\), Foo Nam \(99\)$"):
        AreaResolver(loaded).resolve("Quang", OLD)


@pytest.mark.parametrize("on", [OLD, date(2025, 6, 30), date(2025, 7, 1), NEW])
def test_every_alias_names_one_area_per_day(resolver, on):
    for spec in reference_specs():
        for alias in spec.aliases:
            found = [a for a in resolver.candidates(alias)
                     if (a.valid_from is None or a.valid_from <= on) and (a.valid_to is None or on <= a.valid_to)]
            assert len({a.id for a in found}) <= 1, (alias, on, [a.code for a in found])


def test_every_spelling_in_ict_figures_resolves(resolver):
    if not FIGURES.exists():
        pytest.skip(f"shared data not present: {FIGURES} (the area spellings of the sample sources)")
    with FIGURES.open(encoding="utf-8") as fh:
        spellings = {row["area"] for row in csv.DictReader(fh)}
    assert len(spellings) > 100
    failures = {}
    for text in sorted(spellings):
        try:
            resolver.resolve(text, date(2020, 1, 1))
        except AreaError as exc:
            failures[text] = str(exc)
    assert not failures


# -- hierarchy and successions ---------------------------------------------------------


def test_hierarchy_by_version(loaded, resolver):
    for on, provinces in ((OLD, 63), (NEW, 34)):
        parents = hierarchy(loaded, on)
        assert parents == hierarchy(resolver, on)
        assert len(parents) == provinces + 6
        nation = find_area_by_code(loaded, "VN").id
        for child, parent in parents.items():
            chain = [child, parent]
            while chain[-1] in parents:
                chain.append(parents[chain[-1]])
            assert chain[-1] == nation
    assert find_area_by_code(loaded, "VIETTEL").id not in hierarchy(loaded, NEW)


def test_successor_map(loaded):
    mapping = successor_map(loaded)
    old_ids = {a.id for a in areas_in_force(loaded, OLD, "province")}
    new_ids = {a.id for a in areas_in_force(loaded, NEW, "province")}
    assert set(mapping) == old_ids
    assert set(mapping.values()) == new_ids
    by_id = {a.id: a for a in loaded.scalars(select(Area))}
    assert by_id[mapping[find_area_by_code(loaded, "02", on=OLD).id]].name == "Tuyên Quang"
    hanoi = find_area_by_code(loaded, "01", on=OLD).id
    assert mapping[hanoi] == hanoi
    hcm_parts = [code for code in ("74", "77", "79")
                 if by_id[mapping[find_area_by_code(loaded, code, on=OLD).id]].code == "79"]
    assert hcm_parts == ["74", "77", "79"]


def test_successions_carry_their_source(loaded):
    rows = loaded.scalars(select(AreaSuccession)).all()
    assert {r.share for r in rows} == {1.0}
    assert {r.effective for r in rows} == {date(2025, 7, 1)}
    assert all("202/2025/QH15" in r.source for r in rows)

"""Structural checks of the bundled definitions and sample figures (src/ictgov/data).

Reads the YAML/CSV files directly (PyYAML + csv), so it does not depend on the loader or the
engine: every figure's indicator is a defined element, periods are canonical, values parse,
sources are URLs, statuses are allowed, and every formula, rule, target and review item only
names defined codes.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).resolve().parent.parent / "src" / "ictgov" / "data"
DEFS = DATA / "definitions"
FIGURES = DATA / "sample" / "figures.csv"

PERIOD_RE = re.compile(r"^\d{4}(H[12]|Q[1-4]|-(0[1-9]|1[0-2]))?$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
NAME_RE = re.compile(r"\b[a-z][a-z0-9_]*\b")
AREA_RE = re.compile(r"^(VN|\d{2})$")
URL_RE = re.compile(r"^https?://\S+$")
STATUSES = {"final", "provisional", "estimate", "approximate", "lower_bound"}
AGGREGATIONS = {"sum", "mean", "none"}
OPERATORS = {"<=", "<", "==", ">=", ">", "!="}
FUNCTIONS = {"prev_year", "growth", "sum_children", "share", "abs", "min", "max"}
HEADER = ["indicator", "area", "period", "value", "unit", "status", "source", "note"]
# GSO codes of the 63 provinces in force until 30 June 2025
PROVINCE_CODES = {
    "01", "02", "04", "06", "08", "10", "11", "12", "14", "15", "17", "19", "20", "22", "24",
    "25", "26", "27", "30", "31", "33", "34", "35", "36", "37", "38", "40", "42", "44", "45",
    "46", "48", "49", "51", "52", "54", "56", "58", "60", "62", "64", "66", "67", "68", "70",
    "72", "74", "75", "77", "79", "80", "82", "83", "84", "86", "87", "89", "91", "92", "93",
    "94", "95", "96",
}


def _yaml(name: str):
    with (DEFS / name).open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def elements() -> list[dict]:
    return _yaml("elements.yaml")


@pytest.fixture(scope="module")
def indicators() -> list[dict]:
    return _yaml("indicators.yaml")


@pytest.fixture(scope="module")
def element_codes(elements) -> set[str]:
    return {e["code"] for e in elements}


@pytest.fixture(scope="module")
def all_codes(elements, indicators) -> set[str]:
    return {e["code"] for e in elements} | {i["code"] for i in indicators}


@pytest.fixture(scope="module")
def figures() -> list[dict]:
    """figures.csv, then every other figure file bundled next to it (same columns)."""
    rows = []
    for path in [FIGURES, *sorted(p for p in FIGURES.parent.glob("*.csv") if p != FIGURES)]:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            assert reader.fieldnames == HEADER, path.name
            rows += [{**r, "_file": path.name} for r in reader]
    return rows


def _names(formula: str) -> set[str]:
    return set(NAME_RE.findall(str(formula))) - FUNCTIONS


# --- elements and indicators ---


def test_element_codes_unique_and_well_formed(elements):
    codes = [e["code"] for e in elements]
    dupes = [c for c, n in Counter(codes).items() if n > 1]
    assert not dupes, f"duplicate element codes: {dupes}"
    assert all(CODE_RE.match(c) for c in codes), [c for c in codes if not CODE_RE.match(c)]


def test_codes_unique_across_elements_and_indicators(elements, indicators):
    codes = [e["code"] for e in elements] + [i["code"] for i in indicators]
    dupes = [c for c, n in Counter(codes).items() if n > 1]
    assert not dupes, f"codes defined twice: {dupes}"
    assert all(CODE_RE.match(c) for c in codes)


def test_element_fields(elements, element_codes):
    for e in elements:
        where = e["code"]
        for key in ("name", "name_en", "unit", "aggregation", "higher_is_better", "published_growth_of"):
            assert key in e, f"{where}: missing {key}"
        assert e["name"].strip() and e["name_en"].strip(), where
        assert e["aggregation"] in AGGREGATIONS, where
        assert isinstance(e["higher_is_better"], bool), where
        if "weight" in e:
            assert e["aggregation"] == "mean", f"{where}: weight only for mean"
            assert e["weight"] in element_codes, f"{where}: weight {e['weight']} undefined"
        pg = e["published_growth_of"]
        if pg is not None:
            assert pg in element_codes, f"{where}: published_growth_of {pg} undefined"
            assert pg != e["code"]
            assert e["unit"] == "%", f"{where}: a published growth is in %"


def test_ranks_are_lower_is_better(elements):
    for e in elements:
        if e["unit"] == "rank":
            assert e["higher_is_better"] is False, e["code"]


def test_indicator_formulas_reference_defined_codes(indicators, all_codes):
    for i in indicators:
        for key in ("code", "name", "name_en", "formula", "unit", "decimals", "higher_is_better"):
            assert key in i, f"{i.get('code')}: missing {key}"
        unknown = _names(i["formula"]) - all_codes
        assert not unknown, f"{i['code']}: unknown names {unknown}"
        assert i["code"] not in _names(i["formula"]), f"{i['code']} refers to itself"
        assert isinstance(i["decimals"], int) and i["decimals"] >= 0


# --- figures ---


def test_figures_reference_defined_elements(figures, element_codes):
    unknown = {r["indicator"] for r in figures} - element_codes
    assert not unknown, f"figures with undefined elements: {unknown}"


def test_every_element_has_figures(figures, elements):
    # Elements a service computes from its own records (computed_by) get their figures at run time.
    expected = {e["code"] for e in elements if not e.get("computed_by")}
    used = {r["indicator"] for r in figures}
    assert expected <= used, f"elements without any figure: {expected - used}"


def test_figure_rows(figures, elements):
    units = {e["code"]: e["unit"] for e in elements}
    for n, r in enumerate(figures, start=2):
        where = f"{r['_file']} row {n}"
        assert PERIOD_RE.match(r["period"]), f"{where}: period {r['period']!r}"
        assert AREA_RE.match(r["area"]), f"{where}: area {r['area']!r}"
        assert r["area"] == "VN" or r["area"] in PROVINCE_CODES, f"{where}: area {r['area']!r}"
        assert re.fullmatch(r"-?\d+(\.\d+)?", r["value"]), f"{where}: value {r['value']!r}"
        float(r["value"])
        assert r["status"] in STATUSES, f"{where}: status {r['status']!r}"
        assert URL_RE.match(r["source"]), f"{where}: source {r['source']!r}"
        assert r["unit"] == units[r["indicator"]], f"{where}: unit {r['unit']!r}"


def test_province_dti_2022_complete_with_ties(figures):
    ranks = {r["area"]: float(r["value"]) for r in figures
             if r["indicator"] == "pdti_rank" and r["period"] == "2022"}
    assert set(ranks) == PROVINCE_CODES
    assert all(1 <= v <= 63 for v in ranks.values())


def test_population_of_provinces_adds_up(figures):
    pop = {r["area"]: float(r["value"]) for r in figures
           if r["indicator"] == "population" and r["period"] == "2016"}
    assert set(pop) == PROVINCE_CODES | {"VN"}
    assert abs(sum(v for a, v in pop.items() if a != "VN") - pop["VN"]) < 0.5


# --- rules, targets, review ---


def test_validation_rules(all_codes):
    rules = _yaml("validation_rules.yaml")
    codes = [r["code"] for r in rules]
    assert len(codes) == len(set(codes))
    for r in rules:
        assert CODE_RE.match(r["code"])
        assert r["name"].strip() and r["name_en"].strip(), r["code"]
        assert r["operator"] in OPERATORS, r["code"]
        for side in ("left", "right"):
            unknown = _names(r[side]) - all_codes
            assert not unknown, f"rule {r['code']} {side}: unknown names {unknown}"


def test_targets(all_codes):
    for t in _yaml("targets.yaml"):
        where = f"target {t['code']} {t['deadline']}"
        assert t["code"] in all_codes, where
        assert t["area"] == "VN" or t["area"] in PROVINCE_CODES, where
        assert PERIOD_RE.match(str(t["deadline"])), where
        if "baseline_period" in t:
            assert PERIOD_RE.match(str(t["baseline_period"])), where
        assert isinstance(t["value"], (int, float)), where
        assert t["comparison"] in {">=", "<="}, where
        assert t["name"].strip() and t["name_en"].strip() and t["source"].strip(), where


def test_review_structure(all_codes):
    review = _yaml("review.yaml")
    keys = [s["key"] for s in review["sections"]]
    assert len(keys) == len(set(keys))
    for s in review["sections"]:
        assert s["title"].strip() and s["title_en"].strip(), s["key"]
        unknown = set(s["items"]) - all_codes
        assert not unknown, f"section {s['key']}: unknown items {unknown}"
    assert 6 <= len(review["headline"]) <= 10
    assert set(review["headline"]) <= all_codes, set(review["headline"]) - all_codes
    assert set(review["rankings"]) <= all_codes, set(review["rankings"]) - all_codes

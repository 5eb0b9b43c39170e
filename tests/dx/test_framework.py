"""Frameworks: the bundled files, and the checks that refuse a broken one with its path."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from ictgov.dx import framework as fwmod
from ictgov.dx.framework import (
    EnterpriseFramework,
    FrameworkError,
    IndexFramework,
    get,
    load_file,
    load_text,
)

BUNDLED = Path(fwmod.__file__).parent / "frameworks"
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def test_every_bundled_file_loads():
    refs = {f.ref for f in fwmod.available()}
    assert {"dbi-sme-2021@1", "dti-2022@1", "dti-2020@1"} <= refs
    assert all(f.digest and f.file.endswith(".yaml") for f in fwmod.available())


def test_dbi_sme_structure_is_the_published_one(dbi):
    assert dbi.total == 320
    assert [(p.code, p.points) for p in dbi.pillars] == [
        ("customer_experience", 65), ("strategy", 25), ("infrastructure", 80),
        ("operations", 65), ("culture", 50), ("data", 35)]
    assert sum(len(p.components) for p in dbi.pillars) == 10
    assert len(dbi.criteria) == 60
    assert [len(list(p.criteria)) for p in dbi.pillars] == [13, 1, 16, 13, 10, 7]
    assert [lv.name.vi for lv in dbi.levels] == [
        "Chưa khởi động", "Khởi động", "Bắt đầu", "Hình thành", "Nâng cao", "Dẫn dắt"]
    assert [lv.pillar_share_above for lv in dbi.levels[1:]] == [Fraction(x, 100) for x in (10, 20, 40, 60, 80)]
    assert [lv.total_above for lv in dbi.levels[1:]] == [20, 64, 128, 192, 256]
    assert [lv.pillars_at_level for lv in dbi.levels[1:]] == [4, 4, 4, 5, 6]
    assert "reading" in dbi.model_fields_set and "39/65" in dbi.reading
    for _, _, c in dbi.criteria.values():  # every question in both languages
        assert c.text.vi and c.text.en and c.text.vi != c.text.en


def test_dti_2022_points_and_groups():
    fw = get("dti-2022", "index")
    assert isinstance(fw, IndexFramework)
    assert {i.code: int(i.points) for i in fw.indicators} == {
        "awareness": 100, "institutions": 100, "infrastructure": 100, "human_resources": 100,
        "cybersecurity": 100, "smart_city": 0, "digital_government": 200, "digital_economy": 150,
        "digital_society": 150}
    assert {g.code: int(g.points) for g in fw.groups} == {
        "foundation": 500, "government": 200, "economy": 150, "society": 150}
    assert fw.total == 1000 and fw.unit == "province" and fw.precision == 4


def test_dti_2020_weights():
    fw = get("dti-2020@1")
    assert [(i.code, int(i.points)) for i in fw.indicators] == [
        ("digital_government", 400), ("digital_economy", 300), ("digital_society", 300)]


def test_get_by_id_version_and_path_and_kind():
    assert get("dti-2022").ref == "dti-2022@1"
    path = BUNDLED / "dti-2020.v1.yaml"
    assert get(str(path)).ref == "dti-2020@1"
    with pytest.raises(KeyError, match="known: .*dti-2022@1"):
        get("dti-1999")
    with pytest.raises(KeyError):
        get("dti-2022@7")
    with pytest.raises(TypeError, match="enterprise framework"):
        get("dti-2022", "enterprise")


# -- refusals ------------------------------------------------------------------------------


def _dbi_data() -> dict:
    return fwmod.yaml_load((BUNDLED / "dbi-sme-2021.v1.yaml").read_text(encoding="utf-8"))


def _dti_data() -> dict:
    return fwmod.yaml_load((BUNDLED / "dti-2022.v1.yaml").read_text(encoding="utf-8"))


def _refused(data: dict, name: str = "broken.yaml") -> FrameworkError:
    text = yaml.dump(data, Dumper=DUMPER, allow_unicode=True, sort_keys=False)
    with pytest.raises(FrameworkError) as info:
        load_text(text, name)
    return info.value


def _messages(exc: FrameworkError) -> str:
    return "\n".join(exc.lines())


def test_criteria_points_that_do_not_add_up_name_the_component():
    data = _dbi_data()
    data["pillars"][2]["components"][1]["criteria"][0]["points"] = 6
    msg = _messages(_refused(data))
    assert "broken.yaml:" in msg
    assert "pillars[2].components[1].points: 70 declared, its 14 criteria add up to 71" in msg


def test_component_and_pillar_and_total_sums_are_each_checked():
    data = _dbi_data()
    data["pillars"][0]["components"][0]["points"] = 50
    data["pillars"][3]["points"] = 60
    data["total"] = 300
    exc = _refused(data)
    paths = [p.path for p in exc.problems]
    assert "pillars[0].components[0].points" in paths  # 50 declared, criteria add to 45
    assert "pillars[0].points" in paths  # 65 declared, components add to 50 + 20
    assert "pillars[3].points" in paths
    assert "total" in paths
    assert all(p.line for p in exc.problems)


def test_problem_lines_point_into_the_file():
    data = _dbi_data()
    data["pillars"][5]["components"][0]["criteria"][2]["scale"] = "likert"
    text = yaml.dump(data, Dumper=DUMPER, allow_unicode=True, sort_keys=False)
    with pytest.raises(FrameworkError) as info:
        load_text(text, "x.yaml")
    (problem,) = info.value.problems
    assert problem.path == "pillars[5].components[0].criteria[2].scale"
    assert "unknown answer scale 'likert'; scales are extent, percent, strategy, yes_no" in problem.message
    assert text.splitlines()[problem.line - 1].strip() == "scale: likert"


@pytest.mark.parametrize(("level", "field", "value", "expected"), [
    (5, "total_above", 320, "cannot be met: the total is at most 320"),
    (4, "pillars_at_level", 7, "cannot be met: 7 pillars at level 4 are required, the framework has 6"),
    (5, "pillar_share_above", 1, "cannot be met: a pillar's share of its maximum is at most 1"),
    (3, "total_above", 50, "must be above level 2's 64"),
    (3, "pillar_share_above", 0.15, "must be above level 2's 0.2"),
    (2, "pillars_at_level", 3, "must be at least level 1's 4"),
])
def test_level_rules_that_cannot_be_met(level, field, value, expected):
    data = _dbi_data()
    data["levels"][level][field] = value
    exc = _refused(data)
    hits = [p for p in exc.problems if p.path == f"levels[{level}].{field}"]
    assert hits and expected in hits[0].message, exc.lines()


def test_a_pillar_level_no_answer_can_reach():
    """One yes/no criterion gives 0 % or 100 %: levels 1 to 4 of that pillar are out of reach."""
    data = _dbi_data()
    data["pillars"][1]["components"][0]["criteria"][0]["scale"] = "yes_no"
    exc = _refused(data)
    messages = [p.message for p in exc.problems if p.path == "pillars[1].points"]
    assert len(messages) == 4
    assert messages[0].startswith("level 1 of pillar 'strategy' cannot be met")


def test_level_zero_takes_no_condition_and_levels_are_numbered():
    data = _dbi_data()
    data["levels"][0]["total_above"] = 0
    assert "levels[0].total_above" in [p.path for p in _refused(data).problems]
    data = _dbi_data()
    data["levels"][2]["level"] = 3
    assert "numbered 0, 1, 2" in _messages(_refused(data))


def test_duplicate_codes():
    data = _dbi_data()
    data["pillars"][5]["components"][0]["criteria"][1]["code"] = "website"
    data["pillars"][4]["code"] = "strategy"
    data["answer_scales"]["yes_no"]["options"][1]["code"] = "no"
    msg = _messages(_refused(data))
    assert "pillars[5].components[0].criteria[1].code: duplicate criterion code 'website'" in msg
    assert "(also at pillars[0].components[0].criteria[0].code)" in msg
    assert "pillars[4].code: duplicate pillar code 'strategy'" in msg
    assert "duplicate option code 'no'" in msg


def test_scale_without_a_full_option():
    data = _dbi_data()
    data["answer_scales"]["percent"]["options"][-1]["share"] = 0.9
    assert "no option has share 1" in _messages(_refused(data))


def test_missing_english_text_and_unknown_keys():
    data = _dbi_data()
    del data["pillars"][0]["components"][0]["criteria"][0]["text"]["en"]
    data["pillars"][0]["weight"] = 2
    paths = [p.path for p in _refused(data).problems]
    assert "pillars[0].components[0].criteria[0].text.en" in paths
    assert "pillars[0].weight" in paths


def test_duplicate_yaml_key_is_refused_with_its_line():
    text = (BUNDLED / "dti-2022.v1.yaml").read_text(encoding="utf-8").replace(
        "precision: 4\n", "precision: 4\ntotal: 900\n")
    with pytest.raises(FrameworkError, match=r"key 'total' appears twice"):
        load_text(text, "dup.yaml")


def test_yes_and_no_stay_strings():
    """YAML 1.1 would read the option codes `no`/`yes` as booleans."""
    text = (BUNDLED / "dbi-sme-2021.v1.yaml").read_text(encoding="utf-8")
    text = text.replace('{code: "no",', "{code: no,").replace('{code: "yes",', "{code: yes,")
    fw = load_text(text, "unquoted.yaml")
    assert list(fw.answer_scales["yes_no"].by_code) == ["no", "yes"]


def test_index_checks():
    data = _dti_data()
    data["indicators"][6]["points"] = 250
    data["indicators"][7]["group"] = "economics"
    data["indicators"][8]["code"] = "digital_economy"
    msg = _messages(_refused(data))
    assert "groups[1].points: 200 declared, its 1 indicators add up to 250" in msg
    assert "indicators[7].group: unknown group 'economics'" in msg
    assert "indicators[8].code: duplicate indicator code 'digital_economy'" in msg


def test_unknown_kind_and_not_a_mapping():
    assert "kind must be one of enterprise, maturity, index" in str(_refused({"kind": "ministry"}))
    with pytest.raises(FrameworkError, match="YAML mapping"):
        load_text("- a\n- b\n", "list.yaml")
    with pytest.raises(FrameworkError, match=r"bad.yaml:2: YAML"):
        load_text("id: x\n  version: [\n", "bad.yaml")


def test_load_file_names_the_file(tmp_path):
    data = _dti_data()
    data["total"] = 999
    path = tmp_path / "dti-2023.v1.yaml"
    path.write_text(yaml.dump(data, Dumper=DUMPER, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FrameworkError) as info:
        load_file(path)
    assert info.value.lines()[0].startswith("dti-2023.v1.yaml:")


def test_a_new_version_is_a_new_file_with_its_own_identity(tmp_path):
    data = _dti_data()
    data["version"] = 2
    data["indicators"][6]["points"], data["indicators"][7]["points"] = 150, 200
    data["groups"][1]["points"], data["groups"][2]["points"] = 150, 200
    path = tmp_path / "dti-2022.v2.yaml"
    path.write_text(yaml.dump(data, Dumper=DUMPER, allow_unicode=True, sort_keys=False), encoding="utf-8")
    v2 = get(str(path), "index")
    v1 = get("dti-2022@1")
    assert (v2.ref, v1.ref) == ("dti-2022@2", "dti-2022@1")
    assert v1.digest != v2.digest
    assert v1.identity() == {"id": "dti-2022", "version": 1, "digest": v1.digest}


def test_enterprise_framework_type(dbi):
    assert isinstance(dbi, EnterpriseFramework)
    assert dbi.top_level == 5 and dbi.level_name(3).vi == "Hình thành"

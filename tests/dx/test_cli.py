"""`ictgov dx ...` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from ictgov.dx import framework as fwmod
from ictgov.dx.cli import app

from .conftest import answers_for

runner = CliRunner()
BUNDLED = Path(fwmod.__file__).parent / "frameworks"
DTI_2022 = ["awareness", "institutions", "infrastructure", "human_resources", "cybersecurity", "smart_city",
            "digital_government", "digital_economy", "digital_society"]


def _csv(tmp_path, header, rows, name="dti.csv"):
    path = tmp_path / name
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n", encoding="utf-8")
    return path


def test_frameworks_lists_the_bundled_ones():
    result = runner.invoke(app, ["frameworks"])
    assert result.exit_code == 0, result.output
    assert "dbi-sme-2021@1" in result.output and "dti-2022@1" in result.output and "dti-2020@1" in result.output
    listed = json.loads(runner.invoke(app, ["frameworks", "--json"]).output)
    assert {r["ref"] for r in listed} >= {"dbi-sme-2021@1", "dti-2022@1", "dti-2020@1"}


def test_validate_ok_and_refused(tmp_path):
    ok = runner.invoke(app, ["validate", str(BUNDLED / "dbi-sme-2021.v1.yaml")])
    assert ok.exit_code == 0 and "ok: dbi-sme-2021.v1.yaml is dbi-sme-2021@1" in ok.output
    data = fwmod.yaml_load((BUNDLED / "dbi-sme-2021.v1.yaml").read_text(encoding="utf-8"))
    data["pillars"][0]["points"] = 70
    data["levels"][5]["pillars_at_level"] = 8
    bad = tmp_path / "dbi-sme-2021.v2.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    refused = runner.invoke(app, ["validate", str(bad)])
    assert refused.exit_code == 1
    assert "dbi-sme-2021.v2.yaml: " in refused.output  # stderr is mixed in by the runner
    assert "pillars[0].points: 70 declared" in refused.output
    assert "levels[5].pillars_at_level: cannot be met" in refused.output
    as_json = json.loads(runner.invoke(app, ["validate", str(bad), "--json"]).output)
    assert as_json["ok"] is False and {p["path"] for p in as_json["problems"]} >= {"pillars[0].points", "total"}


def test_dti_table_and_json(tmp_path):
    rows = [["Đà Nẵng", 2022, *["0.7"] * 9], ["Tỉnh Bắc Ninh", 2022, *["0.6"] * 9],
            ["thanh hoa", 2022, *["0.5"] * 9], ["Yên Bái", 2022, *["0.5"] * 9], ["Cao Bằng", 2022, *["0.3"] * 9],
            ["Đà Nẵng", 2021, *["0.6"] * 9]]
    path = _csv(tmp_path, ["area", "year", *DTI_2022], rows)
    table = runner.invoke(app, ["dti", str(path), "--framework", "dti-2022", "--draws", "200", "--seed", "3"])
    assert table.exit_code == 0, table.output
    assert "Đà Nẵng (48)" in table.output and "0.7000" in table.output and "+0.1000" in table.output
    assert "framework dti-2022@1" in table.output
    out = json.loads(runner.invoke(app, ["dti", str(path), "-f", "dti-2022", "--json", "--year", "2022"]).output)
    assert out["ok"] is True and out["framework"]["id"] == "dti-2022"
    ranks = {a["area_name"]: a["rank"] for a in out["areas"]}
    assert ranks == {"Đà Nẵng": 1, "Bắc Ninh": 2, "Thanh Hóa": 3, "Yên Bái": 3, "Cao Bằng": 5}
    first = out["areas"][0]
    assert first["change"] == 0.1 and first["rank_interval"] == [1, 1]
    assert first["groups"] == {"foundation": 0.7, "government": 0.7, "economy": 0.7, "society": 0.7}


def test_dti_rejections_exit_1_with_lines(tmp_path):
    bad = _csv(tmp_path, ["area", "year", *DTI_2022],
               [["Đà Nẵng", 2022, *["0.7"] * 9], ["Atlantis", 2022, *["0.6"] * 9], ["Huế", 2022, "7", *["0.5"] * 8]])
    result = runner.invoke(app, ["dti", str(bad)])
    assert result.exit_code == 1
    assert "unknown areas: Atlantis" in result.output
    assert "line 3, area: area: unknown area 'Atlantis'" in result.output
    assert "line 4, awareness: value 7 is outside [0, 1]" in result.output
    as_json = json.loads(runner.invoke(app, ["dti", str(bad), "--json"]).output)
    assert as_json["unknown_areas"] == ["Atlantis"] and [e["line"] for e in as_json["errors"]] == [3, 4]
    missing = _csv(tmp_path, ["area", "year", "awareness"], [["Đà Nẵng", 2022, "0.5"]], "missing.csv")
    result = runner.invoke(app, ["dti", str(missing), "--json"])
    assert result.exit_code == 1 and "missing column 'institutions'" in result.output
    unknown = runner.invoke(app, ["dti", str(missing), "--framework", "dti-1999"])
    assert unknown.exit_code == 1 and "unknown framework 'dti-1999'" in unknown.output
    wrong_kind = runner.invoke(app, ["dti", str(missing), "--framework", "dbi-sme-2021"])
    assert wrong_kind.exit_code == 1 and "enterprise framework" in wrong_kind.output


def test_dti_2020_published_figure(tmp_path):
    path = _csv(tmp_path, ["area", "year", "digital_government", "digital_economy", "digital_society"],
                [["Bắc Ninh", 2020, "0.4449", "0.3668", "0.4052"]])
    out = json.loads(runner.invoke(app, ["dti", str(path), "-f", "dti-2020", "--json"]).output)
    assert out["areas"][0]["index"] == 0.4096


def test_questionnaire_then_score(tmp_path, dbi):
    template = runner.invoke(app, ["questionnaire", "dbi-sme-2021", "--lang", "en"])
    assert template.exit_code == 0
    filled = yaml.safe_load(template.output)
    assert filled["framework"] == "dbi-sme-2021@1" and len(filled["answers"]) == 60
    assert all(v is None for v in filled["answers"].values())
    filled["answers"].update(answers_for(dbi, {"customer_experience": 39, "infrastructure": 50, "operations": 40,
                                               "culture": 30, "strategy": 15, "data": 20}))
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(filled, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["score", str(path), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Forming (level 3 of 5) — 194 / 320 points" in result.output
    assert "next level: 4 Advanced" in result.output
    out = json.loads(runner.invoke(app, ["score", str(path), "--json"]).output)
    assert out["level"] == 3 and out["complete"] is True and out["framework"]["id"] == "dbi-sme-2021"
    assert out["next_level"]["pillars_missing"] == 3  # infrastructure and operations are at 4; 5 needed


def test_score_flat_answers_and_errors(tmp_path):
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"website": "wide", "it_unit": "yes"}), encoding="utf-8")
    out = json.loads(runner.invoke(app, ["score", str(flat), "--json"]).output)
    assert out["total"] == 9 and out["complete"] is False and len(out["unanswered"]) == 58
    bad = tmp_path / "bad.yaml"
    bad.write_text("website: always\nerpp: wide\n", encoding="utf-8")
    result = runner.invoke(app, ["score", str(bad)])
    assert result.exit_code == 1
    assert "website: 'always' is not an option" in result.output and "erpp: unknown criterion" in result.output

"""The ministry-level DTI: ministries and agencies ranked like provinces, from their names as
ministry tables write them; a province in a ministry file is refused with its line."""

from __future__ import annotations

import json
from fractions import Fraction

from typer.testing import CliRunner

from ictgov.dx.cli import app
from ictgov.dx.framework import get

runner = CliRunner()
HEADER = "area,year,awareness,institutions,infrastructure,human_resources,cybersecurity,digital_government"


def test_the_framework_has_six_main_indicators_on_1000_points():
    fw = get("dti-ministry-2022", "index")
    assert fw.unit == "ministry" and len(fw.indicators) == 6 and fw.total == 1000
    assert sum(i.points for i in fw.indicators) == 1000


def test_ministries_are_ranked_from_their_names_and_abbreviations(tmp_path):
    path = tmp_path / "bo.csv"
    path.write_text("\n".join([
        HEADER,
        "Bộ Tài chính,2022,0.8,0.7,0.9,0.6,0.7,0.7",
        "MPI,2022,0.7,0.7,0.8,0.6,0.6,0.65",           # the English abbreviation
        "Thong tan xa Viet Nam,2022,0.4,0.3,0.5,0.3,0.4,0.3",  # without diacritics
        "NHNN,2022,0.8,0.7,0.9,0.6,0.7,0.7",           # the code: ties with Finance
        "Bộ Tài chính,2021,0.7,0.6,0.8,0.5,0.6,0.6",
    ]) + "\n", encoding="utf-8")
    out = runner.invoke(app, ["dti", str(path), "--framework", "dti-ministry-2022", "--draws", "0", "--json"])
    assert out.exit_code == 0, out.output
    rows = {(a["area"], a["year"]): a for a in json.loads(out.stdout)["areas"]}
    fin = rows[("BTC", 2022)]
    expected = (Fraction("0.8") + Fraction("0.7") + Fraction("0.9") + Fraction("0.6") + Fraction("0.7")) * 80 \
        + Fraction("0.7") * 600
    assert fin["index"] == round(float(expected / 1000), 4) == 0.716
    assert fin["rank"] == rows[("NHNN", 2022)]["rank"] == 1
    # ranked as the ministry publishes them: within the group with public services, and the
    # news agency first of the group without
    assert rows[("BKHDT", 2022)]["rank"] == 3 and rows[("TTXVN", 2022)]["rank"] == 1
    assert (fin["group"], rows[("TTXVN", 2022)]["group"]) == ("public_services", "no_public_services")
    assert fin["change"] == round(0.716 - rows[("BTC", 2021)]["index"], 4)


def test_a_province_in_a_ministry_file_is_refused_with_its_line(tmp_path):
    path = tmp_path / "bo.csv"
    path.write_text(HEADER + "\nHà Nội,2022,0.8,0.7,0.9,0.6,0.7,0.7\nBộ Công Thương,2022,1,1,1,1,1,1\n",
                    encoding="utf-8")
    out = runner.invoke(app, ["dti", str(path), "--framework", "dti-ministry-2022"])
    assert out.exit_code == 1
    assert "line 2" in out.output and "a province, not a ministry" in out.output

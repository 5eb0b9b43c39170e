"""Importing files: one transaction, every error listed, revisions kept."""

import io
import json

import pytest
from sqlalchemy import func, select

from ictgov.stats.figures import Figures
from ictgov.stats.ingest import ImportRejected, import_observations
from ictgov.stats.models import DataElement, ImportBatch, Observation

HEADER = "indicator,area,period,value,unit,source\n"


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(r + "\n" for r in rows)).encode()


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_good_file_creates_elements_and_observations(areas):
    s = areas
    report = import_observations(
        s,
        csv_bytes(
            "ICT revenue,VN,2020H1,50,billion USD,https://example.gov.vn/a",
            "ICT revenue,VN,2021H1,65,billion USD,https://example.gov.vn/b",
            'Dân số,"TP. Hồ Chí Minh",2016,8441.9,thousand persons,GSO 2016',
            "Dân số,Thua Thien Hue,2016,1154.3,thousand persons,GSO 2016",
        ),
        "figures.csv",
    )
    s.commit()
    assert (report.created, report.revised) == (4, 0)
    assert {e["code"] for e in report.new_elements} == {"ict_revenue", "dan_so"}
    fig = Figures.load(s)
    shown = fig.show(s, "ict_revenue", "VN", "2021H1")
    assert shown["value"] == 65 and shown["previous_value"] == 50
    assert shown["growth_pct"] == 30.0
    assert shown["trace"]["source"] == "https://example.gov.vn/b"
    assert fig.value("dan_so", fig.area("79", "2016").id, "2016") == 8441.9


def test_every_bad_row_is_listed_and_nothing_is_written(areas):
    s = areas
    data = csv_bytes(
        "ICT revenue,VN,2021H1,65,billion USD,src",
        "ICT revenue,Atlantis,2021H1,1,billion USD,src",
        "ICT revenue,VN,2021H3,1,billion USD,src",
        "ICT revenue,VN,2021,abc,billion USD,src",
        "ICT revenue,VN,2020,5,billion USD,",
    )
    with pytest.raises(ImportRejected) as exc:
        import_observations(s, data, "bad.csv")
    s.rollback()
    found = {(e.row, e.column) for e in exc.value.errors}
    assert found == {(3, "area"), (4, "period"), (5, "value"), (6, "source")}
    messages = " ".join(e.message for e in exc.value.errors)
    assert "Atlantis" in messages and "2021H3" in messages
    assert count(s, Observation) == 0 and count(s, DataElement) == 0 and count(s, ImportBatch) == 0


def test_missing_and_unknown_columns_are_named(areas):
    with pytest.raises(ImportRejected) as exc:
        import_observations(areas, b"indicator,area,period,amount\nx,VN,2021,1\n", "f.csv")
    text = " ".join(str(e) for e in exc.value.errors)
    assert (
        "amount" in text and "missing column 'value'" in text and "missing column 'source'" in text
    )


def test_vietnamese_number_notation_when_the_file_says_so(areas):
    s = areas
    rows = [
        'DN công nghệ số,VN,2021H1,"61.359",doanh nghiệp,MIC',
        'Tăng trưởng,VN,2021H1,"20,11",%,MIC',
    ]
    with pytest.raises(ImportRejected) as exc:
        import_observations(s, csv_bytes(*rows), "vi.csv")
    assert any("number_format=vi" in e.message for e in exc.value.errors)
    s.rollback()
    report = import_observations(
        s, ("# number_format: vi\n" + HEADER + "\n".join(rows) + "\n").encode(), "vi.csv"
    )
    s.commit()
    fig = Figures.load(s)
    vn = fig.area("VN").id
    assert report.created == 2
    assert fig.value("dn_cong_nghe_so", vn, "2021H1") == 61359
    assert fig.value("tang_truong", vn, "2021H1") == 20.11


def test_new_value_is_a_revision_and_same_file_again_changes_nothing(areas):
    s = areas
    import_observations(s, csv_bytes("rev,VN,2021,126,billion USD,estimate Dec 2020"), "a.csv")
    s.commit()
    again = import_observations(
        s, csv_bytes("rev,VN,2021,126,billion USD,estimate Dec 2020"), "a.csv"
    )
    assert (again.created, again.revised, again.unchanged) == (0, 0, 1)
    revised = import_observations(
        s, csv_bytes("rev,VN,2021,124.6,billion USD,final figure"), "b.csv"
    )
    s.commit()
    assert revised.revised == 1
    fig = Figures.load(s)
    shown = fig.show(s, "rev", "VN", "2021")
    assert shown["value"] == 124.6
    revs = shown["trace"]["revisions"]
    assert [(r["revision"], r["value"], r["latest"]) for r in revs] == [
        (2, 124.6, True),
        (1, 126.0, False),
    ]


def test_repeated_key_in_one_file_is_an_error(areas):
    with pytest.raises(ImportRejected) as exc:
        import_observations(areas, csv_bytes("x,VN,2021,1,u,s", "x,VN,2021,2,u,s"), "d.csv")
    assert exc.value.errors[0].row == 3 and "repeats row 2" in exc.value.errors[0].message


def test_strict_refuses_unknown_indicators(areas):
    with pytest.raises(ImportRejected, match="strict"):
        import_observations(areas, csv_bytes("brand new,VN,2021,1,u,s"), "s.csv", strict=True)


def test_scale_of_the_same_unit_is_converted_and_other_units_refused(areas):
    s = areas
    s.add(DataElement(code="ic_revenue_vnd", name="Doanh thu", unit="trillion VND"))
    s.commit()
    import_observations(s, csv_bytes("ic_revenue_vnd,VN,2021,3462170,billion VND,src"), "u.csv")
    s.commit()
    obs = s.scalar(select(Observation))
    assert obs.value == pytest.approx(3462.17) and "converted from 3462170 billion VND" in obs.note
    with pytest.raises(ImportRejected, match="does not convert"):
        import_observations(s, csv_bytes("ic_revenue_vnd,VN,2022,151,billion USD,src"), "u2.csv")


def test_merged_province_is_refused_for_a_period_after_the_merger(areas):
    with pytest.raises(ImportRejected) as exc:
        import_observations(areas, csv_bytes("x,Hà Giang,2026,1,u,s"), "m.csv")
    assert "2025" in exc.value.errors[0].message


def test_province_officer_may_only_submit_own_province(areas):
    with pytest.raises(ImportRejected, match="only for 01"):
        import_observations(
            areas,
            csv_bytes("x,Hà Nội,2021,1,u,s", "x,Đà Nẵng,2021,1,u,s"),
            "p.csv",
            scope_area_codes={"01"},
        )


def test_xlsx_and_json_are_read(areas):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Chỉ tiêu", "Địa bàn", "Kỳ", "Giá trị", "Đơn vị", "Nguồn", "Trạng thái"])
    ws.append(["subs", "VN", 2021, 123.76, "million", "MIC", "ước tính"])
    ws.append(["subs", "Bogus", 2021, 1, "million", "MIC", ""])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ImportRejected) as exc:
        import_observations(areas, buf.getvalue(), "f.xlsx")
    assert [(e.row, e.column) for e in exc.value.errors] == [(3, "area")]
    areas.rollback()
    doc = {
        "observations": [
            {
                "indicator": "subs",
                "area": "VN",
                "period": "2021",
                "value": 123.76,
                "unit": "million",
                "source": "MIC",
                "status": "estimate",
            }
        ]
    }
    report = import_observations(areas, json.dumps(doc).encode(), "f.json")
    areas.commit()
    assert report.created == 1
    assert areas.scalar(select(Observation.status)) == "estimate"

"""The self-assessments appear in the stats engine, by province, sector and size class."""

from __future__ import annotations

from datetime import datetime

import yaml

from ictgov.dx import assessments as asm
from ictgov.dx import enterprises
from ictgov.dx.framework import get
from ictgov.dx.observations import element_codes, sync
from ictgov.stats.areas import load_reference_areas
from ictgov.stats.figures import Figures
from ictgov.stats.indicators import DEFINITIONS_DIR, load_definitions

from .test_assessments import CODES, at_share


def test_every_element_written_is_defined():
    fw = get("dbi-sme-2021", "enterprise")
    defined = {e["code"]: e for e in yaml.safe_load((DEFINITIONS_DIR / "elements.yaml").read_text())}
    codes = element_codes([p.code for p in fw.pillars])
    assert set(codes) <= set(defined)
    assert all(defined[c].get("computed_by") == "dx" for c in codes)


def test_assessments_become_observations(session):
    load_reference_areas(session)
    load_definitions(session)
    fw = get("dbi-sme-2021", "enterprise")

    def assessed(code, province, sector, share, when):
        e = enterprises.by_tax_code(session, code) or enterprises.register(
            session, {"name": code, "sector": sector, "size_class": "small", "province_code": province},
            tax_code=code)
        a = asm.start(session, e)
        asm.save_answers(session, a, at_share(fw, share))
        asm.submit(session, a)
        a.submitted_at = when
        session.flush()

    assessed(CODES[0], "01", "trade", "0.2", datetime(2026, 2, 1))
    assessed(CODES[0], "01", "trade", "0.6", datetime(2026, 5, 1))  # the year's latest counts
    assessed(CODES[1], "01", "ict", "0.2", datetime(2026, 3, 1))
    assessed(CODES[2], "79", "trade", "1", datetime(2026, 3, 1))
    report = sync(session)
    session.commit()
    assert report.created > 0
    fig = Figures.load(session)
    hn, hcm, vn = fig.area("01").id, fig.area("79").id, fig.area("VN").id
    assert fig.value("dx_enterprises_assessed", hn, "2026") == 2
    assert fig.value("dx_enterprises_assessed", vn, "2026") == 3  # summed up the hierarchy
    assert fig.value("dx_level_3", hn, "2026") == 1 and fig.value("dx_level_1", hn, "2026") == 1
    assert fig.value("dx_level_5", hcm, "2026") == 1
    assert fig.value("dx_level_3_sector_trade", vn, "2026") == 1
    assert fig.value("dx_level_1_size_small", vn, "2026") == 1
    # strategy: 15 and 5 in Hà Nội, 25 in HCMC; the nation's mean is weighted by enterprises
    assert fig.value("dx_pillar_avg_strategy", hn, "2026") == 10
    assert abs(fig.value("dx_pillar_avg_strategy", vn, "2026") - 15) < 1e-9
    again = sync(session)
    assert again.created == 0 and again.revised == 0

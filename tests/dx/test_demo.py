"""The dx demo of `make run`: what a newcomer clicks through must be there and make sense."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from ictgov.auth import User, verify_password
from ictgov.dx import assessments as asm
from ictgov.dx import catalogue
from ictgov.dx.demo import DEMO_DTI_FILE, DEMO_DTI_YEAR, NAMES, load_demo
from ictgov.dx.models import Adoption, Assessment, DtiResult, DtiUpload, Enterprise
from ictgov.stats.areas import load_reference_areas


def test_demo_has_peers_progress_adoptions_a_draft_and_a_ranking(session):
    load_reference_areas(session)
    session.flush()
    out = load_demo(session, None)

    enterprises = list(session.scalars(select(Enterprise)))
    assert len(enterprises) == len(NAMES) == out["enterprises"]
    groups = Counter((e.sector, e.size_class, e.province_code) for e in enterprises)
    assert set(groups.values()) == {3}  # every enterprise has two peers to compare with

    submitted = session.scalar(select(func.count()).select_from(Assessment)
                               .where(Assessment.status == "submitted"))
    assert submitted == out["assessments"] > len(NAMES)  # some enterprises assessed twice

    # The demo login works and lands on an enterprise with a draft half done, and peers.
    user = session.scalar(select(User).where(User.username == out["user"]))
    assert verify_password(user.password_hash, out["password"])
    own = session.scalar(select(Enterprise).where(Enterprise.tax_code == user.enterprise_ref))
    draft = asm.draft_of(session, own)
    fw = asm.framework_of(draft)
    assert 0 < len(draft.answers) < len(fw.criteria)

    # An adoption between two assessments shows its effect on the second one.
    adoption = session.scalars(select(Adoption)).first()
    history = asm.submitted(session, session.get(Enterprise, adoption.enterprise_id))
    assert len(history) == 2
    assert catalogue.effects(session, history[1], history[0])

    # The ranking: the 34 units in force in 2025, from a file that says it is not published data.
    upload = session.scalar(select(DtiUpload))
    assert upload.filename == DEMO_DTI_FILE and "not published" in upload.filename
    ranks = list(session.scalars(select(DtiResult).where(DtiResult.year == DEMO_DTI_YEAR)))
    assert len(ranks) == 34
    assert all(r.rank_low is not None and r.rank_low <= r.rank <= r.rank_high for r in ranks)

    assert load_demo(session, None) == {"skipped": 1}  # loading twice adds nothing
    assert session.scalar(select(func.count()).select_from(Enterprise)) == len(NAMES)

"""Uploaded provincial index (DTI) results: stored, ranked, read back.

``upload`` runs a CSV through ``dti.run`` (the whole file checked first, every bad line
reported, nothing written on error) and stores each area's index, rank, rank interval,
pillar groups and change. A new upload for a framework and year replaces that year's
ranking whole, so a ranking never mixes two files; the upload keeps the file's digest, its
name, who sent it and the uncertainty settings, so each printed figure traces to its input.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ictgov.audit import record
from ictgov.dx import dti
from ictgov.dx.framework import IndexFramework, get
from ictgov.dx.models import DtiResult, DtiUpload

DEFAULT_FRAMEWORK = "dti-2022"


def index_framework(ref: str) -> IndexFramework:
    """An index framework by id or id@version; KeyError/TypeError as ``framework.get``."""
    fw = get(ref, "index")
    assert isinstance(fw, IndexFramework)
    return fw


def compute(session: Session, data: bytes, fw: IndexFramework, filename: str = "upload.csv",
            **options: Any) -> dti.DtiResult:
    """Check and compute a file with the application's own area names (admin aliases too)."""
    from ictgov.stats.areas import AreaResolver

    return dti.run(data, fw, resolver=AreaResolver(session), source=filename, **options)


def upload(session: Session, data: bytes, fw: IndexFramework, filename: str, actor=None,
           **options: Any) -> tuple[DtiUpload, dti.DtiResult]:
    """Compute and store a file; raises dti.DtiInputError (nothing written) on bad input."""
    result = compute(session, data, fw, filename, **options)
    years = result.years
    batch = DtiUpload(framework_id=fw.id, framework_version=fw.version, framework_digest=fw.digest,
                      filename=filename[:300], content_sha256=hashlib.sha256(data).hexdigest(), years=years,
                      uncertainty=result.uncertainty, created_by_id=getattr(actor, "id", None))
    session.add(batch)
    session.flush()
    replaced = session.scalar(select(func.count()).select_from(DtiResult).where(
        DtiResult.framework_id == fw.id, DtiResult.year.in_(years))) or 0
    session.execute(delete(DtiResult).where(DtiResult.framework_id == fw.id, DtiResult.year.in_(years)))
    for a in result.areas:
        d = a.as_dict()
        session.add(DtiResult(
            upload_id=batch.id, framework_id=fw.id, framework_version=fw.version, year=a.year,
            area_code=a.area_code, area_name=a.area_name, line=a.line, values=d["values"], groups=d["groups"],
            index=d["index"], rank=a.rank, rank_low=a.rank_low, rank_high=a.rank_high,
            previous_index=d["previous_index"], change=d["change"], rank_change=a.rank_change,
            published=d["published"]))
    session.flush()
    record(session, actor, "upload", "dx_dti", batch.id,
           after={"framework": fw.ref, "file": batch.filename, "sha256": batch.content_sha256, "years": years,
                  "areas": len(result.areas), "replaced": replaced, "uncertainty": result.uncertainty})
    return batch, result


def years(session: Session, framework_id: str = DEFAULT_FRAMEWORK) -> list[int]:
    return list(session.scalars(select(DtiResult.year).where(DtiResult.framework_id == framework_id)
                                .distinct().order_by(DtiResult.year.desc())))


def frameworks_with_results(session: Session) -> list[str]:
    return list(session.scalars(select(DtiResult.framework_id).distinct().order_by(DtiResult.framework_id)))


def ranking(session: Session, framework_id: str, year: int) -> list[DtiResult]:
    return list(session.scalars(select(DtiResult).where(DtiResult.framework_id == framework_id,
                                                        DtiResult.year == year)
                                .order_by(DtiResult.rank, DtiResult.area_code)))


def detail(session: Session, framework_id: str, area_code: str) -> list[DtiResult]:
    """Every stored year of one area, newest first."""
    return list(session.scalars(select(DtiResult).where(DtiResult.framework_id == framework_id,
                                                        DtiResult.area_code == area_code)
                                .order_by(DtiResult.year.desc())))


def public_row(r: DtiResult) -> dict[str, Any]:
    """What the public ranking shows of an area (no indicator detail); `group` is the ranking
    group of a ministry ("" for provinces), within which its rank is taken."""
    from ictgov.stats.areas import dti_groups

    return {"area": r.area_code, "area_name": r.area_name, "year": r.year, "group": dti_groups().get(r.area_code, ""),
            "index": r.index, "rank": r.rank,
            "rank_interval": None if r.rank_low is None else [r.rank_low, r.rank_high],
            "previous_index": r.previous_index, "change": r.change, "rank_change": r.rank_change}


def detail_row(r: DtiResult) -> dict[str, Any]:
    """An area's full result: the public row plus the indicator values and pillar groups."""
    return {**public_row(r), "values": r.values, "groups": r.groups, "published": r.published,
            "framework": f"{r.framework_id}@{r.framework_version}", "upload": r.upload_id}

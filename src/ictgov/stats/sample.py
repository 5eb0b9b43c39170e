"""The bundled sample: reference areas, definitions and Vietnam's published ICT figures.

Loading is idempotent: the figures file is imported once (recognised by its content hash),
so `make run` can be repeated without piling up revisions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.stats.areas import load_reference_areas
from ictgov.stats.indicators import load_definitions
from ictgov.stats.ingest import import_observations
from ictgov.stats.models import ImportBatch

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"
FIGURES = SAMPLE_DIR / "figures.csv"


def more_files(figures: Path = FIGURES) -> list[Path]:
    """The other figure files bundled next to ``figures.csv`` (a service's published figures,
    e.g. the SME programme's), each with its section in SOURCES.md; loaded after it."""
    return sorted(p for p in figures.parent.glob("*.csv") if p.name != figures.name)


def _load_file(session: Session, path: Path, actor) -> dict:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    done = session.scalar(select(ImportBatch).where(ImportBatch.content_sha256 == digest))
    if done is not None:
        return {"skipped": f"already imported as batch {done.id}"}
    # The sample keeps successive publications of one figure as successive rows: each
    # later row becomes a new revision of the same key.
    report = import_observations(session, data, f"sample/{path.name}", user=actor,
                                 allow_repeated_keys=True)
    return report.as_dict()


def load_sample(session: Session, actor=None, figures: Path = FIGURES) -> dict:
    areas = load_reference_areas(session)
    definitions = load_definitions(session, actor=actor)
    result = {"areas": areas, "definitions": definitions, "figures": _load_file(session, figures, actor)}
    result["more"] = {p.name: _load_file(session, p, actor) for p in more_files(figures)}
    return result

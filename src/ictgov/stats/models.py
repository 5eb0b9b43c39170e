"""Tables of the statistics service, in DHIS2's vocabulary.

- Area: an organisation unit (nation, region, province) or a reporting unit that is not a
  place (telecom operator, ministry). Provinces carry validity dates because boundaries
  change (63 provinces until 2025-06-30, 34 units since 2025-07-01).
- DataElement: what is counted, its unit, and how it aggregates up the area hierarchy.
- Indicator: a formula over data elements and other indicators.
- Observation: one submitted value; revisable — a new value for the same key is a new
  revision, the latest one is used and the history is kept.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ictgov import auth  # noqa: F401  (users, referenced by foreign keys below)
from ictgov.db import Base, utcnow

AREA_LEVELS = ("nation", "region", "province", "operator", "ministry")
AGGREGATIONS = ("sum", "mean", "none")
STATUSES = ("final", "provisional", "estimate", "approximate", "lower_bound")


class Area(Base):
    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("code", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    # Folded spellings ("tp ho chi minh", "hcm", "thua thien hue") that resolve to this area.
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    boundary_version: Mapped[str] = mapped_column(String(16), default="")
    sort_order: Mapped[int] = mapped_column(default=0)

    parent: Mapped[Area | None] = relationship(remote_side=[id])


class AreaSuccession(Base):
    """Old unit -> new unit, with the share of the old unit that went there (1.0 for a whole-province merger)."""

    __tablename__ = "area_successions"

    id: Mapped[int] = mapped_column(primary_key=True)
    old_area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    new_area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    share: Mapped[float] = mapped_column(Float, default=1.0)
    effective: Mapped[date]
    source: Mapped[str] = mapped_column(Text, default="")


class DataElement(Base):
    __tablename__ = "data_elements"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    unit: Mapped[str] = mapped_column(String(60), default="")
    aggregation: Mapped[str] = mapped_column(String(8), default="sum")
    # For aggregation "mean": weights from this element (e.g. population); plain mean when null.
    weight_element_id: Mapped[int | None] = mapped_column(ForeignKey("data_elements.id"))
    # Ranks and similar: smaller is better.
    higher_is_better: Mapped[bool] = mapped_column(default=True)
    # This element holds the growth rate that the source published for another element.
    published_growth_of_id: Mapped[int | None] = mapped_column(ForeignKey("data_elements.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    weight_element: Mapped[DataElement | None] = relationship(
        foreign_keys=[weight_element_id], remote_side=[id]
    )
    published_growth_of: Mapped[DataElement | None] = relationship(
        foreign_keys=[published_growth_of_id], remote_side=[id]
    )


class Indicator(Base):
    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    formula: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(60), default="")
    decimals: Mapped[int] = mapped_column(default=1)
    higher_is_better: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    file_format: Mapped[str] = mapped_column(String(8))
    # Lets a re-submitted file be recognised ("already imported on ...").
    content_sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    row_count: Mapped[int] = mapped_column(default=0)
    new_elements: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Observation(Base):
    __tablename__ = "observations"
    __table_args__ = (
        UniqueConstraint("element_id", "area_id", "period", "revision"),
        Index("ix_observations_latest", "element_id", "is_latest", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("data_elements.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    period: Mapped[str] = mapped_column(String(10))
    revision: Mapped[int] = mapped_column(default=1)
    is_latest: Mapped[bool] = mapped_column(default=True)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(16), default="final")
    source: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    element: Mapped[DataElement] = relationship()
    area: Mapped[Area] = relationship()


class Target(Base):
    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100))  # a data element or an indicator
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    deadline: Mapped[str] = mapped_column(String(10))  # a period, e.g. "2025"
    value: Mapped[float] = mapped_column(Float)
    # ">=" to reach at least the value, "<=" to stay at most at it.
    comparison: Mapped[str] = mapped_column(String(2), default=">=")
    baseline_period: Mapped[str | None] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(300), default="")
    name_en: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(Text, default="")

    area: Mapped[Area] = relationship()


class ValidationRule(Base):
    __tablename__ = "validation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    left: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(2))
    right: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")

"""Tables of the dx service: enterprises, their self-assessments, the solutions catalogue,
adoptions of solutions, and the provincial index (DTI) results that analysts upload.

An assessment keeps the framework it was made with (id, version and the file's digest), so
it is always shown with those rules, never with whatever version is newest. Its answers are
saved as the user goes; ``result`` is the computed score, frozen when it is submitted.

An enterprise user is bound to its enterprise by ``users.enterprise_ref`` = the tax code.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ictgov import auth  # noqa: F401  (users, referenced by foreign keys below)
from ictgov.db import Base, utcnow

# Size classes of Decree 80/2021/NĐ-CP (micro, small, medium): the SME framework is for them.
SIZE_CLASSES = ("micro", "small", "medium")
# Broad sectors (VSIC 2018 sections grouped); peers are compared within one.
SECTORS = ("agriculture", "manufacturing", "construction", "trade", "logistics", "ict", "services")
ASSESSMENT_STATES = ("draft", "submitted")
SOLUTION_CATEGORIES = ("website_ecommerce", "marketing", "finance_invoicing", "erp", "crm",
                       "cloud", "security", "collaboration", "data_analytics", "training", "other")


class Enterprise(Base):
    __tablename__ = "dx_enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised: 10 digits, or 10 digits, a dash and 3 digits for a branch.
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str] = mapped_column(String(32))
    size_class: Mapped[str] = mapped_column(String(16))
    province_code: Mapped[str] = mapped_column(String(16), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    assessments: Mapped[list[Assessment]] = relationship(back_populates="enterprise")


class Assessment(Base):
    __tablename__ = "dx_assessments"
    __table_args__ = (Index("ix_dx_assessments_enterprise_status", "enterprise_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("dx_enterprises.id"))
    framework_id: Mapped[str] = mapped_column(String(64))
    framework_version: Mapped[int]
    framework_digest: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # criterion code -> option code
    status: Mapped[str] = mapped_column(String(12), default="draft")
    result: Mapped[dict | None] = mapped_column(JSON)  # EnterpriseScore.as_dict(), set on submit
    total: Mapped[float | None] = mapped_column(Float)
    level: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)

    enterprise: Mapped[Enterprise] = relationship(back_populates="assessments")

    @property
    def framework_ref(self) -> str:
        return f"{self.framework_id}@{self.framework_version}"


class Solution(Base):
    """A digital solution in the catalogue kept by administrators."""

    __tablename__ = "dx_solutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    provider: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    criteria: Mapped[list] = mapped_column(JSON, default=list)  # criterion codes it addresses
    price_min: Mapped[int | None]  # VND per month
    price_max: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Adoption(Base):
    """An enterprise's record that it adopted a solution of the catalogue."""

    __tablename__ = "dx_adoptions"
    __table_args__ = (UniqueConstraint("enterprise_id", "solution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("dx_enterprises.id"))
    solution_id: Mapped[int] = mapped_column(ForeignKey("dx_solutions.id"))
    adopted_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    solution: Mapped[Solution] = relationship()


class DtiUpload(Base):
    """One uploaded DTI file: what it was computed with, by whom, from which bytes."""

    __tablename__ = "dx_dti_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[str] = mapped_column(String(64))
    framework_version: Mapped[int]
    framework_digest: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300))
    content_sha256: Mapped[str] = mapped_column(String(64))
    years: Mapped[list] = mapped_column(JSON, default=list)
    uncertainty: Mapped[dict | None] = mapped_column(JSON)  # draws, perturb, seed, interval
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DtiResult(Base):
    """An area's index for one year; the latest upload of a framework and year replaces the last."""

    __tablename__ = "dx_dti_results"
    __table_args__ = (UniqueConstraint("framework_id", "year", "area_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("dx_dti_uploads.id"), index=True)
    framework_id: Mapped[str] = mapped_column(String(64))
    framework_version: Mapped[int]
    year: Mapped[int]
    area_code: Mapped[str] = mapped_column(String(16))
    area_name: Mapped[str] = mapped_column(String(200))
    line: Mapped[int | None]
    values: Mapped[dict] = mapped_column(JSON, default=dict)  # indicator code -> value in [0, 1]
    groups: Mapped[dict] = mapped_column(JSON, default=dict)  # group code -> score in [0, 1]
    index: Mapped[float] = mapped_column(Float)
    rank: Mapped[int]
    rank_low: Mapped[int | None]
    rank_high: Mapped[int | None]
    previous_index: Mapped[float | None] = mapped_column(Float)
    change: Mapped[float | None] = mapped_column(Float)
    rank_change: Mapped[int | None]
    published: Mapped[float | None] = mapped_column(Float)

    upload: Mapped[DtiUpload] = relationship()

"""Tables of the dx service: enterprises, their self-assessments, the solutions catalogue
(which is also the SME programme's list of platforms, submitted by providers and approved by
staff), adoptions and uptake of solutions, the provincial index (DTI) results that analysts
upload, and press agencies with their maturity assessments and certificates.

An assessment keeps the framework it was made with (id, version and the file's digest), so
it is always shown with those rules, never with whatever version is newest. Its answers are
saved as the user goes; ``result`` is the computed score, frozen when it is submitted.

An enterprise user is bound to its enterprise by ``users.enterprise_ref`` = the tax code;
a provider user the same way to its provider; a press agency user by ``users.agency_ref`` =
the agency's code.
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
# The SME programme's platform groups, as its September 2022 uptake figures name them
# (../shared/reference/press_smedx.md 2.2), with e-invoicing, which the programme lists too.
PLATFORM_GROUPS = ("enterprise_management", "hr", "tourism_hotel", "tech_infrastructure", "accounting",
                   "e_invoice", "ads_crm", "e_learning", "logistics", "security", "social_network")
# submitted -> approved | rejected (with reasons); a rejected one may be changed and sent again.
# Solutions entered by administrators directly are approved from the start.
SOLUTION_STATES = ("submitted", "approved", "rejected")
# interested: the enterprise asked the provider to contact it; trial: its free period runs;
# using: it pays (or the free period turned into use); stopped.
UPTAKE_STAGES = ("interested", "trial", "using", "stopped")
AGENCY_TYPES = ("print", "online", "radio", "television")
# draft -> submitted -> certified; the council may return a submitted one to the agency.
PRESS_STATES = ("draft", "submitted", "returned", "certified")


class Enterprise(Base):
    __tablename__ = "dx_enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised: 10 digits, or 10 digits, a dash and 3 digits for a branch.
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str] = mapped_column(String(32))
    size_class: Mapped[str] = mapped_column(String(16))
    province_code: Mapped[str] = mapped_column(String(16), index=True)
    # Staff head count: the programme's free period is for firms under a platform's limit.
    employees: Mapped[int | None]
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
    # The SME programme (SMEdx): who submitted it, its review, and the programme's offer.
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("dx_providers.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="approved")
    platform_group: Mapped[str | None] = mapped_column(String(32))
    free_months: Mapped[int | None]  # free-use period
    free_max_staff: Mapped[int | None]  # the free period is for firms with fewer staff than this
    price_after: Mapped[int | None]  # VND per month once the free period ends
    cost_support: Mapped[bool] = mapped_column(default=False)  # eligible for the state's cost support
    review_reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]

    supplier: Mapped[Provider | None] = relationship(back_populates="solutions")


class Provider(Base):
    """A Vietnamese platform provider in the SME programme, known by its tax code."""

    __tablename__ = "dx_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    website: Mapped[str] = mapped_column(String(500), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    solutions: Mapped[list[Solution]] = relationship(back_populates="supplier")


class Uptake(Base):
    """An enterprise's interest in, free period on, or use of a programme platform: a lead."""

    __tablename__ = "dx_uptakes"
    __table_args__ = (UniqueConstraint("enterprise_id", "solution_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("dx_enterprises.id"), index=True)
    solution_id: Mapped[int] = mapped_column(ForeignKey("dx_solutions.id"), index=True)
    stage: Mapped[str] = mapped_column(String(12))
    # The assessment whose gaps led the enterprise here, when it came from one.
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("dx_assessments.id"))
    interested_at: Mapped[datetime | None]
    trial_start: Mapped[date | None]
    trial_end: Mapped[date | None]
    using_since: Mapped[date | None]
    stopped_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise: Mapped[Enterprise] = relationship()
    solution: Mapped[Solution] = relationship()


class PressAgency(Base):
    """A press agency (báo, tạp chí, đài) that assesses its digital maturity."""

    __tablename__ = "dx_press_agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # = users.agency_ref
    name: Mapped[str] = mapped_column(String(300))
    agency_type: Mapped[str] = mapped_column(String(16))
    governing_body: Mapped[str] = mapped_column(String(300))
    # Central (a ministry, a national organisation) or local (a province's committee or body).
    central: Mapped[bool] = mapped_column(default=False)
    province_code: Mapped[str] = mapped_column(String(16), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    assessments: Mapped[list[PressAssessment]] = relationship(back_populates="agency")


class PressAssessment(Base):
    """One agency's assessment for one year: its answers, the council's adjustments, the result.

    ``adjustments`` maps a criterion to the council's {points, reason, by, at}; ``result`` is
    the score frozen when the council certifies, with the certificate's number and date.
    """

    __tablename__ = "dx_press_assessments"
    __table_args__ = (UniqueConstraint("agency_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("dx_press_agencies.id"), index=True)
    year: Mapped[int]
    framework_id: Mapped[str] = mapped_column(String(64))
    framework_version: Mapped[int]
    framework_digest: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    notes: Mapped[dict] = mapped_column(JSON, default=dict)  # criterion -> the agency's evidence note
    status: Mapped[str] = mapped_column(String(12), default="draft")
    self_total: Mapped[float | None] = mapped_column(Float)
    adjustments: Mapped[dict] = mapped_column(JSON, default=dict)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict | None] = mapped_column(JSON)
    total: Mapped[float | None] = mapped_column(Float)
    level: Mapped[int | None]
    certificate_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    certified_at: Mapped[datetime | None] = mapped_column(index=True)
    certified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agency: Mapped[PressAgency] = relationship(back_populates="assessments")

    @property
    def framework_ref(self) -> str:
        return f"{self.framework_id}@{self.framework_version}"


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

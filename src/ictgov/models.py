"""Every table of the platform, imported in one place so Alembic sees the whole schema."""

from ictgov.antispam.models import (  # noqa: F401
    Appeal,
    BlockEntry,
    DncEntry,
    FlaggedNumber,
    OneTimeCode,
    SpamReport,
    SpamTraffic,
    Survey,
)
from ictgov.audit import AuditEntry  # noqa: F401
from ictgov.auth import ApiToken, User  # noqa: F401
from ictgov.db import Base
from ictgov.dx.models import (  # noqa: F401
    Adoption,
    Assessment,
    DtiResult,
    DtiUpload,
    Enterprise,
    PressAgency,
    PressAssessment,
    Provider,
    Solution,
    Uptake,
)
from ictgov.stats.models import (  # noqa: F401
    Area,
    AreaSuccession,
    DataElement,
    ImportBatch,
    Indicator,
    Observation,
    Target,
    ValidationRule,
)
from ictgov.tipline.models import Case, Evidence, OutboxMessage, Report, Suggestion  # noqa: F401

metadata = Base.metadata

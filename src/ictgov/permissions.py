"""Who may do what: the one table of named permissions, and `can()` that reads it.

Every route declares the permission it needs by name (``deps.require("stats.import")``);
nothing else in the platform compares roles. A permission lists the roles that hold it,
or is public (anyone, even without logging in).

Scoped roles act for one organisation only (``auth.BOUND_TO``): a province officer for
its province, an operator for its network, an enterprise for itself. For them a
permission holds only inside that organisation:

- ``can(user, "stats.import")`` - may this user import at all (for its own province at
  least)? Use it to show a page or a button.
- ``can(user, "stats.import", province_code="01")`` - may it import figures of province
  01? Use it on the data itself, before anything is written.
- ``scope_of(user, perm)`` - the binding the user is restricted to
  (``{"province_code": "01"}``), or ``{}`` when it holds the permission everywhere; use it
  to filter what a list shows.

A service adds its permissions to the table below (one ``define()`` line each, with
what it allows), so this file stays the one place to read the whole policy; a name
may be defined once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ictgov.auth import BOUND_TO, Role

if TYPE_CHECKING:
    from ictgov.auth import User

SCOPE_FIELDS = ("province_code", "operator_code", "enterprise_ref", "agency_ref")


@dataclass(frozen=True)
class Permission:
    name: str
    # None: public, anyone may (logged in or not).
    roles: frozenset[Role] | None
    doc: str

    @property
    def public(self) -> bool:
        return self.roles is None


PERMISSIONS: dict[str, Permission] = {}


def define(name: str, roles: tuple[Role | str, ...] | None, doc: str) -> Permission:
    """Add a permission to the table; ``roles=None`` makes it public."""
    if name in PERMISSIONS:
        raise ValueError(f"permission {name!r} is already defined")
    if not doc:
        raise ValueError(f"permission {name!r}: say in one line what it allows")
    perm = Permission(name, None if roles is None else frozenset(Role(r) for r in roles), doc)
    PERMISSIONS[name] = perm
    return perm


def get(name: str) -> Permission:
    try:
        return PERMISSIONS[name]
    except KeyError:
        raise KeyError(f"unknown permission {name!r}; defined in ictgov.permissions") from None


A = Role
# --- statistics -----------------------------------------------------------------------
define("stats.read", None, "read indicators, figures, growth, rankings and open data")
define("stats.import", (A.admin, A.analyst, A.province_officer),
       "load figures (forms, CSV/XLSX, API); a province officer only for its own province")
define("stats.define", (A.admin, A.analyst),
       "define or change data elements, indicators, validation rules and targets")
define("report.read", None, "read the period review and published reports")
define("report.render", (A.admin, A.analyst),
       "render the period review to a file by a background job and download it")
# --- administration -------------------------------------------------------------------
define("users.manage", (A.admin,), "create and deactivate accounts, issue and revoke API tokens")
define("audit.read", (A.admin,), "read the audit log of every change of state")
define("jobs.manage", (A.admin,), "see background jobs with their progress and errors; re-run a failed one")
# --- placeholders: the tipline, antispam and dx services extend these -----------------
define("tipline.triage", (A.fact_checker, A.admin),
       "work the report queue: group, verify, record evidence and verdicts, publish; "
       "see reporters' contacts")
define("tipline.hotline", (A.hotline_agent, A.admin),
       "type in a report taken by phone for a caller (an admin may stand in for an agent)")
define("tipline.report", None, "submit a report of suspect content and look up its status by receipt")
define("tipline.partner", (A.hotline_agent, A.admin),
       "submit reports through the JSON API for a partner channel (chatbot, e-mail gateway)")
define("antispam.operator", (A.operator,),
       "upload call/SMS records, fetch numbers to block, answer reports: own network only")
define("antispam.report", None,
       "report a spam SMS or call (web form, short code), follow its status, join or leave "
       "the do-not-call list, appeal a block of one's own number")
define("antispam.staff", (A.admin, A.analyst),
       "see every operator's reports, flags and blocklists; decide appeals; audit advertisers; "
       "retrain the classifier")
define("antispam.dnc_check", (A.enterprise, A.operator, A.admin),
       "check a list of numbers against the do-not-call registry (learn only which may not "
       "be contacted)")
define("antispam.gateway", (A.admin, A.operator),
       "post the SMS that citizens send to the short code 5656 (an SMS gateway's account, API token)")
define("dx.assess", (A.enterprise,),
       "take and read the digital-transformation self-assessment: own enterprise only")
define("dx.catalogue", (A.admin,), "keep the catalogue of digital solutions: add, change, withdraw")
define("dx.dti_upload", (A.admin, A.analyst),
       "upload provincial digital-transformation index (DTI) files; compute and publish rankings")
define("dx.ranking", None, "read the provincial DTI ranking: index, rank and rank interval")
define("dx.dti_detail", (A.admin, A.analyst, A.province_officer),
       "read a province's DTI detail (indicator values, pillar groups): a province officer its own only")
# --- dx: press agencies (Decision 951) and the SME programme (SMEdx) ---------------------
define("dx.press_assess", (A.press_agency,),
       "take and read the press digital-maturity self-assessment: own agency only")
define("dx.press_review", (A.appraiser, A.admin),
       "appraisal council: read every agency's assessment, adjust criterion scores with a reason, "
       "return to the agency, certify")
define("dx.press_ranking", None, "read the ranking of certified press agencies and check a certificate")
define("dx.smedx_catalogue", None, "browse the SME programme's approved platforms")
define("dx.smedx_submit", (A.provider,),
       "submit and change platforms for the SME programme and see their leads: own provider only")
define("dx.smedx_review", (A.admin, A.analyst),
       "evaluate platforms submitted to the SME programme (approve, reject with reasons); see uptake")
define("dx.smedx_use", (A.enterprise,),
       "register interest in a programme platform or start its free period: own enterprise only")
del A


def _binding(user: User) -> tuple[str, str | None] | None:
    """The (field, value) a scoped user is bound to, or None for a user who is not scoped."""
    try:
        field = BOUND_TO.get(Role(user.role))
    except ValueError:
        return None
    return None if field is None else (field, getattr(user, field))


def can(
    user: User | None,
    perm: str,
    *,
    province_code: str | None = None,
    operator_code: str | None = None,
    enterprise_ref: str | None = None,
    agency_ref: str | None = None,
) -> bool:
    """Whether ``user`` (None: anonymous) holds ``perm``, for the organisation named if any."""
    p = get(perm)
    if p.public:
        return True
    if user is None or not user.is_active:
        return False
    try:
        role = Role(user.role)
    except ValueError:
        return False
    if role not in p.roles:
        return False
    binding = _binding(user)
    if binding is None:
        return True  # not scoped: holds it for every organisation
    field, own = binding
    if own is None:
        return False  # a scoped account without its organisation may do nothing scoped
    asked = {"province_code": province_code, "operator_code": operator_code,
             "enterprise_ref": enterprise_ref, "agency_ref": agency_ref}
    asked = {k: v for k, v in asked.items() if v is not None}
    if not asked:
        return True  # may do it at all: for its own organisation
    # Every organisation named must be the user's own; naming one of another kind
    # (an operator for a province officer) is outside its scope.
    return asked == {field: own}


def scope_of(user: User | None, perm: str) -> dict[str, str]:
    """The binding that limits ``user`` under ``perm``: ``{}`` when unrestricted.

    Raises PermissionError when the user does not hold the permission at all, so a
    caller cannot mistake "no access" for "no restriction".
    """
    if not can(user, perm):
        raise PermissionError(f"{perm}: not allowed")
    if user is None or get(perm).public:
        return {}
    binding = _binding(user)
    if binding is None:
        return {}
    return {binding[0]: binding[1]}


def permissions_of(user: User | None) -> list[str]:
    """Names of every non-public permission the user holds (for /api/me and menus)."""
    return sorted(name for name, p in PERMISSIONS.items() if not p.public and can(user, name))

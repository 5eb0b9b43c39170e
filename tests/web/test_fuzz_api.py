"""Fuzz: schemathesis over every operation of the app's own OpenAPI, with and without auth.

Whatever schemathesis generates (valid inputs and broken ones), the app answers without a
5xx, and every answer it documents matches its own schema and content type. Each operation
runs twice: as an anonymous caller and with an admin's API token (the role that reaches
the most code). The number of examples per operation is kept small so the suite stays fast;
set ICTGOV_FUZZ_EXAMPLES for a longer run.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from ictgov.auth import issue_token
from ictgov.db import session_scope

from .conftest import user_by_name

EXAMPLES = int(os.environ.get("ICTGOV_FUZZ_EXAMPLES", "12"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def admin_token(engine, admin_id):
    with session_scope(engine) as s:
        user = user_by_name(engine, "admin")
        return issue_token(s, s.merge(user), "fuzz")


def _fuzz(app, headers: dict[str, str]) -> None:
    """Every operation of the schema, EXAMPLES cases each; the failures of all of them."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collected, so one report lists them all
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 5, "the schema lost its operations"
    assert not failures, "\n\n".join(failures)


def test_anonymous_calls_never_break_or_leave_their_schema(app):
    _fuzz(app, {})


def test_admin_calls_never_break_or_leave_their_schema(app, admin_token):
    _fuzz(app, {"Authorization": f"Bearer {admin_token}"})


def test_the_schema_covers_the_api(app):
    """A route under /api that is not in the OpenAPI would escape the fuzzing above."""
    from fastapi.routing import iter_route_contexts

    documented = set(app.openapi()["paths"])
    paths = {rc.path_format or rc.path for rc in iter_route_contexts(app.routes)}
    api_routes = {p for p in paths if p.startswith("/api/")}
    assert len(api_routes) >= 5 and api_routes <= documented, api_routes - documented
    # and the pages are not in it: they are for people, tested as pages
    assert "/login" in paths and "/login" not in documented

from sqlalchemy import inspect, select

from ictgov.audit import entries
from ictgov.auth import AccountError, authenticate, create_user, issue_token, user_for_token
from ictgov.migrate import current_revision


def test_schema_is_at_head_after_upgrade(engine):
    assert current_revision(engine) is not None
    tables = set(inspect(engine).get_table_names())
    assert {"users", "audit_log", "observations", "areas", "data_elements"} <= tables


def test_user_created_with_argon2_hash_and_audited(session):
    user = create_user(session, "ana", "correct horse", "analyst")
    session.commit()
    assert user.password_hash.startswith("$argon2")
    assert authenticate(session, "ana", "correct horse").id == user.id
    assert authenticate(session, "ana", "wrong password") is None
    log = entries(session, "user")
    assert log[0].action == "create" and log[0].after["username"] == "ana"


def test_role_binding_is_checked(session):
    import pytest

    with pytest.raises(AccountError, match="operator_code: required"):
        create_user(session, "op", "password123", "operator")
    with pytest.raises(AccountError, match="role: unknown role"):
        create_user(session, "x", "password123", "wizard")


def test_api_token_resolves_to_user_and_is_stored_hashed(session):
    from ictgov.auth import ApiToken

    user = create_user(session, "bot", "password123", "analyst")
    token = issue_token(session, user, "loader")
    session.commit()
    assert user_for_token(session, token).username == "bot"
    assert user_for_token(session, token + "x") is None
    assert token not in {t.token_hash for t in session.scalars(select(ApiToken))}

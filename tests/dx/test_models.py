"""The dx tables that migration 0004 creates are exactly the ones the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ictgov.models import metadata

DX_TABLES = {"dx_enterprises", "dx_assessments", "dx_solutions", "dx_adoptions", "dx_dti_uploads",
             "dx_dti_results"}


def _about_dx(diff) -> bool:
    """Whether one autogenerate difference concerns a dx table."""
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item[1:]:
            table = getattr(part, "table", None)
            name = getattr(part, "name", None)
            if (table is not None and getattr(table, "name", "") in DX_TABLES) or name in DX_TABLES:
                return True
            if isinstance(part, str) and part in DX_TABLES:
                return True
    return False


def test_migration_matches_the_dx_models(engine):
    assert DX_TABLES <= set(inspect(engine).get_table_names())
    assert DX_TABLES <= set(metadata.tables)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, metadata) if _about_dx(d)]
    assert diffs == []


def test_downgrade_removes_the_dx_tables_and_upgrade_restores_them(tmp_path):
    from alembic import command

    from ictgov import db as dbmod
    from ictgov.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    eng = dbmod.get_engine(url)
    try:
        upgrade(eng)
        with eng.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003")
        assert not DX_TABLES & set(inspect(eng).get_table_names())
        upgrade(eng)
        assert DX_TABLES <= set(inspect(eng).get_table_names())
    finally:
        eng.dispose()
        dbmod._engines.pop(url, None)

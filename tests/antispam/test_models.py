"""The antispam tables that migration 0003 creates are exactly the ones the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ictgov.models import metadata

TABLES = {"antispam_reports", "antispam_otps", "antispam_dnc", "antispam_flags", "antispam_surveys",
          "antispam_blocklist", "antispam_appeals", "antispam_traffic"}


def _about_antispam(diff) -> bool:
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item[1:]:
            table = getattr(part, "table", None)
            name = getattr(part, "name", None)
            if (table is not None and getattr(table, "name", "") in TABLES) or name in TABLES:
                return True
            if isinstance(part, str) and part in TABLES:
                return True
    return False


def test_migration_matches_the_antispam_models(engine):
    assert TABLES <= set(inspect(engine).get_table_names())
    assert {t for t in metadata.tables if t.startswith("antispam_")} == TABLES
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, metadata) if _about_antispam(d)]
    assert diffs == []


def test_downgrade_to_0002_removes_the_antispam_tables_and_upgrade_restores_them(tmp_path):
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
            command.downgrade(cfg, "0002")
        left = set(inspect(eng).get_table_names())
        assert not TABLES & left
        assert {"tipline_reports", "users"} <= left
        upgrade(eng)
        assert TABLES <= set(inspect(eng).get_table_names())
    finally:
        eng.dispose()
        dbmod._engines.pop(url, None)

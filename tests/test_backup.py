"""`ictgov backup` / `ictgov restore`: into an empty database, everything comes back."""

from __future__ import annotations

import tarfile
import uuid

import pytest
from conftest import POSTGRES_ADMIN_URL
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from ictgov import db as dbmod
from ictgov.backup import BackupError, backup, read_manifest, restore
from ictgov.cli import app
from ictgov.migrate import upgrade
from ictgov.tipline.intake import Submission, Upload, evidence_file, submit

runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 40


def _rows(engine) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: what a restore must bring back."""
    from ictgov.models import metadata

    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return out


@pytest.fixture
def empty_target(engine, tmp_path):
    """An empty database of the same kind as `engine` (a new SQLite file, a new PostgreSQL database)."""
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        yield dbmod.get_engine(url)
        dbmod.get_engine(url).dispose()
        dbmod._engines.pop(url, None)
        return
    name = f"ictgov_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield dbmod.get_engine(url)
    finally:
        dbmod.get_engine(url).dispose()
        dbmod._engines.pop(url, None)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_backup_restores_every_row_and_file_into_an_empty_database(engine, empty_target, tmp_path):
    from ictgov.config import get_settings

    assert runner.invoke(app, ["sample", "load"]).exit_code == 0
    data_dir = get_settings().data_dir
    with dbmod.session_scope(engine) as s:
        report = submit(s, Submission(text="Ảnh chụp tin nhắn giả mạo ngân hàng yêu cầu cập nhật tài khoản",
                                      files=[Upload("anh.png", PNG)], contact_phone="0912345678",
                                      consent=True), "web").report
        receipt = report.receipt
    before = _rows(engine)
    assert sum(len(v) for v in before.values()) > 100

    archive = tmp_path / "out" / "ictgov.tar"
    r = runner.invoke(app, ["backup", str(archive)])
    assert r.exit_code == 0, r.output
    manifest = read_manifest(archive)
    assert manifest.backend == engine.dialect.name and manifest.files == 1
    assert manifest.tables["tipline_reports"] == len(before["tipline_reports"])
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "secret_key" not in " ".join(names)  # no signing key in an archive

    restored_dir = tmp_path / "elsewhere"
    restore(empty_target, restored_dir, archive)
    assert _rows(empty_target) == before
    with dbmod.session_scope(empty_target) as s:
        from ictgov.tipline.models import Report

        ev = s.scalar(select(Report).where(Report.receipt == receipt)).evidence[0]
        # on another machine the original path is gone: the file is found under the new data dir
        import shutil

        shutil.rmtree(data_dir / "evidence")
        assert evidence_file(ev, restored_dir).read_bytes() == PNG

    # a second restore onto data is refused without --force, and allowed with it
    with pytest.raises(BackupError, match="not empty"):
        restore(empty_target, restored_dir, archive)
    restore(empty_target, restored_dir, archive, force=True)
    assert _rows(empty_target) == before


def test_restore_refuses_other_backends_and_broken_archives(engine, tmp_path):
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(b"not a tar file")
    with pytest.raises(BackupError, match="not an ictgov backup"):
        restore(engine, tmp_path, bogus)
    archive = tmp_path / "a.tar"
    backup(engine, tmp_path / "data", archive)
    other = "postgresql" if engine.dialect.name == "sqlite" else "sqlite"
    m = read_manifest(archive)
    assert m.backend != other
    # an archive whose member escapes the target directory is refused
    evil = tmp_path / "evil.tar"
    with tarfile.open(archive) as src, tarfile.open(evil, "w") as dst:
        for member in src.getmembers():
            dst.addfile(member, src.extractfile(member))
        info = tarfile.TarInfo("files/../../escape.txt")
        info.size = 0
        dst.addfile(info)
    with pytest.raises(BackupError, match="not allowed"):
        restore(engine, tmp_path / "data", evil, force=True)
    assert not (tmp_path / "escape.txt").exists()


def test_cli_reports_errors_plainly(engine, tmp_path):
    r = runner.invoke(app, ["restore", str(tmp_path / "missing.tar")])
    assert r.exit_code != 0
    empty = tmp_path / "empty.tar"
    with tarfile.open(empty, "w"):
        pass
    r = runner.invoke(app, ["restore", str(empty)])
    assert r.exit_code == 1 and "not an ictgov backup" in r.output


def test_restore_into_a_fresh_sqlite_file_needs_no_migration_first(tmp_path):
    src_url = f"sqlite:///{tmp_path / 'src.sqlite3'}"
    src = dbmod.make_engine(src_url)
    upgrade(src)
    archive = tmp_path / "b.tar"
    backup(src, tmp_path / "d1", archive)
    dst = dbmod.make_engine(f"sqlite:///{tmp_path / 'new' / 'dst.sqlite3'}")
    m = restore(dst, tmp_path / "d2", archive)
    with dst.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == m.revision
    src.dispose()
    dst.dispose()

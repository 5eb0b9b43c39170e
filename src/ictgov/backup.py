"""`ictgov backup` / `ictgov restore`: the database and the uploaded files, in one archive.

An archive is a tar file holding

- ``manifest.json``: format version, database kind, schema revision (Alembic), time, and
  the row count of every table, so a restore can prove it brought back everything;
- the database: ``database.sqlite3`` made with SQLite's online backup API (consistent while
  the platform keeps serving), or ``database.pgdump`` made by ``pg_dump --format=custom``;
- ``files/``: the uploads kept in the data directory (evidence of reports), by their path
  under it. The secret key is left out: an archive should not sign sessions elsewhere.

A restore goes into an empty database of the same kind (``--force`` to replace one that
holds data), puts the files back under the target's data directory, and compares the row
counts with the manifest; any difference is an error.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection, Engine, make_url

from ictgov.jobs import progress

FORMAT = 1
# Files in the data directory that are not uploads.
_NOT_FILES = ("secret_key", "admin_password")
_DB_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


@dataclass
class Manifest:
    format: int
    backend: str
    revision: str | None
    created_at: str
    tables: dict[str, int]
    files: int

    @classmethod
    def read(cls, data: dict) -> Manifest:
        try:
            return cls(**{k: data[k] for k in ("format", "backend", "revision", "created_at", "tables", "files")})
        except KeyError as exc:
            raise BackupError(f"manifest.json: missing {exc.args[0]!r}") from None


def table_counts(engine: Engine, conn: Connection | None = None) -> dict[str, int]:
    """Rows in every table of the platform's schema, read on `conn` when given."""
    from ictgov.models import metadata

    if conn is None:
        with engine.connect() as own:
            return table_counts(engine, own)
    present = set(inspect(conn).get_table_names())
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables if t.name in present}


def _revision(engine: Engine) -> str | None:
    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _sqlite_path(engine: Engine) -> Path:
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(path)


def _libpq_url(engine: Engine) -> str:
    """The URL pg_dump understands (no SQLAlchemy driver suffix)."""
    return make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(cmd: list[str]) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{cmd[0]} is not installed (Debian: apt-get install postgresql-client)") from None
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {done.stderr.strip()[-2000:]}")


def _upload_files(data_dir: Path) -> list[Path]:
    if not data_dir.is_dir():
        return []
    out = []
    for p in sorted(data_dir.rglob("*")):
        rel = p.relative_to(data_dir)
        if p.is_file() and rel.parts[0] not in _NOT_FILES and not p.name.endswith(_DB_SUFFIXES) \
                and not p.name.endswith(".part"):
            out.append(rel)
    return out


def backup(engine: Engine, data_dir: Path, out: Path) -> Manifest:
    """Write the archive `out` (a tar file); returns its manifest."""
    backend = engine.dialect.name
    files = _upload_files(data_dir)
    progress(0.02, "database")
    with tempfile.TemporaryDirectory(prefix="ictgov-backup-") as tmp:
        tmpdir = Path(tmp)
        if backend == "sqlite":
            db_name = "database.sqlite3"
            src = sqlite3.connect(_sqlite_path(engine))
            dst = sqlite3.connect(tmpdir / db_name)
            try:
                with dst:
                    src.backup(dst)  # consistent snapshot while writers go on
            finally:
                dst.close()
                src.close()
            # The counts come from the snapshot itself, not the live database.
            from sqlalchemy import create_engine

            snap = create_engine(f"sqlite:///{tmpdir / db_name}")
            try:
                counts, revision = table_counts(snap), _revision(snap)
            finally:
                snap.dispose()
        elif backend == "postgresql":
            db_name = "database.pgdump"
            # The counts and the dump read one exported snapshot, so they agree while the
            # platform keeps writing.
            with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, \
                    conn.begin():
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
                counts = table_counts(engine, conn)
                revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                      f"--snapshot={snapshot}", f"--file={tmpdir / db_name}",
                      f"--dbname={_libpq_url(engine)}"])
        else:
            raise BackupError(f"backups of {backend} databases are not supported")
        manifest = Manifest(FORMAT, backend, revision,
                            datetime.now(UTC).isoformat(timespec="seconds"), counts, len(files))
        (tmpdir / "manifest.json").write_text(json.dumps(manifest.__dict__, indent=1))
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".part")
        with tarfile.open(partial, "w") as tar:
            tar.add(tmpdir / "manifest.json", "manifest.json")
            tar.add(tmpdir / db_name, db_name)
            progress(0.5, "files")
            for i, rel in enumerate(files, start=1):
                tar.add(data_dir / rel, f"files/{rel.as_posix()}")
                progress(0.5 + 0.49 * i / len(files), "files")
        partial.replace(out)  # an archive is there whole or not at all
    progress(1.0, "done")
    return manifest


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for m in members:
        p = Path(m.name)
        if p.is_absolute() or ".." in p.parts or not (m.isfile() or m.isdir()):
            raise BackupError(f"archive member {m.name!r} is not allowed")
    return members


def read_manifest(archive: Path) -> Manifest:
    try:
        with tarfile.open(archive) as tar:
            data = json.load(tar.extractfile("manifest.json"))
    except (tarfile.TarError, KeyError, OSError, json.JSONDecodeError) as exc:
        raise BackupError(f"{archive}: not an ictgov backup ({exc})") from None
    return Manifest.read(data)


def restore(engine: Engine, data_dir: Path, archive: Path, *, force: bool = False) -> Manifest:
    """Bring an archive back into `engine`'s database and `data_dir`; returns its manifest."""
    manifest = read_manifest(archive)
    if manifest.format != FORMAT:
        raise BackupError(f"{archive}: backup format {manifest.format}, this version reads {FORMAT}")
    backend = engine.dialect.name
    if manifest.backend != backend:
        raise BackupError(f"{archive}: a {manifest.backend} backup cannot be restored into {backend}; "
                          "export and import the data instead")
    existing = table_counts(engine)
    if any(existing.values()) and not force:
        holding = ", ".join(f"{t} ({n})" for t, n in existing.items() if n)
        raise BackupError(f"the target database is not empty: {holding}; use --force to replace it")
    with tempfile.TemporaryDirectory(prefix="ictgov-restore-") as tmp:
        tmpdir = Path(tmp)
        progress(0.02, "reading the archive")
        with tarfile.open(archive) as tar:
            tar.extractall(tmpdir, members=_safe_members(tar))
        progress(0.2, "database")
        if backend == "sqlite":
            engine.dispose()  # no pooled connection may hold the file while it is replaced
            src = sqlite3.connect(tmpdir / "database.sqlite3")
            dst = sqlite3.connect(_sqlite_path(engine))
            try:
                with dst:
                    src.backup(dst)
            finally:
                dst.close()
                src.close()
        else:
            engine.dispose()
            _run(["pg_restore", "--no-owner", "--no-privileges", "--clean", "--if-exists",
                  "--single-transaction", f"--dbname={_libpq_url(engine)}",
                  str(tmpdir / "database.pgdump")])
        files_dir = tmpdir / "files"
        restored = 0
        progress(0.6, "files")
        if files_dir.is_dir():
            to_copy = sorted(p for p in files_dir.rglob("*") if p.is_file())
            for src_file in to_copy:
                target = data_dir / src_file.relative_to(files_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src_file, target)
                restored += 1
                progress(0.6 + 0.3 * restored / len(to_copy), "files")
    progress(0.95, "checking every table's count")
    after = table_counts(engine)
    wrong = {t: (n, after.get(t)) for t, n in manifest.tables.items() if after.get(t) != n}
    if wrong:
        detail = ", ".join(f"{t}: {want} in the backup, {got} restored" for t, (want, got) in wrong.items())
        raise BackupError(f"restore incomplete: {detail}")
    if restored != manifest.files:
        raise BackupError(f"restore incomplete: {manifest.files} files in the backup, {restored} restored")
    progress(1.0, "done")
    return manifest

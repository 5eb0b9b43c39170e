"""The `ictgov` command: the same functions the web calls, from a terminal."""

from __future__ import annotations

import os

import secrets
from pathlib import Path

import typer
from rich.console import Console

from ictgov.config import get_settings
from ictgov import models  # noqa: F401  (every table known before the first query)
from ictgov.db import get_engine, session_scope

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False, help="ictgov: open platform for a national ICT ministry.")
db_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False, help="Database schema (Alembic migrations).")
users_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False, help="Accounts and API tokens.")
jobs_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False, help="Background jobs.")
sample_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False, help="Bundled reference and sample data.")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(sample_app, name="sample")
app.add_typer(jobs_app, name="jobs")

from ictgov.stats import cli as stats_cli  # noqa: E402  (command groups live with their service)

from ictgov.tipline import cli as tipline_cli  # noqa: E402
from ictgov.antispam import cli as antispam_cli  # noqa: E402
from ictgov.dx import cli as dx_cli  # noqa: E402

app.add_typer(stats_cli.app, name="stats")
app.add_typer(tipline_cli.app, name="tipline")
app.add_typer(antispam_cli.app, name="antispam")
app.add_typer(dx_cli.app, name="dx")
app.command("report")(stats_cli.report_cmd)

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create or migrate the database schema."""
    from ictgov.migrate import current_revision, upgrade

    engine = get_engine()
    upgrade(engine, revision)
    console.print(f"database at revision {current_revision(engine)} ({engine.url.render_as_string()})")


@app.command("worker")
def worker_cmd(burst: bool = typer.Option(False, "--burst", help="stop when the queue is empty")) -> None:
    """Run background jobs from the Redis queue (ICTGOV_REDIS_URL) until stopped."""
    from ictgov import jobs
    from ictgov.logs import configure

    configure()
    try:
        jobs.work(burst=burst)
    except RuntimeError as exc:
        fail(str(exc))


@jobs_app.command("list")
def jobs_list(limit: int = typer.Option(30, "--limit")) -> None:
    """Recent jobs: name, status, progress, error."""
    from ictgov import jobs

    for j in jobs.recent(limit):
        progress = f"{j.progress:.0%}" if j.progress is not None else ""
        error = jobs.summary(j.error)
        # one job per line whatever the terminal's width (scripts read it with cut/awk)
        console.print(f"{j.id}  {j.name:20s} {j.status:9s} {progress:>5s}  {error}", highlight=False,
                      soft_wrap=True)


@jobs_app.command("run")
def jobs_run(
    name: str = typer.Argument(..., help="a declared job, e.g. notify.drain"),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="follow its progress until it ends"),
) -> None:
    """Start a job (on the queue when Redis is configured, else here) and follow it."""
    import time

    from rich.progress import Progress

    from ictgov import jobs

    if isinstance(jobs.backend(), jobs.InlineBackend):
        # no queue: run it here and now (retries without waiting; this terminal is the worker)
        jobs.use(jobs.InlineBackend(eager=True, sleep=lambda _s: None))
    try:
        j = jobs.enqueue(name)
    except KeyError as exc:
        fail(str(exc.args[0]))
    console.print(f"job {j.id} ({name}) {j.status}")
    if not wait:
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(name, total=1.0)
        while j is not None and j.status in ("queued", "started"):
            bar.update(task, completed=j.progress or 0.0, description=f"{name} {j.message}")
            time.sleep(0.2)
            j = jobs.get(j.id)
    if j is None or j.status != "finished":
        fail(f"job {name} {j.status if j else 'vanished'}: {jobs.summary(j.error) if j else ''}")
    console.print(f"job {j.id} ({name}) finished: {j.result}")


@jobs_app.command("rerun")
def jobs_rerun(job_id: str) -> None:
    """Run a failed job again."""
    from ictgov import jobs

    try:
        j = jobs.rerun(job_id)
    except KeyError as exc:
        fail(str(exc.args[0]))
    console.print(f"job {j.id} ({j.name}) {j.status}")


@app.command("backup")
def backup_cmd(out: Path = typer.Argument(..., help="the archive to write (a .tar file)")) -> None:
    """Back up the database and the uploaded files into one archive (online: keep serving)."""
    from ictgov.backup import BackupError, backup

    from ictgov.cli_progress import progress_bar

    try:
        with progress_bar("backup"):
            m = backup(get_engine(), get_settings().data_dir, out)
    except BackupError as exc:
        fail(str(exc))
    console.print(f"{out}: {m.backend} at revision {m.revision}, {sum(m.tables.values()):,} rows "
                  f"in {len(m.tables)} tables, {m.files} files")


@app.command("restore")
def restore_cmd(
    archive: Path = typer.Argument(..., exists=True, dir_okay=False),
    force: bool = typer.Option(False, "--force", help="replace a database that holds data"),
) -> None:
    """Restore an archive of `ictgov backup` into the configured database and data directory."""
    from ictgov.backup import BackupError, restore

    from ictgov.cli_progress import progress_bar

    try:
        with progress_bar("restore"):
            m = restore(get_engine(), get_settings().data_dir, archive, force=force)
    except BackupError as exc:
        fail(str(exc))
    console.print(f"restored {sum(m.tables.values()):,} rows in {len(m.tables)} tables and {m.files} files "
                  f"(backup of {m.created_at}); every count matches the backup")


@users_app.command("create")
def users_create(
    username: str,
    role: str = typer.Option(..., "--role", help="admin, analyst, province_officer, fact_checker, "
                             "hotline_agent, operator, enterprise, press_agency, appraiser, provider"),
    password: str = typer.Option(None, "--password", help="generated and printed when omitted"),
    full_name: str = typer.Option("", "--name"),
    email: str = typer.Option(None, "--email"),
    province: str = typer.Option(None, "--province", help="GSO code, for province_officer"),
    operator: str = typer.Option(None, "--operator", help="operator code, for operator"),
    enterprise: str = typer.Option(None, "--enterprise", help="tax code, for enterprise or provider"),
    agency: str = typer.Option(None, "--agency", help="press agency code, for press_agency"),
) -> None:
    """Create a user with one role."""
    from ictgov.auth import AccountError, create_user

    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        with session_scope() as s:
            create_user(s, username, password, role, full_name=full_name, email=email,
                        province_code=province, operator_code=operator, enterprise_ref=enterprise,
                        agency_ref=agency)
    except AccountError as exc:
        fail(str(exc))
    console.print(f"created {username} ({role})" + (f", password: {password}" if generated else ""))


@users_app.command("ensure-admin")
def users_ensure_admin(username: str = "admin") -> None:
    """Create the first admin if there is none, and print its login (kept in the data dir)."""
    from sqlalchemy import select

    from ictgov.auth import User, create_user, hash_password

    settings = get_settings()
    pw_file = settings.data_dir / "admin_password"
    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None or not pw_file.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                create_user(s, username, password, "admin", full_name="Administrator")
            else:
                user.password_hash = hash_password(password)
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            pw_file.write_text(password)
            pw_file.chmod(0o600)
        password = pw_file.read_text().strip()
    console.print(f"[bold]admin login:[/] user [cyan]{username}[/], password [cyan]{password}[/]")


@users_app.command("token")
def users_token(username: str, name: str = typer.Option("cli", "--name")) -> None:
    """Issue an API token for a user (printed once)."""
    from sqlalchemy import select

    from ictgov.auth import User, issue_token

    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            fail(f"username: no user {username!r}")
        token = issue_token(s, user, name)
    console.print(token)


@sample_app.command("load")
def sample_load() -> None:
    """Load reference areas, definitions, the bundled figures of Vietnam's ICT sector, and demo reports."""
    from sqlalchemy import select

    from ictgov.auth import Role, User
    from ictgov.stats.sample import load_sample
    from ictgov.tipline.demo import load_demo
    from ictgov.tipline.observations import sync

    with session_scope() as s:
        result = load_sample(s)
    figures = result["figures"]
    if "skipped" in figures:
        console.print(f"sample figures {figures['skipped']}")
    else:
        console.print(f"sample loaded: {figures['created']} observations, "
                      f"{figures['revised']} revisions")
    for name, more in result.get("more", {}).items():
        console.print(f"{name}: " + (more["skipped"] if "skipped" in more else f"{more['created']} observations"))
    with session_scope() as s:
        admin = s.scalar(select(User).where(User.role == Role.admin.value).order_by(User.id))
        if admin is None:
            from ictgov.auth import create_user

            admin = create_user(s, "admin", secrets.token_urlsafe(12), "admin", full_name="Administrator")
        demo = load_demo(s, admin)
        if "skipped" not in demo:
            sync(s)
            console.print(f"fake-news centre demo: {demo['reports']} reports about {demo['claims']} claims")
    from ictgov.antispam.demo import load_demo as load_antispam_demo
    from ictgov.antispam.observations import sync as sync_antispam

    with session_scope() as s:
        admin = s.scalar(select(User).where(User.role == Role.admin.value).order_by(User.id))
        demo = load_antispam_demo(s, admin)
        if "skipped" not in demo:
            sync_antispam(s)
            console.print(f"anti-spam demo: {demo['reports']} reports, {demo['flagged']} numbers flagged")
    with session_scope() as s:
        from ictgov.dx.demo import load_demo as load_dx_demo
        from ictgov.dx.observations import sync as sync_dx

        admin = s.scalar(select(User).where(User.role == Role.admin.value).order_by(User.id))
        dx = load_dx_demo(s, admin)
        if "skipped" not in dx:
            sync_dx(s)
            console.print(f"digital-transformation demo: {dx['enterprises']} enterprises, {dx['assessments']} "
                          f"assessments, {dx['solutions']} solutions, a DTI ranking; enterprise login: user "
                          f"[cyan]{dx['user']}[/], password [cyan]{dx['password']}[/]")
    with session_scope() as s:
        from ictgov.dx.press_demo import load_demo as load_press_demo
        from ictgov.dx.press_observations import sync as sync_press

        admin = s.scalar(select(User).where(User.role == Role.admin.value).order_by(User.id))
        pr = load_press_demo(s, admin)
        if "skipped" not in pr:
            sync_press(s)
            console.print(f"press digital-maturity demo: {pr['agencies']} agencies, {pr['assessments']} "
                          f"assessments, {pr['certified']} certified; press agency login: user "
                          f"[cyan]{pr['agency_user']}[/], password [cyan]{pr['agency_password']}[/]; "
                          f"appraisal council login: user [cyan]{pr['council_user']}[/], password "
                          f"[cyan]{pr['council_password']}[/]")
        from ictgov.dx import smedx_observations
        from ictgov.dx.smedx_demo import load_demo as load_smedx_demo

        admin = s.scalar(select(User).where(User.role == Role.admin.value).order_by(User.id))
        programme = load_smedx_demo(s, admin)
        if "skipped" not in programme:
            smedx_observations.sync(s)
            console.print(f"SME programme demo: {programme['providers']} providers, {programme['platforms']} "
                          f"platforms, {programme['uptakes']} uptakes; provider login: user "
                          f"[cyan]{programme['user']}[/], password [cyan]{programme['password']}[/]")


@app.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000, reload: bool = False,
          workers: int = typer.Option(1, min=1, help="worker processes sharing the port (one per core)"),
          json_logs: bool = typer.Option(True, "--json-logs/--plain-logs",
                                         help="one JSON object per log line (default)")) -> None:
    """Run the web application (logs: JSON lines on stderr, with request ids, no personal data)."""
    import uvicorn

    from ictgov.logs import configure

    if reload and workers > 1:
        raise typer.BadParameter("--reload runs one process: leave --workers at 1", param_hint="--workers")
    configure(json_lines=json_logs)
    # worker processes start afresh: create_app sets their logging up the same way
    os.environ["ICTGOV_SERVE_LOGS"] = "json" if json_logs else "plain"
    uvicorn.run("ictgov.web.app:create_app", factory=True, host=host, port=port, reload=reload,
                workers=workers, log_level="info", log_config=None, access_log=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""The `ictgov` command: the same functions the web calls, from a terminal."""

from __future__ import annotations

import secrets

import typer
from rich.console import Console

from ictgov.config import get_settings
from ictgov import models  # noqa: F401  (every table known before the first query)
from ictgov.db import get_engine, session_scope

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False, help="ictgov: open platform for a national ICT ministry.")
db_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False, help="Database schema (Alembic migrations).")
users_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False, help="Accounts and API tokens.")
sample_app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False, help="Bundled reference and sample data.")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(sample_app, name="sample")

from ictgov.stats import cli as stats_cli  # noqa: E402  (command groups live with their service)

from ictgov.tipline import cli as tipline_cli  # noqa: E402

app.add_typer(stats_cli.app, name="stats")
app.add_typer(tipline_cli.app, name="tipline")
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


@users_app.command("create")
def users_create(
    username: str,
    role: str = typer.Option(..., "--role", help="admin, analyst, province_officer, fact_checker, "
                             "hotline_agent, operator, enterprise"),
    password: str = typer.Option(None, "--password", help="generated and printed when omitted"),
    full_name: str = typer.Option("", "--name"),
    email: str = typer.Option(None, "--email"),
    province: str = typer.Option(None, "--province", help="GSO code, for province_officer"),
    operator: str = typer.Option(None, "--operator", help="operator code, for operator"),
    enterprise: str = typer.Option(None, "--enterprise", help="tax code, for enterprise"),
) -> None:
    """Create a user with one role."""
    from ictgov.auth import AccountError, create_user

    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        with session_scope() as s:
            create_user(s, username, password, role, full_name=full_name, email=email,
                        province_code=province, operator_code=operator, enterprise_ref=enterprise)
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
    with session_scope() as s:
        admin = s.scalar(select(User).where(User.role == Role.admin.value).order_by(User.id))
        if admin is None:
            from ictgov.auth import create_user

            admin = create_user(s, "admin", secrets.token_urlsafe(12), "admin", full_name="Administrator")
        demo = load_demo(s, admin)
        if "skipped" not in demo:
            sync(s)
            console.print(f"fake-news centre demo: {demo['reports']} reports about {demo['claims']} claims")


@app.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000, reload: bool = False) -> None:
    """Run the web application."""
    import uvicorn

    uvicorn.run("ictgov.web.app:create_app", factory=True, host=host, port=port, reload=reload,
                log_level="info")


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""`ictgov antispam` commands of citizens' reports and scans: the 5656 short code, loading a
scan's flags, and the figures in the stats store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from ictgov.antispam.cli import app

err = Console(stderr=True)


@app.command("shortcode")
def shortcode_cmd(
    text: str = typer.Argument(..., help="the SMS as the citizen sent it to 5656"),
    sender: str = typer.Option(..., "--from", help="the citizen's number (any usual form)"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object: kind, source, content, reply"),
) -> None:
    """Parse an SMS sent to 5656: what it asks for and the reply the citizen gets."""
    from ictgov.antispam.shortcode import parse
    from ictgov.text import normalize_phone, phone_kind

    number = normalize_phone(sender)
    if number is None or phone_kind(number) not in ("mobile", "landline"):
        err.print(f"[bold red]error:[/] --from: {sender!r} is not a Vietnamese subscriber number",
                  highlight=False)
        raise typer.Exit(2)
    msg = parse(text)
    if as_json:
        sys.stdout.write(json.dumps(msg.as_dict(), ensure_ascii=False) + "\n")
        return
    sys.stdout.write(f"from:    {number}\nkind:    {msg.kind}\nsource:  {msg.source or '-'}\n"
                     f"content: {msg.content or '-'}\nreply:   {msg.reply}\n")
    if msg.problem:
        sys.stdout.write(f"problem: {msg.problem}\n")


@app.command("load-scan")
def load_scan_cmd(
    numbers: Path = typer.Argument(..., help="a scan's CSV (ictgov antispam scan ... --out FILE)"),
    days: Path = typer.Option(None, "--days", help="the scan's flagged number-days (--days-out FILE)"),
    name: str = typer.Option(..., "--name", help="what to call this scan (e.g. viettel-2026-01)"),
) -> None:
    """Load a scan's flagged numbers for the operators to confirm (and its daily spam traffic)."""
    from ictgov.antispam.flags import FlagError, load_scan
    from ictgov.db import session_scope

    for path in (numbers, days):
        if path is not None and not path.is_file():
            err.print(f"[bold red]error:[/] {path}: no such file", highlight=False)
            raise typer.Exit(2)
    try:
        with session_scope() as s:
            counts = load_scan(s, numbers, scan=name, days=days)
    except (FlagError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    sys.stdout.write(f"{counts['flagged']} numbers flagged, {counts['updated']} updated, "
                     f"{counts['days']} operator-days of spam traffic\n")


@app.command("sync-stats")
def sync_stats_cmd() -> None:
    """Record reports, flags, blocks and detected spam in the stats store (by month and operator)."""
    from ictgov.antispam.observations import sync
    from ictgov.db import session_scope

    with session_scope() as s:
        report = sync(s)
    if report is None:
        sys.stdout.write("nothing to record yet\n")
        return
    sys.stdout.write(f"{report.created} observations recorded, {report.revised} revised, "
                     f"{report.unchanged} unchanged\n")

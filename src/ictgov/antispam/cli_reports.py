"""`ictgov antispam` commands of citizens' reports: the 5656 short code."""

from __future__ import annotations

import json
import sys

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

"""`ictgov antispam ...`: one command group; each part of the service adds its commands.

The modules imported at the bottom register their commands on ``app`` when imported,
so each part keeps its commands beside its code.
"""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Spam SMS, spam calls and junk SIMs: reports, classifier, records, blocklists.")

from ictgov.antispam import cli_classifier, cli_records, cli_reports  # noqa: F401

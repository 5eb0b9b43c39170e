"""`ictgov stats ...` and `ictgov report`: the statistics service from a terminal.

The same functions serve the web pages and the API; these commands only parse arguments,
call them in one transaction, and print (a table, or JSON with --json).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ictgov.db import session_scope

app = typer.Typer(no_args_is_help=True, help="Sector figures: import, show, rank, export, validate.")
console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV, XLSX or JSON, long format"),
    strict: bool = typer.Option(False, "--strict", help="refuse indicator names not yet defined"),
    number_format: str = typer.Option(None, "--number-format", help="en (1,234.5) or vi (1.234,5)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import observations; one file is one transaction, every bad row is listed."""
    from ictgov.stats.ingest import ImportRejected, import_observations

    if file.stat().st_size > 200 * 1024 * 1024:
        _fail(f"file: {file} is larger than 200 MB")
    from ictgov.cli_progress import progress_bar

    try:
        with progress_bar(f"import {file.name}"), session_scope() as s:
            report = import_observations(s, file.read_bytes(), file.name, strict=strict,
                                         number_format=number_format)
            from ictgov.stats.figures import Figures
            from ictgov.stats.validation import run_rules

            periods = None
            report.violations = [v.as_dict() for v in run_rules(s, Figures.load(s), periods)][:200]
    except ImportRejected as exc:
        if as_json:
            _print_json({"ok": False, "errors": [e.as_dict() for e in exc.errors]})
            raise typer.Exit(1) from None
        err.print(f"[bold red]rejected:[/] {file.name}: {len(exc.errors)} error(s); nothing was written")
        for e in exc.errors:
            err.print(f"  {e}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    if as_json:
        _print_json({"ok": True, **report.as_dict()})
        return
    console.print(f"imported {file.name}: {report.created} new, {report.revised} revised, "
                  f"{report.unchanged} unchanged (batch {report.batch_id})")
    for el in report.new_elements:
        console.print(f"  new data element [cyan]{el['code']}[/] ({el['name']}, {el['unit']})")
    if report.converted:
        console.print(f"  {report.converted} value(s) converted to their element's unit")
    if report.violations:
        console.print(f"[yellow]{len(report.violations)} validation rule violation(s)[/]; "
                      "see `ictgov stats validate`")


@app.command("show")
def show_cmd(
    indicator: str,
    area: str = typer.Option("VN", "--area"),
    period: str = typer.Option(..., "--period"),
    boundaries: str = typer.Option("published", "--boundaries", help="published or current (34 units)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A value, the value a year before, the growth, its source and revision history."""
    from ictgov.stats.figures import FigureError, Figures

    try:
        with session_scope() as s:
            shown = Figures.load(s, boundaries).show(s, indicator, area, period)
    except FigureError as exc:
        _fail(str(exc))
    if as_json:
        _print_json(shown)
        return
    from ictgov.stats.report import format_number

    console.print(f"[bold]{shown['name']}[/] ({shown['indicator']}) — {shown['area_name']}, {shown['period']}")
    status = f" [{shown['status']}]" if shown["status"] not in (None, "final") else ""
    console.print(f"  value: {format_number(shown['value'], 'en')} {shown['unit']}{status}")
    console.print(f"  {shown['previous_period']}: {format_number(shown['previous_value'], 'en')}")
    console.print(f"  growth (computed): {_pct(shown['growth_pct'])}")
    if shown["published_growth_pct"] is not None:
        flag = "  [yellow]differs from the computed growth[/]" if shown["growth_differs"] else ""
        console.print(f"  growth (published): {_pct(shown['published_growth_pct'])}{flag}")
    trace = shown["trace"]
    if trace.get("formula"):
        console.print(f"  formula: {trace['formula']}")
    for rev in trace.get("revisions", []):
        mark = "*" if rev["latest"] else " "
        console.print(f"  {mark} rev {rev['revision']}: {rev['value']} ({rev['status']}) {rev['source']}",
                      highlight=False)
    if trace.get("aggregated_from"):
        console.print(f"  aggregated ({trace['aggregation']}) from {trace['aggregated_from']} areas")


def _pct(x) -> str:
    return "—" if x is None else f"{x:+.1f} %"


@app.command("rank")
def rank_cmd(
    indicator: str,
    period: str = typer.Option(..., "--period"),
    level: str = typer.Option("province", "--level", help="province or region"),
    boundaries: str = typer.Option("published", "--boundaries"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Areas ranked by an indicator; ties share a rank."""
    from ictgov.stats.figures import FigureError, Figures

    try:
        with session_scope() as s:
            ranked = Figures.load(s, boundaries).rank(indicator, period, level)
    except FigureError as exc:
        _fail(str(exc))
    if as_json:
        _print_json(ranked)
        return
    table = Table("rank", "code", "area", "value")
    for r in ranked:
        table.add_row(str(r["rank"]), r["area"], r["name"], f"{r['value']:g}")
    console.print(table)


@app.command("export")
def export_cmd(
    fmt: str = typer.Option("csv", "--format", help="csv, json or sdmx-csv"),
    indicator: list[str] = typer.Option(None, "--indicator"),
    period: list[str] = typer.Option(None, "--period"),
    area: list[str] = typer.Option(None, "--area"),
    output: Path = typer.Option(None, "--output", "-o"),
) -> None:
    """Export figures (observed and computed) as open data."""
    from ictgov.stats import export
    from ictgov.stats.figures import FigureError, Figures
    from ictgov.stats.periods import PeriodError

    if fmt not in export.FORMATS:
        _fail(f"format: {fmt!r} must be one of {', '.join(export.FORMATS)}")
    try:
        with session_scope() as s:
            rows = export.rows(Figures.load(s), indicator or None, period or None, area or None)
    except (FigureError, PeriodError) as exc:
        _fail(str(exc))
    text = export.render(rows, fmt)
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {len(rows)} observations to {output}")
    else:
        sys.stdout.write(text)


@app.command("validate")
def validate_cmd(
    period: list[str] = typer.Option(None, "--period"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run every validation rule; list every violation (exit 2 when there are some)."""
    from ictgov.stats.figures import Figures
    from ictgov.stats.periods import PeriodError, parse_period
    from ictgov.stats.validation import run_rules

    try:
        periods = {parse_period(p).code for p in period} if period else None
    except PeriodError as exc:
        _fail(str(exc))
    with session_scope() as s:
        found = run_rules(s, Figures.load(s), periods)
    if as_json:
        _print_json([v.as_dict() for v in found])
    else:
        for v in found:
            console.print(v.describe("en"), highlight=False)
        console.print(f"{len(found)} violation(s)")
    if found:
        raise typer.Exit(2)


@app.command("indicators")
def indicators_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """List data elements and indicators."""
    from ictgov.stats.indicators import Catalog

    with session_scope() as s:
        cat = Catalog.load(s)
        items = [{"code": e.code, "kind": "element", "name": e.name, "name_en": e.name_en, "unit": e.unit,
                  "aggregation": e.aggregation} for e in cat.elements.values()]
        items += [{"code": i.code, "kind": "indicator", "name": i.name, "name_en": i.name_en, "unit": i.unit,
                   "formula": i.formula} for i in cat.indicators.values()]
    items.sort(key=lambda x: x["code"])
    if as_json:
        _print_json(items)
        return
    table = Table("code", "kind", "name", "unit", "formula / aggregation")
    for it in items:
        table.add_row(it["code"], it["kind"], it["name_en"] or it["name"], it["unit"],
                      it.get("formula") or it.get("aggregation"))
    console.print(table)


@app.command("define")
def define_cmd(
    code: str,
    formula: str,
    name: str = typer.Option("", "--name"),
    name_en: str = typer.Option("", "--name-en"),
    unit: str = typer.Option("", "--unit"),
) -> None:
    """Define or change an indicator; the formula is checked (names, cycles) before it is saved."""
    from ictgov.stats.indicators import DefinitionError, define_indicator

    try:
        with session_scope() as s:
            define_indicator(s, code, formula, name=name, name_en=name_en, unit=unit)
    except DefinitionError as exc:
        _fail(str(exc))
    console.print(f"indicator {code} = {formula}")


def report_cmd(
    period: str = typer.Argument(..., help="2021, 2021H1, 2021Q3 or 2021-07"),
    lang: str = typer.Option("vi", "--lang", help="vi or en"),
    fmt: str = typer.Option("md", "--format", help="md or html"),
    output: Path = typer.Option(None, "--output", "-o"),
) -> None:
    """The review of a period, as the ministry writes it."""
    from ictgov.stats.figures import FigureError
    from ictgov.stats.report import build_review, render

    try:
        with session_scope() as s:
            text = render(build_review(s, period, lang), fmt)
    except FigureError as exc:
        _fail(str(exc))
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")
    else:
        sys.stdout.write(text)

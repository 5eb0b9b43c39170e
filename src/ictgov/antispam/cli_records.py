"""`ictgov antispam` commands of the records part: simulate traffic, scan records for spam
numbers, audit a subscriber file for junk SIMs and an advertiser's send log for Decree 91."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ictgov.antispam.cli import app

console = Console(stderr=True)


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def _errors():
    """Bad files and settings end the command with their message, never a traceback."""
    from ictgov.antispam.records import InputError
    from ictgov.antispam.rules import ConfigError

    try:
        yield
    except (InputError, ConfigError) as exc:
        _fail(str(exc))


@contextmanager
def _spinner(text: str):
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        progress.add_task(text, total=None)
        yield


@app.command("simulate")
def simulate_cmd(
    subscribers: int = typer.Option(..., "--subscribers", help="how many subscribers (at least 100)"),
    days: int = typer.Option(..., "--days", help="how many days of traffic"),
    spammers: float = typer.Option(0.01, "--spammers", help="spammers' share of the subscribers (0-0.5)"),
    out: Path = typer.Option(..., "--out", help="directory for records, subscribers.csv, truth.csv"),
    seed: int = typer.Option(1, "--seed", help="the same seed writes the same files"),
    heavy: float = typer.Option(0.01, "--heavy", help="share of heavy legitimate users "
                                "(shops, delivery drivers, heavy texters)"),
    start: str = typer.Option("2026-01-05", "--start", help="first day (YYYY-MM-DD)"),
    fmt: str = typer.Option("parquet", "--format", help="records as parquet or csv"),
) -> None:
    """Simulated call and SMS records with injected spammers, and the truth beside them."""
    from ictgov.antispam.simulate import SimSpec, simulate

    try:
        first = date.fromisoformat(start)
    except ValueError:
        _fail(f"--start: {start!r} is not a date YYYY-MM-DD")
    spec = SimSpec(subscribers=subscribers, days=days, spammers=spammers, heavy=heavy, seed=seed,
                   start=first, fmt=fmt)
    try:
        spec.check()
    except ValueError as exc:
        _fail(str(exc))
    with Progress(TextColumn("simulating"), BarColumn(), TextColumn("day {task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("days", total=days)
        manifest = simulate(spec, out, progress=lambda k: progress.update(task, completed=k + 1))
    classes = ", ".join(f"{k} {v}" for k, v in manifest["classes"].items() if v)
    console.print(f"{manifest['rows']:,} records of {subscribers:,} subscribers over {days} days "
                  f"in {out}/{manifest['records']}; {classes}; sleepers {manifest['sleepers']}")


@app.command("scan")
def scan_cmd(
    records: Path = typer.Argument(..., help="call and SMS records: CSV or Parquet (file, directory, glob)"),
    out: Path = typer.Option(..., "--out", help="CSV: number,flagged,score,reasons,...features"),
    subscribers: Path = typer.Option(None, "--subscribers", help="subscriber file, for SIM age"),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (one machine) or spark"),
    config: Path = typer.Option(None, "--config", help="thresholds YAML laid over the bundled one"),
    days_out: Path = typer.Option(None, "--days-out", help="also write the flagged number-days here"),
    memory_limit: str = typer.Option(None, "--memory-limit", help="DuckDB memory limit, e.g. 4GB"),
    threads: int = typer.Option(None, "--threads", help="DuckDB threads"),
    parts: bool = typer.Option(False, "--parts", help="with --engine spark, for a cluster: RECORDS is "
                               "canonical Parquet (`ictgov antispam canonical`) on storage the cluster "
                               "reads, --subscribers its canonical subscribers, and the executors write "
                               "the result as CSV part files under the directory --out (numbers/, "
                               "flagged_days/); only counts come back"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Flag spam numbers in operators' records with the Circular 22 criteria."""
    from ictgov.antispam.cdr import scan

    if engine not in ("duckdb", "spark"):
        _fail(f"--engine must be duckdb or spark, not {engine!r}")
    if parts:
        if engine != "spark":
            _fail("--parts: the executors write part files with --engine spark only")
        from ictgov.antispam.rules import load_thresholds
        from ictgov.antispam.spark import scan_spark_to

        from pyspark.errors import AnalysisException

        try:
            with _errors(), _spinner(f"scanning {records} (spark, part files)"):
                summary = scan_spark_to(str(records), str(out), str(subscribers) if subscribers else None,
                                        load_thresholds(config))
        except (ValueError, AnalysisException) as exc:  # an empty or unreadable canonical file
            _fail(f"records: {str(exc).splitlines()[0]}")
        if as_json:
            sys.stdout.write(json.dumps(summary) + "\n")
        else:
            console.print(f"{summary['records']:,} records, {summary['numbers']:,} callers and senders, "
                          f"[bold]{summary['flagged']:,} flagged[/] (spark, {summary['seconds']} s) -> {out}/")
        return
    options = {}
    if engine == "duckdb":
        options = {"memory_limit": memory_limit, "threads": threads}
    with _errors(), _spinner(f"scanning {records} ({engine})"):
        result = scan(records, subscribers, engine=engine, config=config, **options)
    result.write_csv(out)
    if days_out:
        result.days.write_csv(days_out)
    summary = {"records": result.rows, "numbers": result.numbers.height,
               "flagged": result.flagged.height, "flagged_days": result.days.height,
               "first_day": str(result.first_day), "last_day": str(result.last_day),
               "engine": result.engine, "seconds": round(result.seconds, 2), "out": str(out)}
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    console.print(f"{summary['records']:,} records, {summary['numbers']:,} callers and senders, "
                  f"[bold]{summary['flagged']:,} flagged[/] ({engine}, {summary['seconds']} s) -> {out}")
    for note in result.notes:
        console.print(f"note: {note}")


@app.command("canonical")
def canonical_cmd(
    records: Path = typer.Argument(..., help="call and SMS records: CSV or Parquet (file, directory, glob)"),
    out: Path = typer.Option(..., "--out", help="canonical Parquet for `scan --engine spark --parts`"),
    subscribers: Path = typer.Option(None, "--subscribers", help="subscriber file: its canonical Parquet "
                                     "is written beside, OUT.subscribers.parquet"),
) -> None:
    """Check and normalise records once (numbers in national form, Vietnam-time days) into the
    Parquet that the Spark engine reads, to copy to the cluster's storage."""
    from ictgov.antispam.records import write_canonical

    with _errors(), _spinner(f"checking {records}"):
        src = write_canonical(records, out, subscribers=subscribers)
    extra = f" and {out}.subscribers.parquet" if subscribers else ""
    console.print(f"{src.rows:,} records -> {out}{extra}")


@app.command("sim-audit")
def sim_audit_cmd(
    subscribers: Path = typer.Argument(..., help="subscriber file: number, activation_date, operator, "
                                       "id_document, point_of_sale"),
    out: Path = typer.Option(..., "--out", help="CSV: number,rule,detail,..."),
    records: Path = typer.Option(None, "--records", help="call and SMS records (for silent-then-spamming SIMs)"),
    config: Path = typer.Option(None, "--config", help="thresholds YAML laid over the bundled one"),
) -> None:
    """Junk-SIM audit: too many numbers per identity document, malformed identity numbers,
    activation bursts, SIMs silent then spamming."""
    from ictgov.antispam.junk_sim import RULES, audit_subscribers

    with _errors(), _spinner(f"auditing {subscribers}"):
        result = audit_subscribers(subscribers, records, config=config)
    result.write_csv(out)
    console.print(f"{result.subscribers:,} subscribers, {result.findings['number'].n_unique():,} numbers "
                  f"with findings -> {out}")
    for rule, n in result.counts.items():
        console.print(f"  {rule:<16} {n:>8,}  {RULES[rule]}")


@app.command("ad-audit")
def ad_audit_cmd(
    log: Path = typer.Argument(..., help="send log: brandname, recipient, time, kind (sms|call|email), content"),
    out: Path = typer.Option(..., "--out", help="CSV: line,brandname,recipient,time,kind,rule,citation,detail"),
    dnc: Path = typer.Option(None, "--dnc", help="do-not-call numbers: one a line, or a CSV with a number column"),
    config: Path = typer.Option(None, "--config", help="thresholds YAML laid over the bundled one"),
) -> None:
    """Decree 91/2020 audit of an advertiser's send log; each violation with its rule."""
    from ictgov.antispam.advertisers import RULES, audit_send_log, read_dnc_file

    with _errors():
        numbers = read_dnc_file(dnc) if dnc else set()
        result = audit_send_log(log, numbers, config=config)
    result.write_csv(out)
    console.print(f"{result.sends:,} sends, [bold]{result.violations.height:,} violations[/] -> {out}")
    for rule, n in result.counts.items():
        if n:
            console.print(f"  {rule:<15} {n:>8,}  {RULES[rule][0]}")

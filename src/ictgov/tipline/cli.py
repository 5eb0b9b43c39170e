"""`ictgov tipline ...`: submit a report, match a text, group a labelled file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from ictgov.db import session_scope

app = typer.Typer(no_args_is_help=True, help="The fake-news centre: reports, matching, grouping.")
console = Console()
err = Console(stderr=True)


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")


@app.command("submit")
def submit_cmd(
    text: str = typer.Option(..., "--text", help="the suspect content"),
    url: list[str] = typer.Option(None, "--url", help="where it was seen (repeatable)"),
    category: str = typer.Option("other", "--category"),
    platform: str = typer.Option("other", "--platform"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Submit a report as the web form would; prints the receipt and the case it joined."""
    from ictgov.tipline.intake import IntakeError, Submission, submit
    from ictgov.tipline.service import matcher_for

    try:
        with session_scope() as s:
            result = submit(s, Submission(text=text, urls=list(url or []), category=category,
                                          platform=platform), "api", matcher=matcher_for(s))
            out = {"receipt": result.report.receipt, "case": result.case.id, "decision": result.decision,
                   "score": result.score, "verdict": result.verdict}
    except IntakeError as exc:
        if as_json:
            _print_json({"ok": False, "errors": exc.errors})
        else:
            for field, message in exc.errors.items():
                err.print(f"[bold red]error:[/] {field}: {message}", highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        _print_json(out)
    else:
        console.print(f"receipt {out['receipt']}: case {out['case']} ({out['decision']})")
        if out["verdict"]:
            console.print(f"already verified: {out['verdict']}")


@app.command("match")
def match_cmd(text: str, k: int = typer.Option(5, "--k"), as_json: bool = typer.Option(False, "--json")) -> None:
    """The stored reports and verdicts that best match a text, with scores."""
    from ictgov.tipline.service import matcher_for

    with session_scope() as s:
        matcher = matcher_for(s)
        matches = matcher.match(text, k=k)
        decision = matcher.decide(matches)
    # an item is a report (its id) or a published verdict's own text (("claim" | "summary", case))
    rows = [{"report": m.item_id if isinstance(m.item_id, int) else None,
             "matched": "report" if isinstance(m.item_id, int) else f"verdict {m.item_id[0]}",
             "case": m.case_id, "score": round(m.score, 4), "method": m.method,
             "verdict": m.verdict} for m in matches]
    if as_json:
        _print_json({"decision": decision.kind, "matches": rows})
        return
    console.print(f"decision: {decision.kind}")
    for r in rows:
        console.print(f"  case {r['case']}  {r['matched']} {r['report'] or ''}  {r['score']:.3f}  {r['method']}"
                      + (f"  verdict: {r['verdict']}" if r["verdict"] else ""))


def _service_params() -> dict:
    """A fresh matcher's parameters as the service sets them: the configured embedding backend
    and the thresholds an admin saved for it (the backend's defaults when none were saved, or
    when there is no database to read them from)."""
    from sqlalchemy.exc import SQLAlchemyError

    from ictgov.tipline.service import backend_name, saved_thresholds

    params: dict = {"embedder": backend_name()}
    try:
        with session_scope() as s:
            saved = saved_thresholds(s, params["embedder"])
    except SQLAlchemyError:
        err.print("note: no database to read saved thresholds from; using the backend's defaults",
                  highlight=False)
        saved = None
    if saved is not None:
        params["auto_threshold"], params["suggest_threshold"] = saved[1], saved[2]
    return params


@app.command("group")
def group_cmd(file: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Read `id<TAB>text` lines, print `id<TAB>case_id` grouped as the service would (its
    configured backend and the thresholds saved by an admin)."""
    from ictgov.tipline.match import ClaimMatcher

    items = []
    for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if "\t" not in line:
            err.print(f"[bold red]error:[/] line {n}: expected id<TAB>text")
            raise typer.Exit(1)
        item_id, text = line.split("\t", 1)
        items.append((item_id, text))
    for item_id, case_id in ClaimMatcher(**_service_params()).group(items).items():
        sys.stdout.write(f"{item_id}\t{case_id}\n")


@app.command("evaluate")
def evaluate_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="lines: group<TAB>text"),
    auto: float = typer.Option(None, "--auto", help="upper threshold (default: the service's)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Pairwise precision/recall of grouping on a labelled file, as the service would group it."""
    from ictgov.tipline.evaluate import evaluate_grouping, read_labelled

    try:
        rows = read_labelled(file.read_text(encoding="utf-8").splitlines())
    except (UnicodeDecodeError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {file}: {exc}", highlight=False)
        raise typer.Exit(1) from None
    params = _service_params()
    if auto is not None:
        params["auto_threshold"] = auto
        params["suggest_threshold"] = min(params.get("suggest_threshold", auto), auto)
    r = evaluate_grouping(rows, **params)
    if as_json:
        _print_json(r)
        return
    console.print(f"items {r['items']}  gold pairs {r['pairs']}  predicted pairs {r['predicted_pairs']}")
    console.print(f"precision {r['precision']:.4f}  recall {r['recall']:.4f}  f1 {r['f1']:.4f}")


@app.command("sync-stats")
def sync_stats_cmd() -> None:
    """Record the centre's figures (reports, cases, verdicts, time to verdict) in the stats store."""
    from ictgov.tipline.observations import sync

    with session_scope() as s:
        report = sync(s)
    if report is None:
        console.print("no reports yet: nothing to record")
    else:
        console.print(f"recorded: {report.created} new, {report.revised} revised, {report.unchanged} unchanged")

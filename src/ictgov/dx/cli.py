"""`ictgov dx ...`: frameworks, provincial index, assessments.

The commands parse arguments, call the same functions the API and pages call, and print a
table or, with --json, the result's ``as_dict()``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Digital-transformation assessment: frameworks, enterprises, provinces.")
# Piped output is not cut to 80 columns: a ranking table is read in files and logs too.
console = Console() if Console().is_terminal else Console(width=160)
err = Console(stderr=True) if Console(stderr=True).is_terminal else Console(stderr=True, width=160)


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")


def _fail(lines: list[str], as_json: bool, header: str = "", payload: dict | None = None) -> None:
    if as_json:
        _print_json(payload or {"ok": False, "errors": lines})
    else:
        if header:
            err.print(f"[bold red]error:[/] {header}", highlight=False)
        for line in lines:
            err.print(("  " if header else "error: ") + line, highlight=False, markup=False)
    raise typer.Exit(1)


def _framework(ref: str, kind: str, as_json: bool):
    from ictgov.dx.framework import FrameworkError, get

    try:
        return get(ref, kind)
    except FrameworkError as exc:
        _fail(exc.lines(), as_json, header=f"framework {ref} does not pass its checks")
    except (KeyError, TypeError) as exc:
        _fail([str(exc.args[0])], as_json)


def _num(x) -> str:
    return "—" if x is None else f"{float(x):g}"


@app.command("frameworks")
def frameworks_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """The bundled frameworks, each checked as it is loaded."""
    from ictgov.dx.framework import EnterpriseFramework, FrameworkError, MaturityFramework, available

    try:
        found = available()
    except FrameworkError as exc:
        _fail(exc.lines(), as_json, header="a bundled framework does not pass its checks")
    rows = []
    for fw in found:
        if isinstance(fw, (EnterpriseFramework, MaturityFramework)):
            parts = (f"{len(fw.pillars)} pillars, {sum(len(p.components) for p in fw.pillars)} components, "
                     f"{len(fw.criteria)} criteria, levels 0–{fw.top_level}")
        else:
            parts = f"{fw.unit}, {len(fw.groups)} groups, {len(fw.indicators)} indicators"
        rows.append({"ref": fw.ref, "id": fw.id, "version": fw.version, "kind": fw.kind,
                     "name": {"vi": fw.name.vi, "en": fw.name.en}, "total": float(fw.total),
                     "structure": parts, "file": fw.file, "digest": fw.digest})
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        console.print(f"[bold]{r['ref']}[/] ({r['kind']}, {r['total']:g} points): {r['structure']}",
                      highlight=False)
        console.print(f"  {r['name']['vi']}\n  {r['name']['en']}\n  {r['file']}, digest {r['digest'][:12]}",
                      highlight=False)


@app.command("validate")
def validate_cmd(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="framework YAML file"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Check a framework file: structure, points that add up, level rules that can be met, codes."""
    from ictgov.dx.framework import FrameworkError, load_file

    try:
        fw = load_file(file)
    except FrameworkError as exc:
        _fail(exc.lines(), as_json, header=f"{file.name}: {len(exc.problems)} problem(s)",
              payload={"ok": False, "file": file.name, "problems": [p.as_dict() for p in exc.problems]})
    if as_json:
        _print_json({"ok": True, "file": file.name, **fw.identity(), "kind": fw.kind})
        return
    console.print(f"ok: {file.name} is {fw.ref} ({fw.kind}, {float(fw.total):g} points), digest {fw.digest[:12]}")


@app.command("dti")
def dti_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: area,year,<indicator codes>"),
    framework: str = typer.Option("dti-2022", "--framework", "-f", help="id, id@version or a YAML file"),
    draws: int = typer.Option(1000, "--draws", help="weight perturbations for the rank intervals (0: none)"),
    perturb: float = typer.Option(0.2, "--perturb", help="each weight times a factor in [1-p, 1+p]"),
    seed: int = typer.Option(0, "--seed", help="random seed of the perturbations"),
    interval: float = typer.Option(0.9, "--interval", help="central share of the ranks in the interval"),
    year: int = typer.Option(None, "--year", help="print this year only"),
    lang: str = typer.Option("vi", "--lang", help="vi or en"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The digital-transformation index of each area: rank, pillar groups, change, rank interval."""
    from ictgov.dx.dti import DtiInputError, run

    fw = _framework(framework, "index", as_json)
    from ictgov.cli_progress import progress_bar

    try:
        with progress_bar(f"DTI {file.name}"):
            result = run(file.read_bytes(), fw, source=file.name, draws=draws, perturb=perturb, seed=seed,
                         interval=interval)
    except DtiInputError as exc:
        unknown = exc.unknown_areas
        _fail([str(e) for e in exc.errors], as_json,
              header=f"{file.name}: {len(exc.errors)} error(s); nothing computed"
                     + (f"; unknown areas: {', '.join(unknown)}" if unknown else ""),
              payload={"ok": False, "file": file.name, "errors": [e.as_dict() for e in exc.errors],
                       "unknown_areas": unknown})
    except ValueError as exc:
        _fail([str(exc)], as_json)
    if year is not None:
        result.areas = result.year(year)
    if as_json:
        _print_json({"ok": True, **result.as_dict()})
        return
    groups = [g.code for g in fw.groups]
    for y in result.years:
        table = Table(title=f"{fw.name.get(lang)} — {y}", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("interval", justify="right", no_wrap=True)
        table.add_column("area", no_wrap=True)
        for col in ("index", *groups, "change", "rank Δ"):
            table.add_column(col, justify="right", no_wrap=True)
        for a in result.year(y):
            interval_text = "" if a.rank_low is None else f"{a.rank_low}–{a.rank_high}"
            change = "" if a.change is None else f"{float(a.change):+.{fw.precision}f}"
            moved = "" if a.rank_change is None else f"{a.rank_change:+d}"
            mark = " ≠ published" if a.published_differs else ""
            table.add_row(str(a.rank), interval_text, f"{a.area_name} ({a.area_code})", f"{a.index}{mark}",
                          *(str(a.groups[c]) for c in groups), change, moved)
        console.print(table)
        console.print("  " + "; ".join(f"{g.code}: {g.name.get(lang)}" for g in fw.groups), highlight=False)
        console.print(f"  average {result.averages[y]}; {len(result.year(y))} areas")
    if result.uncertainty:
        u = result.uncertainty
        console.print(f"rank interval: {u['interval']:.0%} of the ranks over {u['draws']} draws with every weight "
                      f"perturbed by up to ±{u['perturb']:.0%} (seed {u['seed']})")
    differs = [a for a in result.areas if a.published_differs]
    if differs:
        console.print(f"[yellow]{len(differs)} computed index(es) differ from the published column:[/] "
                      + ", ".join(f"{a.area_name} {a.year} ({a.index} vs {a.published})" for a in differs))
    console.print(f"framework {fw.ref}, digest {fw.digest[:12]}")


@app.command("questionnaire")
def questionnaire_cmd(
    framework: str = typer.Argument("dbi-sme-2021", help="id, id@version or a YAML file"),
    lang: str = typer.Option("vi", "--lang", help="vi or en"),
) -> None:
    """An empty answers file (YAML) for `ictgov dx score`, each criterion with its options."""
    fw = _framework(framework, "enterprise", False)
    out = [f"# {fw.name.get(lang)}"]
    for name, scale in fw.answer_scales.items():
        out.append(f"# scale {name}:")
        out += [f"#   {o.code!r}: {o.label.get(lang)}" for o in scale.options]
    out += [f"framework: {fw.ref}", "answers:"]
    for p in fw.pillars:
        out.append(f"  # {p.name.get(lang)} ({float(p.points):g})")
        for comp in p.components:
            for c in comp.criteria:
                out.append(f"  # {c.text.get(lang)} ({float(c.points):g} points, scale {c.scale})")
                out.append(f"  {c.code}:")
    sys.stdout.write("\n".join(out) + "\n")


@app.command("score")
def score_cmd(
    answers_file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                        help="YAML or JSON: {criterion: option} or {framework:, answers: {...}}"),
    framework: str = typer.Option(None, "--framework", "-f",
                                  help="id, id@version or a YAML file (default: the file's, else dbi-sme-2021)"),
    advice: int = typer.Option(10, "--advice", help="how many criteria to suggest"),
    lang: str = typer.Option("vi", "--lang", help="vi or en"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Score an enterprise's answers: level, pillars, what blocks the next level, what to do."""
    from ictgov.dx.framework import FrameworkError, yaml_load
    from ictgov.dx.scoring import AnswerError, score

    try:
        data = yaml_load(answers_file.read_text(encoding="utf-8"), answers_file.name)
    except FrameworkError as exc:
        _fail(exc.lines(), as_json)
    except (OSError, UnicodeDecodeError) as exc:
        _fail([f"{answers_file.name}: cannot read: {exc}"], as_json)
    if isinstance(data, dict) and "answers" in data:
        ref = framework or data.get("framework") or "dbi-sme-2021"
        answers = data.get("answers") or {}
        if not isinstance(answers, dict):
            _fail([f"{answers_file.name}: answers must be a mapping of criterion codes to options"], as_json)
    elif isinstance(data, dict):
        ref, answers = framework or "dbi-sme-2021", data
    else:
        _fail([f"{answers_file.name}: expected a mapping of criterion codes to answers"], as_json)
    fw = _framework(str(ref), "enterprise", as_json)
    try:
        result = score(fw, answers, advice_limit=advice)
    except AnswerError as exc:
        _fail(exc.problems, as_json, header=f"{answers_file.name}: {len(exc.problems)} problem(s)",
              payload={"ok": False, "file": answers_file.name, "problems": exc.problems})
    if as_json:
        _print_json({"ok": True, **result.as_dict()})
        return
    _print_score(result, fw, lang)


def _more(short) -> str:
    # Conditions are "strictly above": on the bound itself, any point more is enough.
    return "any point more" if not short else f"more than {_num(short)} points more"


def _print_score(result, fw, lang: str) -> None:
    console.print(f"[bold]{result.level_name.get(lang)}[/] (level {result.level} of {fw.top_level}) — "
                  f"{_num(result.total)} / {_num(result.max_total)} points", highlight=False)
    table = Table("pillar", "score", "max", "share", "level")
    for p in result.pillars:
        table.add_row(p.name.get(lang), _num(p.score), _num(p.max), f"{float(p.share):.0%}",
                      f"{p.level} {p.level_name.get(lang)}")
    console.print(table)
    nxt = result.next_level
    if nxt is not None:
        console.print(f"next level: {nxt.level} {nxt.name.get(lang)}", highlight=False)
        if not nxt.total_met:
            console.print(f"  total: above {_num(nxt.total_above)} needed, {_more(nxt.total_short)}")
        if nxt.pillars_missing:
            lifts = [g for g in nxt.pillars_below if g.must_lift]
            console.print(f"  pillars at level {nxt.level} or above: {nxt.pillars_at_level} of the "
                          f"{nxt.pillars_required} needed; cheapest to lift: "
                          + ", ".join(f"{g.name.get(lang)} ({_more(g.points_short)})" for g in lifts),
                          highlight=False)
    if result.advice:
        console.print("criteria that would add the most points:")
        for a in result.advice:
            flag = " *" if a.lifts_pillar else ""
            console.print(f"  +{_num(a.gain)}  {a.criterion}: {a.text.get(lang)}{flag}", highlight=False)
        if any(a.lifts_pillar for a in result.advice):
            console.print("  (* in a pillar that must be lifted for the next level)")
    if result.unanswered:
        console.print(f"[yellow]incomplete:[/] {len(result.unanswered)} of {len(result.points)} criteria "
                      f"unanswered ({', '.join(result.unanswered[:8])}{' ...' if len(result.unanswered) > 8 else ''})")
    console.print(f"framework {fw.ref}, digest {fw.digest[:12]}")


@app.command("sync-stats")
def sync_stats_cmd() -> None:
    """Record as figures the self-assessments (assessed, levels by province, sector and size, pillar
    averages), the press agencies' certificates (certified, by level) and the SME programme's uptake
    (platforms, providers, enterprises reached and using, by group and month)."""
    from ictgov.db import session_scope
    from ictgov.dx import smedx_observations
    from ictgov.dx.observations import sync
    from ictgov.dx.press_observations import sync as sync_press

    with session_scope() as s:
        report = sync(s)
        press_report = sync_press(s)
        programme = smedx_observations.sync(s)
    if report is None:
        console.print("no submitted assessments yet: nothing to record")
    else:
        console.print(f"recorded: {report.created} new, {report.revised} revised, {report.unchanged} unchanged")
    if press_report is None:
        console.print("press agencies: no certificate yet: nothing to record")
    else:
        console.print(f"press agencies: {press_report.created} new, {press_report.revised} revised, "
                      f"{press_report.unchanged} unchanged")
    if programme is not None:
        console.print(f"SME programme: {programme.created} new, {programme.revised} revised, "
                      f"{programme.unchanged} unchanged")

"""`ictgov antispam` commands of the classifier part: train, evaluate, classify, retrain."""

from __future__ import annotations

import json
import sys
from itertools import islice
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ictgov.antispam.cli import app

err = Console(stderr=True)

_DATA_HELP = "training file: UTF-8, one message a line, label<TAB>text, labels spam/ham (or 1/0)"


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(1)


def _status(message: str) -> None:
    err.print(message, highlight=False)


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise _fail(f"--seeds must be whole numbers separated by commas, not {text!r}") from None
    if not seeds:
        raise _fail("--seeds needs at least one seed")
    return seeds


@app.command("train")
def train_cmd(
    data: list[Path] = typer.Option(..., "--data", help=_DATA_HELP + " (repeatable)"),
    out: Path = typer.Option(Path("sms_spam_model"), "--out",
                             help="directory for the model file and its MODEL_CARD.md"),
    evaluate: int = typer.Option(0, "--evaluate", metavar="FOLDS",
                                 help="also evaluate each file with this many folds (random and "
                                      "similar-grouped) and put the figures in the card"),
    seeds: str = typer.Option("0", "--seeds", help="fold seeds of --evaluate, e.g. 0,1,2,3,4 "
                                                   "(each shuffles the folds differently)"),
) -> None:
    """Train the SMS spam classifier on labelled TSV files (duplicates removed first)."""
    from ictgov.antispam.classifier import DataError, train

    try:
        command = " ".join(["ictgov antispam train", *(f"--data {d}" for d in data), f"--out {out}"]
                           + ([f"--evaluate {evaluate} --seeds {seeds}"] if evaluate else []))
        model = train(data, out, evaluate_folds=evaluate, progress=_status,
                      evaluate_seeds=_seeds(seeds), command=command)
    except (DataError, ValueError) as exc:
        raise _fail(str(exc)) from None
    _status(f"model {model.card_['model_id']} written to {out}")


@app.command("retrain")
def retrain_cmd(
    confirmed: Path = typer.Option(None, "--confirmed",
                                   help="messages confirmed by staff: label<TAB>text, as --data"),
    from_reports: bool = typer.Option(False, "--from-reports",
                                      help="take the confirmed messages from the citizens' reports "
                                           "that staff labelled spam or ham (the database)"),
    base: list[Path] = typer.Option(None, "--base",
                                    help="base training files (repeatable); default: the shipped "
                                         "model's, from ../shared/data"),
    out: Path = typer.Option(Path("sms_spam_model"), "--out",
                             help="directory for the model file and its MODEL_CARD.md"),
    evaluate: int = typer.Option(0, "--evaluate", metavar="FOLDS",
                                 help="also evaluate each base file with this many folds"),
) -> None:
    """Retrain on the base files plus confirmed citizen reports, in one step."""
    from ictgov.antispam.classifier import DEFAULT_BASE, DataError, read_tsv, retrain

    if not base:
        base = [Path(p) for p in DEFAULT_BASE]
        missing = [str(p) for p in base if not p.is_file()]
        if missing:
            raise _fail(f"the default base files are not here ({', '.join(missing)}): give --base")
    if (confirmed is None) == (not from_reports):
        raise _fail("give --confirmed FILE or --from-reports (one of them)")
    try:
        if from_reports:
            from ictgov.antispam.reports import confirmed_pairs
            from ictgov.db import session_scope

            with session_scope() as s:
                pairs = confirmed_pairs(s)
            if not pairs:
                raise _fail("no report has been labelled spam or ham by staff yet")
        else:
            pairs = read_tsv(confirmed)
        model = retrain(base, pairs, out, evaluate_folds=evaluate, progress=_status)
    except (DataError, ValueError) as exc:
        raise _fail(str(exc)) from None
    _status(f"model {model.card_['model_id']} written to {out} "
            f"({model.card_['confirmed_reports']} confirmed reports)")


@app.command("evaluate")
def evaluate_cmd(
    data: list[Path] = typer.Option(..., "--data", help=_DATA_HELP + " (repeatable: one set)"),
    folds: int = typer.Option(5, "--folds", min=2, max=20),
    groups: str = typer.Option("none", "--groups",
                               help="none: stratified k-fold; similar: near-identical texts "
                                    "(one template) never on both sides of a split"),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Precision, recall and F1 of spam by k-fold cross-validation, duplicates removed first."""
    from ictgov.antispam.classifier import DataError, evaluate, read_tsv

    if groups not in ("none", "similar"):
        raise _fail(f"--groups must be none or similar, not {groups!r}")
    try:
        pairs = [p for f in data for p in read_tsv(f)]
        with Progress(TextColumn("folds"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task("folds", total=folds)
            result = evaluate(pairs, folds=folds, groups=groups, seed=seed,
                              progress=lambda done, total: bar.update(task, completed=done))
    except (DataError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(result, indent=1) + "\n")
        return
    typer.echo(f"{result['rows']} rows, {result['unique']} distinct after removing "
               f"{result['duplicates']} duplicates ({result['spam']} spam, {result['ham']} ham)"
               + (f", {result['conflicts']} texts with both labels" if result["conflicts"] else ""))
    typer.echo(f"{folds}-fold, split {'random' if groups == 'none' else 'similar-grouped'}, "
               f"seed {seed}; spam is the positive class")
    typer.echo(f"{'fold':>6} {'train':>6} {'test':>6} {'precision':>10} {'recall':>8} {'F1':>8}")
    for f in result["folds"]:
        typer.echo(f"{f['fold']:>6} {f['train']:>6} {f['test']:>6} {f['precision']:>10.4f} "
                   f"{f['recall']:>8.4f} {f['f1']:>8.4f}")
    m = result["mean"]
    typer.echo(f"{'mean':>6} {'':>6} {'':>6} {m['precision']:>10.4f} {m['recall']:>8.4f} {m['f1']:>8.4f}")


@app.command("classify")
def classify_cmd(
    model: Path = typer.Option(None, "--model", help="a model directory or file written by "
                                                     "train (default: the shipped model)"),
    batch: int = typer.Option(1024, "--batch", min=1,
                              help="lines scored together; 1 answers each line at once"),
) -> None:
    """Score messages, one a line on stdin; one JSON object a line out: {"label", "score"}."""
    from ictgov.antispam.classifier import load, load_default

    try:
        clf = load(model) if model else load_default()
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot load the model: {exc}") from None
    stdin = getattr(sys.stdin, "buffer", None)
    lines = enumerate(stdin if stdin is not None else (t.encode() for t in sys.stdin), start=1)
    while chunk := list(islice(lines, batch)):
        texts = []
        for number, raw in chunk:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _fail(f"stdin line {number}: not UTF-8 text") from None
            texts.append(text.removeprefix("\ufeff").rstrip("\r\n") if number == 1
                         else text.rstrip("\r\n"))
        scores = clf.predict_proba(texts)[:, 1]
        sys.stdout.write("".join(
            json.dumps({"label": "spam" if s >= 0.5 else "ham", "score": round(float(s), 6)}) + "\n"
            for s in scores))
        sys.stdout.flush()

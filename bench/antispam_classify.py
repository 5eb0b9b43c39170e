"""Benchmark: the shipped SMS spam classifier against two scikit-learn pipelines, same run.

Speed: messages per second of `predict_proba` over every distinct message of uci_sms_spam and
vi_sms_written (the shipped model's training data), for

- ours: `ictgov.antispam.classifier.load_default()`, the shipped model;
- strong: ``TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5)) + LogisticRegression``;
- crude: word ``TfidfVectorizer() + LogisticRegression``;

the two pipelines trained on the same de-duplicated data. The three are timed in turns,
round after round, and each one's median round is reported, so a busy machine slows all
three alike. Also the time to score one message at a time (the intake's case).

Quality: F1 of spam, precision and recall, mean of 5 stratified folds after de-duplication,
every model refitted on each fold, on each data set alone (the protocol of
`ictgov antispam evaluate`; vi_sms_written also split with near-identical texts kept
together, see docs/antispam.md).

    .venv/bin/python bench/antispam_classify.py [--rounds 7] [--no-quality]

Targets (issue 4): ours >= 5x the strong pipeline's messages/s at no lower F1; on the way to
the crude one's speed.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core each, as the figures

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from ictgov.antispam.classifier import (
    SpamClassifier,
    _scores,
    cv_splits,
    deduplicate,
    load_default,
    read_tsv,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = {"uci_sms_spam": ROOT.parent / "shared/data/uci_sms_spam/SMSSpamCollection",
        "vi_sms_written": ROOT.parent / "shared/data/vi_sms_written/vi_sms_written.tsv"}


def strong():
    return make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5)),
                         LogisticRegression(max_iter=1000))


def crude():
    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))


MAKERS = {"ours": SpamClassifier, "strong": strong, "crude": crude}


def quality(name: str, pairs, groups: str) -> dict[str, dict]:
    dedup = deduplicate(pairs).pairs
    texts = [t for _, t in dedup]
    labels = np.array([label for label, _ in dedup])
    spam = labels == "spam"
    out = {}
    for model_name, make in MAKERS.items():
        folds = []
        for train, test in cv_splits(texts, labels, 5, groups, seed=0):
            model = make().fit([texts[i] for i in train], labels[train])
            predicted = model.predict([texts[i] for i in test]) == "spam"
            folds.append(_scores(spam[test], predicted))
        out[model_name] = {m: float(np.mean([f[m] for f in folds])) for m in ("precision", "recall", "f1")}
        print(f"  {name:15s} {groups:8s} {model_name:7s} P {out[model_name]['precision']:.4f}  "
              f"R {out[model_name]['recall']:.4f}  F1 {out[model_name]['f1']:.4f}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-quality", action="store_true", help="speed only")
    args = parser.parse_args()
    missing = [str(p) for p in DATA.values() if not p.is_file()]
    if missing:
        print(f"needs ../shared/data: {', '.join(missing)} not found", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    per_set = {name: read_tsv(path) for name, path in DATA.items()}
    both = deduplicate([p for pairs in per_set.values() for p in pairs]).pairs
    texts = [t for _, t in both]
    labels = [label for label, _ in both]
    print(f"{len(texts)} distinct messages ({sum(label == 'spam' for label in labels)} spam), "
          f"mean {np.mean([len(t) for t in texts]):.0f} characters; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")

    models = {"ours": load_default()}
    for name in ("strong", "crude"):
        t0 = time.perf_counter()
        models[name] = MAKERS[name]().fit(texts, labels)
        print(f"trained {name} in {time.perf_counter() - t0:.1f} s")
    for model in models.values():
        model.predict_proba(texts[:200])  # warm caches

    rounds: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            t0 = time.perf_counter()
            model.predict_proba(texts)
            rounds[name].append(len(texts) / (time.perf_counter() - t0))
    rate = {name: statistics.median(r) for name, r in rounds.items()}

    one = texts[:500]
    single = {}
    for name, model in models.items():
        t0 = time.perf_counter()
        for text in one:
            model.predict_proba([text])
        single[name] = (time.perf_counter() - t0) / len(one) * 1e6

    print("\nspeed (predict_proba, median of rounds)")
    print(f"  {'model':7s} {'msgs/s':>10s} {'us/msg one at a time':>22s}")
    for name in models:
        print(f"  {name:7s} {rate[name]:>10,.0f} {single[name]:>22.0f}")
    ratio_strong = rate["ours"] / rate["strong"]
    ratio_crude = rate["ours"] / rate["crude"]
    print(f"\nratio ours / strong: {ratio_strong:.1f}x   (target >= 5x)")
    print(f"ratio ours / crude:  {ratio_crude:.2f}x")

    if args.no_quality:
        return 0
    print("\nquality: spam F1, 5-fold after de-duplication, mean of folds")
    results = {"uci_sms_spam": quality("uci_sms_spam", per_set["uci_sms_spam"], "none"),
               "vi_sms_written": quality("vi_sms_written", per_set["vi_sms_written"], "none"),
               "vi_sms_written grouped": quality("vi_sms_written", per_set["vi_sms_written"], "similar")}
    print()
    for name, r in results.items():
        verdict = "not lower" if r["ours"]["f1"] >= r["strong"]["f1"] else "LOWER"
        print(f"{name:24s} F1 ours {r['ours']['f1']:.4f}  strong {r['strong']['f1']:.4f}  "
              f"crude {r['crude']['f1']:.4f}  -> ours {verdict} than strong")
    print(f"UCI target F1 >= 0.96: {'met' if results['uci_sms_spam']['ours']['f1'] >= 0.96 else 'NOT met'} "
          f"({results['uci_sms_spam']['ours']['f1']:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

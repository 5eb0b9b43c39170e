"""The SMS spam content classifier: Vietnamese (with or without diacritics, teencode,
obfuscated) and English.

`SpamClassifier` follows the scikit-learn contract (parameters in ``__init__``, ``fit``,
``decision_function``, ``predict_proba``, ``predict``, ``classes_``). It reads hashed
character n-grams of the raw text and of the folded, de-obfuscated text, the hashed words of
the latter and four explicit signals (`ictgov.antispam.features`), fits a linear SVM on them
weighted by their inverse document frequency (folded into the weights afterwards), and turns its margin into a
probability with Platt's sigmoid fitted on out-of-fold margins (what
``CalibratedClassifierCV(method="sigmoid", ensemble=False)`` does), so "score" means
"probability of spam" for the training data's mix of spam and ham.

The fitted state is plain numpy arrays (weights, intercept, sigmoid), so a saved model does not
depend on scikit-learn's private classes. Scoring does not build a feature matrix: the weight of
every n-gram of a batch is gathered and summed per message with numpy.

Training data are TSV files, one message a line: ``label<TAB>text`` (see `read_tsv`).
Duplicates are removed before anything is split (`deduplicate`): every public SMS set has them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from ictgov.antispam import features as ft

__all__ = [
    "DataError", "SpamClassifier", "cv_splits", "deduplicate", "evaluate", "load", "load_default",
    "read_tsv", "retrain", "save", "similar_groups", "train",
]

MODEL_FILE = "sms_spam.joblib"
CARD_FILE = "MODEL_CARD.md"
FORMAT = "ictgov-sms-spam/1"
SPAM, HAM = "spam", "ham"
# The labels of the shared sets (uci_sms_spam, vi_sms_written) and the usual 1/0.
LABELS = {"spam": SPAM, "ham": HAM, "1": SPAM, "0": HAM}
# Where the shipped model's training files sit in a checkout with ../shared beside it.
DEFAULT_BASE = ("../shared/data/uci_sms_spam/SMSSpamCollection",
                "../shared/data/vi_sms_written/vi_sms_written.tsv")


_WORD_SEED = 3

# -- the estimator -----------------------------------------------------------------------------


class SpamClassifier(ClassifierMixin, BaseEstimator):
    """Spam / ham of SMS texts. ``fit(texts, labels)``; the positive class is ``classes_[1]``
    ("spam" for the labels "ham" / "spam", 1 for 0 / 1).

    Parameters
    ----------
    raw_ngrams, folded_ngrams : character n-gram lengths of the raw and the folded view.
    n_bits : each view (raw n-grams, folded n-grams, words) hashes into ``2 ** n_bits`` buckets.
    C : regularisation of the linear SVM (larger fits the training data closer).
    idf : while fitting, weight every hashed n-gram and word by its inverse document
        frequency in the training data to this power (``(ln((1 + n) / (1 + df)) + 1) ** idf``,
        TfidfVectorizer's smooth idf at 1; 0 turns it off). Rare n-grams then cost the
        regulariser less, common ones more: on UCI, 5-fold, F1 of spam rises from 0.960 to
        0.965 at 0.5 (0.964 at 1). The weights are folded into ``coef_`` after fitting, so
        scoring does exactly the same work as without.
    calibration_folds : folds of the out-of-fold margins that the sigmoid is fitted on.
    batch_size : messages featurised at once when scoring (memory stays bounded).
    random_state : seed of the calibration folds and of the SVM.
    """

    def __init__(self, raw_ngrams: tuple[int, int] = (1, 4), folded_ngrams: tuple[int, int] = (1, 5),
                 n_bits: int = 19, C: float = 3.0, idf: float = 0.5, calibration_folds: int = 5,
                 batch_size: int = 1024, random_state: int = 0):
        self.raw_ngrams = raw_ngrams
        self.folded_ngrams = folded_ngrams
        self.n_bits = n_bits
        self.C = C
        self.idf = idf
        self.calibration_folds = calibration_folds
        self.batch_size = batch_size
        self.random_state = random_state

    # The n-gram views and their hash seeds (the words have theirs, `_WORD_SEED`).
    def _views(self):
        return (("raw", self.raw_ngrams, 1), ("folded", self.folded_ngrams, 2))

    def _check_params(self) -> None:
        for name in ("raw_ngrams", "folded_ngrams"):
            low, high = getattr(self, name)
            if not 1 <= low <= high <= 8:
                raise ValueError(f"{name} must be (low, high) with 1 <= low <= high <= 8, "
                                 f"not {getattr(self, name)!r}")
        if not 0 <= self.idf <= 2:
            raise ValueError(f"idf must be between 0 (off) and 2, not {self.idf!r}")
        if not 10 <= self.n_bits <= 24:
            raise ValueError(f"n_bits must be between 10 and 24, not {self.n_bits!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size!r}")

    @property
    def n_features(self) -> int:
        return 3 * 2 ** self.n_bits + len(ft.SIGNALS)

    def transform(self, X) -> sp.csr_matrix:
        """The feature matrix (messages x `n_features`): the raw n-grams, the folded n-grams and
        the words, each weighted 1/sqrt(how many the message has in that view), then the
        signals."""
        texts = _check_texts(X)
        self._check_params()
        blocks = [self._matrix(texts[i:i + self.batch_size])
                  for i in range(0, len(texts), self.batch_size)] or [self._matrix([])]
        return sp.vstack(blocks, format="csr")

    def _matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        batch = ft.prepare(texts)
        size = 2 ** self.n_bits
        rows, cols, values = [], [], []
        for k, (view, ngrams, seed) in enumerate(self._views()):
            codes = getattr(batch, view)
            message = ft.message_index(codes)
            weight = 1.0 / np.sqrt(np.maximum(ft.ngram_counts(getattr(batch, f"{view}_lengths"),
                                                              ngrams), 1))
            for n, buckets, inside in ft.ngram_buckets(codes, ngrams, self.n_bits, seed):
                row = message[:len(buckets)][inside]
                rows.append(row)
                cols.append(buckets[inside].astype(np.int64) + k * size)
                values.append(weight[row])
        rows.append(batch.word_rows)
        cols.append(ft.word_buckets(batch.word_hashes, self.n_bits, _WORD_SEED).astype(np.int64)
                    + 2 * size)
        values.append(1.0 / np.sqrt(np.maximum(batch.word_counts, 1))[batch.word_rows])
        signal_rows, signal_cols = np.nonzero(batch.signals)
        rows.append(signal_rows)
        cols.append(signal_cols + 3 * size)
        values.append(batch.signals[signal_rows, signal_cols].astype(np.float64))
        m = sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(batch.n, self.n_features))
        m.sum_duplicates()
        return m

    def fit(self, X, y) -> SpamClassifier:
        texts = _check_texts(X)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(texts):
            raise ValueError(f"y must hold one label per message: {len(texts)} messages, "
                             f"y of shape {y.shape}")
        self._check_params()
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError(f"y must hold exactly two classes (spam and ham), not {self.classes_.tolist()}")
        positive = y == self.classes_[1]
        if min(positive.sum(), (~positive).sum()) < self.calibration_folds:
            raise ValueError(f"each class needs at least calibration_folds={self.calibration_folds} "
                             f"messages to calibrate on")
        X_ = self.transform(texts)
        idf = self._idf(X_) if self.idf else None
        if idf is not None:
            X_ = (X_ @ sp.diags(idf)).tocsr()
        svm = LinearSVC(C=self.C, max_iter=20_000, random_state=self.random_state)
        folds = StratifiedKFold(self.calibration_folds, shuffle=True, random_state=self.random_state)
        margins = cross_val_predict(svm, X_, positive, cv=folds, method="decision_function")
        self.calibration_ = _platt(margins, positive)
        fitted = clone(svm).fit(X_, positive)
        # weights of the idf-weighted features are weights of the plain ones times idf
        coef = fitted.coef_ if idf is None else fitted.coef_ * idf
        self.coef_ = coef.astype(np.float32)
        self.intercept_ = fitted.intercept_.astype(np.float64)
        return self

    def _idf(self, X: sp.csr_matrix) -> np.ndarray:
        """Smooth inverse document frequency of each hashed feature to the power `idf` (1 for
        the signals)."""
        df = np.bincount(X.indices, minlength=X.shape[1]).astype(np.float64)
        idf = (np.log((1.0 + X.shape[0]) / (1.0 + df)) + 1.0) ** self.idf
        idf[3 * 2 ** self.n_bits:] = 1.0
        return idf

    def decision_function(self, X) -> np.ndarray:
        """The SVM's margin for each message (uncalibrated; > 0 leans to spam)."""
        texts = _check_texts(X)
        self._check_fitted()
        out = np.empty(len(texts), dtype=np.float64)
        for i in range(0, len(texts), self.batch_size):
            out[i:i + self.batch_size] = self._margins(texts[i:i + self.batch_size])
        return out

    def _margins(self, texts: Sequence[str]) -> np.ndarray:
        batch = ft.prepare(texts)
        size = 2 ** self.n_bits
        weights = self.coef_[0]
        total = batch.signals @ weights[3 * size:].astype(np.float64) + self.intercept_[0]
        words = weights[2 * size:3 * size][ft.word_buckets(batch.word_hashes, self.n_bits, _WORD_SEED)]
        total += (np.bincount(batch.word_rows, weights=words, minlength=batch.n)
                  / np.sqrt(np.maximum(batch.word_counts, 1)))
        for k, (view, ngrams, seed) in enumerate(self._views()):
            codes = getattr(batch, view)
            if not len(codes):
                continue
            # every n is one gather and one add over the whole batch; the n-grams that cross a
            # separator are zeroed rather than cut out, which would copy the arrays
            table = weights[k * size:(k + 1) * size]
            per_position = np.zeros(len(codes), dtype=np.float32)
            for n, buckets, inside in ft.ngram_buckets(codes, ngrams, self.n_bits, seed):
                gathered = table[buckets]
                gathered[~inside] = 0.0
                per_position[:len(buckets)] += gathered
            lengths = getattr(batch, f"{view}_lengths")
            starts = np.minimum(np.cumsum(lengths + 1) - lengths - 1, len(codes) - 1)
            sums = np.add.reduceat(per_position, starts).astype(np.float64)
            sums[lengths == 0] = 0.0  # reduceat gives the element at an empty segment's start
            total += sums / np.sqrt(np.maximum(ft.ngram_counts(lengths, ngrams), 1))
        return total

    def predict_proba(self, X) -> np.ndarray:
        """Columns follow `classes_`: P(ham), P(spam)."""
        a, b = self.calibration_
        p = _sigmoid(a * self.decision_function(X) + b)
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` (spam) where its probability is at least 0.5."""
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this SpamClassifier is not fitted yet: call fit(texts, labels)")
        self._check_params()

    def __setstate__(self, state):
        # The fitted state is numpy arrays only, so a model saved under another scikit-learn
        # version is still exact: its version warning would only alarm.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InconsistentVersionWarning)
            super().__setstate__(state)
        # models saved before `idf` existed were fitted without it
        self.__dict__.setdefault("idf", 0.0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


def _check_texts(X) -> list[str]:
    if isinstance(X, str | bytes):
        raise TypeError("X must be a list of messages, not one string: use [text]")
    try:
        texts = list(X)
    except TypeError:
        raise TypeError(f"X must be a list of messages (str), not {type(X).__name__}") from None
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"X[{i}] must be a str (one message), not {type(t).__name__}")
    return texts


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def _platt(margins: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Platt's sigmoid (a, b) with P(spam) = 1 / (1 + exp(-(a * margin + b))), fitted on
    out-of-fold margins with Platt's smoothed targets (no probability of exactly 0 or 1)."""
    n_pos = float(positive.sum())
    n_neg = float(len(positive) - n_pos)
    target = np.where(positive, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(params):
        z = params[0] * margins + params[1]
        p = _sigmoid(z)
        return (np.logaddexp(0.0, z) - target * z).sum(), np.array(
            [((p - target) * margins).sum(), (p - target).sum()])

    result = minimize(loss, np.array([1.0, np.log((n_pos + 1.0) / (n_neg + 1.0))]), jac=True,
                      method="L-BFGS-B")
    return result.x.astype(np.float64)


# -- data files --------------------------------------------------------------------------------


class DataError(ValueError):
    """A training file or a list of labelled messages that cannot be read; names every line."""

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = source, problems
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        super().__init__(f"{source}: " + ("; ".join(shown) if len(shown) == 1
                                          else f"{len(problems)} problems:\n  " + "\n  ".join(shown)))


def _label(value: str) -> str | None:
    return LABELS.get(value.strip().lower())


def read_tsv(path: str | Path) -> list[tuple[str, str]]:
    """(label, text) pairs of a training file, labels as "spam" / "ham".

    The format (the one of the shared sets): UTF-8, one message a line, ``label<TAB>text``,
    no header needed. Labels ``spam`` / ``ham`` (any case) or ``1`` / ``0``. A first line
    whose label is ``label`` is a header and skipped; blank lines are skipped; a text may hold
    further tabs. Raises `DataError` listing every bad line by its number.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(str(path), [exc.strerror or str(exc)]) from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    pairs: list[tuple[str, str]] = []
    problems: list[str] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        line = line.removesuffix(b"\r")
        if not line.strip():
            continue
        try:
            text_line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"line {number}: not UTF-8 text (byte {exc.start + 1})")
            continue
        if "\t" not in text_line:
            problems.append(f"line {number}: no tab between label and text "
                            "(expected label<TAB>text)")
            continue
        raw_label, text = text_line.split("\t", 1)
        label = _label(raw_label)
        if label is None:
            if number == 1 and raw_label.strip().lower() == "label":
                continue
            shown = raw_label if len(raw_label) <= 20 else raw_label[:20] + "..."
            problems.append(f"line {number}: label {shown!r} is not spam or ham (or 1 / 0)")
            continue
        if not text.strip():
            problems.append(f"line {number}: the text is empty")
            continue
        pairs.append((label, text))
    if problems:
        raise DataError(str(path), problems)
    if not pairs:
        raise DataError(str(path), ["no labelled lines"])
    return pairs


def check_pairs(pairs: Iterable[tuple[str, str]], source: str) -> list[tuple[str, str]]:
    """(label, text) pairs from elsewhere (confirmed reports) checked as `read_tsv` checks lines."""
    out, problems = [], []
    for i, pair in enumerate(pairs, start=1):
        try:
            raw_label, text = pair
        except (TypeError, ValueError):
            problems.append(f"item {i}: not a (label, text) pair")
            continue
        label = _label(str(raw_label))
        if label is None:
            problems.append(f"item {i}: label {str(raw_label)[:20]!r} is not spam or ham")
        elif not isinstance(text, str) or not text.strip():
            problems.append(f"item {i}: the text is empty or not text")
        else:
            out.append((label, text))
    if problems:
        raise DataError(source, problems)
    return out


def _key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


@dataclass
class Deduplicated:
    pairs: list[tuple[str, str]]
    rows: int
    duplicates: int  # rows dropped because their text was seen before
    conflicts: int  # texts seen with both labels (the last label is kept)
    stats: dict = field(default_factory=dict)


def deduplicate(pairs: Sequence[tuple[str, str]]) -> Deduplicated:
    """One row per text (compared after NFC and with spaces collapsed): the first row's place,
    the last row's label (so a later confirmed report corrects an older label)."""
    latest: dict[str, tuple[str, str]] = {}
    labels: dict[str, set[str]] = {}
    for label, text in pairs:
        key = _key(text)
        if key in latest:
            latest[key] = (label, latest[key][1])
        else:
            latest[key] = (label, text)
        labels.setdefault(key, set()).add(label)
    unique = list(latest.values())
    spam = sum(1 for label, _ in unique if label == SPAM)
    return Deduplicated(unique, len(pairs), len(pairs) - len(unique),
                        sum(1 for v in labels.values() if len(v) > 1),
                        {"spam": spam, "ham": len(unique) - spam})


# -- evaluation --------------------------------------------------------------------------------


def similar_groups(texts: Sequence[str], threshold: float = 0.4) -> np.ndarray:
    """A group number per text: texts whose folded words (numbers masked) have a cosine
    similarity of at least `threshold` are in one group, and so are their neighbours'.

    Why: texts filled from one template ("Mã xác minh X của bạn là 502510 ...") differ in
    slot values only; a split that puts one in training and its sibling in the test set
    measures memory, not generalisation (vi_sms_written's SOURCE.md). At 0.4 the 2,000
    lines of vi_sms_written fall into about 900 groups.
    """
    import re

    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not len(texts):
        return np.zeros(0, dtype=np.int64)
    digits = re.compile(r"\d+")
    folded = [digits.sub("0", t) for t in ft.fold_many(list(texts))]
    X = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+"
                        ).fit_transform(folded)
    blocks = []
    for i in range(0, X.shape[0], 2000):
        s = (X[i:i + 2000] @ X.T).tocsr()
        s.data = (s.data >= threshold).astype(np.int8)
        s.eliminate_zeros()
        blocks.append(s)
    _, groups = connected_components(sp.vstack(blocks), directed=False)
    return groups


def cv_splits(texts: Sequence[str], labels: Sequence[str], folds: int = 5, groups: str = "none",
              seed: int = 0):
    """Train and test indices of each fold of already de-duplicated texts: stratified by label,
    and with ``groups="similar"`` never splitting a group of `similar_groups`."""
    if groups not in ("none", "similar"):
        raise ValueError(f"groups must be 'none' or 'similar', not {groups!r}")
    y = np.asarray(labels)
    if groups == "similar":
        splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
        yield from splitter.split(np.zeros(len(y)), y, similar_groups(texts))
    else:
        yield from StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)


def _scores(truth: np.ndarray, predicted: np.ndarray) -> dict:
    tp = int(np.sum(truth & predicted))
    fp = int(np.sum(~truth & predicted))
    fn = int(np.sum(truth & ~predicted))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def evaluate(pairs: Sequence[tuple[str, str]], folds: int = 5, groups: str = "none", seed: int = 0,
             params: dict | None = None, progress=None) -> dict:
    """Precision, recall and F1 of spam in k-fold cross-validation, after de-duplication.

    Each fold trains a fresh `SpamClassifier(**params)` on the other folds. Returns the data's
    counts, one entry per fold and their mean. `progress(done, total)` is called after each fold.
    """
    if folds < 2:
        raise ValueError(f"folds must be at least 2, not {folds}")
    dedup = deduplicate(pairs)
    labels = np.array([label for label, _ in dedup.pairs])
    texts = [text for _, text in dedup.pairs]
    spam = labels == SPAM
    if min(spam.sum(), (~spam).sum()) < folds:
        raise ValueError(f"each label needs at least {folds} distinct messages for {folds} folds "
                         f"(spam {int(spam.sum())}, ham {int((~spam).sum())})")
    per_fold = []
    for k, (train_idx, test_idx) in enumerate(cv_splits(texts, labels, folds, groups, seed), 1):
        model = SpamClassifier(**(params or {})).fit([texts[i] for i in train_idx], labels[train_idx])
        predicted = model.predict([texts[i] for i in test_idx]) == SPAM
        per_fold.append({"fold": k, "train": len(train_idx), "test": len(test_idx),
                         **_scores(spam[test_idx], predicted)})
        if progress:
            progress(k, folds)
    mean = {m: float(np.mean([f[m] for f in per_fold])) for m in ("precision", "recall", "f1")}
    return {"rows": dedup.rows, "unique": len(texts), "duplicates": dedup.duplicates,
            "conflicts": dedup.conflicts, "spam": int(spam.sum()), "ham": int((~spam).sum()),
            "folds": per_fold, "mean": mean, "protocol": {"folds": folds, "groups": groups, "seed": seed}}


# -- training, saving, loading -----------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _code_version() -> str:
    """The package version and, in a git checkout, the commit and whether the classifier's own
    files differ from it (other files of a shared checkout do not change the model)."""
    version = f"ictgov {metadata.version('ictgov')}"
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--",
                                  "classifier.py", "features.py", "../text.py"],
                                 capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}, git {commit}" + (" with uncommitted classifier changes" if changed else "")


def model_id(model: SpamClassifier) -> str:
    """A short fingerprint of a fitted model's numbers: names the model that scored a message."""
    h = hashlib.sha256()
    for a in (model.coef_, model.intercept_, model.calibration_):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(json.dumps(model.get_params(), sort_keys=True, default=str).encode())
    return h.hexdigest()[:12]


def _file_entry(path: Path, pairs: list[tuple[str, str]]) -> dict:
    d = deduplicate(pairs)
    return {"name": path.name, "path": str(path), "sha256": _sha256(path), "rows": d.rows,
            "unique": len(d.pairs), **d.stats}


def train(data_files: Sequence[str | Path], out: str | Path | None = None,
          confirmed: Sequence[tuple[str, str]] = (), evaluate_folds: int = 0,
          params: dict | None = None, progress=None,
          evaluate_seeds: Sequence[int] = (0,), command: str | None = None) -> SpamClassifier:
    """Fit a `SpamClassifier` on TSV files plus confirmed (label, text) pairs, after
    de-duplication (a confirmed pair's label wins over a file's), and save it with its card
    in the directory `out` when given.

    With `evaluate_folds`, every file is also evaluated alone (random and similar-grouped
    k-fold, as `evaluate`, once per seed of `evaluate_seeds`: each seed shuffles the folds
    differently, and one seed's figure can be lucky) and the figures go into the card.
    `progress(message)` is told each step.
    """
    say = progress or (lambda message: None)
    files = [Path(f) for f in data_files]
    if not files:
        raise ValueError("give at least one training file")
    per_file = {f: read_tsv(f) for f in files}
    confirmed = check_pairs(confirmed, "confirmed reports")
    dedup = deduplicate([p for f in files for p in per_file[f]] + confirmed)
    labels = np.array([label for label, _ in dedup.pairs])
    say(f"training on {len(dedup.pairs)} distinct messages ({dedup.stats['spam']} spam)")
    model = SpamClassifier(**(params or {})).fit([t for _, t in dedup.pairs], labels)
    card = {
        "model_id": model_id(model),
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "code_version": _code_version(),
        "libraries": {name: metadata.version(name) for name in ("scikit-learn", "numpy", "scipy")},
        "params": model.get_params(),
        "data": [_file_entry(f, per_file[f]) for f in files],
        "confirmed_reports": len(confirmed),
        "training_set": {"rows": dedup.rows, "unique": len(dedup.pairs),
                         "duplicates": dedup.duplicates, "conflicts": dedup.conflicts, **dedup.stats},
        "metrics": [],
    }
    if command:
        card["command"] = command
    if evaluate_folds:
        for f in files:
            for groups in ("none", "similar"):
                for seed in evaluate_seeds:
                    say(f"evaluating on {f.name}, {evaluate_folds} folds, groups {groups}, seed {seed}")
                    r = evaluate(per_file[f], folds=evaluate_folds, groups=groups, params=params, seed=seed)
                    card["metrics"].append({"data": f.name, "groups": groups, "folds": evaluate_folds,
                                            "seed": seed, "rows": r["rows"], "unique": r["unique"],
                                            "deduplicated": True, **r["mean"],
                                            "per_fold_f1": [round(x["f1"], 4) for x in r["folds"]]})
    if out is not None:
        save(model, out, card)
    model.card_ = card
    return model


def retrain(base_files: Sequence[str | Path], confirmed_pairs: Iterable[tuple[str, str]],
            out: str | Path, evaluate_folds: int = 0, progress=None,
            evaluate_seeds: Sequence[int] = (0,)) -> SpamClassifier:
    """Retrain on the base training files plus messages confirmed by staff.

    `confirmed_pairs` are (label, text): "spam" for a report that staff confirmed, "ham" for
    one they found was not spam (the reports part passes the rows of its table). Writes the
    model and its card to the directory `out` and returns the model.
    """
    return train(base_files, out, confirmed=list(confirmed_pairs), evaluate_folds=evaluate_folds,
                 progress=progress, evaluate_seeds=evaluate_seeds)


def save(model: SpamClassifier, directory: str | Path, card: dict | None = None) -> Path:
    """Write the fitted model (joblib, with its card inside) and MODEL_CARD.md to `directory`."""
    model._check_fitted()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    card = dict(card or getattr(model, "card_", None) or {"model_id": model_id(model)})
    path = directory / MODEL_FILE
    bare = clone(model)
    for name in ("classes_", "coef_", "intercept_", "calibration_"):
        setattr(bare, name, getattr(model, name))
    joblib.dump({"format": FORMAT, "model": bare, "card": card}, path, compress=("zlib", 6))
    (directory / CARD_FILE).write_text(render_card(card), encoding="utf-8")
    return path


def load(path: str | Path) -> SpamClassifier:
    """A model written by `save` (its directory or its file); its card is in ``card_``.

    joblib files are pickles: load only models this platform wrote.
    """
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
    with open(path, "rb") as fh:
        return _from_saved(joblib.load(fh), str(path))


def _from_saved(saved, source: str) -> SpamClassifier:
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError(f"{source}: not an ictgov SMS spam model ({FORMAT})")
    model = saved["model"]
    model.card_ = saved.get("card", {})
    return model


@functools.lru_cache(maxsize=1)
def load_default() -> SpamClassifier:
    """The model shipped with the package (loaded once per process)."""
    with resources.files("ictgov.antispam").joinpath("model", MODEL_FILE).open("rb") as fh:
        return _from_saved(joblib.load(fh), f"ictgov/antispam/model/{MODEL_FILE}")


# -- the model card ----------------------------------------------------------------------------

_INTENDED_USE = """\
- Scoring the text of SMS that citizens report (5656, web form) and messages seen by the
  antispam service, so that staff see the likely spam first and the reductions can be counted.
- A score is the probability of spam **for the training data's mix** of spam and ham (see
  Data); where spam is rarer, the same score means less. Label "spam" means a score of at
  least 0.5.
- A decision aid for staff, not a blocking decision: nothing is blocked on this score alone."""

_LIMITS = """\
- Trained on English SMS from the UK of about 2010 (UCI) and on synthetic Vietnamese SMS
  written for this project (vi_sms_written, template-based): no real Vietnamese traffic.
  Scores on Vietnamese text are less certain than the figures on the synthetic set suggest:
  its lines come from templates, so a random split puts siblings on both sides and overstates
  quality; the similar-grouped split is the fairer figure, real Vietnamese SMS would be better.
- Text only: no sender, no brandname registration, no timing or volume (Circular 22's
  behaviour criteria are the records part's job).
- Obfuscation is undone for the styles it knows (spaced or dotted letters, 0/1 for o/i,
  repeated letters, teencode, missing diacritics); new tricks, other scripts and images are not.
- Scams change quickly; retrain from confirmed reports (`ictgov antispam retrain`).
- Labelling policy of the data: marketing by shops, banks and clinics is spam with or without
  [QC]; a carrier's promotion to its own subscriber is ham."""


def metric_summary(card: dict) -> dict[tuple[str, str], dict]:
    """F1 over the fold seeds of each (data file, split) of a card: seeds, mean, min, max."""
    out: dict[tuple[str, str], dict] = {}
    for m in card.get("metrics", []):
        v = out.setdefault((m["data"], m["groups"]), {"seeds": [], "f1": []})
        v["seeds"].append(m.get("seed", 0))
        v["f1"].append(m["f1"])
    return {k: {"seeds": v["seeds"], "mean": float(np.mean(v["f1"])), "min": min(v["f1"]),
                "max": max(v["f1"])} for k, v in out.items()}


def render_card(card: dict) -> str:
    """MODEL_CARD.md of a model from its card dictionary."""
    lines = ["# Model card: SMS spam classifier", ""]
    lines += [f"- Model id: `{card.get('model_id', '?')}`",
              f"- Trained: {card.get('trained_at', '?')}",
              f"- Code: {card.get('code_version', '?')}"]
    if card.get("command"):
        lines.append(f"- Command: `{card['command']}`")
    if card.get("libraries"):
        lines.append("- Libraries: " + ", ".join(f"{k} {v}" for k, v in card["libraries"].items()))
    lines.append("- Model: `ictgov.antispam.classifier.SpamClassifier`: hashed character n-grams "
                 "of the raw text and of the folded, de-obfuscated text, its hashed words, four "
                 "signals (link, phone number, money amount, [QC]/[AD] prefix), a linear SVM "
                 "(fitted on features weighted by idf ** `idf`), Platt's sigmoid fitted on "
                 "out-of-fold margins.")
    if card.get("params"):
        lines.append("- Parameters: " + ", ".join(f"{k}={v}" for k, v in card["params"].items()))
    lines += ["", "## Data", ""]
    if card.get("data"):
        lines += ["| file | sha256 | rows | distinct | spam | ham |", "|---|---|---:|---:|---:|---:|"]
        lines += [f"| {d['name']} | `{d['sha256'][:16]}` | {d['rows']} | {d['unique']} | "
                  f"{d['spam']} | {d['ham']} |" for d in card["data"]]
    if "confirmed_reports" in card:
        lines.append(f"\nConfirmed citizen reports: {card['confirmed_reports']}.")
    if card.get("training_set"):
        t = card["training_set"]
        lines.append(f"\nTraining set after de-duplication (same text, spaces collapsed): "
                     f"{t['unique']} messages ({t['spam']} spam, {t['ham']} ham) from {t['rows']} "
                     f"rows; {t['duplicates']} duplicates dropped, {t['conflicts']} texts with "
                     f"both labels (last label kept).")
    lines += ["", "## Metrics", ""]
    if card.get("metrics"):
        lines += [("Spam is the positive class. Each file alone, k-fold after de-duplication "
                   "(\"distinct\" of \"rows\"); \"similar-grouped\" keeps groups of near-identical "
                   "texts (one template) on one side of every split (`similar_groups`). Each fold "
                   "seed shuffles the folds differently; F1 is the mean over the folds."), "",
                  "| data | split | folds | seed | rows | distinct | precision | recall | F1 | F1 per fold |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        lines += [f"| {m['data']} | {'random' if m['groups'] == 'none' else 'similar-grouped'} | "
                  f"{m['folds']} | {m.get('seed', 0)} | {m.get('rows', '?')} | {m['unique']} | "
                  f"{m['precision']:.4f} | {m['recall']:.4f} | "
                  f"{m['f1']:.4f} | {', '.join(f'{x:.3f}' for x in m['per_fold_f1'])} |"
                  for m in card["metrics"]]
        summary = metric_summary(card)
        if summary:
            lines += ["", "Over the fold seeds:", "",
                      "| data | split | seeds | F1 mean | F1 lowest | F1 highest |",
                      "|---|---|---|---:|---:|---:|"]
            lines += [f"| {d} | {'random' if g == 'none' else 'similar-grouped'} | "
                      f"{', '.join(str(x) for x in v['seeds'])} | {v['mean']:.4f} | {v['min']:.4f} | "
                      f"{v['max']:.4f} |" for (d, g), v in summary.items()]
    else:
        lines.append("Not evaluated when trained (`ictgov antispam evaluate` measures a data file).")
    if card.get("notes"):
        lines += ["", card["notes"].rstrip()]
    lines += ["", "## Intended use", "", _INTENDED_USE, "", "## Limits", "", _LIMITS, ""]
    return "\n".join(lines)

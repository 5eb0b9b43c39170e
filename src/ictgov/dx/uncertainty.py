"""Rank stability of a composite index under random perturbation of its weights.

A published rank says nothing of how much it owes to the exact weights chosen. Following
the uncertainty analysis of the JRC/OECD handbook (COINr's ``get_sensitivity``), each draw
multiplies every weight by an independent factor uniform in [1 - p, 1 + p], rescales the
weights to their original sum (so the index keeps its scale and its published rounding),
recomputes every area's index and ranks them. An area's rank interval is the central
`interval` of its ranks over the draws (5th to 95th percentile by default): a province
ranked 12th with an interval 9-15 is not reliably ahead of one ranked 14th.

Everything is one matrix product and one comparison per block of draws (NumPy), with the
block size bounding memory whatever the number of areas and draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_DRAWS", "RankIntervals", "competition_ranks", "perturbed_weights", "rank_intervals"]

MAX_DRAWS = 100_000
# Bound on the booleans compared at once (areas × areas × draws in a block), about 32 MB.
_BLOCK_CELLS = 32_000_000


@dataclass(frozen=True)
class RankIntervals:
    low: np.ndarray  # per area, the lower percentile of its ranks (best rank in the interval)
    high: np.ndarray
    median: np.ndarray
    draws: int
    perturb: float
    seed: int | None
    interval: float

    def settings(self) -> dict:
        return {"draws": self.draws, "perturb": self.perturb, "seed": self.seed, "interval": self.interval}


def competition_ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks, highest score first, ties sharing the best rank (1, 2, 2, 4), per column.

    `scores` is (areas,) or (areas, draws). A rank is 1 + the number of strictly higher
    scores, computed in blocks of columns so memory stays bounded.
    """
    scores = np.asarray(scores, dtype=float)
    single = scores.ndim == 1
    s = scores[:, None] if single else scores
    n, d = s.shape
    ranks = np.empty((n, d), dtype=np.int64)
    block = max(1, _BLOCK_CELLS // max(1, n * n))
    for start in range(0, d, block):
        part = s[:, start:start + block]
        # higher[j, i, k]: area j beats area i in draw k
        ranks[:, start:start + block] = 1 + (part[:, None, :] > part[None, :, :]).sum(axis=0)
    return ranks[:, 0] if single else ranks


def perturbed_weights(weights: np.ndarray, draws: int, perturb: float,
                      rng: np.random.Generator) -> np.ndarray:
    """(draws, k) weights, each a copy of `weights` with independent factors in [1-p, 1+p], same sum."""
    w = np.asarray(weights, dtype=float)
    factors = rng.uniform(1.0 - perturb, 1.0 + perturb, size=(draws, w.size))
    drawn = w * factors
    return drawn * (w.sum() / drawn.sum(axis=1, keepdims=True))


def rank_intervals(values: np.ndarray, weights: np.ndarray, *, draws: int = 1000, perturb: float = 0.2,
                   seed: int | None = None, interval: float = 0.9, decimals: int | None = None) -> RankIntervals:
    """Each area's rank interval when the weights are perturbed.

    `values` is (areas, indicators) with values in [0, 1]; `weights` are the indicators'
    points (zero-weight indicators stay at zero); the index of a draw is values @ w / Σw,
    rounded to `decimals` when given so that ties are judged as the published ranks are.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if values.ndim != 2 or values.shape[1] != weights.size:
        raise ValueError(f"uncertainty: values are {values.shape}, weights {weights.shape}")
    if not np.isfinite(values).all() or not np.isfinite(weights).all():
        raise ValueError("uncertainty: values and weights must be finite numbers")
    if not 1 <= draws <= MAX_DRAWS:
        raise ValueError(f"uncertainty: draws must be between 1 and {MAX_DRAWS}, not {draws}")
    if not 0 <= perturb < 1:
        raise ValueError(f"uncertainty: perturb must be in [0, 1) so every weight stays positive, not {perturb}")
    if not 0 < interval <= 1:
        raise ValueError(f"uncertainty: interval must be in (0, 1], not {interval}")
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("uncertainty: weights must be non-negative with a positive sum")
    rng = np.random.default_rng(seed)
    w = perturbed_weights(weights, draws, perturb, rng)  # (draws, k)
    scores = values @ w.T / weights.sum()  # (areas, draws)
    if decimals is not None:
        scores = np.round(scores, decimals)
    ranks = competition_ranks(scores)
    tail = (1.0 - interval) / 2.0
    # "lower"/"higher" keep the bounds on ranks that actually occurred, and widen rather
    # than narrow the interval when a percentile falls between two draws.
    low = np.quantile(ranks, tail, axis=1, method="lower").astype(np.int64)
    high = np.quantile(ranks, 1.0 - tail, axis=1, method="higher").astype(np.int64)
    median = np.median(ranks, axis=1)
    return RankIntervals(low=low, high=high, median=median, draws=draws, perturb=perturb, seed=seed,
                         interval=interval)

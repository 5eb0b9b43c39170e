"""Rank intervals under perturbed weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ictgov.dx.uncertainty import competition_ranks, perturbed_weights, rank_intervals


def test_competition_ranks_share_the_best_rank():
    assert competition_ranks(np.array([0.5, 0.7, 0.7, 0.1, 0.7])).tolist() == [4, 1, 1, 5, 1]
    two = competition_ranks(np.array([[1.0, 2.0], [2.0, 2.0], [0.0, 1.0]]))
    assert two.tolist() == [[2, 1], [1, 1], [3, 3]]


def test_perturbed_weights_keep_their_sum_and_zeros():
    rng = np.random.default_rng(3)
    w = perturbed_weights(np.array([100.0, 0.0, 200.0, 150.0]), 500, 0.2, rng)
    assert w.shape == (500, 4)
    assert np.allclose(w.sum(axis=1), 450.0)
    assert (w[:, 1] == 0).all()
    # each factor is within ±20 % before rescaling; rescaling by at most 1.2/0.8 keeps it close
    assert (w[:, 0] > 100 * 0.8 / 1.2 - 1e-9).all() and (w[:, 0] < 100 * 1.2 / 0.8 + 1e-9).all()


def test_no_perturbation_gives_the_unperturbed_rank():
    values = np.array([[0.9, 0.1], [0.5, 0.5], [0.1, 0.9], [0.5, 0.5]])
    weights = np.array([3.0, 1.0])
    ri = rank_intervals(values, weights, draws=20, perturb=0.0, seed=1)
    base = competition_ranks(values @ weights)
    assert ri.low.tolist() == ri.high.tolist() == base.tolist() == [1, 2, 4, 2]


def test_close_areas_get_wide_intervals_and_distant_ones_narrow():
    # areas 1 and 2 swap places when the weights move; area 0 is ahead on both indicators
    values = np.array([[0.9, 0.9], [0.6, 0.4], [0.4, 0.61], [0.1, 0.1]])
    ri = rank_intervals(values, np.array([100.0, 100.0]), draws=2000, perturb=0.2, seed=7)
    assert (ri.low[0], ri.high[0]) == (1, 1)
    assert (ri.low[3], ri.high[3]) == (4, 4)
    assert (ri.low[1], ri.high[1]) == (2, 3)
    assert (ri.low[2], ri.high[2]) == (2, 3)


def test_same_seed_same_intervals():
    rng = np.random.default_rng(11)
    values = rng.uniform(size=(30, 8))
    weights = np.array([100, 100, 100, 100, 100, 200, 150, 150], dtype=float)
    a = rank_intervals(values, weights, draws=300, seed=5)
    b = rank_intervals(values, weights, draws=300, seed=5)
    assert a.low.tolist() == b.low.tolist() and a.high.tolist() == b.high.tolist()
    assert a.settings() == {"draws": 300, "perturb": 0.2, "seed": 5, "interval": 0.9}


def test_many_areas_and_draws_run_in_blocks():
    rng = np.random.default_rng(0)
    values = rng.uniform(size=(400, 9))
    ri = rank_intervals(values, np.ones(9), draws=400, seed=0)  # 400 × 400 × 400 comparisons, in blocks
    assert ri.low.shape == (400,) and (ri.low <= ri.high).all()
    assert ri.low.min() == 1 and ri.high.max() <= 400


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"draws": 0}, "draws must be between 1 and"),
    ({"draws": 10**6}, "draws must be between 1 and"),
    ({"perturb": 1.0}, "perturb must be in"),
    ({"interval": 0}, "interval must be in"),
])
def test_limits(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rank_intervals(np.ones((3, 2)), np.ones(2), **kwargs)


def test_bad_shapes_and_values():
    with pytest.raises(ValueError, match="values are"):
        rank_intervals(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        rank_intervals(np.array([[np.nan, 1.0]]), np.ones(2))


values_strategy = arrays(np.float64, st.tuples(st.integers(2, 12), st.just(4)),
                         elements=st.floats(0, 1, allow_nan=False))


@settings(max_examples=40, deadline=None)
@given(values_strategy, st.integers(0, 2**32 - 1))
def test_a_dominating_area_is_never_ranked_behind(values, seed):
    """An area at least as good on every indicator is never behind, whatever the weights."""
    values = values.copy()
    values[0] = values.max(axis=0)
    ri = rank_intervals(values, np.array([100.0, 100.0, 200.0, 150.0]), draws=50, seed=seed)
    assert ri.low[0] == ri.high[0] == 1
    assert (ri.low >= 1).all() and (ri.high <= len(values)).all() and (ri.low <= ri.high).all()
    assert (ri.low <= ri.median).all() and (ri.median <= ri.high).all()

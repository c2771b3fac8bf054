"""Known answers for the Inception Score and KID, and KID against a direct O(n²) double loop."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from gan_study.study.metrics.inception_score import inception_score
from gan_study.study.metrics.kid import kernel_inception_distance, mmd2_unbiased


def one_hot_logits(labels: torch.Tensor, classes: int, confidence: float = 60.0) -> torch.Tensor:
    return torch.nn.functional.one_hot(labels, classes).double() * confidence


def test_one_hot_uniform_predictions_score_the_number_of_classes():
    logits = one_hot_logits(torch.arange(40) % 8, 8)
    score, sd = inception_score(logits)
    assert score == pytest.approx(8.0, rel=1e-9)
    assert sd == 0.0


def test_identical_predictions_score_one():
    logits = torch.randn(1, 1008, generator=torch.Generator().manual_seed(0)).repeat(50, 1)
    assert inception_score(logits)[0] == pytest.approx(1.0, abs=1e-12)


def test_splits_score_each_part_separately():
    """First half: 2 classes uniformly; second half: 4 classes uniformly → scores 2 and 4."""
    logits = torch.cat([one_hot_logits(torch.arange(8) % 2, 4), one_hot_logits(torch.arange(8) % 4, 4)])
    mean, sd = inception_score(logits, splits=2)
    assert mean == pytest.approx(3.0, rel=1e-9)
    assert sd == pytest.approx(1.0, rel=1e-9)
    # one split: confident predictions score exp(H(marginal)); the marginal is (3/8, 3/8, 1/8, 1/8)
    entropy = -2 * (3 / 8) * math.log(3 / 8) - 2 * (1 / 8) * math.log(1 / 8)
    assert inception_score(logits)[0] == pytest.approx(math.exp(entropy), rel=1e-9)


def test_inception_score_rejects_more_splits_than_samples():
    with pytest.raises(ValueError, match="splits = 5"):
        inception_score(torch.zeros(3, 10), splits=5)


def loop_mmd2(x: torch.Tensor, y: torch.Tensor) -> float:
    d = x.shape[1]

    def k(a, b):
        return (float(a @ b) / d + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(n), 2)) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_mmd2_matches_the_direct_double_loop():
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(12, 5, generator=generator, dtype=torch.float64), torch.randn(9, 5, generator=generator,
                                                                                   dtype=torch.float64) + 0.3
    assert mmd2_unbiased(x, y) == pytest.approx(loop_mmd2(x, y), rel=1e-12)


def test_kid_is_near_zero_for_identical_sets_and_positive_for_shifted_ones():
    """For y = x the unbiased estimate is −(2/n)·(mean k(x_i, x_i) − mean_{i≠j} k(x_i, x_j)): O(1/n), not 0."""
    generator = torch.Generator().manual_seed(1)
    n = 400
    x = torch.randn(n, 16, generator=generator, dtype=torch.float64)
    same, _ = kernel_inception_distance(x, x.clone(), subsets=1, subset_size=n)
    shifted, _ = kernel_inception_distance(x, x + 0.5, subsets=1, subset_size=n)
    gram = (x @ x.T / 16 + 1) ** 3
    off_diagonal = (gram.sum() - gram.diagonal().sum()) / (n * (n - 1))
    assert same == pytest.approx(float(-2 / n * (gram.diagonal().mean() - off_diagonal)), rel=1e-9)
    assert abs(same) < 0.05 * shifted
    assert shifted > 0.5


def test_kid_subsets_average_the_subset_estimates():
    generator = torch.Generator().manual_seed(2)
    x, y = torch.randn(60, 4, generator=generator), torch.randn(50, 4, generator=generator) + 0.2
    mean, sd = kernel_inception_distance(x, y, subsets=5, subset_size=20, seed=3)
    picks = torch.Generator().manual_seed(3)
    values = []
    for _ in range(5):
        i, j = torch.randperm(60, generator=picks)[:20], torch.randperm(50, generator=picks)[:20]
        values.append(loop_mmd2(x[i].double(), y[j].double()))
    assert mean == pytest.approx(sum(values) / 5, rel=1e-9)
    assert sd == pytest.approx(torch.tensor(values).std(unbiased=False).item(), rel=1e-6)
    with pytest.raises(ValueError, match="subset_size = 51"):
        kernel_inception_distance(x, y, subset_size=51)

"""Inception Score exp(E_x KL(p(y|x) ‖ p(y))) from class logits, in float64.

The paper's code scores all 10k samples as ONE split (docs/protocol.md#fid-protocol); `splits=10` gives the original
Salimans et al. protocol: the mean and the (population) standard deviation over 10 contiguous splits.
"""
from __future__ import annotations

import torch


def inception_score(logits: torch.Tensor, splits: int = 1) -> tuple[float, float]:
    """(mean, sd) of the score over `splits` contiguous parts of (n, k) logits (sd = 0 for one split)."""
    if logits.ndim != 2 or len(logits) < splits or splits < 1:
        raise ValueError(f"inception_score needs (n, k) logits with n >= splits >= 1, got shape "
                         f"{tuple(logits.shape)} and splits = {splits}")
    scores = []
    for part in torch.tensor_split(logits.to(torch.float64), splits):
        log_p = torch.log_softmax(part, dim=1)
        log_marginal = torch.logsumexp(log_p, dim=0) - torch.log(torch.tensor(float(len(part)), dtype=torch.float64))
        kl = (log_p.exp() * (log_p - log_marginal)).sum(dim=1)
        scores.append(torch.exp(kl.mean()))
    stacked = torch.stack(scores)
    return float(stacked.mean()), float(stacked.std(unbiased=False))

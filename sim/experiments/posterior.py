"""From trials to a posterior: importance sampling around the best fit, then resampling.

The search (Optuna's TPE) finds where the data are likely, but its trials are not draws from
any density we can write down, so they cannot be weighted into a posterior. The posterior comes
from draws whose density is known (adaptive importance sampling; Cappe et al. 2004):

1. Each free parameter is mapped to the whole line, z = logit(u), where u in (0, 1) is its place
   in its prior range (on a log scale if the prior is). The uniform prior becomes the logistic
   density, p(z) = prod u (1 - u).
2. Round 1 draws from q1 = 90% a multivariate Student t (5 degrees of freedom) centred on the
   best search trial, shaped like the search trials weighted by their likelihood (tempered until
   a fifth of them count), plus 10% the prior itself (a defensive mixture: no region the prior
   allows goes unvisited; Hesterberg 1995).
3. Each later round (up to four) draws from the same kind of mixture refitted to the earlier
   rounds' draws under their importance weights (population Monte Carlo).
4. Every draw of every round is weighted by w = p(z) L(z) / q(z), with q the rounds' mixture
   sum_r (n_r / n) q_r (the balance heuristic; Veach & Guibas 1995), L the likelihood of the
   firm's figures at the draw (`likelihood.py`).
5. The posterior sample is a systematic resample of the draws by weight (sampling-importance
   resampling, Rubin 1988); its effective size is 1 / sum(w^2) with w normalised.

The likelihood at a draw is estimated from a few runs on the same seeds as every other trial
(common random numbers), so the posterior is conditional on those seeds; the likelihoods
integrate the runs' own sampling noise out (`likelihood.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_t

DEGREES = 5  # of the proposal's Student t: heavier tails than a normal
DEFENSIVE = 0.1  # the prior's share of each proposal
TOP = 0.2  # the best fifth of the search trials shape round 1
EDGE = 1e-9  # u kept inside (0, 1)


def to_z(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, EDGE, 1 - EDGE)
    return np.log(u) - np.log1p(-u)


def to_u(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def log_prior(z: np.ndarray) -> np.ndarray:
    """The uniform prior on u, as a density of z (logistic in each coordinate)."""
    z = np.atleast_2d(z)
    return (-np.abs(z) - 2.0 * np.log1p(np.exp(-np.abs(z)))).sum(axis=1)


@dataclass(frozen=True)
class Proposal:
    """A defensive mixture: (1 - DEFENSIVE) Student t(centre, scale) + DEFENSIVE prior."""

    centre: np.ndarray
    scale: np.ndarray

    def log_density(self, z: np.ndarray) -> np.ndarray:
        t = multivariate_t(self.centre, self.scale, df=DEGREES, allow_singular=True).logpdf(np.atleast_2d(z))
        return np.logaddexp(math.log(1 - DEFENSIVE) + np.atleast_1d(t), math.log(DEFENSIVE) + log_prior(z))

    def draw(self, count: int, rng: np.random.Generator) -> np.ndarray:
        from_prior = rng.random(count) < DEFENSIVE
        t = multivariate_t(self.centre, self.scale, df=DEGREES, allow_singular=True).rvs(
            size=count, random_state=rng).reshape(count, -1)
        prior = to_z(rng.random((count, self.centre.size)))
        return np.where(from_prior[:, None], prior, t)

    def as_data(self) -> dict:
        return {"centre": self.centre.tolist(), "scale": self.scale.tolist()}


def _covariance(z: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    d = z.shape[1]
    if z.shape[0] < 2:
        return np.eye(d)
    cov = np.atleast_2d(np.cov(z, rowvar=False, aweights=weights))
    return cov + 1e-3 * np.eye(d)  # a ridge: a flat direction in the data stays explorable


def fitted(z: np.ndarray, log_w: np.ndarray, need: float) -> Proposal:
    """A proposal shaped like the weighted points: their weighted mean and covariance, a little
    wider (x 1.5), when the weights carry at least `need` effective points; otherwise the weights
    are tempered (log w / T, T doubling) until they do, and the proposal is centred on the
    heaviest point with the tempered covariance (a flattened posterior: wider, the same shape)."""
    temperature = 1.0
    while True:
        w = normalised(log_w / temperature)
        if effective_size(w) >= min(need, len(z)) or temperature > 1e6:
            break
        temperature *= 2.0
    if temperature == 1.0:
        return Proposal(np.average(z, axis=0, weights=w), _covariance(z, w) * 1.5)
    return Proposal(z[int(np.argmax(log_w))].copy(), _covariance(z, w))


def first_proposal(z: np.ndarray, loglik: np.ndarray) -> Proposal:
    """Round 1: centred on the best search trial, shaped like the search trials weighted by their
    likelihood, tempered until a fifth of them (at least 2d + 2) count."""
    return fitted(z, loglik, max(2 * z.shape[1] + 2, math.ceil(TOP * len(z))))


def refitted(z: np.ndarray, log_w: np.ndarray) -> Proposal:
    """The next round: shaped like the earlier rounds' draws under their importance weights."""
    return fitted(z, log_w, 2 * z.shape[1] + 2)


def log_weights(z: np.ndarray, loglik: np.ndarray, proposals: list[Proposal], counts: list[int]) -> np.ndarray:
    """log w = log p(z) + log L - log q(z), q the count-weighted mixture of the rounds' proposals."""
    shares = np.log(np.asarray(counts, float) / sum(counts))
    log_q = logsumexp(np.stack([s + p.log_density(z) for s, p in zip(shares, proposals)]), axis=0)
    return log_prior(z) + loglik - log_q


def normalised(log_w: np.ndarray) -> np.ndarray:
    finite = np.isfinite(log_w)
    w = np.zeros_like(log_w)
    if finite.any():
        w[finite] = np.exp(log_w[finite] - logsumexp(log_w[finite]))
    return w


def effective_size(weights: np.ndarray) -> float:
    total = weights.sum()
    return float(total * total / max((weights * weights).sum(), 1e-300)) if total > 0 else 0.0


def resample(weights: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Systematic resampling: indices of `count` draws, each draw about count * w times."""
    positions = (rng.random() + np.arange(count)) / count
    return np.minimum(np.searchsorted(np.cumsum(weights), positions, side="right"), len(weights) - 1)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    values, weights = np.asarray(values)[order], np.asarray(weights)[order]
    cumulative = np.cumsum(weights)
    if cumulative[-1] <= 0:
        return math.nan
    return float(np.interp(q * cumulative[-1], cumulative - weights / 2, values))

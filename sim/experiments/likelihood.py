"""How likely a firm's figures are under a simulated firm: one log-likelihood per statistic.

The simulated statistic comes from a few runs, so it is itself an estimate. Each likelihood
below is the probability of the firm's counts with the simulated rate's own sampling
uncertainty integrated out (the posterior predictive of the firm's counts given the simulated
counts, under a flat prior on the rate), so a trial is not rewarded for the luck of its runs:

| what the firm has | likelihood |
|---|---|
| a rate or share with its count: x of n (churn, complaints, complaints resolved, referral share, recommended) | beta-binomial: x ~ Binomial(n, p), p ~ Beta(X + 1, N - X + 1) for the simulated X of N |
| a survey's counts x_k of n respondents (promoters, passives, detractors) | Dirichlet-multinomial: x ~ Multinomial(n, p), p ~ Dirichlet(X_k + 1) for the simulated counts X_k |
| a count over an exposure (new customers over customer-months e) | gamma-Poisson: x ~ Poisson(lambda e), lambda ~ Gamma(X + 1, E) for X joined over E simulated customer-months |
| a figure with a stated tolerance t | normal: N(figure; simulated, sqrt(t^2 + s^2)), s the simulated figure's standard error |

Starsim's calibration offers the same families (beta-binomial, Dirichlet-multinomial,
gamma-Poisson, normal); here their parameters come from the simulated counts.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import betaln, gammaln

from .. import observations


def beta_binomial(x: float, n: float, sim_x: float, sim_n: float) -> float:
    a, b = sim_x + 1.0, sim_n - sim_x + 1.0
    return float(gammaln(n + 1) - gammaln(x + 1) - gammaln(n - x + 1) + betaln(x + a, n - x + b) - betaln(a, b))


def dirichlet_multinomial(x: np.ndarray, sim_x: np.ndarray) -> float:
    x, alpha = np.asarray(x, float), np.asarray(sim_x, float) + 1.0
    n, total = x.sum(), alpha.sum()
    return float(gammaln(n + 1) - gammaln(x + 1).sum() + gammaln(total) - gammaln(n + total)
                 + (gammaln(x + alpha) - gammaln(alpha)).sum())


def gamma_poisson(x: float, exposure: float, sim_x: float, sim_exposure: float) -> float:
    a, rate = sim_x + 1.0, max(sim_exposure, 1e-12)
    return float(gammaln(x + a) - gammaln(a) - gammaln(x + 1) + a * math.log(rate / (rate + exposure))
                 + x * math.log(exposure / (rate + exposure)))


def normal(figure: float, simulated: float, sd: float) -> float:
    return float(-0.5 * math.log(2 * math.pi * sd * sd) - (figure - simulated) ** 2 / (2 * sd * sd))


def observed_counts(name: str, figure, sample: float | None, months: int, customers: int | None):
    """The firm's figure as counts: (x, n) for a rate, (x_k, n) for the survey, (x, exposure) for
    new customers; None when only a tolerance is given."""
    if name == "nps_survey":
        shares = np.array(figure.shares)
        return shares * figure.respondents, float(figure.respondents)
    if figure.tolerance is not None:
        return None
    if name == "new_customers":
        return np.array([figure.value * months]), float(customers * months)
    rate = figure.value / observations.STATISTICS[name].scale
    return np.array([rate * sample]), float(sample)


def simulated_figure(name: str, x: np.ndarray, n: float, months: int, runs: int) -> np.ndarray:
    return observations.value(name, x, n, months, runs)


def standard_error(name: str, x: np.ndarray, n: float, months: int, runs: int) -> float:
    """The simulated figure's standard error (binomial, or Poisson for new customers)."""
    statistic = observations.STATISTICS[name]
    if statistic.per_month:
        return math.sqrt(max(float(x[0]), 1.0)) / (months * runs)
    p = float(x[0]) / max(n, 1.0)
    return statistic.scale * math.sqrt(max(p * (1 - p), 1.0 / max(n, 1.0)) / max(n, 1.0))


def log_likelihood(name: str, figure, observed, sim_x: np.ndarray, sim_n: float, months: int, runs: int) -> float:
    """log P(the firm's figure | the simulated counts) for one statistic (see the module's table)."""
    if observed is None:  # a figure with a tolerance
        simulated = float(simulated_figure(name, sim_x, sim_n, months, runs)[0])
        sd = math.hypot(figure.tolerance, standard_error(name, sim_x, sim_n, months, runs))
        return normal(figure.value, simulated, sd)
    x, n = observed
    if name == "nps_survey":
        return dirichlet_multinomial(x, sim_x)
    if name == "new_customers":
        return gamma_poisson(float(x[0]), n, float(sim_x[0]), sim_n)
    return beta_binomial(float(x[0]), n, float(sim_x[0]), sim_n)

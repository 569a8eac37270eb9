"""What the engine's own cos and exp would cost and change: the lever that changes every result once.

    .venv/bin/python bench/own_math.py            # a million values each, a few seconds

The month takes numpy's cos of 2 pi u (the service's normal draws, Box-Muller) and numpy's exp
(the churn hazards, the prospects held back). numpy's float64 cos is the C library's, one value
at a time (about 20 ns); its exp and log are other code on CPUs with AVX-512 than without, so
the same seed can round a value differently on another machine (`folder.numpy_math`). Written
with + - * / and exact steps only (as below), both would be the same bits on every machine.
This prints how fast such functions run in numba against numpy's, how far their values are from
numpy's, and each one's largest error against the same function in long double (absolute where
the value is below 1, relative above). Not used by the engine: using them changes every result
once (docs regenerated, figures re-measured), which is the team's decision (bench/README.md).
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

# Taylor coefficients 1/k! (enough terms on the reduced ranges below: the first left out is
# below 1e-17 of the result)
_INVERSE_FACTORIAL = np.array([1.0 / np.prod(np.arange(1, k + 1, dtype=np.float64)) for k in range(19)])
_TWO_PI = 2.0 * np.pi
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2: k * _LN2_HI is exact for |k| < 2**20
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_PI_LONG = np.longdouble("3.14159265358979323846264338327950288")
_POWERS_OF_TWO = np.ldexp(1.0, np.arange(-1022, 1024))  # 2**k, exact, looked up


@numba.njit(cache=True)
def _sin_cos_small(x):
    """sin x and cos x for 0 <= x <= pi / 4 (Taylor, Horner's rule in x squared)."""
    f, x2 = _INVERSE_FACTORIAL, x * x
    s = f[17]
    for k in (15, 13, 11, 9, 7, 5, 3, 1):
        s = s * x2 + (f[k] if (k // 2) % 2 == 0 else -f[k])
    c = -f[18]
    for k in (16, 14, 12, 10, 8, 6, 4, 2, 0):
        c = c * x2 + (f[k] if (k // 2) % 2 == 0 else -f[k])
    return s * x, c  # the signs alternate: + for the terms of x^k with k // 2 even


@numba.njit(cache=True)
def cos_two_pi(u):
    """cos(2 pi u): u reduced exactly to a in [0, 1/2] by symmetry, then to [0, 1/8]."""
    a = abs(u - np.floor(u + 0.5))  # exact (Sterbenz)
    sign = 1.0
    if a > 0.25:
        a, sign = 0.5 - a, -1.0  # exact
    if a > 0.125:
        s, _ = _sin_cos_small(_TWO_PI * (0.25 - a))  # cos(2 pi a) = sin(2 pi (1/4 - a))
        return sign * s
    _, c = _sin_cos_small(_TWO_PI * a)
    return sign * c


@numba.njit(cache=True)
def exp(x):
    """e**x for |x| < 700: x = k ln 2 + r (Cody and Waite), e**r by Taylor, times 2**k exactly."""
    k = np.floor(x * _INV_LN2 + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    f = _INVERSE_FACTORIAL
    e = f[14]
    for j in range(13, -1, -1):
        e = e * r + f[j]
    return e * _POWERS_OF_TWO[np.int64(k) + 1022]  # exact: a power of two


@numba.njit(cache=True)
def _apply_cos(u, out):
    for i in range(u.size):
        out[i] = cos_two_pi(u[i])


@numba.njit(cache=True)
def _apply_exp(x, out):
    for i in range(x.size):
        out[i] = exp(x[i])


def per_value_ns(function, values, repeats: int) -> float:
    out = np.empty_like(values)
    function(values, out)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(values, out)
        times.append(time.perf_counter() - start)
    return 1e9 * float(np.median(times)) / values.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    u = rng.random(args.values)
    z = rng.normal(-1.0, 2.0, args.values)  # the churn exponents' range and beyond

    numpy_cos = lambda values, out: np.cos(values * _TWO_PI, out=out)  # noqa: E731 (what the engine does)
    numpy_exp = lambda values, out: np.exp(values, out=out)  # noqa: E731
    print(f"{args.values:,} values, numba {numba.__version__}, numpy {np.__version__}")
    # the truth, near enough: the same functions in long double (64-bit mantissa on x86)
    exact_cos = lambda values: np.cos(values.astype(np.longdouble) * (2 * _PI_LONG))  # noqa: E731
    print(f"{'function':<13}{'numpy, ns':>10}{'own, ns':>9}{'max |own - numpy|':>19}{'same bits':>11}"
          f"{'error: numpy':>14}{'own':>10}")
    for name, ours, theirs, truth, values in (("cos(2 pi u)", _apply_cos, numpy_cos, exact_cos, u),
                                              ("exp(z)", _apply_exp, numpy_exp, lambda v: np.exp(v.astype(np.longdouble)), z)):
        own, reference = np.empty_like(values), np.empty_like(values)
        ours(values, own)
        theirs(values, reference)
        exact = truth(values)
        # absolute below 1 in size, relative above (cos is at most 1; exp grows)
        error = lambda result: float(np.max(np.abs(result.astype(np.longdouble) - exact)  # noqa: E731
                                            / np.maximum(np.abs(exact), 1)))
        print(f"{name:<13}{per_value_ns(theirs, values, args.repeats):>10.1f}{per_value_ns(ours, values, args.repeats):>9.1f}"
              f"{np.abs(own - reference).max():>19.2e}{np.mean(own == reference):>10.1%}"
              f"{error(reference):>14.2e}{error(own):>10.2e}")


if __name__ == "__main__":
    main()

"""Random streams keyed by decision, month and person: common random numbers by construction.

Every random decision in the engine asks for `streams.uniform("decision", month, ids)`.
The number a person gets is a hash of (run root, decision name, month, person id), not the
next value of a shared generator. So a policy that changes who is asked something in one
phase does not reshuffle anyone's luck elsewhere: replication r of every arm sees the same
service failures, the same talk partners and the same coin flips wherever its state agrees
(Starsim's per-decision streams serve the same purpose). Only the ids asked for are
computed, so a phase touching 1% of people costs 1% of the draws.

The hash is SplitMix64's finaliser (Steele, Lea & Flood 2014), applied twice; it is the
standard seed mixer of numpy's SeedSequence family and passes BigCrush as a counter RNG.

With numba the uniforms come from one compiled loop (`sim.kernels.uniform`, compiled once and
cached on disk), about ten times faster than the numpy expression at 10,000 ids; without it
(or with GRAPEVINE_NUMBA=0), the numpy expression. Both give the same bits.
"""

from __future__ import annotations

import zlib

import numpy as np

from . import compiled

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix_scalar(x: int) -> int:
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


_SHIFTS_AND_MULTIPLIERS = (
    (np.uint64(30), np.uint64(0xBF58476D1CE4E5B9)),
    (np.uint64(27), np.uint64(0x94D049BB133111EB)),
)


def _mix(x: np.ndarray, rounds: int = 1) -> np.ndarray:
    """SplitMix64 finaliser, `rounds` times, on a uint64 array, in place (wrap-around
    multiplication is intended). In place with one scratch array: at a million ids the
    temporaries of `x = (x ^ (x >> 30)) * c` cost four times the arithmetic."""
    scratch = np.empty_like(x)
    for _ in range(rounds):
        x += np.uint64(_GOLDEN)
        for shift, multiplier in _SHIFTS_AND_MULTIPLIERS:
            np.right_shift(x, shift, out=scratch)
            x ^= scratch
            x *= multiplier
        np.right_shift(x, np.uint64(31), out=scratch)
        x ^= scratch
    return x


def _numpy_uniform(ids: np.ndarray, key: np.uint64) -> np.ndarray:
    """Floats in [0, 1) from the top 53 bits of the twice-mixed (id ^ key)."""
    top = _mix(np.asarray(ids, dtype=np.uint64) ^ key, rounds=2)
    top >>= np.uint64(11)
    uniform = top.astype(np.float64)
    uniform *= 1.0 / (1 << 53)
    return uniform


def _uniform(ids, key: np.uint64) -> np.ndarray:
    fast = compiled.kernels()
    ids = np.asarray(ids)
    if fast is None or ids.dtype.kind not in "iu":
        return _numpy_uniform(ids, key)
    # one compiled signature: ids as int64 (uint64 ids wrap, bit for bit the same)
    return fast.uniform(ids.astype(np.int64, copy=False).ravel(), key).reshape(ids.shape)


class Streams:
    """Deterministic uniform, normal and integer draws for (decision, month, ids).

    The keys count months from `setup_month` (the market's set-up, before the warm-up): month
    `setup_month` is key 0. The market names months from the start of the comparison, and the
    keys stayed those of the counter that started at set-up, so that the renaming changed
    nobody's luck (results are byte-identical to those of earlier versions).
    """

    def __init__(self, root: int, setup_month: int = 0):
        self.root = int(root) & _MASK
        self.setup_month = int(setup_month)
        self._salted: dict[str, int] = {}  # decision -> the root mixed with the decision's salt

    def key(self, decision: str, month: int) -> np.uint64:
        """The key of (decision, month): a compiled kernel draws `kernels.keyed_uniform(id, key)`."""
        salted = self._salted.get(decision)
        if salted is None:  # once per decision: the month's key then costs one mix
            salted = self._salted[decision] = _mix_scalar(self.root ^ zlib.crc32(decision.encode()))
        return np.uint64(_mix_scalar(salted ^ ((month - self.setup_month) & _MASK)))

    def bits(self, decision: str, month: int, ids: np.ndarray) -> np.ndarray:
        return _mix(np.asarray(ids, dtype=np.uint64) ^ self.key(decision, month), rounds=2)

    def uniform(self, decision: str, month: int, ids: np.ndarray) -> np.ndarray:
        """Floats in [0, 1), one per id, from the top 53 bits of the hash."""
        return _uniform(ids, self.key(decision, month))

    def normal(self, decision: str, month: int, ids: np.ndarray) -> np.ndarray:
        """Standard normal draws (Box-Muller on two keyed uniforms)."""
        # sqrt(-2 log(1 - u1)) cos(2 pi u2), operation by operation in place: no temporaries
        radius = self.uniform(decision + ":1", month, ids)
        np.negative(radius, out=radius)
        np.log1p(radius, out=radius)
        radius *= -2.0
        np.sqrt(radius, out=radius)
        angle = self.uniform(decision + ":2", month, ids)
        angle *= 2.0 * np.pi
        np.cos(angle, out=angle)
        radius *= angle
        return radius

    def integers(self, decision: str, month: int, ids: np.ndarray, low: int, high: int) -> np.ndarray:
        """Integers uniform on low..high inclusive."""
        u = self.uniform(decision, month, ids)
        return low + np.minimum((u * (high - low + 1)).astype(np.int64), high - low)

    def geometric(self, decision: str, month: int, ids: np.ndarray, low: int, mean: float) -> np.ndarray:
        """Integers low, low+1, ... with P(low + k) = p (1 - p)^k and the given mean (>= low)."""
        if mean <= low:
            return np.full(np.shape(ids), low, np.int64)
        stay = (mean - low) / (mean - low + 1.0)  # 1 - p
        u = self.uniform(decision, month, ids)
        return low + np.floor(np.log1p(-u) / np.log(stay)).astype(np.int64)

    def chance(self, decision: str, month: int, ids: np.ndarray, probability) -> np.ndarray:
        """A boolean per id: True with the given probability (scalar or per-id array)."""
        return self.uniform(decision, month, ids) < probability

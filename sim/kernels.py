"""Compiled loops (numba) for the engine's hot spots, each giving the same bits as the numpy
expression it stands in for.

The month is written in numpy (`sim.phases`): that is the model as it reads. Where numpy needs
many passes over big arrays for what one loop does in one (sampling contacts, counting loyal
contacts, building the network), the loop is here, compiled with numba: `cache=True`, so it
is compiled once per machine and Python and then loaded from disk, and `nogil`, so Dask's
threads run it side by side. Only arithmetic whose bits cannot differ from numpy's is done
here (no exp, log or cos: numpy may use other implementations of those).

The engine imports this module through `sim.compiled.kernels()`, which returns None without
numba or with GRAPEVINE_NUMBA=0; the numpy expressions run then. tests/test_fast_paths.py
checks that both give the same results, bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np

jit = numba.njit(cache=True, nogil=True)

_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@jit
def keyed_uniform(id_, key):
    """The keyed stream's uniform for one id (sim.randomness: SplitMix64's finaliser twice on
    id ^ key, top 53 bits)."""
    x = np.uint64(id_) ^ key
    for _ in range(2):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return np.float64(x >> np.uint64(11)) * _TO_UNIT


@jit
def uniform(ids, key):
    """`keyed_uniform` for every id (ids as int64: uint64 ids wrap, bit for bit the same)."""
    out = np.empty(ids.size)
    for i in range(ids.size):
        out[i] = keyed_uniform(ids[i], key)
    return out


# --- the network (sim.network) ---
# `sim.network.from_edges` builds its CSR arrays with these in O(ties), where numpy sorts every tie
# twice (np.unique, then a stable argsort). The caller allocates the arrays with numpy, which asks
# for huge pages, and the kernels reuse them in place: at ten million people, first touching fresh
# memory is much of the cost. A row's entry packs contact * 2 + strong in an int32 (contacts are
# below 2**30): one array to lay out, sort and compact, which then becomes the CSR's indices.

_SHORT_ROW = 32  # rows up to this many entries are sorted by insertion; longer ones (hubs) by merge sort


@jit
def count_ties(n, a, b, start):
    """Row starts: start[p] is where person p's row begins, start[n] the total. A tie has an
    entry in both its rows, a self-tie in none. `start` comes zeroed."""
    for e in range(a.size):
        u, v = a[e], b[e]
        if u < 0 or u >= n or v < 0 or v >= n:
            raise ValueError("from_edges: a tie names a person outside 0..n-1")
        if u != v:
            start[u + 1] += 1
            start[v + 1] += 1
    for person in range(n):
        start[person + 1] += start[person]


@jit
def lay_ties(a, b, strong, start, entry):
    """Every tie into both its rows, in input order. Each row's start moves up as it fills, so
    afterwards start[p] is where row p ends (and row p begins where row p - 1 ends)."""
    for e in range(a.size):
        u, v = a[e], b[e]
        if u != v:
            tie = 1 if strong[e] else 0
            entry[start[u]] = v * 2 + tie
            start[u] += 1
            entry[start[v]] = u * 2 + tie
            start[v] += 1


@jit
def sort_rows(ends, entry):
    """Each row's contacts in increasing order, repeats dropped keeping the first in input order
    (a stable sort: as np.unique's return_index, a duplicate tie keeps its first strength). Rows
    are compacted to the front of `entry` (safe in place: rows only shrink, so the write position
    never passes the row being read), and `ends` (where each row ends, from `lay_ties`) becomes
    the CSR's indptr. Returns the number of entries kept."""
    n = ends.size - 1
    out = 0
    lo = 0
    for person in range(n):
        hi = ends[person]
        if hi - lo <= _SHORT_ROW:
            for i in range(lo + 1, hi):  # insertion sort on the contact: stable
                key = entry[i]
                j = i - 1
                while j >= lo and (entry[j] >> 1) > (key >> 1):
                    entry[j + 1] = entry[j]
                    j -= 1
                entry[j + 1] = key
            row = entry[lo:hi]
        else:
            row = entry[lo:hi][np.argsort(entry[lo:hi] >> 1, kind="mergesort")]  # a copy: a hub's row
        last = -1
        for i in range(row.size):
            if (row[i] >> 1) != last:
                last = row[i] >> 1
                entry[out] = row[i]
                out += 1
        ends[person] = out
        lo = hi
    for person in range(n, 0, -1):  # kept ends, shifted by one: indptr
        ends[person] = ends[person - 1]
    ends[0] = 0
    return out


@jit
def split_ties(entry, kept, strong):
    """The first `kept` packed entries into contacts (in place) and strengths."""
    for i in range(kept):
        strong[i] = (entry[i] & 1) != 0
        entry[i] >>= 1


@jit
def ring_lattice(n, half, source, target):
    """The small world's ring before rewiring, as np.tile(arange(n), half) and
    (source + step) % n: person i's ties to i+1..i+half, around the ring."""
    for step in range(1, half + 1):
        base = (step - 1) * n
        for i in range(n):
            contact = i + step
            while contact >= n:  # (i + step) % n without a division
                contact -= n
            source[base + i] = i
            target[base + i] = contact


@jit
def preferential_targets(m, uniform, source, target):
    """Barabasi-Albert ties from the draws of `sim.network.scale_free`, in one pass: tie t copies
    entry pick < 2t + 1 of the edge sequence M; an even entry is a source, an odd one the target
    of an earlier tie, already known (where the numpy version's pointer jumping ends)."""
    for tie in range(uniform.size):
        source[tie] = tie // m
        pick = np.int64(uniform[tie] * np.float64(2 * tie + 1))
        if pick % 2 == 0:
            target[tie] = (pick // 2) // m
        else:
            target[tie] = target[pick // 2]

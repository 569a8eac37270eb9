"""The social network as CSR arrays, and its generators.

People are nodes 0..n-1. Person i's contacts are `indices[indptr[i]:indptr[i+1]]`, and
`strong[...]` says for each of those ties whether it is strong (Goldenberg, Libai & Muller
2001: close friends and family) or weak (acquaintances). Generators build edge arrays with
numpy, so a million people never becomes a networkx object; networkx is used only to hand
small markets to Mesa's visualisation and to read user files. Where numba is installed,
compiled loops (sim.kernels) build the same arrays, bit for bit, several times faster.

Tie strength follows structure where the structure has it: in a small world the lattice
ties are strong and the rewired long-range ties weak; in communities ties inside one's
group are strong and ties between groups weak. Scale-free and loaded networks draw tie
strength at random with `strong_tie_share` unless the file gives a third column.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import compiled


@dataclass(frozen=True)
class SocialNetwork:
    n: int
    indptr: np.ndarray  # int64, length n + 1
    indices: np.ndarray  # int32, contacts, row after row
    strong: np.ndarray  # bool, one per entry of `indices`
    complete: bool = False  # complete mixing: everyone meets everyone, no edges stored
    nominal_degree: int = 0  # complete mixing: how many people one is in touch with at a time

    @property
    def degree(self) -> np.ndarray:
        if self.complete:
            return np.full(self.n, self.n - 1, dtype=np.int64)
        return np.diff(self.indptr)

    @property
    def rows(self) -> np.ndarray:
        """The person each entry of `indices` belongs to (the 'from' side of every tie)."""
        return np.repeat(np.arange(self.n, dtype=np.int32), np.diff(self.indptr))

    def contacts(self, person: int) -> np.ndarray:
        if self.complete:
            return np.delete(np.arange(self.n), person)
        return self.indices[self.indptr[person] : self.indptr[person + 1]]

    def ties_of(self, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All ties of `people`: (position in `people` of the owner, position in the CSR arrays)."""
        start = self.indptr[people]
        degree = self.indptr[people + 1] - start
        owner = np.repeat(np.arange(people.size), degree)
        first = np.cumsum(degree) - degree
        return owner, np.repeat(start - first, degree) + np.arange(owner.size)

    def count_among_contacts(self, flag: np.ndarray) -> np.ndarray:
        """For every person, how many of their contacts have `flag` set. Ties are symmetric,
        so this scatters over the flagged people's ties only (few people are flagged)."""
        if self.complete:  # expected count among `nominal_degree` people met at random
            others = flag.sum() - flag.astype(np.float64)
            return others * (self.nominal_degree / max(self.n - 1, 1))
        _, ties = self.ties_of(np.flatnonzero(flag))
        return np.bincount(self.indices[ties], minlength=self.n).astype(np.float64)

    def to_networkx(self):
        import networkx as nx

        if self.complete:
            return nx.complete_graph(self.n)
        graph = nx.Graph()
        graph.add_nodes_from(range(self.n))
        rows = self.rows
        upper = rows < self.indices
        graph.add_edges_from(
            (int(a), int(b), {"strong": bool(s)})
            for a, b, s in zip(rows[upper], self.indices[upper], self.strong[upper])
        )
        return graph


def from_edges(n: int, a: np.ndarray, b: np.ndarray, strong: np.ndarray) -> SocialNetwork:
    """CSR from undirected edges: drops self-ties and duplicates (a duplicate keeps its first strength)."""
    fast = compiled.kernels()
    if fast is not None and n <= 2**30:  # packed entries: contact * 2 + strong in an int32
        return _from_edges_compiled(fast, n, a, b, strong)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    strong = np.asarray(strong, dtype=bool)
    keep = a != b
    a, b, strong = a[keep], b[keep], strong[keep]
    low, high = np.minimum(a, b), np.maximum(a, b)
    _, first = np.unique(low * n + high, return_index=True)
    low, high, strong = low[first], high[first], strong[first]  # in (low, high) order: unique sorts
    # Row-major with each row's contacts in increasing order. Person r's contacts below r come
    # from the (high, low) half, in increasing low; those above r from the (low, high) half, in
    # increasing high. So a stable sort by row alone lays them out, the same arrays as sorting
    # row * n + col; on int32 rows it takes a seventh of the time at a million people.
    rows = np.concatenate((high, low))
    cols = np.concatenate((low, high))
    ties = np.concatenate((strong, strong))
    order = np.argsort(rows.astype(np.int32), kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return SocialNetwork(n, indptr, cols[order].astype(np.int32), ties[order])


def _from_edges_compiled(fast, n: int, a: np.ndarray, b: np.ndarray, strong: np.ndarray) -> SocialNetwork:
    """`from_edges` by counting (sim.kernels), in O(ties): each row filled in input order, then
    sorted and its repeats dropped. numpy allocates the arrays and the kernels reuse them."""
    a, b = (np.ascontiguousarray(x) if x.dtype in (np.int32, np.int64) else x.astype(np.int64)
            for x in (np.asarray(a), np.asarray(b)))
    strong = np.ascontiguousarray(strong, dtype=bool)
    indptr = np.zeros(n + 1, dtype=np.int64)
    fast.count_ties(n, a, b, indptr)  # row starts
    indices = np.empty(indptr[n], dtype=np.int32)  # contact * 2 + strong until split
    fast.lay_ties(a, b, strong, indptr, indices)  # row ends
    kept = fast.sort_rows(indptr, indices)  # indptr
    ties = np.empty(kept, dtype=bool)
    fast.split_ties(indices, kept, ties)
    indices.resize(kept, refcheck=False)  # drop the tail left by repeats; no view of it exists
    return SocialNetwork(n, indptr, indices, ties)


def small_world(n: int, mean_degree: int, rewiring: float, rng: np.random.Generator) -> SocialNetwork:
    """Watts-Strogatz: a ring where each person knows the k/2 nearest on each side; a share of
    ties is rewired to a random person. Lattice ties are strong, rewired ones weak."""
    half = max(1, min(mean_degree // 2, (n - 1) // 2))
    fast = compiled.kernels()
    if fast is not None:  # int32: half the memory, and from_edges takes them as they are
        source, target = np.empty(n * half, dtype=np.int32), np.empty(n * half, dtype=np.int32)
        fast.ring_lattice(n, half, source, target)
    else:
        source = np.tile(np.arange(n, dtype=np.int64), half)
        target = (source + np.repeat(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewired = rng.random(source.size) < rewiring
    target[rewired] = rng.integers(0, n, int(rewired.sum()))
    return from_edges(n, source, target, ~rewired)


def scale_free(n: int, mean_degree: int, strong_share: float, rng: np.random.Generator) -> SocialNetwork:
    """Barabasi-Albert preferential attachment, vectorised.

    Batagelj & Brandes (2005) write the edge list as a sequence M where new node v's i-th tie
    copies a uniformly chosen earlier entry of M; copying an entry is choosing a node with
    probability proportional to its degree. An entry is either a known source node or the
    (not yet known) target of an earlier tie, so all targets are resolved together by
    pointer jumping: each round every unresolved tie either finds a resolved one or jumps
    twice as far back. A few dozen array rounds replace a loop over millions of ties.
    """
    m = max(1, min(mean_degree // 2, n - 1))
    n_ties = n * m
    uniform = rng.random(n_ties)
    fast = compiled.kernels()
    if fast is not None:  # one pass in tie order: an odd entry's tie is always resolved already
        source, target = np.empty(n_ties, dtype=np.int32), np.empty(n_ties, dtype=np.int32)
        fast.preferential_targets(m, uniform, source, target)
        return from_edges(n, source, target, rng.random(n_ties) < strong_share)
    tie = np.arange(n_ties, dtype=np.int64)
    source = tie // m
    pick = (uniform * (2 * tie + 1)).astype(np.int64)  # an entry of M before this one
    target = np.where(pick % 2 == 0, source[pick // 2], -1)  # even entries are sources: known
    pointer = np.where(pick % 2 == 0, -1, pick // 2)  # odd entries: the target of an earlier tie
    unresolved = np.flatnonzero(target < 0)
    while unresolved.size:
        ahead = pointer[unresolved]
        known = target[ahead] >= 0
        target[unresolved[known]] = target[ahead[known]]
        waiting = unresolved[~known]
        pointer[waiting] = pointer[ahead[~known]]
        unresolved = waiting
    strong = rng.random(n_ties) < strong_share
    return from_edges(n, source, target, strong)


def communities(
    n: int, mean_degree: int, group_size: int, between_share: float, rng: np.random.Generator
) -> SocialNetwork:
    """Stochastic block model with equal groups (planted partition): ties inside one's group
    are strong, ties between groups weak; about `between_share` of a person's `mean_degree`
    ties cross groups. Small groups (up to 64) draw every pair inside a group once, as the
    model states; larger groups draw partners at random (repeats are then rare). The
    inside degree cannot exceed group_size - 1: a full clique."""
    inside_degree = mean_degree * (1 - between_share)
    if group_size <= 64:
        first, second = np.triu_indices(group_size, 1)
        starts = np.arange(0, n, group_size, dtype=np.int64)[:, None]
        a_in, b_in = (starts + first).ravel(), (starts + second).ravel()
        exists = (b_in < n) & (rng.random(a_in.size) < min(1.0, inside_degree / max(group_size - 1, 1)))
        a_in, b_in = a_in[exists], b_in[exists]
    else:
        person = np.arange(n, dtype=np.int64)
        group_start = (person // group_size) * group_size
        group_len = np.minimum(group_size, n - group_start)
        inside = rng.poisson(inside_degree / 2, n)
        a_in = np.repeat(person, inside)
        b_in = np.repeat(group_start, inside) + (rng.random(a_in.size) * np.repeat(group_len, inside)).astype(np.int64)
    a_out = np.repeat(np.arange(n, dtype=np.int64), rng.poisson(mean_degree * between_share / 2, n))
    b_out = rng.integers(0, n, a_out.size)
    strong = np.concatenate((np.ones(a_in.size, bool), np.zeros(a_out.size, bool)))
    return from_edges(n, np.concatenate((a_in, a_out)), np.concatenate((b_in, b_out)), strong)


def complete(n: int, nominal_degree: int) -> SocialNetwork:
    """Complete mixing (the Bass model's assumption): no ties stored, everyone can meet everyone;
    counts of contacts in a state are expected counts among `nominal_degree` random people."""
    empty = np.zeros(0, dtype=np.int32)
    return SocialNetwork(n, np.zeros(n + 1, dtype=np.int64), empty, np.zeros(0, bool), True, nominal_degree)


MAX_EDGE_LIST_BYTES = 2 * 2**30
MAX_PEOPLE = 50_000_000  # as MarketParameters.n_people
_STRENGTH = {**dict.fromkeys(("1", "true", "strong", "yes"), True), **dict.fromkeys(("0", "false", "weak", "no"), False)}


@dataclass(frozen=True)
class EdgeList:
    """A user's network file, read and checked: people renumbered 0..people-1 in id order."""

    people: int
    a: np.ndarray  # int64, one per line
    b: np.ndarray
    strong: np.ndarray | None  # bool, one per line, when the file has a third column
    ties: int  # distinct ties between two different people


def read_edge_list(path: str | Path) -> EdgeList:
    """Read 'a b' or 'a b strong' lines (whitespace or commas; '#' comments). Ids are whole
    numbers (below 2**63), renumbered 0..n-1 in sorted order: the file defines the people.
    Anything else is a ValueError naming the file, the line and what is allowed."""
    path = Path(path)

    def bad(reason: str) -> ValueError:
        return ValueError(f"edge_list_path = {str(path)!r} is not allowed: {reason}")

    if not path.exists():
        raise bad("no such file")
    if not path.is_file():
        raise bad("not a regular file (a folder or a device); give a text file of 'a b [strong]' lines")
    try:
        size = path.stat().st_size
        if size > MAX_EDGE_LIST_BYTES:
            raise bad(f"the file has {size:,} bytes; at most {MAX_EDGE_LIST_BYTES:,}")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise bad(f"not a text file (byte {error.start} is not UTF-8); give lines of 'a b [strong]'") from None
    except OSError as error:
        raise bad(f"cannot be read ({error.strerror})") from None
    if "\0" in text:
        raise bad("not a text file (it holds NUL bytes); give lines of 'a b [strong]'")
    numbers, rows = [], []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].replace(",", " ").split()
        if not fields:
            continue
        if len(fields) not in (2, 3):
            raise bad(f"line {number}: {_clip(line)} has {len(fields)} field{'s' if len(fields) > 1 else ''}; "
                      f"every line is 'a b' or 'a b strong'")
        if rows and len(fields) != len(rows[0]):
            first = next((t for t in rows[0][:2] if not _is_id(t)), None)
            if first is not None:  # the first line was no tie at all
                raise bad(f"line {numbers[0]}: person id {_clip(first)} is not allowed: ids are whole numbers "
                          f"below 2**63")
            raise bad(f"line {number} has {len(fields)} fields but line {numbers[0]} has {len(rows[0])}: give the "
                      f"strength column on every line or on none")
        numbers.append(number)
        rows.append(fields)
    if not rows:
        raise bad("no ties in the file; give one 'a b' line per tie")
    ends = [row[0] for row in rows] + [row[1] for row in rows]
    try:
        ids = np.array(ends).astype(np.int64)  # fast; the loop below finds the culprit
    except (ValueError, OverflowError):
        i = next(i for i, token in enumerate(ends) if not _is_id(token))
        raise bad(f"line {numbers[i % len(rows)]}: person id {_clip(ends[i])} is not allowed: ids are whole "
                  f"numbers below 2**63") from None
    strong = None
    if len(rows[0]) == 3:
        words = np.array([row[2].lower() for row in rows])
        unknown = sorted(set(words.tolist()) - set(_STRENGTH))
        if unknown:
            line = numbers[int(np.flatnonzero(words == unknown[0])[0])]
            raise bad(f"line {line}: strength {_clip(unknown[0])} is not allowed: write 1/0, strong/weak, "
                      f"true/false or yes/no")
        strong = np.vectorize(_STRENGTH.__getitem__, otypes=[bool])(words)
    unique, relabelled = np.unique(ids, return_inverse=True)
    if unique.size < 2:
        raise bad(f"the file names {unique.size} person; a network needs 2 or more")
    if unique.size > MAX_PEOPLE:
        raise bad(f"the file names {unique.size:,} people; at most {MAX_PEOPLE:,}")
    a, b = relabelled[: len(rows)].astype(np.int64), relabelled[len(rows):].astype(np.int64)
    other = a != b
    low, high = np.minimum(a, b)[other], np.maximum(a, b)[other]
    ties = int(np.unique(low * unique.size + high).size)
    if ties == 0:
        raise bad("every line ties a person to themselves; give ties between two different people")
    return EdgeList(int(unique.size), a, b, strong, ties)


def _is_id(token: str) -> bool:
    try:
        return abs(int(token)) < 2**63
    except ValueError:
        return False


def _clip(text: str, limit: int = 40) -> str:
    text = repr(text.strip())
    return text if len(text) <= limit else text[: limit - 4] + "...'"


@functools.lru_cache(maxsize=64)
def _edge_list_size(path: str, size: int, modified: int) -> tuple[int, int]:
    found = read_edge_list(path)
    return found.people, found.ties


def edge_list_size(path: str | Path) -> tuple[int, int]:
    """(people, ties) of an edge-list file, read and checked once per version of the file."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return _edge_list_size.__wrapped__(str(path), 0, 0)  # the reader says what is wrong
    return _edge_list_size(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def load_edge_list(path: str | Path, strong_share: float, rng: np.random.Generator) -> SocialNetwork:
    """The network of an edge-list file (see `read_edge_list`); ties without a strength column
    are strong with probability `strong_share`."""
    found = read_edge_list(path)
    strong = found.strong if found.strong is not None else rng.random(found.a.size) < strong_share
    return from_edges(found.people, found.a, found.b, strong)


def build(parameters, rng: np.random.Generator) -> SocialNetwork:
    """The network a market's parameters ask for."""
    p = parameters
    if p.network == "small_world":
        return small_world(p.n_people, p.mean_degree, p.rewiring, rng)
    if p.network == "scale_free":
        return scale_free(p.n_people, p.mean_degree, p.strong_tie_share, rng)
    if p.network == "communities":
        return communities(p.n_people, p.mean_degree, p.community_size, p.between_community_share, rng)
    if p.network == "complete":
        return complete(p.n_people, p.mean_degree)
    if p.network == "edge_list":
        return load_edge_list(p.edge_list_path, p.strong_tie_share, rng)
    raise ValueError(f"network = {p.network!r} is not allowed: choose one of small_world, scale_free, "
                     "communities, complete, edge_list")

"""Opinion groups the way Polis finds them (issue 20), from a statements item's votes.

The method follows Polis's published pipeline (Small et al., "Polis: Scaling Deliberation by
Mapping High Dimensional Opinion Spaces", 2021; compdemocracy/polis ``math/``):

1. a participant × statement matrix: agree +1, disagree -1, pass 0, not seen: missing;
2. missing cells filled with the statement's mean vote (Polis imputes the column mean), then
   PCA to two dimensions; each participant's position is scaled up by
   ``sqrt(statements / statements they voted on)`` so that people who voted little are not
   all drawn to the centre (Polis's sparsity-aware projection);
3. only participants with at least ``MIN_VOTES`` votes (7, as Polis) are clustered; k-means for
   k = 2..5 on the 2-D positions, keeping the k with the best silhouette, with no group smaller
   than ``MIN_GROUP`` people;
4. per group, the statements that set it apart (Polis's "repness"): the share of the group
   that agrees (``pa = (1 + agrees) / (2 + votes)``, Laplace-smoothed as Polis does) against
   the share outside (``ra = pa / pa_outside``), kept when a majority of the group agrees and
   more than outside (the same with disagreement), best ``ra × pa`` first;
5. consensus statements: agreed by a majority of those who voted on it in every group.

Differences from Polis: Polis first reduces people to ~100 "base clusters" before grouping
them (it serves millions of votes live); here k-means runs on the people themselves, which at
consultation sizes (10,000 × 200 in well under a second, ``bench/groups.py``) needs no such
step. Polis ranks repness by z-scores of proportion tests and filters at 90 % confidence; the
ranking here is the same ``ra × pa`` product without the test. Everything is deterministic
(fixed seeds), so the same votes always give the same groups.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

MIN_VOTES = 7
MIN_GROUP = 2
MAX_GROUPS = 5
MAX_REPRESENTATIVE = 5
SEED = 0
#: Silhouette on a sample this large at most (its cost grows with the square of the people).
SILHOUETTE_SAMPLE = 2000


@dataclass(frozen=True, slots=True)
class Group:
    id: int  # 1, 2, ... largest first
    size: int
    #: Statement ids that set the group apart, most distinctive first.
    representative: list[int]
    #: statement id -> (agree, disagree, pass) counted among the group's members.
    votes: dict[int, tuple[int, int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Point:
    participant: int
    x: float
    y: float
    group: int | None  # None: too few votes to be placed in a group


@dataclass(frozen=True, slots=True)
class Analysis:
    statements: list[int]
    participants: list[int]
    groups: list[Group]
    consensus: list[int]
    points: list[Point]


def matrix(
    cells: Iterable[tuple[int, int, int]], statements: Sequence[int] | None = None
) -> tuple[list[int], list[int], np.ndarray]:
    """(participants, statements, matrix) from (participant, statement, value) cells; cells
    never voted are NaN. A later cell for the same pair replaces an earlier one."""
    table = np.array(list(cells), dtype=np.int64).reshape(-1, 3)
    columns = sorted(set(table[:, 1].tolist())) if statements is None else list(statements)
    known = np.array(columns, dtype=np.int64)
    order = np.argsort(known, kind="stable")
    at = np.searchsorted(known[order], table[:, 1])
    at = np.minimum(at, max(len(known) - 1, 0))
    kept = (len(known) > 0) & (known[order][at] == table[:, 1]) if len(known) else at < 0
    people_ids = np.unique(table[kept, 0])  # votes on other statements do not count
    votes = np.full((len(people_ids), len(columns)), np.nan)
    rows = np.searchsorted(people_ids, table[kept, 0])
    votes[rows, order[at[kept]]] = table[kept, 2]  # in order: a later cell replaces an earlier
    return people_ids.tolist(), columns, votes


def project(votes: np.ndarray) -> np.ndarray:
    """Polis's 2-D projection: column-mean imputation, PCA, sparsity scaling."""
    n, m = votes.shape
    if n == 0 or m == 0:
        return np.zeros((n, 2))
    seen = ~np.isnan(votes)
    counts = seen.sum(axis=0)
    means = np.where(counts > 0, np.nansum(votes, axis=0) / np.maximum(counts, 1), 0.0)
    filled = np.where(seen, votes, means)
    centred = filled - filled.mean(axis=0)
    # The principal components: the two leading eigenvectors of the statements' covariance
    # (m × m, cheap however many people), as an SVD of the whole matrix would give them.
    values, vectors = np.linalg.eigh(centred.T @ centred)
    components = vectors[:, np.argsort(values)[::-1][:2]].T
    if components.shape[0] < 2:
        components = np.vstack([components, np.zeros((2 - components.shape[0], m))])
    # A fixed sign per component: the same votes always draw the same map.
    signs = np.sign(components[np.arange(2), np.abs(components).argmax(axis=1)])
    components = components * np.where(signs == 0, 1, signs)[:, None]
    positions = centred @ components.T
    voted = np.maximum(seen.sum(axis=1), 1)
    scaled: np.ndarray = positions * np.sqrt(m / voted)[:, None]
    return scaled


def cluster(positions: np.ndarray) -> np.ndarray:
    """Group labels 0..k-1 (largest group first) by k-means with k chosen by silhouette;
    all zeros when no k from 2 to 5 gives groups of at least ``MIN_GROUP`` people."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = len(positions)
    best: tuple[float, np.ndarray] | None = None
    for k in range(2, MAX_GROUPS + 1):
        if n < k * MIN_GROUP or len(np.unique(positions, axis=0)) < k:
            break
        labels = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit_predict(positions)
        if np.bincount(labels, minlength=k).min() < MIN_GROUP:
            continue
        sample = min(n, SILHOUETTE_SAMPLE)
        score = float(silhouette_score(positions, labels, sample_size=sample, random_state=SEED))
        if best is None or score > best[0] + 1e-9:
            best = (score, labels)
    if best is None:
        return np.zeros(n, dtype=int)
    labels = best[1]
    order = np.argsort(-np.bincount(labels), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return np.asarray(rank[labels])


def _counts(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per statement: agrees, disagrees, votes seen (passes included)."""
    seen = ~np.isnan(votes)
    return (votes == 1).sum(axis=0), (votes == -1).sum(axis=0), seen.sum(axis=0)


def analyse(
    cells: Iterable[tuple[int, int, int]],
    statements: Sequence[int] | None = None,
    *,
    min_votes: int = MIN_VOTES,
) -> Analysis:
    """Groups, their representative statements and the consensus, from the votes."""
    from threadpoolctl import threadpool_limits

    # One thread: on a busy machine OpenMP's and BLAS's thread pools cost more than they
    # save at these sizes (k-means on 10,000 points: 2.1 s with them, 0.14 s without).
    with threadpool_limits(1):
        return _analyse(cells, statements, min_votes)


#: The analyses kept per process (``analyse_cached``): one per item, the newest few items.
CACHED_ITEMS = 8
_cache: OrderedDict[int, tuple[bytes, Analysis]] = OrderedDict()
_cache_lock = threading.Lock()


def analyse_cached(
    item_id: int, cells: Sequence[tuple[int, int, int]], statements: Sequence[int]
) -> Analysis:
    """``analyse``, kept per item and keyed on a digest of its exact input (every vote in
    order and the statements shown): the dashboard, results and exports of an item nobody has
    voted on since reuse the groups; any vote, change or moderation decision recomputes."""
    digest = hashlib.blake2b(
        np.asarray(cells, dtype=np.int64).tobytes() + b"|" + np.asarray(statements).tobytes(),
        digest_size=16,
    ).digest()
    with _cache_lock:
        kept = _cache.get(item_id)
        if kept is not None and kept[0] == digest:
            _cache.move_to_end(item_id)
            return kept[1]
    found = analyse(cells, statements)
    with _cache_lock:
        _cache[item_id] = (digest, found)
        _cache.move_to_end(item_id)
        while len(_cache) > CACHED_ITEMS:
            _cache.popitem(last=False)
    return found


def _analyse(
    cells: Iterable[tuple[int, int, int]], statements: Sequence[int] | None, min_votes: int
) -> Analysis:
    people, columns, votes = matrix(cells, statements)
    positions = project(votes)
    enough = min(min_votes, max(1, len(columns)))
    placed = (~np.isnan(votes)).sum(axis=1) >= enough
    labels = np.full(len(people), -1)
    if placed.sum() >= 2 * MIN_GROUP:
        found = cluster(positions[placed])
        if found.max() > 0:  # one group is no grouping
            labels[placed] = found
    groups: list[Group] = []
    shares: list[np.ndarray] = []
    for g in range(int(labels.max(initial=-1)) + 1):
        inside, outside = votes[labels == g], votes[(labels != g) & (labels >= 0)]
        agree, disagree, seen = _counts(inside)
        o_agree, o_disagree, o_seen = _counts(outside)
        pa, pd = (1 + agree) / (2 + seen), (1 + disagree) / (2 + seen)
        ra, rd = pa / ((1 + o_agree) / (2 + o_seen)), pd / ((1 + o_disagree) / (2 + o_seen))
        score = np.maximum(
            np.where((pa > 0.5) & (ra > 1), ra * pa, 0), np.where((pd > 0.5) & (rd > 1), rd * pd, 0)
        )
        ranked = [j for j in np.argsort(-score, kind="stable") if score[j] > 0]
        groups.append(
            Group(
                g + 1,
                int((labels == g).sum()),
                [columns[j] for j in ranked[:MAX_REPRESENTATIVE]],
                {
                    columns[j]: (
                        int(agree[j]),
                        int(disagree[j]),
                        int(seen[j] - agree[j] - disagree[j]),
                    )
                    for j in range(len(columns))
                },
            )
        )
        shares.append(np.where(seen > 0, agree / np.maximum(seen, 1), 0.0))
    if groups:
        consensus = [columns[j] for j in range(len(columns)) if all(s[j] > 0.5 for s in shares)]
    else:
        agree, _, seen = _counts(votes[placed]) if placed.any() else _counts(votes)
        consensus = [
            columns[j] for j in range(len(columns)) if seen[j] and agree[j] / seen[j] > 0.5
        ]
    points = [
        Point(
            p,
            float(positions[i, 0]),
            float(positions[i, 1]),
            int(labels[i]) + 1 if labels[i] >= 0 else None,
        )
        for i, p in enumerate(people)
    ]
    return Analysis(columns, people, groups, consensus, points)

"""Suggested themes for the answers to one open question (issue 19).

``suggest`` groups answers by what they say, names each group by its distinctive words, picks
three representative quotes, and lists the answers that fit no group. It is deterministic: the
same answers (in any order) give the same suggestions, every random step has a fixed seed.

Methods (compared on ``tests/data/themes_labelled.csv`` by ``bench/themes.py``; figures and the
reasons for the default in docs/performance.md):

- ``embed-kmeans`` (the default): each answer as the TF-IDF weighted mean of its words'
  WordLlama vectors (the 256-dimension static model shipped inside the ``wordllama`` wheel,
  read from the package, never downloaded), then k-means on the unit vectors.
- ``tfidf-kmeans``: TF-IDF of words, reduced by truncated SVD (LSA), then k-means.
- ``tfidf-nmf``: TF-IDF of words, non-negative matrix factorisation, each answer to its
  strongest component.
- ``top-word``: the trivial baseline, each answer grouped under its most frequent word.

When ``k`` is not given it is chosen by the silhouette score over 4 to 10 groups, on a fixed
sample of at most 2,000 answers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.models import Item

METHODS = ("embed-kmeans", "tfidf-kmeans", "tfidf-nmf", "top-word")
DEFAULT_METHOD = "embed-kmeans"
SEED = 0
K_RANGE = (4, 10)
MAX_K = 30
#: Silhouette scores are computed on at most this many answers (a fixed sample).
SILHOUETTE_SAMPLE = 2000
#: Groups smaller than this share of the answers (and never fewer than 3) are not suggested.
MIN_SHARE = 0.02
MIN_GROUP = 3
QUOTES = 3
WORDS = 5
_WORD = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")
#: What screening and moderation put in place of personal data: "[postcode removed]".
_REDACTED = re.compile(r"\[[a-z ]*removed\]")


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: int
    label: str
    words: list[str]
    count: int
    quotes: list[str]
    answers: list[int]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "words": self.words,
            "count": self.count,
            "quotes": self.quotes,
            "answers": self.answers,
        }


@dataclass(frozen=True, slots=True)
class Suggestions:
    method: str
    suggestions: list[Suggestion] = field(default_factory=list)
    unassigned: list[int] = field(default_factory=list)

    def as_json(self, item: str) -> dict[str, Any]:
        return {
            "item": item,
            "method": self.method,
            "suggestions": [s.as_json() for s in self.suggestions],
            "unassigned": self.unassigned,
        }


@cache
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | _EXTRA_STOP


def _given(words: list[str]) -> list[str]:
    """The analyzer of answers already split into words."""
    return words


def tokens(text: str) -> list[str]:
    """Lower-case words of an answer, stop words and one-letter words left out."""
    stop = _stop_words()
    text = _REDACTED.sub(" ", text.casefold().replace("’", "'"))
    return [w for w in _WORD.findall(text) if len(w) > 1 and w not in stop]


#: Words that carry no theme in consultation answers.
_EXTRA_STOP = frozenset(
    [
        "please",
        "just",
        "really",
        "think",
        "like",
        "make",
        "need",
        "needs",
        "want",
        "don't",
        "doesn't",
        "isn't",
        "can't",
        "won't",
        "it's",
        "i'm",
        "i've",
        "i'd",
        "they're",
        "there's",
        "that's",
        "dont",
        "doesnt",
        "isnt",
        "cant",
        "wont",
        "im",
        "ive",
        "would",
        "could",
        "should",
        "also",
        "lot",
        "lots",
        "thing",
        "things",
        "way",
        "get",
        "got",
        "yes",
    ]
)


@cache
def _wordllama() -> Any:
    """The WordLlama model from the files inside the installed wheel (no download)."""
    from pathlib import Path

    import wordllama

    # The package looks for its tokenizer under "tokenizer/" but ships it in "tokenizers/",
    # the layout of its cache directory: point the cache at the package itself.
    return wordllama.WordLlama.load(
        cache_dir=Path(wordllama.__file__).parent, disable_download=True
    )


def _embed(texts: Sequence[list[str]]) -> NDArray[np.float32] | None:
    """Each answer as the TF-IDF weighted mean of its words' WordLlama vectors.

    Weighting by TF-IDF (fitted on this question's answers) keeps words that every answer
    uses, and stop words, from drowning the words that tell the answers apart; WordLlama's
    sub-word vectors put misspellings and related words ("fare", "tickets") near each other.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=_given, sublinear_tf=True, norm=None, dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no word in any answer
        return None
    words = vectorizer.get_feature_names_out().tolist()
    vectors = np.asarray(_wordllama().embed(words, norm=True, batch_size=512), dtype=np.float32)
    return _unit(np.asarray(matrix @ vectors))


def _unit(vectors: NDArray[Any]) -> NDArray[np.float32]:
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: NDArray[np.float32] = (vectors / norms).astype(np.float32)
    return result


def _tfidf(texts: Sequence[list[str]]) -> Any:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    min_df = 2 if len(texts) >= 20 else 1
    vectorizer = TfidfVectorizer(
        analyzer=_given, sublinear_tf=True, min_df=min_df, max_df=0.5, dtype=np.float32
    )
    try:
        return vectorizer.fit_transform(texts)
    except ValueError:  # no word in any answer
        return None


def _lsa(texts: Sequence[list[str]]) -> NDArray[np.float32] | None:
    import numpy as np
    from sklearn.decomposition import TruncatedSVD

    matrix = _tfidf(texts)
    if matrix is None or matrix.shape[1] < 3:
        return None
    dims = min(100, matrix.shape[1] - 1, matrix.shape[0] - 1)
    reduced = TruncatedSVD(dims, random_state=SEED).fit_transform(matrix)
    return _unit(np.asarray(reduced))


def _kmeans(
    vectors: NDArray[np.float32], k: int, init: NDArray[Any] | None = None
) -> tuple[NDArray[np.intp], NDArray[Any]]:
    from sklearn.cluster import KMeans

    if init is not None:
        model = KMeans(len(init), init=init, n_init=1, random_state=SEED).fit(vectors)
    else:
        model = KMeans(k, n_init=2, random_state=SEED).fit(vectors)
    return model.labels_, model.cluster_centers_


def _sample(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    import numpy as np

    if len(vectors) <= SILHOUETTE_SAMPLE:
        return vectors
    rows = np.random.default_rng(SEED).choice(len(vectors), SILHOUETTE_SAMPLE, replace=False)
    return vectors[np.sort(rows)]


def choose_k(
    vectors: NDArray[np.float32], low: int = K_RANGE[0], high: int = K_RANGE[1]
) -> tuple[int, NDArray[Any] | None]:
    """The number of groups with the best silhouette (cosine) on a fixed sample of the
    answers, and the centres found on that sample (None when there is nothing to compare)."""
    from sklearn.metrics import silhouette_score

    sample = _sample(vectors)
    # Groups of about 5 answers at least: a few answers are not split 4 ways.
    high = min(high, len(sample) - 1, max(2, len(vectors) // 5))
    low = min(low, high)
    if low < 2:
        return max(1, low), None
    best: tuple[float, int, NDArray[Any] | None] = (-2.0, low, None)
    for k in range(low, high + 1):
        labels, centres = _kmeans(sample, k)
        if len(set(labels.tolist())) < 2:
            continue
        score = float(silhouette_score(sample, labels, metric="cosine"))
        if score > best[0] + 1e-9:
            best = (score, k, centres)
    return best[1], best[2]


def cluster(texts: Sequence[list[str]], k: int | None, method: str) -> list[int]:
    """A group number per answer given as its words (-1: fits no group), before naming."""
    import numpy as np

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    n = len(texts)
    if n == 0:
        return []
    if method == "top-word":
        return _top_word(texts)
    empty = [not words for words in texts]
    if method == "tfidf-nmf":
        labels = _nmf(texts, k)
    else:
        vectors = _embed(texts) if method == "embed-kmeans" else _lsa(texts)
        if vectors is None or n < 2 * MIN_GROUP:
            return [-1] * n
        if k:
            found, centres = _kmeans(vectors, min(k, n))
        else:
            chosen, start = choose_k(vectors)
            found, centres = _kmeans(vectors, chosen, start)
        labels = found.tolist()
        # An answer far from its group's centre fits no group.
        centres = _unit(np.asarray(centres))
        fit = np.einsum("ij,ij->i", vectors, centres[found])
        labels = [-1 if f < FIT_FLOOR else label for f, label in zip(fit, labels, strict=True)]
    labels = [-1 if e else label for e, label in zip(empty, labels, strict=True)]
    return _drop_small(labels)


#: Cosine similarity to the group's centre below which an answer fits no group.
FIT_FLOOR = 0.35


def _nmf(texts: Sequence[list[str]], k: int | None) -> list[int]:
    from sklearn.decomposition import NMF

    matrix = _tfidf(texts)
    if matrix is None or matrix.shape[0] < 2 * MIN_GROUP or matrix.shape[1] < 2:
        return [-1] * len(texts)
    if not k:
        lsa = _lsa(texts)
        k = choose_k(lsa)[0] if lsa is not None else 2
    k = max(1, min(k, *matrix.shape))
    weights = NMF(k, init="nndsvda", random_state=SEED, max_iter=400).fit_transform(matrix)
    best = weights.argmax(axis=1)
    strength = weights.max(axis=1)
    return [-1 if s <= 1e-6 else int(b) for b, s in zip(best, strength, strict=True)]


def _top_word(words: Sequence[list[str]]) -> list[int]:
    """The baseline: group under the answer's most frequent word across all answers."""
    df = Counter(w for ws in words for w in set(ws))
    names: dict[str, int] = {}
    labels = []
    for ws in words:
        if not ws:
            labels.append(-1)
            continue
        top = min(set(ws), key=lambda w: (-df[w], w))
        labels.append(names.setdefault(top, len(names)))
    return _drop_small(labels)


def _drop_small(labels: list[int]) -> list[int]:
    floor = max(MIN_GROUP, int(MIN_SHARE * len(labels)))
    sizes = Counter(labels)
    return [label if label >= 0 and sizes[label] >= floor else -1 for label in labels]


def _distinctive(groups: dict[int, list[int]], texts: Sequence[list[str]]) -> dict[int, list[str]]:
    """Each group's distinctive words: class-based TF-IDF over the groups (as in BERTopic)."""
    import math

    counts = {g: Counter(w for i in rows for w in texts[i]) for g, rows in groups.items()}
    everywhere = Counter(w for c in counts.values() for w in c.elements())
    mean_len = sum(everywhere.values()) / max(1, len(groups))
    named = {}
    for g, words in counts.items():
        total = sum(words.values()) or 1
        score = {
            w: (n / total) * math.log(1 + mean_len / everywhere[w])
            for w, n in words.items()
            if n >= 2 or len(groups[g]) < 4
        }
        named[g] = sorted(score, key=lambda w: (-score[w], w))[:WORDS]
    return named


def _quotes(
    rows: list[int], texts: Sequence[str], split: Sequence[list[str]], words: list[str]
) -> list[str]:
    """Three representative answers: those that use most of the group's words, distinct."""
    weight = {w: WORDS - i for i, w in enumerate(words)}
    scored = sorted(
        rows,
        key=lambda i: (-sum(weight.get(w, 0) for w in set(split[i])), len(texts[i]), i),
    )
    chosen: list[str] = []
    seen: set[str] = set()
    for i in scored:
        key = " ".join(split[i])
        if key in seen:
            continue
        seen.add(key)
        chosen.append(texts[i])
        if len(chosen) == QUOTES:
            break
    return chosen


def _one_thread(work: Any, *args: Any) -> Any:
    """``work(*args)`` with the numeric libraries on one thread each.

    k-means and BLAS otherwise spin OpenMP threads on every core: on a busy 2-core server that
    made one suggestion take 30 s of wall time for 5 s of CPU, against 9 s and 1 s on one
    thread (bench/themes.py). The dashboard runs suggestions in a worker thread anyway.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), warnings.catch_warnings():
        # Identical answers (a campaign's) are fewer distinct points than k: expected.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return work(*args)


def label_for(words: Sequence[str]) -> str:
    return ", ".join(words[:3]).capitalize()[:60] or "Other"


def suggest(
    answers: Iterable[tuple[int, str]], k: int | None = None, method: str = DEFAULT_METHOD
) -> Suggestions:
    """Suggested themes for ``(answer id, text)`` pairs; the order they come in is irrelevant."""
    if k is not None and not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}")
    pairs = sorted(dict(answers).items())
    ids = [i for i, _ in pairs]
    texts = [t for _, t in pairs]
    split = [tokens(t) for t in texts]
    labels = _one_thread(cluster, split, k, method)
    groups: dict[int, list[int]] = {}
    for row, label in enumerate(labels):
        if label >= 0:
            groups.setdefault(label, []).append(row)
    words = _distinctive(groups, split)
    # Largest group first; ties by the oldest answer, so the numbering is stable.
    order = sorted(groups, key=lambda g: (-len(groups[g]), groups[g][0]))
    suggestions = [
        Suggestion(
            id=number,
            label=label_for(words[g]),
            words=words[g],
            count=len(groups[g]),
            quotes=_quotes(groups[g], texts, split, words[g]),
            answers=[ids[row] for row in groups[g]],
        )
        for number, g in enumerate(order, 1)
    ]
    unassigned = [ids[row] for row, label in enumerate(labels) if label < 0]
    return Suggestions(method, suggestions, unassigned)


def has_open_answers(item: Item) -> bool:
    """Open questions, and the ratings and clauses whose answers carry a why or a comment."""
    from services.consultations import WITH_TEXT

    return item.kind == "ask" or item.kind in WITH_TEXT


async def for_item(
    session: AsyncSession, item: Item, k: int | None = None, method: str = DEFAULT_METHOD
) -> Suggestions:
    """Suggestions for an item's visible answers (never held, hidden or redacted ones)."""
    from storage.themes import ThemeRepository

    answers = await ThemeRepository(session).visible_texts(item.id)
    return suggest(answers, k, method)

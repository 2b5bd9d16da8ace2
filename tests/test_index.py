"""One contract suite for every vector index (hnsw, exact), with values known by construction."""

import numpy as np
import pytest

from skilllab.index import INDEX_KINDS, load_index, make_index


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(params=sorted(INDEX_KINDS))
def kind(request):
    return request.param


def test_cosine_similarity_values(kind):
    idx = make_index(kind, 3)
    idx.upsert(["x", "y", "xy"], unit([[1, 0, 0], [0, 1, 0], [1, 1, 0]]))
    hits = idx.search(unit([[1, 0, 0]])[0], k=3)
    assert [h.name for h in hits] == ["x", "xy", "y"]
    assert np.allclose([h.similarity for h in hits], [1.0, 2 ** -0.5, 0.0], atol=1e-5)


def test_update_remove_readd_and_filter(kind):
    idx = make_index(kind, 3)
    idx.upsert(["a", "b"], unit([[1, 0, 0], [0, 1, 0]]))
    idx.upsert(["a"], unit([[0, 0, 1]]))  # update in place
    assert idx.search(unit([[0, 0, 1]])[0], k=1)[0].name == "a"
    idx.remove("a")
    assert [h.name for h in idx.search(unit([[0, 0, 1]])[0], k=5)] == ["b"]
    assert len(idx) == 1 and "a" not in idx
    idx.upsert(["a"], unit([[1, 0, 0]]))
    assert [h.name for h in idx.search(unit([[1, 0, 0]])[0], k=5)] == ["a", "b"]
    assert [h.name for h in idx.search(unit([[1, 0, 0]])[0], k=5, allow=lambda n: n != "a")] == ["b"]
    assert idx.search(unit([[1, 0, 0]])[0], k=5, allow=lambda n: False) == []


def test_k_larger_than_size_and_empty(kind):
    idx = make_index(kind, 3)
    assert idx.search(unit([[1, 0, 0]])[0], k=3) == []
    idx.upsert(["a"], unit([[1, 0, 0]]))
    assert len(idx.search(unit([[1, 0, 0]])[0], k=10)) == 1


def test_save_load_roundtrip_and_growth(kind, tmp_path):
    rng = np.random.default_rng(0)
    vecs = unit(rng.normal(size=(300, 16)))
    idx = make_index(kind, 16)
    for i in range(0, 300, 50):  # many small batches force the HNSW index to grow
        idx.upsert([f"n{j}" for j in range(i, i + 50)], vecs[i:i + 50])
    idx.remove("n7")
    path = tmp_path / f"skills.{kind}"
    idx.save(path)
    again = load_index(kind, path)
    assert len(again) == 299 and "n7" not in again
    for j in (0, 123, 299):
        assert again.search(vecs[j], k=1)[0].name == f"n{j}"
    again.upsert(["extra"], vecs[:1])
    assert len(again) == 300


def test_hnsw_matches_exact_on_random_vectors():
    rng = np.random.default_rng(1)
    vecs = unit(rng.normal(size=(2000, 32)))
    hnsw, exact = make_index("hnsw", 32), make_index("exact", 32)
    names = [str(i) for i in range(2000)]
    hnsw.upsert(names, vecs)
    exact.upsert(names, vecs)
    queries = unit(rng.normal(size=(50, 32)))
    agree = np.mean([
        len({h.name for h in hnsw.search(q, 5)} & {h.name for h in exact.search(q, 5)}) / 5 for q in queries])
    assert agree >= 0.95


def test_terms_are_hashed_into_the_columns_scikit_learn_gives_them():
    """Documents and queries are hashed without importing scikit-learn, into the columns and
    counts its ``HashingVectorizer`` gives (identifiers, repeats, unicode, an empty text, a
    stop-word-only one); the hash itself equals ``sklearn.utils.murmurhash3_32`` on random
    strings of every length and script, with random seeds."""
    import random

    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.utils import murmurhash3_32

    from skilllab._hashing import murmurhash3_32 as ours
    from skilllab.index.lexical import N_FEATURES, query_counts, term_counts, tokenize

    texts = ["KubePodCrashLooping on payments-api: pods restarting, restarting again",
             "cancel_reservation for reservation 8JX2QF; customer wants a refund refund refund",
             "Ünïcode café — naïve résumé / kubectl -n prod get pods", "", "a the of", "x" * 300]
    vectorizer = HashingVectorizer(n_features=N_FEATURES, analyzer=tokenize, alternate_sign=False, norm=None,
                                   dtype=np.float32)
    expected, got = vectorizer.transform(texts).tocsr(), term_counts(texts)
    assert (expected.indptr.tolist(), expected.indices.tolist(), expected.data.tolist()) == (
        got.indptr.tolist(), got.indices.tolist(), got.data.tolist())
    assert got.dtype == np.float32 and got.shape == expected.shape
    for i, text in enumerate(texts):
        row = expected.getrow(i)
        cols, counts = query_counts(text)
        assert cols.tolist() == row.indices.tolist() and counts.tolist() == row.data.tolist(), text
    rng = random.Random(3)
    alphabet = "abcXYZ019_-./ é漢😀\x00"
    for _ in range(5000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        seed = rng.choice([0, rng.randint(0, 2**32 - 1)])
        assert ours(s, seed) == murmurhash3_32(s, seed=seed), (s, seed)
    assert ours("") == murmurhash3_32("", seed=0) and ours(b"kube") == murmurhash3_32("kube", seed=0)


def test_searching_a_library_does_not_import_scikit_learn(tmp_path):
    """A process that opens a library and searches it (its vectors from the cache, as a replay of
    a corpus replayed before or the MCP server) never imports scikit-learn: one to two seconds
    saved at every start. Checked in a fresh interpreter."""
    import subprocess
    import sys

    script = f"""
import sys
from skilllab import Library, Skill
from skilllab.embed.base import normalize
import numpy as np

class Fixed:
    id, dim = "fixed:8", 8
    def embed(self, texts):
        return normalize(np.array([[len(t) % 7 + 1.0, t.count("a") + 1.0, 1, 2, 3, 4, 5, 6] for t in texts]))

agent = Library({str(tmp_path / "lib")!r}, embedder=Fixed()).agent("a")
agent.write(Skill.new("restart-pod", "Restart a crashing pod", agent="a", when_to_use="KubePodCrashLooping",
                      steps=["`kubectl delete pod x`"], worked=["x"], dead_ends=[], source="s", date="2026-03-01"),
            "add")
hits = agent.search("KubePodCrashLooping on payments", k=3)
assert [h.name for h in hits] == ["restart-pod"], hits
print(sorted(m for m in sys.modules if m.split(".")[0] == "sklearn"))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_lexical_scores_of_a_repeated_query_are_kept_until_the_index_changes():
    from skilllab.index.lexical import LexicalIndex

    idx = LexicalIndex()
    idx.upsert(["a", "b"], ["kafka consumer lag on orders", "postgres too many connections"])
    first = idx.query("kafka consumer lag")
    assert idx.query("kafka consumer lag") is first  # the same text again: the kept scores
    assert first[idx.position("a")] > 0.5 and first[idx.position("b")] == 0.0
    idx.upsert(["c"], ["kafka consumer lag growing"])  # a change: every kept score is dropped
    again = idx.query("kafka consumer lag")
    assert again is not first and len(again) == 3 and again[idx.position("c")] > 0.5
    idx.remove("c")
    assert len(idx.query("kafka consumer lag")) == 2
    for i in range(20):  # only the last few texts are kept
        idx.query(f"query {i} kafka")
    assert len(idx._recent) <= 8

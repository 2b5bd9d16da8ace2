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


def test_a_query_is_hashed_into_the_columns_the_documents_use():
    """The search path hashes a query itself: the same columns and counts as the vectorizer the
    documents go through, on identifiers, repeats, unicode and an empty text."""
    from skilllab.index.lexical import query_counts, term_counts

    texts = ["KubePodCrashLooping on payments-api: pods restarting, restarting again",
             "cancel_reservation for reservation 8JX2QF; customer wants a refund refund refund",
             "Ünïcode café — naïve résumé / kubectl -n prod get pods", "", "a the of", "x" * 300]
    for text in texts:
        expected = term_counts([text])
        cols, counts = query_counts(text)
        assert cols.tolist() == expected.indices.tolist() and counts.tolist() == expected.data.tolist(), text


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

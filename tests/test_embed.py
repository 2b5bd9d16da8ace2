"""One contract suite for every registered embedder, and the on-disk cache."""

import subprocess
import sys

import numpy as np
import pytest
from openai_stub import StubOpenAI

from skilllab import ConfigError
from skilllab.embed import CachedEmbedder, EmbeddingCache, get_embedder, make_raw_embedder

TEXTS = ["pods crash looping after deploy", "disk is full on node-3", "pods crash looping after deploy", ""]


@pytest.fixture(params=["hashing", "minilm", "openai"])
def embedder(request, tmp_path, monkeypatch):
    if request.param == "openai":
        stub = StubOpenAI().__enter__()
        request.addfinalizer(lambda: stub.__exit__(None, None, None))
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        return make_raw_embedder("openai:stub-embed")
    if request.param == "minilm":
        return request.getfixturevalue("minilm")
    return make_raw_embedder(request.param)


def test_contract_shape_dtype_norm_and_determinism(embedder):
    v = embedder.embed(TEXTS)
    assert v.shape == (4, embedder.dim) and v.dtype == np.float32
    norms = np.linalg.norm(v[:3], axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5)
    assert np.allclose(v[0], v[2], atol=1e-6)
    assert np.allclose(embedder.embed(TEXTS[:1])[0], v[0], atol=1e-5)
    assert embedder.embed([]).shape[0] == 0
    assert isinstance(embedder.id, str) and embedder.id


def test_minilm_knows_meaning(minilm):
    a, b, c = minilm.embed(["the pod keeps restarting", "container is in a crash loop",
                            "renew the TLS certificate"])
    assert float(a @ b) > float(a @ c) + 0.15


def test_cache_embeds_each_text_once_across_instances(tmp_path, hashing):
    class Counting:
        id = "counting:v1"
        dim = 4
        calls: list = []

        def embed(self, texts):
            self.calls.append(list(texts))
            return np.tile(np.array([1, 0, 0, 0], np.float32), (len(texts), 1))

    inner = Counting()
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    e = CachedEmbedder(inner, cache)
    e.embed(["a", "b", "a"])
    assert inner.calls == [["a", "b"]]
    e2 = CachedEmbedder(inner, EmbeddingCache(tmp_path / "c.sqlite"))
    out = e2.embed(["b", "a", "c"])
    assert inner.calls == [["a", "b"], ["c"]]
    assert e2.hits == 2 and e2.misses == 1 and out.shape == (3, 4)


def test_cache_shared_with_another_process(tmp_path, minilm):
    cache = tmp_path / "shared"
    code = ("import sys; from skilllab.embed import get_embedder; "
            "e = get_embedder('minilm', sys.argv[1]); e.embed(['kafka lag on orders topic']); "
            "print(e.misses)")
    first = subprocess.run([sys.executable, "-c", code, str(cache)], capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", code, str(cache)], capture_output=True, text=True, check=True)
    assert first.stdout.strip() == "1" and second.stdout.strip() == "0"
    mine = get_embedder("minilm", cache)
    v = mine.embed(["kafka lag on orders topic"])
    assert mine.hits == 1 and mine.misses == 0
    assert np.allclose(v[0], minilm.embed(["kafka lag on orders topic"])[0], atol=1e-5)


def test_unknown_embedder_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown embedder 'bert'"):
        get_embedder("bert")
    with pytest.raises(ConfigError, match="whole number"):
        get_embedder("hashing:lots")


def test_hashing_vectors_are_the_vectorizers_own():
    """The hashing embedder computes its buckets itself: the vectors equal scikit-learn's
    transform, l2-normalised, bit for bit (identifiers, unicode, stop words only, empty)."""
    import numpy as np

    from skilllab.embed.base import normalize
    from skilllab.embed.hashing import HashingEmbedder

    texts = ["Pods crash-looping in payments after deploy; restart restart", "cancel_reservation 8JX2QF refund",
             "Ünïcode café résumé kubectl get pods", "", "the of and", "disk pressure on node-7 " * 40]
    for width in (1024, 384):
        emb = HashingEmbedder(width)
        expected = normalize(emb._vec.transform(texts).toarray())
        got = emb.embed(texts)
        assert got.dtype == np.float32 and got.shape == (len(texts), width)
        assert np.array_equal(got, expected)
    assert HashingEmbedder().embed([]).shape == (0, 1024)

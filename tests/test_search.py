"""Hybrid search with the real MiniLM: what only the lexical signal finds, what only the dense one
finds, a skill found through a phrasing it learned, and the lexical index itself."""

import shutil

import pytest

from skilllab import Library, Skill
from skilllab.index.lexical import LexicalIndex, tokenize
from skilllab.phrasings import PHRASINGS_FILE, render


def mk(name, desc, when):
    return Skill.new(name, desc, agent="a", when_to_use=when, steps=["`kubectl get pods`"], worked=["x"],
                     dead_ends=[], source="s", date="2026-03-01")


def library(tmp_path, minilm, skills, weight, files=None, phrasings=24):
    root = tmp_path / f"lib-{weight}-{phrasings}"
    shutil.rmtree(root, ignore_errors=True)
    agent = Library(root, embedder=minilm, search={"lexical_weight": weight, "phrasings": phrasings}).agent("a")
    for s in skills:
        agent.write(s, f"add {s.name}", files=(files or {}).get(s.name))
    return agent


# Alerts of the kubernetes-mixin: near-identical names, different meanings
ALERTS = [("kube-cpu-overcommit", "KubeCPUOvercommit", "Cluster has overcommitted CPU resource requests for pods."),
          ("kube-memory-overcommit", "KubeMemoryOvercommit", "Cluster has overcommitted memory resource requests for pods."),
          ("kube-cpu-quota-overcommit", "KubeCPUQuotaOvercommit", "Cluster has overcommitted CPU resource requests for namespaces."),
          ("kube-memory-quota-overcommit", "KubeMemoryQuotaOvercommit", "Cluster has overcommitted memory requests for namespaces."),
          ("kube-quota-exceeded", "KubeQuotaExceeded", "Namespace quota is going to be full."),
          ("cpu-throttling-high", "CPUThrottlingHigh", "Processes experience elevated CPU throttling.")]


def test_an_alert_name_that_only_the_lexical_signal_finds(tmp_path, minilm):
    skills = [mk(n, f"Runbook for the {al} alert: {d}", f"{al} fires: {d}") for n, al, d in ALERTS]
    query = "[FIRING:1] KubeQuotaExceeded prod-eu"
    dense = library(tmp_path, minilm, skills, 0.0).search(query, k=1)[0]
    hybrid = library(tmp_path, minilm, skills, 0.3).search(query, k=1)[0]
    assert dense.name == "kube-cpu-quota-overcommit"  # meaning alone picks the wrong quota alert
    assert hybrid.name == "kube-quota-exceeded"
    # and the hybrid misses none of the six alerts
    agent = library(tmp_path, minilm, skills, 0.3)
    assert [agent.search(f"[FIRING:1] {al} prod-eu", k=1)[0].name for _, al, _ in ALERTS] == [n for n, _, _ in ALERTS]


def test_a_paraphrase_that_only_the_dense_signal_finds(tmp_path, minilm):
    skills = [mk("renew-expired-tls-certificate", "Renew an expired TLS certificate with certbot and reload nginx.",
                 "Browsers show a certificate expiry warning."),
              mk("restart-stuck-pods", "Find why pods keep restarting again and again and fix the container.",
                 "Pods restart repeatedly and never become ready."),
              mk("rotate-database-credentials", "Rotate the database password and update the secret.",
                 "Credentials leaked or due for rotation.")]
    query = "the site's padlock shows the cert is out of date in Chrome"  # no word in common with the runbook
    lexical = library(tmp_path, minilm, skills, 1.0).search(query, k=3)
    hybrid = library(tmp_path, minilm, skills, 0.3).search(query, k=3)
    assert not lexical or lexical[0].similarity < 0.1
    assert hybrid[0].name == "renew-expired-tls-certificate" and hybrid[0].similarity > 2 * hybrid[1].similarity


def test_a_skill_is_found_through_a_phrasing_it_learned(tmp_path, minilm):
    skills = [mk("unsuspend-cronjob", "Unsuspend a suspended CronJob and trigger a manual run.",
                 "A Kubernetes CronJob has spec.suspend set to true."),
              mk("fix-export-disk-full", "Free disk space on the export volume so batch jobs can write.",
                 "Batch jobs fail with no space left on the export volume.")]
    files = {"unsuspend-cronjob": {PHRASINGS_FILE: render(["the nightly invoice export never ran last night"])}}
    query = "nightly invoice export did not run"
    with_phrasing = library(tmp_path, minilm, skills, 0.3, files).search(query, k=2)
    without = library(tmp_path, minilm, skills, 0.3, files, phrasings=0).search(query, k=2)
    assert with_phrasing[0].name == "unsuspend-cronjob" and with_phrasing[0].similarity > 0.6
    assert without[0].name == "fix-export-disk-full"  # its own text alone reads closer


def test_tokens_split_identifiers_and_keep_the_whole_name():
    toks = tokenize("KubePodCrashLooping on payments-api: cancel_reservation(reservation_id=EHGLP3) restarting")
    for t in ("kube", "pod", "crash", "loop", "kubepodcrashlooping", "payment", "api", "payments-api", "cancel",
              "cancel_reservation", "restart"):
        assert t in toks


def test_lexical_index_updates_one_document_at_a_time(tmp_path):
    ix = LexicalIndex()
    ix.upsert(["a", "b", "c"], ["kube pod crash looping on checkout", "payments api latency", "disk pressure on node"])
    assert ix.search("KubePodCrashLooping", 1)[0][0] == "a"
    assert ix.scores("nothing shared here") == {}
    ix.upsert(["a"], ["disk full on the node"])  # replaced in place
    assert ix.search("crash looping", 3) == [] and ix.search("disk", 1)[0][0] in ("a", "c")
    ix.remove("c")
    assert ix.names() == {"a", "b"} and len(ix) == 2
    same = ix.scores("payments api latency")["b"]
    assert same == pytest.approx(1.0)  # the same bag of terms scores 1
    ix.save(tmp_path / "lex.npz")
    again = LexicalIndex.load(tmp_path / "lex.npz")
    assert again.scores("payments api latency") == pytest.approx(ix.scores("payments api latency"))


@pytest.mark.parametrize("fusion", ["linear", "boost"])
@pytest.mark.parametrize("kind", ["hnsw", "exact"])
def test_search_ranks_skills_by_their_best_document_scored_exactly(tmp_path, hashing, fusion, kind):
    """Where the library is small enough for every document to be a candidate, a search is the
    exact fused score of every document (``score_skills``), each skill at its best document and
    its own text beside it; with skills deprecated, those are left out. Checked for both fusions
    and both vector indexes, on texts that share terms with some skills and none with others."""
    import numpy as np

    from skilllab.index.skills import SearchSettings

    settings = SearchSettings(lexical_weight=0.3, fusion=fusion)
    d = np.linspace(-0.3, 1.0, 27)
    lex = np.linspace(0.0, 1.0, 27)[::-1].copy()
    assert settings.fuse_arrays(d, lex).tolist() == [settings.fuse(a, b) for a, b in zip(d.tolist(), lex.tolist())]

    agent = Library(tmp_path / "lib", embedder=hashing, index=kind,
                    search={"lexical_weight": 0.3, "fusion": fusion}).agent("a")
    for slug, alert, desc in ALERTS:
        agent.write(mk(slug, desc, f"The alert {alert} fires."), f"add {slug}",
                    files={PHRASINGS_FILE: render([f"{alert} paging on prod", f"{desc} again"])})
    index = agent.index
    names = sorted(index.entries)
    for text in ("KubeCPUOvercommit fires on the payments cluster", "memory requests overcommitted in namespaces",
                 "quota going to be full", "nothing in common here"):
        exact = index.score_skills(text, names)
        want = sorted(((n, sc, own) for n, (sc, own) in exact.items()), key=lambda t: (-t[1], t[0]))[:4]
        got = index.search(text, 4)
        assert [n for n, _, _ in got] == [n for n, _, _ in want], text
        assert np.allclose([(sc, own) for _, sc, own in got], [(sc, own) for _, sc, own in want], atol=1e-6), text
    agent.deprecate("kube-quota-exceeded", "superseded")
    hits = agent.search("quota going to be full", k=6)
    assert "kube-quota-exceeded" not in [h.name for h in hits] and len(hits) == 5

import json

import pytest
from helpers import CRASHLOOP_CALLS, make_session

from skilllab.corpus import CorpusError, iter_corpus, read_corpus, validate_corpus
from skilllab.session import Session


def write(tmp_path, rows):
    p = tmp_path / "c.jsonl"
    p.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return p


def good(sid, **kw):
    return make_session(sid, "Pods crash", CRASHLOOP_CALLS[:2], **kw)


def test_reads_sorted_by_started_at_with_stable_ties(tmp_path):
    p = write(tmp_path, [good("b", started_at="2026-03-02T00:00:00Z"), good("a", started_at="2026-03-01T00:00:00+00:00"),
                         good("c", started_at="2026-03-02T00:00:00Z")])
    sessions, problems = read_corpus(p)
    assert [s.session_id for s in sessions] == ["a", "b", "c"] and problems == []


def test_tool_steps_and_content_parts():
    d = good("s")
    d["messages"].append({"role": "assistant", "content": [{"type": "text", "text": "done"},
                                                          {"type": "text", "text": "really"}]})
    s = Session.from_dict(d)
    steps = s.tool_steps()
    assert [st.command for st in steps] == [c for c, _ in CRASHLOOP_CALLS[:2]]
    assert steps[1].output == "panic: DATABASE_URL not set"
    assert s.final_answer() == "done\nreally"


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d.pop("task"), "task"),
    (lambda d: d.update(agent_id="Bad Agent"), "agent_id"),
    (lambda d: d.update(started_at="yesterday"), "started_at"),
    (lambda d: d["outcome"].update(success="yes"), "outcome.success"),
    (lambda d: d["messages"][2].update(tool_call_id="nope"), "messages[2].tool_call_id"),
    (lambda d: d["messages"][0].update(tool_calls=[]), "messages[0].tool_calls"),
    (lambda d: d["messages"][1].update(role="robot"), "messages[1].role"),
    (lambda d: d.update(labels={"family": 3}), "labels.family"),
])
def test_bad_lines_name_file_line_and_field(tmp_path, mutate, field):
    bad = good("s2")
    mutate(bad)
    p = write(tmp_path, [good("s1"), bad])
    with pytest.raises(CorpusError) as err:
        read_corpus(p)
    first = err.value.problems[0]
    assert (first.file, first.line, first.field) == (str(p), 2, field)
    assert str(err.value).startswith(f"{p}:2: {field}: ")


def test_lenient_skips_and_counts(tmp_path):
    p = write(tmp_path, [good("s1"), "{broken", good("s1"), good("s3")])
    n, problems = validate_corpus(p)
    assert n == 2 and [(q.line, q.field) for q in problems] == [(2, "(line)"), (3, "session_id")]
    sessions, problems = read_corpus(p, lenient=True)
    assert [s.session_id for s in sessions] == ["s1", "s3"] and len(problems) == 2
    with pytest.raises(CorpusError):
        list(iter_corpus(p))


def _mutations():
    """Ways to break a session's shape, each one the schema must refuse."""
    return [lambda d: d.pop("task"), lambda d: d.update(agent_id="Bad Agent"), lambda d: d.update(task=""),
            lambda d: d["outcome"].update(success="yes"), lambda d: d["outcome"].update(success="false"),
            lambda d: d["messages"][1].update(role="robot"), lambda d: d.update(labels={"family": 3}),
            lambda d: d.update(messages={}), lambda d: d["messages"].append("hello"),
            lambda d: d["messages"][0].update(content=7), lambda d: d.pop("outcome"),
            lambda d: d["messages"][1]["tool_calls"][0].update(function="kubectl"),
            lambda d: d["messages"][1]["tool_calls"][0]["function"].pop("name"),
            lambda d: d.update(session_id=None), lambda d: d.update(started_at=5)]


def test_fast_schema_check_agrees_with_jsonschema_on_every_line():
    """The fast accept path (fastjsonschema) and jsonschema give the same verdict: on every line of
    the bundled corpus, on hand-made sessions, and on each way of breaking one."""
    from pathlib import Path

    from skilllab.corpus.validate import _accepts, _validator

    def fast_ok(d):
        try:
            _accepts()(d)
            return True
        except Exception:
            return False

    corpus = Path(__file__).resolve().parents[1] / "datasets" / "sre-sessions.jsonl"
    rows = [json.loads(line) for line in corpus.read_text().splitlines()]
    assert all(fast_ok(d) for d in rows) and not any(any(True for _ in _validator().iter_errors(d)) for d in rows)
    for i, mutate in enumerate(_mutations()):
        bad = good(f"s{i}")
        assert fast_ok(bad) and not list(_validator().iter_errors(bad))
        mutate(bad)
        assert not fast_ok(bad) and list(_validator().iter_errors(bad)), i


def test_sorted_corpus_streams_the_same_sessions_as_read_corpus(tmp_path):
    """The replay's stream gives the sessions read_corpus gives, in the same order, parsed again
    from their lines on each use; it keeps positions and labels, not transcripts."""
    from skilllab.corpus import SortedCorpus

    rows = [good("b", started_at="2026-03-02T00:00:00Z"), good("a", started_at="2026-03-01T00:00:00+00:00"),
            good("c", started_at="2026-03-02T00:00:00Z"), "", good("d", started_at="2026-02-28T00:00:00Z")]
    rows[0]["labels"], rows[1]["labels"] = {"family": "f2"}, {"family": "f1"}
    p = write(tmp_path, rows)
    listed, _ = read_corpus(p)
    stream = SortedCorpus(p)
    assert len(stream) == 4 and stream.ids == ["d", "a", "b", "c"]
    assert [s.to_dict() for s in stream] == [s.to_dict() for s in listed]
    assert [s.origin for s in stream] == [(str(p), 5), (str(p), 2), (str(p), 1), (str(p), 3)]
    assert stream.get("b").labels == {"family": "f2"} and stream.get("zz") is None
    assert stream.family_of() == {"d": None, "a": "f1", "b": "f2", "c": None}
    assert stream[-1].session_id == "c" and [s.session_id for s in stream[1:3]] == ["a", "b"]
    assert not any(hasattr(v, "messages") for v in vars(stream).values())  # no session held
    assert SortedCorpus(p, limit=2).ids == ["d", "a"]
    assert SortedCorpus(p, tie_key=lambda i: -i).ids == ["d", "a", "c", "b"]  # ties: b and c swapped


def test_sorted_corpus_checks_every_line_first(tmp_path):
    from skilllab.corpus import SortedCorpus

    p = write(tmp_path, [good("s1"), "{broken", good("s3")])
    with pytest.raises(CorpusError) as err:
        SortedCorpus(p)
    assert str(err.value).startswith(f"{p}:2: (line): not valid JSON")
    stream = SortedCorpus(p, lenient=True)
    assert stream.ids == ["s1", "s3"] and [(q.line, q.field) for q in stream.problems] == [(2, "(line)")]

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

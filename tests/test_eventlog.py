"""The replay's event log: events go to a spool file as they come and read back as written."""

import csv
import gc
import io
import math
import os

import pandas as pd
import pytest

from skilllab.lab import metrics as M
from skilllab.lab.eventlog import CHUNK, EVENT_COLUMNS, EventLog, EventRow


def _row(i: int) -> dict:
    """An event whose every kind of value is known: None, booleans, integers, floats, text with
    commas, quotes, new lines and non-ASCII letters."""
    return {c: None for c in EVENT_COLUMNS} | {
        "seq": i, "session_id": f"s{i:05d}", "agent_id": f"a{i % 3}", "family": None if i % 4 == 0 else f"f{i % 5}",
        "success": i % 2 == 0, "decision": ("create", "update", "skip")[i % 3], "top_similarity": i / 7,
        "library_size": i // 10, "llm_calls": 0, "prompt_tokens": None if i % 2 else i,
        "reason": f'routine, "quoted"\nsecond line é {i}', "answerable": i % 3 == 0, "recall_correct": i % 6 == 0,
        "recall_top1_score": i / 1000, "recall_top1_right": i % 6 == 0, "recall_top1": "s" if i % 2 else None,
        "random_right": 0.25, "recall_rr": 1.0 if i % 6 == 0 else 0.0, "library_active": i % 4,
        "ideal": "keep" if i % 2 else None, "actual": "skip", "decision_correct": i % 5 == 0, "wrong_skip": False,
        "loop_ms": 1.5 + i,
    }


def test_events_read_back_as_written_in_order_across_chunks():
    rows = [_row(i) for i in range(3 * CHUNK + 7)]
    log = EventLog()
    for r in rows:
        log.append(r)
    assert len(log) == len(rows)
    # everything but the last partial chunk is on disk: one line a chunk
    assert log.path.read_text(encoding="utf-8").count("\n") == 3
    back = list(log)
    assert [dict(zip(EVENT_COLUMNS, e)) for e in back] == rows
    assert isinstance(back[0], EventRow) and back[5]["reason"] == rows[5]["reason"]
    assert list(log) == back  # a second pass reads the same
    assert log.column("prompt_tokens") == [r["prompt_tokens"] for r in rows]
    assert log[CHUNK + 1]["session_id"] == rows[CHUNK + 1]["session_id"] and log[-1]["seq"] == len(rows) - 1
    pd.testing.assert_frame_equal(log.frame(), pd.DataFrame([list(r.values()) for r in rows], columns=EVENT_COLUMNS))
    small = log.frame(["seq", "family"])
    pd.testing.assert_frame_equal(small, pd.DataFrame([[r["seq"], r["family"]] for r in rows], columns=["seq", "family"]))


def test_a_log_handed_over_is_read_whole_by_its_adopter_and_removed_with_it():
    """A baseline arm replayed in another process hands its log over as a spool: the giver no
    longer removes it; the adopter reads every event (the last partial chunk included) and
    removes the spool when it goes."""
    rows = [_row(i) for i in range(CHUNK + 3)]
    giver = EventLog()
    for r in rows:
        giver.append(r)
    folder, n = giver.hand_over()
    del giver
    gc.collect()
    assert n == len(rows) and os.path.isdir(folder)
    log = EventLog.adopt(folder, n)
    assert len(log) == n and [dict(zip(EVENT_COLUMNS, e)) for e in log] == rows
    del log
    gc.collect()
    assert not os.path.exists(folder)


def test_csv_is_written_a_chunk_at_a_time_with_each_value_as_logged(tmp_path):
    rows = [_row(i) for i in range(4096 + 50)]  # more than one chunk of the writer
    log = EventLog()
    for r in rows:
        log.append(list(r.values()))  # values in column order are accepted too
    log.to_csv(tmp_path / "events.csv")
    whole = io.StringIO()
    pd.DataFrame([list(r.values()) for r in rows], columns=EVENT_COLUMNS, dtype=object).to_csv(whole, index=False)
    text = (tmp_path / "events.csv").read_text(encoding="utf-8")
    assert text == whole.getvalue()
    back = pd.read_csv(tmp_path / "events.csv")
    assert len(back) == len(rows) and back["session_id"].tolist() == [r["session_id"] for r in rows]
    # an integer column with gaps keeps its integers ("2", not "2.0"); None is empty
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [parsed[i]["prompt_tokens"] for i in range(4)] == ["0", "", "2", ""]
    assert parsed[7]["reason"] == rows[7]["reason"]
    log.to_csv(tmp_path / "t.csv", ["seq", "loop_ms"])
    assert (tmp_path / "t.csv").read_text().splitlines()[:3] == ["seq,loop_ms", "0,1.5", "1,2.5"]


def test_a_wrong_row_is_refused_and_the_spool_goes_with_the_log():
    log = EventLog()
    with pytest.raises(ValueError, match=f"{len(EVENT_COLUMNS)} values"):
        log.append([1, 2, 3])
    log.append(_row(0))
    folder = log.path.parent
    assert folder.is_dir()
    del log
    gc.collect()
    assert not folder.exists()
    other = EventLog()
    other.append(_row(1))
    other.discard()
    assert len(other) == 0 and list(other) == [] and not other.path.parent.exists()


def test_metrics_from_the_log_equal_metrics_from_the_events_in_memory():
    rows = [_row(i) for i in range(2 * CHUNK + 3)]
    log = EventLog()
    for r in rows:
        log.append(r)
    a, b = M.Tally(rows), M.Tally(log)
    assert a.curve() == b.curve() == M.recall_curve(rows) and len(a.curve()) > 10
    assert M.intervals(rows, [], 200, seed=1) == M.intervals(log, [], 200, seed=1)
    common = dict(units=[], book=M.UnitBook(), family_of={"s1": "f1"}, k=3, wall_seconds=1.0, embed_seconds=0.0,
                  skills=0, bootstrap=100)
    from_list, from_log = M.compute(rows, **common), M.compute(log, **common)
    assert from_list == from_log
    answerable = [r for r in rows if r["answerable"]]
    assert from_log["recall_p_at_1"] == pytest.approx(sum(r["recall_correct"] for r in answerable) / len(answerable))
    assert from_log["sessions"] == len(rows) and from_log["created"] == sum(r["decision"] == "create" for r in rows)
    unanswerable = [r for r in rows if r["family"] is not None and not r["answerable"]]
    assert from_log["false_recall_rate"] == pytest.approx(
        sum(r["recall_top1"] is not None for r in unanswerable) / len(unanswerable))
    assert math.isclose(from_log["recall_mrr"], sum(r["recall_rr"] for r in answerable) / len(answerable))


def test_a_closed_log_holds_no_open_file_and_can_be_appended_to_again():
    import os

    def open_on(path):
        return [fd for fd in os.listdir("/proc/self/fd") if os.path.realpath(f"/proc/self/fd/{fd}") == str(path)]

    log = EventLog()
    for i in range(CHUNK + 1):
        log.append(_row(i))
    assert open_on(log.path)  # being written
    log.close()
    assert not open_on(log.path) and len(list(log)) == CHUNK + 1
    log.append(_row(CHUNK + 1))
    log.close()
    assert [e["seq"] for e in log] == list(range(CHUNK + 2)) and not open_on(log.path)

"""``skilllab mcp`` started as a subprocess and driven over stdio by the official ``mcp`` client."""

from __future__ import annotations

import json
import os
import sys
import time

import anyio
import pytest
from helpers import CRASHLOOP_CALLS, make_session, make_skill

from skilllab import Library


@pytest.fixture
def served(tmp_path, cache_dir):
    lib = Library(tmp_path / "lib", embedder="hashing")
    a = lib.agent("sre-oncall")
    a.write(make_skill("fix-crashloop-missing-env",
                       "Bring back pods in CrashLoopBackOff whose logs say an environment variable is missing.",
                       steps=["`kubectl -n <ns> logs deploy/<svc> --previous`", "`kubectl -n <ns> set env ...`"]),
            "create fix-crashloop-missing-env")
    a.write(make_skill("renew-expiring-certificate", "Renew a TLS certificate that is about to expire."),
            "create renew-expiring-certificate")
    old = make_skill("old-runbook", "Restart the legacy queue consumer.")
    a.write(old, "create old-runbook")
    a.deprecate("old-runbook", "replaced")
    other = lib.agent("dba")
    other.write(make_skill("vacuum-bloated-table", "Vacuum a bloated PostgreSQL table.", agent="dba"),
                "create vacuum-bloated-table")
    from mcp import StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "skilllab", "mcp", "--library", str(tmp_path / "lib"), "--agent", "sre-oncall",
              "--embedder", "hashing"],
        env={**os.environ, "SKILLLAB_CACHE_DIR": str(cache_dir), "HF_HUB_OFFLINE": "1"})
    return tmp_path / "lib", params


def run(coro_fn):
    return anyio.run(coro_fn)


def text_of(result) -> dict:
    return json.loads(result.content[0].text)


def test_tools_search_load_outcome_and_scoping_over_stdio(served):
    from mcp import Client

    lib_path, params = served

    async def main():
        async with Client(params, read_timeout_seconds=120) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert names == {"search_skills", "load_skill", "record_outcome", "submit_session"}

            found = text_of(await client.call_tool(
                "search_skills", {"query": "pods crash looping, logs say environment variable missing", "k": 3}))
            assert found["results"][0]["name"] == "fix-crashloop-missing-env"
            assert "old-runbook" not in [r["name"] for r in found["results"]]

            loaded = await client.call_tool("load_skill", {"name": "fix-crashloop-missing-env"})
            assert not loaded.is_error
            assert "## Steps" in text_of(loaded)["content"]

            for hostile in ["../dba/skills/vacuum-bloated-table", "vacuum-bloated-table", "old-runbook",
                            "/etc/passwd", "..%2F..%2Fetc", "a" * 5000, "fix-crashloop-missing-env\0"]:
                refused = await client.call_tool("load_skill", {"name": hostile})
                assert refused.is_error, hostile
                assert "not found" in refused.content[0].text

            out = text_of(await client.call_tool("record_outcome",
                                                 {"name": "renew-expiring-certificate", "success": True}))
            assert out["status"] == "active"
            assert (await client.call_tool("record_outcome", {"name": "vacuum-bloated-table", "success": False})).is_error

            resources = {str(r.uri) for r in (await client.list_resources()).resources}
            assert resources == {"skill://fix-crashloop-missing-env", "skill://renew-expiring-certificate"}
            doc = await client.read_resource("skill://renew-expiring-certificate")
            assert "name: renew-expiring-certificate" in doc.contents[0].text
    run(main)
    skills = lib_path / "sre-oncall" / "skills"
    assert json.loads((skills / "fix-crashloop-missing-env" / "usage.json").read_text())["uses"] >= 2
    assert json.loads((skills / "renew-expiring-certificate" / "usage.json").read_text())["successes"] == 1


def test_submit_session_returns_at_once_and_the_worker_distills_it(served):
    from mcp import Client

    lib_path, params = served
    session = make_session("live-1", "Pods of orders-api in namespace shop are in CrashLoopBackOff",
                           CRASHLOOP_CALLS, summary="pointed the deployment at the new secret")

    async def main():
        async with Client(params, read_timeout_seconds=120) as client:
            out = text_of(await client.call_tool("submit_session", {"session": session}))
            assert out["queued"] == "live-1"
            wrong = dict(session, session_id="x-2", agent_id="dba")
            refused = await client.call_tool("submit_session", {"session": wrong})
            assert refused.is_error and "dba" in refused.content[0].text
            bad = await client.call_tool("submit_session", {"session": {"session_id": "x-3"}})
            assert bad.is_error
            for _ in range(200):  # the worker distills in the background
                ledger = lib_path / "sre-oncall" / "state" / "ledger.jsonl"
                if ledger.exists() and "live-1" in ledger.read_text():
                    break
                await anyio.sleep(0.1)
            else:
                raise AssertionError("the submitted session was not distilled")
    run(main)
    record = [json.loads(x) for x in (lib_path / "sre-oncall" / "state" / "ledger.jsonl").read_text().splitlines()]
    assert [r["decision"] for r in record if r["session_id"] == "live-1"] in (["update"], ["create"], ["skip"])


def test_search_and_recall_reuse_a_running_http_server(served, cache_dir):
    import socket
    import subprocess

    lib_path, params = served
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SKILLLAB_CACHE_DIR": str(cache_dir), "HF_HUB_OFFLINE": "1"}
    base = ["--library", str(lib_path), "--agent", "sre-oncall", "--embedder", "hashing"]
    server = subprocess.Popen([sys.executable, "-m", "skilllab", "mcp", "--http", str(port), *base], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    marker = lib_path / "sre-oncall" / "state" / "server.json"
    probe = ("import sys, json; from skilllab.cli import main; main(sys.argv[1:]); "
             "print(json.dumps({'local': 'hnswlib' in sys.modules, 'mcp client': 'mcp' in sys.modules}))")
    try:
        for _ in range(300):
            if marker.exists():
                break
            time.sleep(0.1)
        assert json.loads(marker.read_text())["url"] == f"http://127.0.0.1:{port}/mcp"
        for _ in range(300):  # the HTTP listener comes up just after the marker
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        out = subprocess.run([sys.executable, "-c", probe, "search", "pods crash looping env variable missing",
                              "--json", *base], env=env, capture_output=True, text=True, timeout=120)
        rows, used = out.stdout.rsplit("\n", 2)[0], json.loads(out.stdout.strip().splitlines()[-1])
        assert json.loads(rows)[0]["name"] == "fix-crashloop-missing-env"
        assert used == {"local": False, "mcp client": False}  # answered by the server's plain JSON route
        rec = subprocess.run([sys.executable, "-c", probe, "recall", "renew the expiring TLS certificate",
                              "--json", "--min-similarity", "0", *base], env=env, capture_output=True, text=True,
                             timeout=120)
        assert json.loads(rec.stdout.rsplit("\n", 2)[0])[0]["name"] == "renew-expiring-certificate"
    finally:
        server.terminate()
        server.wait(timeout=30)
    # with the server gone (its marker left behind by a kill), the command searches locally
    marker.write_text(json.dumps({"pid": 2**22 + 12345, "url": f"http://127.0.0.1:{port}/mcp", "embedder": "hashing"}))
    out = subprocess.run([sys.executable, "-c", probe, "search", "pods crash looping env variable missing",
                          "--json", *base], env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1])["local"] is True
    assert json.loads(out.stdout.rsplit("\n", 2)[0])[0]["name"] == "fix-crashloop-missing-env"

"""``skilllab mcp``: one agent's skill library served over the Model Context Protocol.

Built on the official ``mcp`` SDK (:class:`mcp.server.mcpserver.MCPServer`). One server serves one
agent id, so scoping is the same as :meth:`skilllab.Agent.tools`: another agent's skill, a path,
or a deprecated skill is "not found". The embedding model is loaded once, when the server starts,
so a search answers in milliseconds afterwards.

Tools:

* ``search_skills(query, k=5)`` -- skills by meaning (the recall floor applies);
* ``load_skill(name)`` -- the full runbook; counts as a use;
* ``record_outcome(name, success)`` -- after a task that followed a skill (drift detection);
* ``submit_session(session)`` -- a finished session in the session format, spooled (redacted) for
  distillation by a worker thread; returns at once and never blocks the agent.

Resources: every skill as ``skill://NAME`` (``text/markdown``), listed fresh on each request.

Transports: stdio (the default, what MCP clients launch) or streamable HTTP on 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .distill import DistillQueue
from .embed import DEFAULT_EMBEDDER
from .errors import SkilllabError
from .library import Library
from .recall import DEFAULT_MIN_SIMILARITY, SkillTools

if TYPE_CHECKING:
    from .skill import Skill

log = logging.getLogger(__name__)

SEARCH_ROUTE = "/skilllab/search"  # plain JSON search beside the MCP endpoint (see build_server)

INSTRUCTIONS = (
    "Skills are runbooks this agent wrote from its own past sessions: what a procedure is for, its "
    "steps, what worked and what did not. Before a task, call search_skills with the task in your "
    "own words and load_skill the best match; after the task, record_outcome for a skill you "
    "followed and submit_session with the transcript so the library learns from it.")


def build_server(library: Library, agent_id: str, *, distiller: str = "extractive",
                 min_similarity: float = DEFAULT_MIN_SIMILARITY, queue: bool = True) -> Any:
    """The :class:`~mcp.server.mcpserver.MCPServer` for ``agent_id`` of ``library`` (its queue
    worker started when ``queue``). The server object has ``skilllab_queue`` (or None) so the
    caller can stop the worker."""
    import anyio
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError

    agent = library.agent(agent_id)
    tools = SkillTools(agent, min_similarity=min_similarity)
    agent.search("warm up", k=1)  # load the model and the index now, not on the first call
    lock = threading.Lock()
    work = DistillQueue(library, agent_id, distiller).start() if queue else None

    def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
        with lock:
            agent.refresh()  # the worker (or another process) may have written since
            out = tools.call(name, args)
            agent.usage.flush()  # a server is stopped by killing it: keep uses on disk as they happen
        if "error" in out:
            raise ToolError(out["error"])
        return out

    def recallable(name: str) -> Skill | None:
        """Skill ``name`` as the files say now, or ``None`` when there is none or it is deprecated
        (call holding ``lock``)."""
        agent.refresh()
        try:
            skill = agent.get(name)
        except SkilllabError:
            return None
        return None if skill.status == "deprecated" else skill

    class SkillServer(MCPServer):
        skilllab_queue: DistillQueue | None = None

        async def list_resources(self) -> Any:  # every current skill, not a list frozen at start-up
            from mcp.types import Resource

            with lock:
                agent.refresh()
                infos = agent.list(include_deprecated=False)
            return [Resource(uri=f"skill://{i.name}", name=i.name, description=i.description,
                             mime_type="text/markdown") for i in infos]

    server = SkillServer(name="skilllab", instructions=INSTRUCTIONS, version=_version())

    @server.tool(description="Find this agent's skills (runbooks) by meaning. Returns name, description, "
                             "similarity and status, best first; nothing below the recall floor.")
    def search_skills(query: str, k: int = 5, min_similarity: float | None = None, record_use: bool = True) -> dict[str, Any]:
        return call("search_skills", {"query": query, "k": k, "min_similarity": min_similarity,
                                      "record_use": record_use})

    @server.tool(description="Load one skill's full runbook (Markdown) by name.")
    def load_skill(name: str) -> dict[str, Any]:
        return call("load_skill", {"name": name})

    @server.tool(description="After a task that followed a skill, record whether it worked; skills that "
                             "keep failing are marked for review.")
    def record_outcome(name: str, success: bool) -> dict[str, Any]:
        with lock:
            skill = recallable(name)
            if skill is None:
                raise ToolError(f"skill {name!r} not found")
            status = agent.record_outcome(skill.name, bool(success))
            agent.usage.flush()
        return {"name": skill.name, "status": status}

    @server.tool(description="Submit a finished session (the skilllab session format: session_id, "
                             "agent_id, started_at, task, messages, outcome) for distillation. It is "
                             "spooled and distilled in the background; the call returns at once.")
    def submit_session(session: dict[str, Any]) -> dict[str, Any]:
        if work is None:
            raise ToolError("this server was started without a distillation queue (--no-queue)")
        session = {**session, "agent_id": session.get("agent_id") or agent_id}
        try:
            path = work.submit(session)
        except SkilllabError as exc:
            raise ToolError(str(exc)) from None
        return {"queued": session.get("session_id"), "spool": path.name}

    @server.resource("skill://{name}", mime_type="text/markdown",
                     description="A skill's runbook (SKILL.md)")
    def skill_resource(name: str) -> str:
        with lock:
            skill = recallable(name)
        if skill is None:
            raise ResourceNotFoundError(f"skill {name!r} not found")
        return skill.render()

    @server.custom_route(SEARCH_ROUTE, methods=["POST"], include_in_schema=False)  # type: ignore[untyped-decorator]
    async def search_route(request: Any) -> Any:
        """``search_skills`` as one plain JSON POST, for ``skilllab search``/``recall`` in another
        process: no MCP session to set up and no MCP client to import, so a search through a
        running server costs little more than starting Python."""
        from starlette.responses import JSONResponse

        try:
            body = await request.json()
            args = {k: body[k] for k in ("query", "k", "min_similarity", "record_use") if k in body}
            if not isinstance(args.get("query"), str):
                raise ValueError("query: a string is required")
            return JSONResponse(await anyio.to_thread.run_sync(lambda: call("search_skills", args)))
        except (ValueError, TypeError, SkilllabError, ToolError) as exc:  # a bad request, or the tool's own message
            return JSONResponse({"error": str(exc)}, status_code=400)

    server.skilllab_queue = work
    return server


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("skilllab")
    except Exception:  # noqa: BLE001 - an uninstalled checkout
        return "0"


def serve(library: Library, agent_id: str, *, transport: str = "stdio", port: int = 8765,
          distiller: str = "extractive", queue: bool = True) -> None:
    """Run the server until the client goes away (stdio) or the process is stopped (HTTP)."""
    server = build_server(library, agent_id, distiller=distiller, queue=queue)
    marker = None
    try:
        if transport == "stdio":
            server.run("stdio")
        else:
            marker = _announce(library, agent_id, port)
            print(f"skilllab: serving agent {agent_id} of {library.root} at http://127.0.0.1:{port}/mcp",
                  file=sys.stderr, flush=True)
            server.run("streamable-http", host="127.0.0.1", port=port)
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)
        if server.skilllab_queue is not None:
            server.skilllab_queue.stop(drain=False)


SERVER_FILE = "state/server.json"


def _announce(library: Library, agent_id: str, port: int) -> Any:
    """Write ``state/server.json`` so ``skilllab search``/``recall`` reuse this server."""
    from ._fs import write_json
    from .store import AgentStore

    path = AgentStore(library.root, agent_id).path(SERVER_FILE)
    write_json(path, {"pid": os.getpid(), "url": f"http://127.0.0.1:{port}/mcp", "embedder": library.embedder_spec or DEFAULT_EMBEDDER})
    return path


def running_server(library_root: Any, agent_id: str, embedder: str) -> str | None:
    """The URL of a live HTTP server for this library, agent and embedder (as named on the command
    line), or None."""
    from ._fs import read_json
    from .store import AgentStore

    try:
        path = AgentStore(Path(library_root), agent_id).path(SERVER_FILE)
        info = read_json(path) if path.is_file() else None
        if not info or info.get("embedder") != (embedder or DEFAULT_EMBEDDER):
            return None
        os.kill(int(info["pid"]), 0)  # alive?
        return str(info["url"])
    except (OSError, ValueError, KeyError, TypeError, SkilllabError):
        return None


def call_remote(url: str, tool: str, args: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    """Call ``tool`` on the server whose MCP endpoint is ``url``; raises ``OSError`` when it cannot be
    reached. ``search_skills`` goes through the server's plain JSON route (stdlib only, no MCP
    session); any other tool through the MCP client."""
    import json

    if tool == "search_skills":
        import urllib.error
        import urllib.request

        route = url.rsplit("/mcp", 1)[0] + SEARCH_ROUTE
        req = urllib.request.Request(route, data=json.dumps(args).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                answer: dict[str, Any] = json.loads(resp.read().decode("utf-8"))
                return answer
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read().decode("utf-8")).get("error")
            except (ValueError, AttributeError):
                message = None
            if exc.code == 400 and message:
                raise SkilllabError(message) from None
            raise OSError(f"{route}: HTTP {exc.code}") from None
        except (urllib.error.URLError, ValueError, TimeoutError) as exc:
            raise OSError(f"{route}: {exc}") from None

    import anyio
    from mcp import Client

    async def go() -> Any:
        async with Client(url, read_timeout_seconds=timeout) as client:
            res = await client.call_tool(tool, args)
            text = getattr(res.content[0], "text", "{}") if res.content else "{}"
            if res.is_error:
                raise SkilllabError(text)
            return json.loads(text)
    try:
        return anyio.run(go)
    except SkilllabError:
        raise
    except Exception as exc:  # noqa: BLE001 - any transport failure means "not reachable": search locally
        raise OSError(f"{url}: {exc}") from None

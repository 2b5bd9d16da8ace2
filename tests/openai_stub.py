"""A tiny OpenAI-compatible HTTP server on 127.0.0.1 for tests, serving scripted responses.

``script`` is a list of steps consumed in order, one per request to ``/v1/chat/completions``:
each a dict ``{"status": 200, "body": {...}}``, ``{"status": 429}``, ``{"raw": "not json"}`` or
``{"sleep": seconds, ...}``. ``/v1/embeddings`` answers with deterministic vectors built from
the words of each input. Every request body is kept in ``requests`` for assertions.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


def word_vector(text: str, dim: int = 32) -> list[float]:
    v = np.zeros(dim)
    for w in text.lower().split():
        v[int(hashlib.md5(w.encode()).hexdigest(), 16) % dim] += 1.0
    return v.tolist()


class StubOpenAI:
    def __init__(self, script: list[dict] | None = None, dim: int = 32):
        self.script = list(script or [])
        self.dim = dim
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.models_status = 200
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                return None  # keep test output quiet

            def do_GET(self):
                stub.requests.append({"path": self.path, "body": None})
                if self.path.endswith("/models"):
                    if stub.models_status != 200:
                        return self._send(stub.models_status, {"error": {"message": "denied", "type": "auth"}})
                    return self._send(200, {"object": "list", "data": [
                        {"id": "stub-model", "object": "model", "created": 0, "owned_by": "stub"}]})
                return self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n) or b"{}")
                stub.requests.append({"path": self.path, "body": body})
                stub.headers.append(dict(self.headers))
                if self.path.endswith("/embeddings"):
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [{"object": "embedding", "index": i, "embedding": word_vector(t, stub.dim)}
                            for i, t in enumerate(inputs)]
                    return self._send(200, {"object": "list", "data": data, "model": body["model"],
                                            "usage": {"prompt_tokens": 1, "total_tokens": 1}})
                step = stub.script.pop(0) if stub.script else {"status": 500, "body": {"error": "script empty"}}
                if "sleep" in step:
                    time.sleep(step["sleep"])
                if "raw" in step:
                    return self._send(step.get("status", 200), step["raw"])
                return self._send(step.get("status", 200), step.get("body", {"error": {"message": "x"}}))

            def _send(self, status, payload):
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    if status == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (timeout tests)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def chat_requests(self) -> list[dict]:
        """The requests that asked for a completion (a model-list check is not one)."""
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> StubOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

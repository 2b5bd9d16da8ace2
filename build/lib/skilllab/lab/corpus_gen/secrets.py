"""A corpus with credentials planted where real sessions carry them, to prove none reaches disk.

Each of the :data:`SHAPES` (credential shapes seen in real transcripts: provider keys, tokens,
passwords inside commands, connection strings, Kubernetes Secret data, private keys) is planted
in each of the :data:`POSITIONS` of a successful session from the seeded SRE generator:

* ``task`` -- pasted into the task statement (and the user message that opens the transcript);
* ``diagnostic`` -- in the output of a diagnostic tool call;
* ``fix`` -- in the command of a call that changes something, among the fix calls;
* ``summary`` -- in the outcome summary;
* ``assistant`` -- in what the assistant says.

:func:`planted_corpus` returns the sessions and the planted values; the values are never written
by skilllab itself (``skilllab corpus generate --planted-secrets`` writes them to a separate
``.values.json`` only when asked, for tests and audits run outside Python). Labels say which
shape and position a session carries (``labels.planted``), never the value.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from .generate import generate

POSITIONS = ("task", "diagnostic", "fix", "summary", "assistant")

_AZ = string.ascii_letters + string.digits


def _tok(rng: random.Random, n: int, alphabet: str = _AZ) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _password(rng: random.Random) -> str:
    """A human-chosen password: a word, digits and a symbol (low entropy, so only context finds it)."""
    return rng.choice(["Winter", "Summer", "Orange", "Falcon", "Harbor"]) + str(rng.randint(1000, 9999)) + \
        rng.choice("!#%*") + _tok(rng, 3, string.ascii_lowercase)


@dataclass(frozen=True)
class Shape:
    """One credential shape: ``make(rng)`` gives ``(value, line)``, ``line`` carrying ``value``
    as it appears in a transcript (a command, a header, a config line)."""
    kind: str
    make: Callable[[random.Random], tuple[str, str]]


def _s(kind: str, make: Callable[[random.Random], tuple[str, str]]) -> Shape:
    return Shape(kind, make)


def _k8s_secret(rng: random.Random) -> tuple[str, str]:
    value = base64.b64encode(_password(rng).encode()).decode()
    return value, ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-creds\ntype: Opaque\ndata:\n"
                   f"  DB_PASSWORD: {value}\n")


def _gcp_sa(rng: random.Random) -> tuple[str, str]:
    body = base64.b64encode(bytes(rng.randrange(256) for _ in range(96))).decode()
    value = body[:64]
    key = "-----BEGIN PRIVATE KEY-----\\n" + body + "\\n-----END PRIVATE KEY-----\\n"
    return value, json.dumps({"type": "service_account", "project_id": "prod-123", "private_key": key,
                              "client_email": "deployer@prod-123.iam.gserviceaccount.com"})


def _pem(rng: random.Random) -> tuple[str, str]:
    body = base64.b64encode(bytes(rng.randrange(256) for _ in range(120))).decode()
    return body[:64], f"-----BEGIN RSA PRIVATE KEY-----\n{body[:64]}\n{body[64:]}\n-----END RSA PRIVATE KEY-----"


def _basic_header(rng: random.Random) -> tuple[str, str]:
    value = base64.b64encode(f"admin:{_password(rng)}".encode()).decode()
    return value, f"curl -s -H 'Authorization: Basic {value}' https://grafana.corp.example.com/api/health"


def _sas(rng: random.Random) -> tuple[str, str]:
    value = _tok(rng, 43) + "%3D"
    return value, ("az storage blob list --account-name prodlogs --container-name app "
                   f"--sas-token 'sv=2022-11-02&ss=b&sp=rl&se=2026-12-01&sig={value}'")


SHAPES: tuple[Shape, ...] = (
    _s("aws_access_key_id", lambda r: (v := "AKIA" + _tok(r, 16, string.ascii_uppercase + string.digits),
                                       f"aws configure set aws_access_key_id {v}")),
    _s("aws_secret_access_key", lambda r: (v := _tok(r, 40, _AZ + "/+"), f"export AWS_SECRET_ACCESS_KEY={v}")),
    _s("github_token", lambda r: (v := "ghp_" + _tok(r, 36), f"git clone https://{v}@github.com/acme/deploy.git")),
    _s("github_fine_grained", lambda r: (v := "github_pat_" + _tok(r, 22) + "_" + _tok(r, 59),
                                         f"gh auth login --with-token <<< {v}")),
    _s("gitlab_token", lambda r: (v := "glpat-" + _tok(r, 20), f"curl --header 'PRIVATE-TOKEN: {v}' https://gitlab.example.com/api/v4/projects")),
    _s("slack_bot_token", lambda r: (v := f"xoxb-{r.randint(10**11, 10**12)}-{r.randint(10**11, 10**12)}-{_tok(r, 24)}",
                                     f"SLACK_BOT_TOKEN={v} ./notify.sh '#ops'")),
    _s("slack_webhook", lambda r: (v := f"https://hooks.slack.com/services/T{_tok(r, 8, string.ascii_uppercase)}/B{_tok(r, 8, string.ascii_uppercase)}/{_tok(r, 24)}",
                                   f"curl -X POST -d '{{\"text\":\"deploy done\"}}' {v}")),
    _s("openai_key", lambda r: (v := "sk-proj-" + _tok(r, 48), f"OPENAI_API_KEY={v} python eval.py")),
    _s("stripe_live_key", lambda r: (v := "sk_live_" + _tok(r, 24), f"curl https://api.stripe.com/v1/charges -u {v}:")),
    _s("google_api_key", lambda r: (v := "AIza" + _tok(r, 35, _AZ + "_-"),
                                    f"curl 'https://maps.googleapis.com/maps/api/geocode/json?address=x&key={v}'")),
    _s("jwt", lambda r: (v := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcHMifQ." + _tok(r, 43, _AZ + "_-"),
                         f"curl -H 'Authorization: Bearer {v}' https://checkout-api.shop.svc/healthz")),
    _s("bearer_token", lambda r: (v := _tok(r, 32, _AZ + "._-"), f"Authorization: Bearer {v}")),
    _s("basic_auth_header", _basic_header),
    _s("private_key_pem", _pem),
    _s("gcp_service_account", _gcp_sa),
    _s("postgres_url", lambda r: (v := _password(r), f"psql postgres://app_admin:{v}@orders-db:5432/orders -c 'select 1'")),
    _s("password_pair", lambda r: (v := _password(r), f"db.password={v}")),
    _s("kubernetes_secret_data", _k8s_secret),
    _s("mysql_p", lambda r: (v := _password(r), f"mysql -h inventory-db -u root -p{v} -e 'SHOW PROCESSLIST'")),
    _s("redis_cli_a", lambda r: (v := _password(r), f"redis-cli -h sessions-redis -a {v} INFO memory")),
    _s("curl_u", lambda r: (v := _password(r), f"curl -u admin:{v} https://grafana.corp.example.com/api/datasources")),
    _s("docker_login_p", lambda r: (v := _password(r), f"docker login registry.example.com -u ci -p {v}")),
    _s("azure_account_key", lambda r: (v := _tok(r, 86) + "==", "DefaultEndpointsProtocol=https;AccountName=prodlogs;"
                                       f"AccountKey={v};EndpointSuffix=core.windows.net")),
    _s("azure_sas_signature", _sas),
    _s("kubeconfig_token", lambda r: (v := _tok(r, 6, string.ascii_lowercase + string.digits) + "." + _tok(r, 16, string.ascii_lowercase + string.digits),
                                      f"users:\n- name: deployer\n  user:\n    token: {v}")),
    _s("from_literal", lambda r: (v := _password(r),
                                  f"kubectl -n payments create secret generic db --from-literal=password={v}")),
    _s("pgpassword_env", lambda r: (v := _password(r), f"PGPASSWORD={v} psql -h billing-pg -U app -c 'select now()'")),
    _s("cli_token_option", lambda r: (v := _tok(r, 28), f"vault login --token={v}")),
    _s("vault_token", lambda r: (v := "hvs." + _tok(r, 24), f"export VAULT_TOKEN={v}")),
    _s("npm_token", lambda r: (v := "npm_" + _tok(r, 36), f"//registry.npmjs.org/:_authToken={v}")),
    _s("sendgrid_key", lambda r: (v := "SG." + _tok(r, 22, _AZ + "_-") + "." + _tok(r, 43, _AZ + "_-"),
                                  f"SENDGRID_API_KEY={v}")),
    _s("client_secret_json", lambda r: (v := _tok(r, 34, _AZ + "~_."), json.dumps({"client_id": "ops-bot", "client_secret": v}))),
    _s("api_key_header", lambda r: (v := _tok(r, 32, "0123456789abcdef"),
                                    f"curl -H 'X-API-Key: {v}' https://api.internal.example.com/v1/status")),
    _s("telegram_bot_token", lambda r: (v := f"{r.randint(10**8, 10**9)}:{_tok(r, 35, _AZ + '_-')}",
                                        f"curl https://api.telegram.org/bot{v}/getMe")),
)


def _place(session: dict, position: str, line: str) -> None:
    msgs = session["messages"]
    if position == "task":
        session["task"] = f"{session['task']} -- I already tried: {line}"
        for m in msgs:
            if m["role"] == "user":
                m["content"] = session["task"]
                break
    elif position == "diagnostic":
        tool = next(m for m in msgs if m["role"] == "tool")
        tool["content"] = f"{tool['content']}\n{line}"
    elif position == "fix":
        # a call that changes something, placed just before the last tool call of the fix
        last_call = max(i for i, m in enumerate(msgs) if m["role"] == "assistant" and m.get("tool_calls"))
        cid = f"call_planted_{len(msgs)}"
        call = {"id": cid, "type": "function", "function": {"name": "shell", "arguments": json.dumps({"cmd": line})}}
        msgs[last_call:last_call] = [{"role": "assistant", "content": None, "tool_calls": [call]},
                                     {"role": "tool", "tool_call_id": cid, "content": "ok"}]
    elif position == "summary":
        session["outcome"]["summary"] = f"{session['outcome']['summary']} (used {line})"
        msgs[-1]["content"] = f"Resolved: {session['outcome']['summary']}."
    elif position == "assistant":
        first = next(i for i, m in enumerate(msgs) if m["role"] == "assistant")
        msgs.insert(first, {"role": "assistant", "content": f"For reference, the credentials in use: {line}"})
    else:
        raise ValueError(f"unknown position {position!r}; positions: {', '.join(POSITIONS)}")


def planted_corpus(seed: int = 7, *, shapes: tuple[Shape, ...] = SHAPES,
                   positions: tuple[str, ...] = POSITIONS) -> tuple[list[dict], list[dict]]:
    """``(sessions, planted)``: one successful session per shape and position, and for each a record
    ``{session_id, kind, position, value}``. Sessions come from the seeded SRE generator, so the
    corpus has the usual families, near misses and repeats around the planted lines."""
    rng = random.Random(seed)
    need = len(shapes) * len(positions)
    base = [s for s in generate(seed, sessions=need * 2 + 40) if s["outcome"]["success"]]
    if len(base) < need:  # pragma: no cover - the generator's failure rate is 10%
        raise RuntimeError("the generator gave too few successful sessions")
    sessions, planted = [], []
    for i, (shape, position) in enumerate((s, p) for s in shapes for p in positions):
        session = copy.deepcopy(base[i])
        value, line = shape.make(rng)
        assert value in line, shape.kind
        _place(session, position, line)
        session["session_id"] = f"planted-{i + 1:04d}"
        session["labels"] = {**session["labels"], "planted": {"kind": shape.kind, "position": position}}
        session["metadata"] = {"source": "skilllab-planted-secrets", "seed": seed}
        sessions.append(session)
        planted.append({"session_id": session["session_id"], "kind": shape.kind, "position": position, "value": value})
    return sessions, planted

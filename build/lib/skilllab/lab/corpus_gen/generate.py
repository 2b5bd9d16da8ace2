"""Generate a synthetic SRE session corpus in the session format, from a seed.

What it models (see ``families.py`` for the content):

* three agents with different roles: ``sre-oncall`` (Kubernetes on-call), ``dba`` (PostgreSQL,
  MySQL, Redis) and ``network`` (DNS, load balancers, firewalls, BGP, VPN, TLS chains);
* 34 task families with Zipf-like frequencies (weight ``1 / rank**zipf_s``), several
  paraphrased task statements each, and values (services, namespaces, nodes, hosts) drawn fresh
  for every session; about 1 in 10 task statements is vague ("something is off with X");
* near-miss families that share a symptom and differ in cause (``near`` in the data);
* transcripts as OpenAI chat messages with tool calls through several tools (``kubectl``,
  ``db_query``, ``shell``), realistic outputs, extra unrelated checks, long sessions, dead ends
  with the agent saying why they failed, failed sessions (escalated), and planted secrets
  (bearer tokens, AWS keys, passwords in URLs) that must never reach a skill;
* one drift event: after ``drift_at`` (a fraction of the time span) the certbot renewal of the
  ``tls-cert-expiry`` family stops working; the next sessions fail with it, later ones find the
  cert-manager procedure that replaces it (``labels.drift`` is ``pre`` or ``post``).

Ground truth is in ``labels.family`` and ``labels.write_actions`` (the value-free keys of the
fix calls that change something, which a runbook for the family should name). The same seed
always gives the same file.
"""

from __future__ import annotations

import datetime as _dt
import json
import random
import string
from pathlib import Path

from ..._fs import atomic_write
from . import families as fam_data

POOLS = {
    "svc": ["checkout-api", "cart-service", "payments-gateway", "search-indexer", "user-profile", "orders-api",
            "inventory-sync", "notification-worker", "pricing-engine", "auth-service", "catalog-api", "ledger"],
    "ns": ["payments", "shop", "search", "identity", "fulfilment", "platform", "billing", "growth"],
    "node": ["ip-10-0-3-14", "ip-10-0-7-201", "gke-prod-pool-2-8d1f", "worker-17", "worker-23", "ip-10-1-9-88"],
    "db": ["orders-db", "billing-pg", "users-pg", "inventory-db", "ledger-pg"],
    "cache": ["sessions-redis", "cart-cache", "rate-limit-redis"],
    "host": ["api.internal.example.com", "grafana.corp.example.com", "files.example.net", "ci.example.org",
             "billing.partner.example.com"],
    "domain": ["shop.example.com", "api.example.com", "status.example.io", "partners.example.net"],
    "alert": ["HighLatencyP99", "KubePodNotReady", "DiskWillFillIn4h", "TargetDown", "HighErrorRate"],
    "job": ["nightly-export", "report-builder", "etl-orders", "cleanup-sessions", "invoice-run"],
    "peer": ["192.0.2.1", "198.51.100.7", "203.0.113.254"],
    "var": ["DATABASE_URL", "REDIS_URL", "STRIPE_API_BASE", "JWT_ISSUER", "KAFKA_BROKERS"],
}
EXTRA = {
    "sre-oncall": ["kubectl -n {ns} get events --sort-by=.lastTimestamp | tail -3 => Normal  Pulled  pod/{svc}-{hash}-{pod}",
                   "kubectl get nodes => 14 nodes Ready", "kubectl -n {ns} get svc {svc} => {svc}  ClusterIP  10.96.4.{n}",
                   "kubectl -n {ns} get ingress => {svc}  {domain}  80, 443", "uptime => load average: 0.41, 0.52, 0.60"],
    "dba": ["psql -h {db} -c \"SELECT version()\" => PostgreSQL 16.3", "ssh {db} uptime => load average: 3.10, 2.95, 2.80",
            "psql -h {db} -c \"SELECT count(*) FROM pg_stat_activity\" => 61"],
    "network": ["ip route get 10.2.3.4 => 10.2.3.4 via 10.0.0.1 dev eth0", "dig +short {host} => 198.51.100.{n}",
                "traceroute -n -q1 {host} | tail -1 => 9  198.51.100.{n}  12.3 ms"],
}
SYSTEM = {"sre-oncall": "You are the on-call SRE agent for the production Kubernetes clusters.",
          "dba": "You are the database reliability agent for PostgreSQL, MySQL and Redis.",
          "network": "You are the network operations agent (DNS, load balancers, firewalls, VPN, BGP)."}
VAGUE = ["something is off with {svc}, can you take a look?", "users are complaining about {svc}, please investigate",
         "{svc} looks unhealthy, please check", "pager went off for {svc}, no details"]
SECRETS = [
    "curl -s -H 'Authorization: Bearer {jwt}' https://{svc}.{ns}.svc/healthz => {{\"status\":\"degraded\"}}",
    "AWS_ACCESS_KEY_ID={akid} AWS_SECRET_ACCESS_KEY={aws_secret} aws sts get-caller-identity => arn:aws:iam::123456789012:user/oncall",
    "psql postgres://admin:{pw}@{db}:5432/app -c 'select 1' => 1",
]


def _rand_token(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _draw(rng: random.Random) -> dict:
    v = {k: rng.choice(pool) for k, pool in POOLS.items()}
    v["hash"] = _rand_token(rng, 9, "bcdfghjklmnpqrstvwxz2456789")
    v["pod"] = _rand_token(rng, 5, "bcdfghjklmnpqrstvwxz2456789")
    v["n"], v["m"] = rng.randint(3, 97), rng.randint(2, 59)
    v["mem"] = rng.choice([256, 384, 512, 768, 1024])
    v["mem2"] = v["mem"] * 2
    v["pct"] = rng.randint(86, 99)
    v["free"] = 100 - v["pct"]
    v["ver"] = f"v{rng.randint(1, 4)}.{rng.randint(0, 30)}"
    v["zone"] = "Z" + _rand_token(rng, 12, string.ascii_uppercase + string.digits)
    v["arn"] = f"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/{v['svc']}/{_rand_token(rng, 16, '0123456789abcdef')}"
    v["sg"] = "sg-" + _rand_token(rng, 17, "0123456789abcdef")
    v["port"] = rng.choice([5432, 6379, 443, 8443, 9092])
    v["jwt"] = "eyJhbGciOiJIUzI1NiJ9." + _rand_token(rng, 24) + "." + _rand_token(rng, 32)
    v["akid"] = "AKIA" + _rand_token(rng, 16, string.ascii_uppercase + string.digits)
    v["aws_secret"] = _rand_token(rng, 40, string.ascii_letters + string.digits + "/+")
    v["pw"] = _rand_token(rng, 14)
    return v


def _fill(template: str, v: dict) -> str:
    return template.format(**v)


def _tool_call(cmd: str, idx: int) -> tuple[dict, str]:
    head = cmd.split()[0]
    cid = f"call_{idx}"
    if head == "kubectl":
        name, args = "kubectl", {"args": cmd[len("kubectl "):]}
    elif head in ("psql", "mysql", "redis-cli"):
        name, args = "db_query", {"cmd": cmd}
    else:
        name, args = "shell", {"cmd": cmd}
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}, cid


class _Transcript:
    def __init__(self, agent: str, task: str, rng: random.Random):
        self.messages = []
        if rng.random() < 0.7:
            self.messages.append({"role": "system", "content": SYSTEM[agent]})
        self.messages.append({"role": "user", "content": task})
        self.n = 0

    def call(self, spec: str, v: dict, note: str | None = None, think: str | None = None) -> None:
        parts = [p.strip() for p in spec.split(" => ")]
        cmd, out = _fill(parts[0], v), _fill(parts[1], v) if len(parts) > 1 else ""
        call, cid = _tool_call(cmd, self.n)
        self.n += 1
        self.messages.append({"role": "assistant", "content": think, "tool_calls": [call]})
        self.messages.append({"role": "tool", "tool_call_id": cid, "content": out})
        if note:
            self.messages.append({"role": "assistant", "content": note})

    def say(self, text: str) -> None:
        self.messages.append({"role": "assistant", "content": text})


def _write_actions(fix: list[str], v: dict) -> list[str]:
    """The value-free keys of the family's fix calls that change something: the gold actions a
    runbook for the family should name (``labels.write_actions``, as in the tau2 corpora)."""
    from ...distill.actions import WRITE, classify_tool
    from ...session import parse_arguments, raw_command

    out = []
    for spec in fix:
        call, _ = _tool_call(_fill(spec.split(" => ")[0].strip(), v), 0)
        args = parse_arguments(call["function"]["arguments"])
        act = classify_tool(call["function"]["name"], args, raw_command(args, call["function"]["name"]))
        if act.kind == WRITE and act.key not in out:
            out.append(act.key)
    return out


def _weights(n: int, s: float) -> list[float]:
    return [1.0 / (rank + 1) ** s for rank in range(n)]


def generate(seed: int = 7, sessions: int = 600, *, start: str = "2026-01-05T00:00:00+00:00", days: int = 90,
             zipf_s: float = 1.0, p_fail: float = 0.1, p_dead_end: float = 0.35, p_vague: float = 0.1,
             p_long: float = 0.15, p_secret: float = 0.06, drift_at: float = 0.5) -> list[dict]:
    """The corpus as a list of session dicts, sorted by ``started_at``."""
    rng = random.Random(seed)
    fams = fam_data.F
    weights = _weights(len(fams), zipf_s)
    t0 = _dt.datetime.fromisoformat(start)
    span = _dt.timedelta(days=days)
    starts = sorted(t0 + span * rng.random() for _ in range(sessions))
    drift_time = t0 + span * drift_at
    post_drift_seen = 0
    out = []
    for i, started in enumerate(starts):
        fam = rng.choices(fams, weights)[0]
        v = _draw(rng)
        agent = fam["agent"]
        vague = rng.random() < p_vague
        task = _fill(rng.choice(VAGUE if vague else fam["tasks"]), v)
        tr = _Transcript(agent, task, rng)
        labels = {"family": fam["id"]}
        success = rng.random() >= p_fail
        diag = list(fam["diag"])
        if len(diag) > 2 and rng.random() < 0.25:
            diag.pop(rng.randrange(1, len(diag)))
        if rng.random() < p_secret and agent in ("sre-oncall", "dba"):
            tr.call(rng.choice(SECRETS), v)
        extras = EXTRA[agent]
        n_extra = rng.randint(5, 12) if rng.random() < p_long else (1 if rng.random() < 0.3 else 0)
        for j, spec in enumerate(diag):
            tr.call(spec, v, think="Checking what the cluster says first." if j == 0 and rng.random() < 0.3 else None)
            if n_extra and rng.random() < 0.5:
                for _ in range(min(n_extra, rng.randint(1, 3))):
                    tr.call(rng.choice(extras), v)
                    n_extra -= 1
        for _ in range(n_extra):
            tr.call(rng.choice(extras), v)
        fix, summaries = fam["fix"], fam["summaries"]
        if fam["id"] == fam_data.DRIFT_FAMILY:
            labels["drift"] = "post" if started >= drift_time else "pre"
            if started >= drift_time:
                post_drift_seen += 1
                # the old procedure now fails; the first sessions after the change do not find the new one
                tr.call(fam_data.DRIFT_OLD_FAIL, v, note="certbot renew failed; the old renewal procedure no longer works.")
                if post_drift_seen <= 3:
                    success = False
                fix, summaries = fam_data.DRIFT_NEW_FIX, fam_data.DRIFT_NEW_SUMMARIES
        dead = fam["dead"]
        if dead and (rng.random() < p_dead_end or not success):
            cmd, outp, why = [p.strip() for p in rng.choice(dead).split(" => ")]
            tr.call(f"{cmd} => {outp}", v, note=_fill(why, v))
        labels["write_actions"] = _write_actions(fix, v)
        summary = None
        if success:
            for spec in fix:
                tr.call(spec, v)
            summary = _fill(rng.choice(summaries), v)
            tr.say(f"Resolved: {summary}.")
        else:
            tr.say("I could not resolve this within the runbook; escalating to the owning team with my findings.")
        ended = started + _dt.timedelta(minutes=rng.randint(4, 75))
        out.append({
            "session_id": f"s-{i + 1:06d}", "agent_id": agent,
            "started_at": started.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "ended_at": ended.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "task": task, "messages": tr.messages,
            "outcome": {"success": success, "reward": 1.0 if success else 0.0,
                        "summary": summary if success else "escalated"},
            "labels": {**labels, **({"vague": True} if vague else {})},
            "metadata": {"source": "skilllab-generator", "seed": seed},
        })
    return out


def generate_to_file(path: str | Path, seed: int = 7, sessions: int = 600, **kw) -> int:
    rows = generate(seed, sessions, **kw)
    text = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows)
    atomic_write(Path(path), text)
    return len(rows)



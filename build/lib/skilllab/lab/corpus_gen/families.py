"""Task families of the bundled SRE corpus: what an on-call, a database and a network engineer meet.

Each family is data: paraphrased task statements, diagnostic calls with realistic outputs, the
fix, tempting dead ends (a call, what came back, why it did not help) and summaries. Text in
``{braces}`` is filled from the variable pools in ``generate.py``. Families are listed from most
to least common; the generator draws them with Zipf-like weights in this order, so a few routine
families dominate and a long tail is rare. Near-miss pairs share a symptom and differ in cause
(``near`` names the sibling), so deduplication can go wrong in both directions.

Format of a call: ``"command => output"``; of a dead end: ``"command => output => why it failed"``.
"""

from __future__ import annotations

F = []


def family(id, agent, tasks, diag, fix, summaries, dead=(), near=None, extra=()):
    F.append({"id": id, "agent": agent, "tasks": list(tasks), "diag": list(diag), "fix": list(fix),
              "summaries": list(summaries), "dead": list(dead), "near": near, "extra": list(extra)})


# ---------------------------------------------------------------- sre-oncall (Kubernetes on-call)
family("crashloop-missing-config", "sre-oncall",
       ["Pods of {svc} in namespace {ns} are in CrashLoopBackOff",
        "{svc} keeps restarting in {ns} right after the deploy",
        "CrashLoopBackOff alert for deployment {svc} ({ns})",
        "the {svc} pods won't stay up, restart count keeps climbing in {ns}"],
       ["kubectl -n {ns} get pods -l app={svc} => {svc}-{hash}-{pod}   0/1   CrashLoopBackOff   {n}   {m}m",
        "kubectl -n {ns} logs deploy/{svc} --previous => panic: required environment variable {var} is not set",
        "kubectl -n {ns} get deploy {svc} -o jsonpath='{{.spec.template.spec.containers[0].envFrom}}' => "
        "[{{\"secretRef\":{{\"name\":\"{svc}-env-old\"}}}}]"],
       ["kubectl -n {ns} set env deploy/{svc} --from=secret/{svc}-env => deployment.apps/{svc} env updated",
        "kubectl -n {ns} rollout status deploy/{svc} => deployment \"{svc}\" successfully rolled out"],
       ["restored {var} by pointing the deployment at the renamed secret",
        "the env secret had been renamed; re-referenced it and the pods came up"],
       dead=["kubectl -n {ns} delete pod {svc}-{hash}-{pod} => pod \"{svc}-{hash}-{pod}\" deleted => "
             "Deleting the pod did not help: the new pod crashed with the same error.",
             "kubectl -n {ns} patch deploy {svc} -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"containers\":[{{\"name\":"
             "\"{svc}\",\"livenessProbe\":{{\"initialDelaySeconds\":120}}}}]}}}}}}}}' => deployment.apps/{svc} patched => "
             "Raising the liveness delay made no difference, it still exits on start."],
       near="crashloop-db-unreachable")
family("oomkilled-memory-limit", "sre-oncall",
       ["{svc} pods in {ns} are getting OOMKilled",
        "container {svc} restarts with exit code 137 under load",
        "memory alert: {svc} in {ns} hits its limit and gets killed",
        "OOMKilled restarts on {svc} since traffic went up"],
       ["kubectl -n {ns} describe pod {svc}-{hash}-{pod} => Last State: Terminated  Reason: OOMKilled  Exit Code: 137",
        "kubectl -n {ns} top pod -l app={svc} => {svc}-{hash}-{pod}   310m   {mem}Mi",
        "kubectl -n {ns} get deploy {svc} -o jsonpath='{{.spec.template.spec.containers[0].resources}}' => "
        "{{\"limits\":{{\"memory\":\"{mem}Mi\"}}}}"],
       ["kubectl -n {ns} set resources deploy/{svc} --limits=memory={mem2}Mi --requests=memory={mem}Mi => "
        "deployment.apps/{svc} resource requirements updated",
        "kubectl -n {ns} rollout status deploy/{svc} => deployment \"{svc}\" successfully rolled out"],
       ["raised the memory limit from {mem}Mi to {mem2}Mi after confirming steady usage near the limit",
        "sized the memory limit from real peak usage; no more OOMKills"],
       dead=["kubectl -n {ns} scale deploy/{svc} --replicas=6 => deployment.apps/{svc} scaled => "
             "Adding replicas did not help: each pod still hits the same per-pod limit."],
       near="oomkilled-memory-leak")
family("disk-pressure-images", "sre-oncall",
       ["node {node} reports DiskPressure and is evicting pods",
        "pods evicted on {node}: the node was low on resource ephemeral-storage",
        "DiskPressure condition on worker {node}",
        "{node} disk almost full, kubelet evicting workloads"],
       ["kubectl describe node {node} => Conditions: DiskPressure True   KubeletHasDiskPressure",
        "ssh {node} df -h /var/lib/containerd => /dev/nvme0n1  100G  {pct}G  {free}G  {pct}% /var/lib/containerd",
        "ssh {node} crictl images | wc -l => 412"],
       ["ssh {node} crictl rmi --prune => Deleted {n} images",
        "kubectl describe node {node} => Conditions: DiskPressure False"],
       ["pruned unused container images on {node}, DiskPressure cleared",
        "old images filled the containerd disk; image prune freed space"],
       dead=["kubectl delete pods --field-selector=status.phase=Failed -A => pod deleted (x{n}) => "
             "Deleting the evicted pods only tidied the listing; the disk was still full."],
       near="disk-pressure-logs")
family("noisy-alert-flapping", "sre-oncall",
       ["alert {alert} keeps flapping and paging the on-call for nothing",
        "{alert} fires and resolves every few minutes",
        "noisy page: {alert} on {svc} is flapping all night",
        "please stop {alert} from waking people up, it resolves by itself"],
       ["amtool alert query alertname={alert} => {alert}  {svc}  firing  started 3m ago",
        "promtool query range 'ALERTS{{alertname=\"{alert}\"}}' --start=-6h => 37 firing/resolved transitions in 6h"],
       ["git -C alerts commit -am 'add for: 10m and raise threshold for {alert}' => [main 1a2b3c4] 1 file changed",
        "amtool check-config alerts/rules.yml => SUCCESS"],
       ["added a 10m 'for' clause and raised the threshold so {alert} stops flapping",
        "tuned {alert}: hysteresis via for: 10m, fewer pages"],
       dead=["amtool silence add alertname={alert} --duration=24h => silence {hash} => "
             "Silencing only hid it for a day; it came back the next night."])
family("pg-connection-pool-exhausted", "dba",
       ["applications get 'sorry, too many clients already' from {db}",
        "connection pool exhausted on {db}, checkout times out waiting for a connection",
        "{svc} cannot get a database connection from {db}",
        "postgres {db} rejecting new connections"],
       ["psql -h {db} -c \"SELECT state, count(*) FROM pg_stat_activity GROUP BY state\" => "
        "idle in transaction | {n}\nactive | 12\nidle | 40",
        "psql -h {db} -c \"SELECT pid, now()-xact_start, application_name FROM pg_stat_activity WHERE state="
        "'idle in transaction' ORDER BY 2 DESC LIMIT 5\" => 4242 | 00:47:12 | {job}"],
       ["psql -h {db} -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state='idle in transaction' "
        "AND now()-xact_start > interval '10 minutes'\" => {n} rows",
        "psql -h {db} -c \"ALTER SYSTEM SET idle_in_transaction_session_timeout = '5min'\" => ALTER SYSTEM"],
       ["terminated sessions left idle in transaction by {job} and set idle_in_transaction_session_timeout",
        "a batch job leaked open transactions; killed them and added an idle timeout"],
       dead=["psql -h {db} -c \"ALTER SYSTEM SET max_connections = 500\" => ALTER SYSTEM => "
             "Raising max_connections did not help: the leaked transactions filled the new slots too."],
       near="pg-connection-limit-too-low")
family("failed-rollout-image-pull", "sre-oncall",
       ["rollout of {svc} in {ns} is stuck",
        "new {svc} pods stuck in ImagePullBackOff",
        "deploy of {svc} {ver} never finishes in {ns}",
        "ErrImagePull on {svc} after the release"],
       ["kubectl -n {ns} rollout status deploy/{svc} --timeout=30s => error: deployment \"{svc}\" exceeded its progress deadline",
        "kubectl -n {ns} describe pod {svc}-{hash}-{pod} => Failed to pull image \"registry.internal/{svc}:{ver}\": not found"],
       ["crane ls registry.internal/{svc} | tail -3 => {ver}-rc1\n{ver}-rc2\n{ver}.0",
        "kubectl -n {ns} set image deploy/{svc} {svc}=registry.internal/{svc}:{ver}.0 => deployment.apps/{svc} image updated"],
       ["the release referenced a tag that was never pushed; set the image to the published tag",
        "fixed the image tag typo, rollout completed"],
       dead=["kubectl -n {ns} rollout restart deploy/{svc} => deployment.apps/{svc} restarted => "
             "Restarting the rollout changed nothing, same pull error."],
       near="failed-rollout-readiness")
family("oomkilled-memory-leak", "sre-oncall",
       ["{svc} pods in {ns} are getting OOMKilled every few hours",
        "memory of {svc} grows until the container is killed (exit 137)",
        "OOMKilled on {svc} since the {ver} release, memory climbs steadily"],
       ["kubectl -n {ns} describe pod {svc}-{hash}-{pod} => Last State: Terminated  Reason: OOMKilled  Exit Code: 137",
        "promtool query range 'container_memory_working_set_bytes{{pod=~\"{svc}.*\"}}' --start=-24h => "
        "steady climb from 200Mi to {mem}Mi, reset at each restart",
        "kubectl -n {ns} rollout history deploy/{svc} => REVISION 14  {ver}  (deployed 2d ago)"],
       ["kubectl -n {ns} rollout undo deploy/{svc} => deployment.apps/{svc} rolled back",
        "gh issue create --title 'memory leak in {svc} {ver}' => https://github.internal/{svc}/issues/881"],
       ["memory leak introduced in {ver}; rolled back and filed a bug for the owners",
        "rolled back the leaking release, memory flat again"],
       dead=["kubectl -n {ns} set resources deploy/{svc} --limits=memory=4Gi => deployment.apps/{svc} resource "
             "requirements updated => Raising the limit only delayed it: memory kept climbing and it was killed again."],
       near="oomkilled-memory-limit")
family("crashloop-db-unreachable", "sre-oncall",
       ["Pods of {svc} in namespace {ns} are in CrashLoopBackOff",
        "{svc} keeps restarting in {ns}, can't reach its database",
        "CrashLoopBackOff for {svc} after the network policy change"],
       ["kubectl -n {ns} get pods -l app={svc} => {svc}-{hash}-{pod}   0/1   CrashLoopBackOff   {n}   {m}m",
        "kubectl -n {ns} logs deploy/{svc} --previous => FATAL: could not connect to {db}:5432: connection timed out",
        "kubectl -n {ns} get networkpolicy => default-deny-egress   app={svc}   2h"],
       ["kubectl -n {ns} apply -f netpol/{svc}-allow-db.yaml => networkpolicy.networking.k8s.io/{svc}-allow-db created",
        "kubectl -n {ns} rollout status deploy/{svc} => deployment \"{svc}\" successfully rolled out"],
       ["a new default-deny egress policy blocked the database; added an allow rule for port 5432",
        "allowed egress from {svc} to {db} in the network policy"],
       dead=["kubectl -n {ns} delete pod {svc}-{hash}-{pod} => pod deleted => Deleting the pod did not help: same "
             "connection timeout."],
       near="crashloop-missing-config")
family("pg-replication-lag-long-query", "dba",
       ["replica {db}-replica is minutes behind the primary",
        "replication lag alert on {db}",
        "reads from {db}-replica return stale data"],
       ["psql -h {db} -c \"SELECT client_addr, state, replay_lag FROM pg_stat_replication\" => 10.0.4.17 | streaming | 00:{m}:12",
        "psql -h {db}-replica -c \"SELECT pid, now()-query_start, left(query,40) FROM pg_stat_activity WHERE state="
        "'active' ORDER BY 2 DESC LIMIT 3\" => 9191 | 00:41:03 | SELECT ... FROM orders JOIN"],
       ["psql -h {db}-replica -c \"SELECT pg_cancel_backend(9191)\" => t",
        "psql -h {db}-replica -c \"ALTER SYSTEM SET max_standby_streaming_delay = '30s'\" => ALTER SYSTEM"],
       ["a long analytics query held back replay; cancelled it and capped max_standby_streaming_delay",
        "cancelled the blocking query on the replica, lag back to zero"],
       dead=["systemctl restart postgresql@{db}-replica => (no output) => Restarting the replica did not help: "
             "it lagged again as soon as the query was rerun."],
       near="pg-replication-lag-network")
family("tls-cert-expiry", "sre-oncall",
       ["certificate for {domain} expires in 3 days",
        "browsers show an expired certificate on {domain}",
        "TLS expiry alert for {domain}",
        "clients fail with 'certificate has expired' calling {domain}"],
       ["echo | openssl s_client -connect {domain}:443 -servername {domain} 2>/dev/null | openssl x509 -noout -enddate "
        "=> notAfter=Mar  4 12:00:00 2026 GMT"],
       ["certbot renew --cert-name {domain} => Congratulations, all renewals succeeded: /etc/letsencrypt/live/{domain}/fullchain.pem (success)",
        "systemctl reload nginx => (no output)"],
       ["renewed the certificate with certbot and reloaded nginx",
        "certbot renewal plus nginx reload; new expiry in 90 days"],
       dead=["systemctl restart nginx => (no output) => Restarting nginx alone kept serving the old certificate."])
family("high-5xx-bad-deploy", "sre-oncall",
       ["5xx rate on {svc} jumped to {pct}% after the release",
        "{svc} returns 500s since {ver} went out",
        "error budget burn alert for {svc}"],
       ["kubectl -n {ns} rollout history deploy/{svc} => REVISION 22  {ver}  (deployed 14m ago)",
        "kubectl -n {ns} logs deploy/{svc} --since=15m | grep -c ' 500 ' => {n}",
        "kubectl -n {ns} logs deploy/{svc} --since=15m | grep ERROR | head -1 => ERROR NullPointerException in "
        "PricingClient.quote"],
       ["kubectl -n {ns} rollout undo deploy/{svc} => deployment.apps/{svc} rolled back",
        "kubectl -n {ns} rollout status deploy/{svc} => deployment \"{svc}\" successfully rolled out"],
       ["rolled back {ver}; error rate back to baseline",
        "bad release; rollback fixed the 5xx spike"],
       dead=["kubectl -n {ns} scale deploy/{svc} --replicas=12 => deployment.apps/{svc} scaled => "
             "Scaling out did not help, the errors are in the code path, not capacity."],
       near="high-5xx-upstream-timeout")
family("dns-nxdomain-stale-record", "network",
       ["{host} does not resolve from the office network",
        "NXDOMAIN for {host} after the migration",
        "users can't reach {host}, DNS lookup fails"],
       ["dig +short {host} @10.0.0.2 => (no answer) status: NXDOMAIN",
        "dig +short {host} @8.8.8.8 => 203.0.113.{n}",
        "aws route53 list-resource-record-sets --hosted-zone-id {zone} | grep {host} => (nothing)"],
       ["aws route53 change-resource-record-sets --hosted-zone-id {zone} --change-batch file://{host}.json => "
        "ChangeInfo: Status PENDING",
        "dig +short {host} @10.0.0.2 => 203.0.113.{n}"],
       ["the record was missing from the private hosted zone; re-created it",
        "added the missing record to the internal zone, {host} resolves again"],
       dead=["systemctl restart systemd-resolved => (no output) => Flushing the local resolver did not help; "
             "the authoritative zone has no record."])
family("disk-pressure-logs", "sre-oncall",
       ["node {node} reports DiskPressure and is evicting pods",
        "DiskPressure on {node}, /var/log is huge",
        "worker {node} out of disk, evictions started"],
       ["kubectl describe node {node} => Conditions: DiskPressure True",
        "ssh {node} du -sh /var/log/* | sort -h | tail -2 => 61G /var/log/pods\n2G /var/log/journal",
        "ssh {node} ls -lS /var/log/pods/*/*/ | head -2 => -rw-r----- 1 root root 58G 0.log  ({svc})"],
       ["ssh {node} truncate -s 0 /var/log/pods/{ns}_{svc}*/{svc}/0.log => (no output)",
        "kubectl -n {ns} set env deploy/{svc} LOG_LEVEL=info => deployment.apps/{svc} env updated"],
       ["{svc} logged at debug level and filled /var/log; truncated it and set LOG_LEVEL=info",
        "runaway debug logs from {svc}; truncated and lowered the log level"],
       dead=["ssh {node} crictl rmi --prune => Deleted 3 images => Pruning images freed almost nothing; "
             "the space is in the logs."],
       near="disk-pressure-images")
family("mysql-too-many-connections", "dba",
       ["MySQL {db} says 'Too many connections'",
        "{svc} errors: ERROR 1040 (08004): Too many connections",
        "connections to mysql {db} maxed out"],
       ["mysql -h {db} -e \"SHOW STATUS LIKE 'Threads_connected'\" => Threads_connected  151",
        "mysql -h {db} -e \"SELECT user, host, command, time FROM information_schema.processlist ORDER BY time DESC "
        "LIMIT 3\" => {job} | 10.0.9.4 | Sleep | 28800"],
       ["mysql -h {db} -e \"SET GLOBAL wait_timeout = 300\" => Query OK",
        "mysql -h {db} -e \"KILL CONNECTION 4711\" => Query OK"],
       ["sleeping connections from {job} held every slot; killed them and set wait_timeout=300",
        "lowered wait_timeout so idle connections are reaped"])
family("hpa-not-scaling", "sre-oncall",
       ["{svc} does not scale up even though CPU is pegged",
        "HPA for {svc} shows <unknown> targets",
        "autoscaler stuck at min replicas for {svc} in {ns}"],
       ["kubectl -n {ns} get hpa {svc} => {svc}   Deployment/{svc}   <unknown>/70%   2   20   2",
        "kubectl -n kube-system get pods -l k8s-app=metrics-server => metrics-server-{hash}-{pod}   0/1   CrashLoopBackOff",
        "kubectl -n kube-system logs deploy/metrics-server => x509: cannot validate certificate for 10.0.1.5"],
       ["kubectl -n kube-system patch deploy metrics-server --type=json -p '[{{\"op\":\"add\",\"path\":"
        "\"/spec/template/spec/containers/0/args/-\",\"value\":\"--kubelet-preferred-address-types=InternalIP\"}}]' "
        "=> deployment.apps/metrics-server patched",
        "kubectl -n {ns} get hpa {svc} => {svc}   Deployment/{svc}   91%/70%   2   20   6"],
       ["metrics-server was crash looping on kubelet certs; fixed its args and the HPA scaled",
        "restored metrics-server so the HPA had metrics again"])
family("lb-health-check-failing", "network",
       ["load balancer marks all {svc} targets unhealthy",
        "ALB health checks failing for {svc}, site returns 503",
        "target group for {svc} has zero healthy hosts"],
       ["aws elbv2 describe-target-health --target-group-arn {arn} => State: unhealthy  Reason: Target.ResponseCodeMismatch",
        "curl -s -o /dev/null -w '%{{http_code}}' http://10.0.7.{n}:8080/healthz => 404"],
       ["aws elbv2 modify-target-group --target-group-arn {arn} --health-check-path /health => HealthCheckPath: /health",
        "aws elbv2 describe-target-health --target-group-arn {arn} => State: healthy"],
       ["the app moved its health endpoint to /health; updated the target group check path",
        "fixed the health check path on the target group"],
       dead=["aws autoscaling start-instance-refresh --auto-scaling-group-name {svc}-asg => InstanceRefreshId: {hash} => "
             "Replacing the instances did not help, the new ones failed the same check."])
family("pg-replication-lag-network", "dba",
       ["replica {db}-replica is minutes behind the primary",
        "replication lag on {db} keeps growing during the day"],
       ["psql -h {db} -c \"SELECT client_addr, state, sent_lsn, replay_lag FROM pg_stat_replication\" => "
        "10.0.4.17 | catchup | 2A/1F000000 | 00:{m}:40",
        "iperf3 -c {db}-replica -t 5 => [SUM] 0.00-5.00 sec  52 MBytes  87 Mbits/sec (expected 10 Gbits/sec)",
        "ethtool eth0 | grep Speed => Speed: 100Mb/s"],
       ["ipmitool -H {db}-replica-bmc chassis power cycle => Chassis Power Control: Cycle",
        "ethtool eth0 | grep Speed => Speed: 10000Mb/s"],
       ["the replica's NIC had negotiated 100Mb/s; fixed the link and it caught up",
        "network link degraded to 100Mb; after the fix lag returned to zero"],
       dead=["psql -h {db}-replica -c \"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE state='active'\" "
             "=> 0 rows => No long queries on the replica; cancelling found nothing."],
       near="pg-replication-lag-long-query")
family("failed-rollout-readiness", "sre-oncall",
       ["rollout of {svc} in {ns} is stuck",
        "new {svc} pods never become Ready after the deploy",
        "{svc} {ver} rollout hangs at 1 of 3 updated"],
       ["kubectl -n {ns} rollout status deploy/{svc} --timeout=30s => Waiting for deployment \"{svc}\" rollout to "
        "finish: 1 of 3 updated replicas are available",
        "kubectl -n {ns} describe pod {svc}-{hash}-{pod} => Readiness probe failed: HTTP probe failed with statuscode: 503",
        "kubectl -n {ns} logs {svc}-{hash}-{pod} => migration 0042 pending; refusing traffic"],
       ["kubectl -n {ns} create job {svc}-migrate --from=cronjob/{svc}-migrations => job.batch/{svc}-migrate created",
        "kubectl -n {ns} rollout status deploy/{svc} => deployment \"{svc}\" successfully rolled out"],
       ["new version waited for a schema migration; ran the migration job and the rollout finished",
        "ran the pending migration, readiness went green"],
       near="failed-rollout-image-pull")
family("firewall-blocked-port", "network",
       ["{svc} cannot reach {db} on port 5432 from the new subnet",
        "connection timeouts from {svc} to {host}:{port}",
        "traffic from 10.2.0.0/16 to {host} is dropped"],
       ["nc -zv -w 3 {host} {port} => nc: connect to {host} port {port} (tcp) timed out",
        "aws ec2 describe-security-groups --group-ids {sg} => IpPermissions: 10.1.0.0/16 tcp {port}"],
       ["aws ec2 authorize-security-group-ingress --group-id {sg} --protocol tcp --port {port} --cidr 10.2.0.0/16 => Return: true",
        "nc -zv -w 3 {host} {port} => Connection to {host} {port} port [tcp] succeeded!"],
       ["the security group only allowed the old subnet; added 10.2.0.0/16 on port {port}",
        "opened the port for the new subnet in the security group"],
       dead=["systemctl restart {svc} => (no output) => Restarting the client did not help, still timing out."])
family("pg-slow-query-missing-index", "dba",
       ["queries on {db} got slow, p99 latency is {n}00ms",
        "slow query alert on {db}: orders lookup takes seconds",
        "{svc} timeouts caused by a slow query on {db}"],
       ["psql -h {db} -c \"SELECT query, mean_exec_time FROM pg_stat_statements ORDER BY 2 DESC LIMIT 1\" => "
        "SELECT * FROM orders WHERE customer_id = $1 | 2841.7",
        "psql -h {db} -c \"EXPLAIN ANALYZE SELECT * FROM orders WHERE customer_id = 42\" => Seq Scan on orders "
        "(rows=18000000) Execution Time: 2790 ms"],
       ["psql -h {db} -c \"CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id)\" => CREATE INDEX",
        "psql -h {db} -c \"EXPLAIN ANALYZE SELECT * FROM orders WHERE customer_id = 42\" => Index Scan using "
        "orders_customer_id_idx Execution Time: 0.9 ms"],
       ["added the missing index on orders.customer_id concurrently; query went from 2.8s to 1ms",
        "sequential scan fixed with a concurrent index build"],
       dead=["psql -h {db} -c \"VACUUM ANALYZE orders\" => VACUUM => Refreshing statistics did not help, still a seq scan."])
family("pvc-pending-storageclass", "sre-oncall",
       ["PVC for {svc} stays Pending",
        "{svc} statefulset pod stuck in Pending waiting for its volume",
        "persistent volume claim data-{svc}-0 never binds in {ns}"],
       ["kubectl -n {ns} describe pvc data-{svc}-0 => storageclass.storage.k8s.io \"gp2-encrypted\" not found",
        "kubectl get storageclass => gp3 (default)   ebs.csi.aws.com"],
       ["kubectl -n {ns} patch statefulset {svc} --type=json -p '[{{\"op\":\"replace\",\"path\":\"/spec/"
        "volumeClaimTemplates/0/spec/storageClassName\",\"value\":\"gp3\"}}]' => statefulset.apps/{svc} patched",
        "kubectl -n {ns} get pvc data-{svc}-0 => data-{svc}-0   Bound   pvc-{hash}   50Gi"],
       ["the claim asked for a storage class that no longer exists; switched it to gp3",
        "pointed the volume claim at the current storage class"])
family("redis-memory-eviction", "dba",
       ["redis {cache} is evicting keys, cache hit rate dropped",
        "{svc} sees cache misses; redis {cache} at maxmemory",
        "evicted_keys climbing on redis {cache}"],
       ["redis-cli -h {cache} info memory | grep used_memory_human => used_memory_human:{mem}M",
        "redis-cli -h {cache} info stats | grep evicted_keys => evicted_keys:{n}0412",
        "redis-cli -h {cache} --bigkeys | tail -1 => Biggest string found 'session:*' has 48000 keys without TTL"],
       ["redis-cli -h {cache} config set maxmemory-policy volatile-lru => OK",
        "kubectl -n {ns} set env deploy/{svc} SESSION_TTL=3600 => deployment.apps/{svc} env updated"],
       ["session keys had no TTL and crowded out the cache; set a TTL and volatile-lru",
        "gave session keys a TTL so eviction hits the right keys"],
       dead=["redis-cli -h {cache} flushall => OK => Flushing the cache only helped for an hour; it filled up again."])
family("node-not-ready-kubelet", "sre-oncall",
       ["node {node} is NotReady",
        "{node} went NotReady and pods are being rescheduled",
        "kubelet on {node} stopped posting status"],
       ["kubectl get node {node} => {node}   NotReady   <none>   61d",
        "ssh {node} systemctl status kubelet => Active: failed (Result: exit-code)",
        "ssh {node} journalctl -u kubelet -n 3 => failed to run Kubelet: unable to load client CA file"],
       ["ssh {node} systemctl restart kubelet => (no output)",
        "kubectl get node {node} => {node}   Ready   <none>   61d"],
       ["kubelet had crashed on a CA file race after an update; restarted it and the node returned",
        "restarted kubelet, node Ready again"],
       dead=["kubectl drain {node} --ignore-daemonsets => node/{node} drained => Draining moved the pods but the node "
             "itself stayed NotReady."])
family("dns-coredns-overload", "network",
       ["DNS lookups inside the cluster time out intermittently",
        "pods see 'i/o timeout' resolving {svc}.{ns}.svc",
        "intermittent name resolution failures in the cluster"],
       ["kubectl -n kube-system top pod -l k8s-app=kube-dns => coredns-{hash}-{pod}   998m   70Mi",
        "kubectl -n kube-system logs deploy/coredns | tail -1 => [ERROR] plugin/errors: 2 {svc}. A: read udp i/o timeout"],
       ["kubectl -n kube-system scale deploy/coredns --replicas=6 => deployment.apps/coredns scaled",
        "kubectl apply -f nodelocaldns.yaml => daemonset.apps/node-local-dns created"],
       ["CoreDNS was CPU bound; scaled it out and added NodeLocal DNSCache",
        "scaled CoreDNS and enabled node-local DNS caching"],
       dead=["kubectl -n kube-system rollout restart deploy/coredns => deployment.apps/coredns restarted => "
             "Restarting CoreDNS helped for five minutes, then the timeouts were back."])
family("pg-connection-limit-too-low", "dba",
       ["applications get 'sorry, too many clients already' from {db}",
        "new service {svc} cannot connect to {db}: connection limit reached"],
       ["psql -h {db} -c \"SELECT state, count(*) FROM pg_stat_activity GROUP BY state\" => active | 96\nidle | 3",
        "psql -h {db} -c \"SHOW max_connections\" => 100"],
       ["kubectl -n {ns} apply -f pgbouncer/{db}.yaml => deployment.apps/pgbouncer-{db} configured",
        "kubectl -n {ns} set env deploy/{svc} DATABASE_HOST=pgbouncer-{db} => deployment.apps/{svc} env updated"],
       ["every connection was genuinely busy; put {svc} behind pgbouncer in transaction mode",
        "the database was really at capacity; added connection pooling with pgbouncer"],
       near="pg-connection-pool-exhausted")
family("high-5xx-upstream-timeout", "sre-oncall",
       ["5xx rate on {svc} jumped to {pct}%",
        "{svc} returns 504s from the gateway"],
       ["kubectl -n {ns} logs deploy/gateway --since=15m | grep {svc} | tail -1 => upstream timed out (110: Connection "
        "timed out) while reading response header from upstream {svc}",
        "kubectl -n {ns} top pod -l app={svc} => {svc}-{hash}-{pod}   1000m   400Mi (CPU throttled)"],
       ["kubectl -n {ns} set resources deploy/{svc} --limits=cpu=2 => deployment.apps/{svc} resource requirements updated",
        "kubectl -n {ns} patch hpa {svc} -p '{{\"spec\":{{\"minReplicas\":4}}}}' => horizontalpodautoscaler/{svc} patched"],
       ["{svc} was CPU throttled and timed out behind the gateway; raised the CPU limit and min replicas",
        "CPU throttling caused gateway timeouts; more CPU fixed it"],
       dead=["kubectl -n {ns} rollout undo deploy/{svc} => deployment.apps/{svc} rolled back => "
             "Rolling back did not help, the old version timed out the same way."],
       near="high-5xx-bad-deploy")
family("cronjob-not-running", "sre-oncall",
       ["nightly job {job} did not run",
        "cronjob {job} in {ns} has not run since last week"],
       ["kubectl -n {ns} get cronjob {job} => {job}   0 2 * * *   True   0   6d",
        "kubectl -n {ns} get cronjob {job} -o jsonpath='{{.spec.suspend}}' => true"],
       ["kubectl -n {ns} patch cronjob {job} -p '{{\"spec\":{{\"suspend\":false}}}}' => cronjob.batch/{job} patched",
        "kubectl -n {ns} create job {job}-manual --from=cronjob/{job} => job.batch/{job}-manual created"],
       ["the cronjob was left suspended after maintenance; resumed it and ran it once by hand",
        "unsuspended {job} and triggered a manual run"])
family("pg-disk-full-wal", "dba",
       ["disk on {db} is at {pct}% and growing",
        "pg_wal directory filling the disk on {db}"],
       ["ssh {db} du -sh /var/lib/postgresql/16/main/pg_wal => 412G",
        "psql -h {db} -c \"SELECT slot_name, active, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), "
        "restart_lsn)) FROM pg_replication_slots\" => debezium_{n} | f | 409 GB"],
       ["psql -h {db} -c \"SELECT pg_drop_replication_slot('debezium_{n}')\" => (1 row)",
        "ssh {db} df -h /var/lib/postgresql => 31% used"],
       ["an abandoned replication slot retained WAL; dropped it and the disk recovered",
        "dropped the inactive debezium slot holding 400GB of WAL"],
       dead=["ssh {db} rm -rf /var/lib/postgresql/16/main/pg_log/*.log => (no output) => Deleting old server logs "
             "freed 2GB; WAL kept growing."])
family("bgp-session-down", "network",
       ["BGP session to {peer} is down",
        "lost routes from {peer}, BGP neighbor idle"],
       ["vtysh -c 'show bgp summary' => {peer}  4  65001  Idle (Admin)",
        "vtysh -c 'show log' | tail -1 => %BGP-3-NOTIFICATION: received from {peer} 6/2 (Cease/Administrative Shutdown)"],
       ["vtysh -c 'conf t' -c 'router bgp 65000' -c 'no neighbor {peer} shutdown' => (no output)",
        "vtysh -c 'show bgp summary' => {peer}  4  65001  Established  812"],
       ["the neighbor was left administratively shut after maintenance; re-enabled it",
        "cleared the admin shutdown on the BGP neighbor"])
family("pg-deadlocks", "dba",
       ["deadlock detected errors on {db}",
        "{svc} transactions fail with 'deadlock detected'"],
       ["psql -h {db} -c \"SELECT deadlocks FROM pg_stat_database WHERE datname='app'\" => {n}12",
        "grep -A3 'deadlock detected' /var/log/postgresql/postgresql.log | head -4 => Process 77 waits for ShareLock "
        "on transaction 9; blocked by process 78 (UPDATE inventory ... UPDATE orders)"],
       ["git -C {svc} commit -am 'lock orders before inventory consistently' => [main 9f1e2d] 1 file changed",
        "kubectl -n {ns} rollout restart deploy/{svc} => deployment.apps/{svc} restarted"],
       ["two code paths locked orders and inventory in opposite order; made the lock order consistent",
        "fixed inconsistent lock ordering between orders and inventory"])
family("tls-handshake-intermediate", "network",
       ["Android clients fail TLS handshake with {domain}",
        "'unable to get local issuer certificate' when calling {domain}"],
       ["echo | openssl s_client -connect {domain}:443 -servername {domain} 2>&1 | grep 'Verify return' => "
        "Verify return code: 21 (unable to verify the first certificate)",
        "echo | openssl s_client -showcerts -connect {domain}:443 2>/dev/null | grep -c BEGIN => 1"],
       ["cat {domain}.crt intermediate.crt > {domain}.fullchain.pem => (no output)",
        "kubectl -n {ns} create secret tls {domain}-tls --cert={domain}.fullchain.pem --key={domain}.key --dry-run=client -o yaml | kubectl apply -f - => secret/{domain}-tls configured"],
       ["the server sent only the leaf certificate; installed the full chain with the intermediate",
        "added the missing intermediate certificate to the served chain"])
family("packet-loss-mtu", "network",
       ["large responses from {host} hang, small requests work",
        "file uploads to {host} stall over the VPN"],
       ["ping -M do -s 1472 {host} => Frag needed and DF set (mtu = 1400)",
        "tracepath {host} => pmtu 1400"],
       ["ip link set dev wg0 mtu 1380 => (no output)",
        "curl -s -o /dev/null -w '%{{http_code}}' https://{host}/large => 200"],
       ["path MTU was 1400 over the tunnel; lowered the interface MTU to 1380",
        "MTU black hole; fixed by lowering the tunnel MTU"])
family("pg-autovacuum-bloat", "dba",
       ["table bloat on {db}: orders table is 10x its live size",
        "autovacuum not keeping up on {db}"],
       ["psql -h {db} -c \"SELECT relname, n_dead_tup, last_autovacuum FROM pg_stat_user_tables ORDER BY 2 DESC LIMIT 1\" "
        "=> orders | {n}4000000 | 2026-01-02",
        "psql -h {db} -c \"SELECT pid, now()-xact_start FROM pg_stat_activity ORDER BY 2 DESC LIMIT 1\" => 5151 | 3 days"],
       ["psql -h {db} -c \"SELECT pg_terminate_backend(5151)\" => t",
        "psql -h {db} -c \"ALTER TABLE orders SET (autovacuum_vacuum_scale_factor = 0.02)\" => ALTER TABLE"],
       ["a 3-day-old transaction blocked vacuum; ended it and tuned autovacuum for orders",
        "terminated the ancient transaction so autovacuum could clean up"])
family("vpn-tunnel-down", "network",
       ["site-to-site VPN to {peer} is down",
        "no traffic over the IPsec tunnel to {peer}"],
       ["ipsec statusall | grep {peer} => {peer}: CONNECTING, IKE_SA_INIT failed: NO_PROPOSAL_CHOSEN",
        "grep proposal /etc/ipsec.conf => ike=aes128-sha1-modp1024"],
       ["sed -i 's/ike=aes128-sha1-modp1024/ike=aes256-sha256-modp2048/' /etc/ipsec.conf => (no output)",
        "ipsec restart && ipsec statusall | grep {peer} => {peer}: ESTABLISHED"],
       ["the peer dropped weak IKE proposals; updated ours to aes256-sha256-modp2048",
        "matched the peer's new IKE proposal, tunnel up"])

DRIFT_FAMILY = "tls-cert-expiry"
# After the drift date certbot's old ACME endpoint is gone: the procedure that worked now fails,
# and cert-manager replaces it.
DRIFT_OLD_FAIL = ("certbot renew --cert-name {domain} => Failed to renew certificate {domain}: the ACME v1 endpoint "
                  "is no longer supported (urn:acme:error:badRequest)")
DRIFT_NEW_FIX = ["kubectl -n {ns} get certificate {domain} => {domain}   False   {domain}-tls   3d",
                 "cmctl renew {domain} -n {ns} => Manually triggered issuance of Certificate {ns}/{domain}",
                 "kubectl -n {ns} get certificate {domain} => {domain}   True   {domain}-tls   10s"]
DRIFT_NEW_SUMMARIES = ["certbot's ACME endpoint was retired; renewed through cert-manager with cmctl instead",
                       "moved the renewal to cert-manager (cmctl renew) after certbot started failing"]

# The drift family must be common enough to show before-and-after: give it rank 4.
F.insert(3, F.pop(next(i for i, f in enumerate(F) if f["id"] == DRIFT_FAMILY)))

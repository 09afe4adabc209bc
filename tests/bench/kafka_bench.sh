#!/bin/bash
# Through-Kafka benchmark (issue: ingest and storage). On a standalone mock cluster
# (yuqingctl broker, 64 partitions: it keeps at most 5 MB per partition) holding the corpus
# BENCH_ROUNDS times (default 3, about 160 MB: a run of seconds, so that the start-up of a
# consumer, its first offset lookups and fetches, weighs little) it measures, in one run, on
# the same topic:
#   kcat -C > /dev/null            the consumer-side ceiling of this broker
#   kcat -C | rg -F -c -f words    an outside consumer that matches
#   yuqingd                        consume, decode, match (1k words, normalization on),
#                                  store synced with offsets
# and prints messages/s, the ratio of yuqingd to kcat alone and yuqingd's RSS over the run.
# The set also has 200 one-word critical rules with an immediate alert, so that alerting
# runs under the same load: each fires one alert at its word's first hit, and the run
# prints the hit-to-alert latency p50/p99 (yuqing_alert_latency_seconds; target p99 <= 1 s).
#
# Usage: tests/bench/kafka_bench.sh BUILD_DIR DATA_DIR   (BENCH_ALERTING=false: without the
# hits topic and the evaluator, to see what alerting costs; BENCH_CLUSTERS=matched|all: with
# a mailbox channel, so that the mailbox's text clustering runs on the messages that hit a
# set, or on every message, and the run prints its cost per message)
set -euo pipefail
build=$1 data=$2
work=$(mktemp -d /tmp/yuqing-kafka-bench-XXXXXX)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
now() { echo "$EPOCHREALTIME"; }
rate() { python3 -c "import sys; print(f'{int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2])):.0f}')" "$@"; }

rounds=${BENCH_ROUNDS:-3}
"$build/ctl/yuqingctl" broker --partitions 64 --topic bench.posts --topic yuqing.deadletter \
  --topic yuqing.hits --topic yuqing.alerts \
  > "$work/broker.out" 2> "$work/broker.log" &
for _ in $(seq 100); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
bootstrap=$(head -1 "$work/broker.out")
total=$(( $(wc -l < "$data/corpus.jsonl") * rounds ))
echo "mock cluster $bootstrap, 64 partitions; producing $total messages (the corpus, $(du -m "$data/corpus.jsonl" | cut -f1) MB, $rounds times)"
for _ in $(seq "$rounds"); do cat "$data/corpus.jsonl"; done |
  kcat -P -b "$bootstrap" -t bench.posts -X queue.buffering.max.messages=1000000

t0=$(now)
got=$(kcat -C -b "$bootstrap" -t bench.posts -o beginning -e -q -f '%o\n' | wc -l)
t1=$(now)
kcat_rate=$(rate "$got" "$t0" "$t1")
echo "  kcat -C > /dev/null        $kcat_rate msg/s ($got messages)"
if [ "$got" -ne "$total" ]; then
  echo "  (the mock cluster kept $got of $total: it drops the oldest beyond 5 MB per partition)"
  total=$got
fi

t0=$(now)
matched=$(kcat -C -b "$bootstrap" -t bench.posts -o beginning -e -q -f '%s\n' | rg -F -c -f "$data/words-1k.txt" || true)
t1=$(now)
echo "  kcat -C | rg -F -c -f      $(rate "$total" "$t0" "$t1") msg/s ($matched matching lines)"

mkdir -p "$work/sets"
{ echo "id: bench"; echo "topic: bench"; echo "rules:"; echo "  - id: words"; echo "    any:"
  sed 's/.*/      - "&"/' "$data/words-1k.txt"
  head -200 "$data/words-1k.txt" | awk '{printf "  - {id: w%d, any: [\"%s\"], severity: critical}\n", NR, $0}'
  echo "alerts:"; echo "  - {kind: immediate, min_severity: critical, level: red}"; } > "$work/sets/bench.yaml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/yuqing.yaml" <<YAML
kafka: {brokers: "$bootstrap", group_id: bench}
channels:
  - {name: posts, topic: bench.posts}
$( [ "${BENCH_CLUSTERS:-none}" != none ] && echo "  - {name: mailbox, topic: bench.mailbox, kind: mailbox}" )
mailbox: {calendar_dir: $(cd "$(dirname "$0")/../.." && pwd)/seeds/calendar, clusters: {scope: ${BENCH_CLUSTERS:-none}, max_tracked: 200000}}
storage: {path: data}
keyword_sets: {dir: sets}
plan: {path: $(cd "$(dirname "$0")/../.." && pwd)/seeds/plan.yaml}
http: {listen: "127.0.0.1:$port"}
alerting: {enabled: ${BENCH_ALERTING:-true}}
YAML
"$build/daemon/yuqingd" --config "$work/yuqing.yaml" > "$work/yuqingd.log" 2>&1 &
pid=$!
until curl -sf "127.0.0.1:$port/readyz" > /dev/null; do sleep 0.02; done
# The loop below starts no process: it would take CPU from the daemon it measures (a curl,
# grep and awk every 50 ms took 13% of the two cores). bash's /dev/tcp asks for the status,
# a FIFO nobody writes to times the pause.
mkfifo "$work/tick"
exec 4<> "$work/tick"
consumed=0
status_consumed() {  # sets consumed from GET /api/v1/status
  local reply=""
  exec 3<> "/dev/tcp/127.0.0.1/$port" || return 0
  printf 'GET /api/v1/status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  IFS= read -r -d '' reply <&3 || true
  exec 3<&-
  [[ $reply =~ \"consumed\":\ *([0-9]+) ]] && consumed=${BASH_REMATCH[1]}
  return 0
}
t0=$(now)
rss=()
while :; do
  status_consumed
  while read -r key value _; do [ "$key" = VmRSS: ] && rss+=($((value / 1024))); done < "/proc/$pid/status"
  [ "$consumed" -ge "$total" ] && break
  read -t 0.05 -u 4 _ || true
done
t1=$(now)
yuqing_rate=$(rate "$total" "$t0" "$t1")
echo "  yuqingd                    $yuqing_rate msg/s (from partition assignment to all $total stored)"
python3 -c "import sys; print(f'  ratio yuqingd / kcat alone: {int(sys.argv[1]) / int(sys.argv[2]):.2f}   (target >= 0.9)')" "$yuqing_rate" "$kcat_rate"
n=${#rss[@]}
echo "  yuqingd RSS over the run (MB): first ${rss[0]}, middle ${rss[$((n / 2))]}, last ${rss[$((n - 1))]} ($n samples)"
sleep 2  # the evaluator catches up with the last hits
curl -s "127.0.0.1:$port/metrics" | python3 -c '
import sys
buckets, count = [], 0
for line in sys.stdin:
    if line.startswith("yuqing_alert_latency_seconds_bucket"):
        le = line.split("le=\"")[1].split("\"")[0]
        buckets.append((float("inf") if le == "+Inf" else float(le), float(line.split()[-1])))
    elif line.startswith("yuqing_alert_latency_seconds_count"):
        count = float(line.split()[-1])
def quantile(q):  # as PromQL histogram_quantile: linear within the bucket
    rank, prev_le, prev_n = q * count, 0.0, 0.0
    for le, n in buckets:
        if n >= rank:
            return le if le == float("inf") else prev_le + (le - prev_le) * (rank - prev_n) / max(n - prev_n, 1e-9)
        prev_le, prev_n = le, n
if count == 0:
    print("  no alerts (alerting disabled?)")
else:
    print(f"  hit-to-alert latency over {int(count)} alerts: p50 {quantile(0.5)*1000:.0f} ms, p99 {quantile(0.99)*1000:.0f} ms   (target p99 <= 1000 ms)")
'
if [ "${BENCH_CLUSTERS:-none}" != none ]; then
  curl -s "127.0.0.1:$port/metrics" | python3 -c '
import sys
v = {l.split()[0]: float(l.split()[1]) for l in sys.stdin if l.startswith("yuqing_mailbox_clust")}
n, s = v.get("yuqing_mailbox_clustered_messages_total", 0), v.get("yuqing_mailbox_clustering_seconds_total", 0)
print(f"  text clustering ({sys.argv[1]}): {int(n)} messages, {1e6 * s / max(n, 1):.1f} us each, {s:.2f} s in all")
' "${BENCH_CLUSTERS}"
fi
grep -c "level=error" "$work/yuqingd.log" | xargs echo "  error lines in the daemon log:" || true
kill -TERM $pid; wait $pid || true

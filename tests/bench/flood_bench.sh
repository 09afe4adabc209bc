#!/bin/bash
# Copy-paste flood benchmark (issue 26: hostile input). One yuqingd on a standalone mock
# cluster, with the default text clustering (mailbox.clusters.scope: matched), measures in
# one run, on the same topic:
#   20,000 varied matched posts           the baseline
#   20,000 copies of one matched post      what a coordinated posting campaign looks like
# from the first message produced to the last stored, and prints both rates and their
# ratio (target >= 0.5), the clustering time per message of each, then SIGTERM in the
# middle of a third flood (seconds to exit; target <= 10 s) and the restart (seconds to
# /readyz, with every clustered message read back from the store).
#
# Usage: tests/bench/flood_bench.sh BUILD_DIR   (BENCH_FLOOD=N: messages per phase)
set -euo pipefail
build=$1
n=${BENCH_FLOOD:-20000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/yuqing-flood-bench-XXXXXX)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; cp "$work/yuqingd.log" /tmp/flood-bench-yuqingd.log 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
now() { echo "$EPOCHREALTIME"; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$@"; }

"$build/ctl/yuqingctl" broker --partitions 8 --topic bench.posts --topic yuqing.deadletter \
  --topic yuqing.hits --topic yuqing.alerts > "$work/broker.out" 2> "$work/broker.log" &
for _ in $(seq 100); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
bootstrap=$(head -1 "$work/broker.out")

# The three streams: varied posts (each one of a kind), and copies of one post.
python3 - "$work" "$n" <<'PY'
import json, random, sys
work, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(26)
chars = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府研"
with open(f"{work}/varied.jsonl", "w") as f:
    for i in range(n):
        text = "江门疫情确诊" + "".join(rng.choice(chars) for _ in range(40))
        f.write(json.dumps({"id": f"v{i}", "author": f"a{i % 997}", "content": text}, ensure_ascii=False) + "\n")
for name, start in (("flood", 0), ("flood2", n)):
    with open(f"{work}/{name}.jsonl", "w") as f:
        for i in range(start, start + n):
            f.write(json.dumps({"id": f"f{i}", "author": f"a{i % 997}", "content": "江门疫情确诊，请大家注意防护"},
                               ensure_ascii=False) + "\n")
PY

mkdir -p "$work/sets"
printf 'id: epidemic\ntopic: epidemic\nrules:\n  - {id: outbreak, any: [疫情]}\n' > "$work/sets/epidemic.yaml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/yuqing.yaml" <<YAML
kafka: {brokers: "$bootstrap", group_id: flood, properties: {session.timeout.ms: "6000", heartbeat.interval.ms: "500"}}
channels:
  - {name: posts, topic: bench.posts}
  - {name: mailbox, topic: bench.mailbox, kind: mailbox}
mailbox: {calendar_dir: $root/seeds/calendar, clusters: {scope: matched}}
storage: {path: data}
keyword_sets: {dir: sets}
plan: {path: $root/seeds/plan.yaml}
http: {listen: "127.0.0.1:$port"}
YAML
start_daemon() {
  "$build/daemon/yuqingd" --config "$work/yuqing.yaml" >> "$work/yuqingd.log" 2>&1 &
  pid=$!
  until curl -sf "127.0.0.1:$port/readyz" > /dev/null; do sleep 0.05; done
}
metric() { curl -s "127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
consumed() { curl -s "127.0.0.1:$port/api/v1/status" | sed -n 's/.*"consumed":\([0-9]*\).*/\1/p'; }
# Produces FILE and waits until TOTAL messages are stored; prints the seconds it took and
# the clustering seconds per message of the phase.
phase() {
  local file=$1 total=$2 c0 s0 t0 t1
  s0=$(metric yuqing_mailbox_clustering_seconds_total)
  t0=$(now)
  kcat -P -b "$bootstrap" -t bench.posts -K: < <(sed 's/^/k:/' "$file") &
  until [ "$(consumed)" -ge "$total" ]; do sleep 0.1; done
  t1=$(now)
  wait $!
  local s1; s1=$(metric yuqing_mailbox_clustering_seconds_total)
  python3 -c "import sys; d=float(sys.argv[2])-float(sys.argv[1]); c=float(sys.argv[4])-float(sys.argv[3]); print(f'{d:.2f} {int(sys.argv[5])/d:.0f} {1e6*c/int(sys.argv[5]):.1f}')" \
    "$t0" "$t1" "${s0:-0}" "${s1:-0}" "$n"
}
start_daemon
echo "mock cluster $bootstrap, 8 partitions; $n messages per phase, all matched, clustered (scope: matched)"
read -r v_s v_rate v_us < <(phase "$work/varied.jsonl" "$n")
echo "  varied posts       $v_rate msg/s ($v_s s, clustering $v_us us/message)"
read -r f_s f_rate f_us < <(phase "$work/flood.jsonl" $((2 * n)))
echo "  copies of one post $f_rate msg/s ($f_s s, clustering $f_us us/message)"
python3 -c "import sys; print(f'  ratio flood / varied: {int(sys.argv[1]) / int(sys.argv[2]):.2f}   (target >= 0.5)')" "$f_rate" "$v_rate"

kcat -P -b "$bootstrap" -t bench.posts -K: < <(sed 's/^/k:/' "$work/flood2.jsonl") &
producer=$!
until [ "$(consumed)" -ge $((2 * n + n / 4)) ]; do sleep 0.05; done
t0=$(now)
kill -TERM "$pid"
wait "$pid" || true
t1=$(now)
echo "  SIGTERM during a flood: exited in $(elapsed "$t0" "$t1") s   (target <= 10 s)"
wait "$producer"
t0=$(now)
start_daemon
t1=$(now)
tracked=$(metric yuqing_mailbox_cluster_tracked_messages)
loaded=$(grep 'event=mailbox_loaded' "$work/yuqingd.log" | tail -1 | cut -c12-23)
started=$(grep 'event=plan_loaded' "$work/yuqingd.log" | tail -1 | cut -c12-23)
echo "  restart to /readyz: $(elapsed "$t0" "$t1") s, of which the mailbox's read-back of $tracked clustered messages $started -> $loaded (the rest: the group's rebalance)"
grep -c "level=error\|\[error\]" "$work/yuqingd.log" | xargs echo "  error lines in the daemon log:" || true
kill -TERM "$pid"; wait "$pid" || true

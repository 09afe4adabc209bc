# Shell helpers for the tests that run yuqingd from a script (the systemd unit and package
# tests). Source it; `fail` ends the test.
fail() { echo "FAIL: $*"; exit 1; }

# wait_ready PORT PID LOG: waits up to 120 s for /readyz on 127.0.0.1:PORT while PID lives;
# fails with LOG printed when the daemon exits or never becomes ready.
wait_ready() {
  local port=$1 pid=$2 log=$3
  for _ in $(seq 1 240); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log"; fail "yuqingd exited"; }
    sleep 0.5
  done
  cat "$log"
  fail "yuqingd not ready within 120 s"
}

# wait_consumed PORT TOTAL: waits up to 120 s until /api/v1/status counts TOTAL messages
# consumed; sets `consumed`; fails if it never does.
wait_consumed() {
  local port=$1 total=$2
  consumed=0
  for _ in $(seq 1 240); do
    consumed=$(curl -fs "http://127.0.0.1:$port/api/v1/status" | sed -n 's/.*"consumed":\([0-9]*\).*/\1/p')
    [ "${consumed:-0}" -ge "$total" ] && return 0
    sleep 0.5
  done
  fail "consumed ${consumed:-0} of $total"
}

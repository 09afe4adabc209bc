#!/usr/bin/env bash
# The systemd unit (deploy/yuqingd.service), checked without systemd running:
#  1. `systemd-analyze verify` accepts it without a word (an unknown or misspelt key is a
#     warning there, so any output fails the test);
#  2. `systemd-analyze security --offline` rates its exposure at most MAX_EXPOSURE
#     (tenths: 20 is "2.0");
#  3. yuqingd, run under strace through a stream on its embedded Kafka (the sample stream,
#     scrapes, a report, a SIGHUP reload, a backtest, SIGTERM), makes no system call outside
#     the unit's SystemCallFilter and maps no memory writable and executable at once
#     (MemoryDenyWriteExecute), so the hardening cannot break it.
# Usage: systemd_unit.sh SOURCE_DIR YUQINGD YUQINGCTL
set -euo pipefail
src=$1 yuqingd=$2 yuqingctl=$3
MAX_EXPOSURE=${MAX_EXPOSURE:-20}
work=$(mktemp -d /tmp/yuqing-systemd-XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && pkill -KILL -P "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  if [ -n "${YUQING_KEEP_TEST_DIRS:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
. "$src/tests/support/daemon.sh"

# 1. verify, with ExecStart pointing at the binary just built.
sed "s|^ExecStart=[^ ]*/yuqingd |ExecStart=$yuqingd |" "$src/deploy/yuqingd.service" >"$work/yuqingd.service"
grep -q "^ExecStart=$yuqingd " "$work/yuqingd.service" || fail "ExecStart not found in the unit"
# Its Documentation= man page exists once installed: tests/package/deb.sh verifies the
# installed unit with it.
verify=$(systemd-analyze verify --man=no "$work/yuqingd.service" 2>&1) || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify warns: $verify"
echo "verify: clean"

# 2. exposure.
if ! systemd-analyze security --offline=true --threshold="$MAX_EXPOSURE" "$work/yuqingd.service" >"$work/security.txt" 2>&1; then
  cat "$work/security.txt"
  fail "exposure above $MAX_EXPOSURE/10"
fi
tail -n 1 "$work/security.txt"

# The unit's system-call filter, its groups expanded.
filter=$(sed -n 's/^SystemCallFilter=//p' "$src/deploy/yuqingd.service")
[ -n "$filter" ] || fail "the unit has no SystemCallFilter"
expand() {
  systemd-analyze syscall-filter "$1" | tail -n +2 | sed 's/^ *//' | grep -v -e '^#' -e '^$' |
    while read -r x; do case $x in @*) expand "$x" ;; *) echo "$x" ;; esac; done
}
for group in $filter; do expand "$group"; done | sort -u >"$work/allowed.txt"
[ "$(wc -l <"$work/allowed.txt")" -gt 100 ] || fail "could not expand $filter"

# 3. the daemon under strace (a sandbox that forbids ptrace skips this part, exit 77).
if ! strace -f -qq -o /dev/null true 2>"$work/strace-probe.txt"; then
  echo "SKIP: strace cannot trace here: $(head -n 1 "$work/strace-probe.txt")"
  exit 77
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/config"
sed -e "s|\.\./seeds|$src/seeds|" -e "s|\.\./var/data|$work/data|" \
    -e "s|listen: 127.0.0.1:9464|listen: 127.0.0.1:$port|" \
    -e 's|# token: ${env:YUQING_HTTP_TOKEN}|token: ${env:YUQING_HTTP_TOKEN}|' \
    "$src/config/yuqing.yaml" >"$work/config/yuqing.yaml"
export YUQING_HTTP_TOKEN=systemd-test YUQING_URL=127.0.0.1:$port
# LeakSanitizer cannot run under ptrace: in a sanitizer build the leak check is left to the
# other integration tests.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  strace -f -qq -o "$work/strace.txt" "$yuqingd" --config "$work/config/yuqing.yaml" >"$work/yuqingd.log" 2>&1 &
pid=$!
wait_ready "$port" "$pid" "$work/yuqingd.log"
daemon=$(pgrep -P "$pid" | head -n 1)  # strace's child: signals go to the daemon itself
[ -n "$daemon" ] || fail "no yuqingd under strace"
bootstrap=$(curl -fs "http://127.0.0.1:$port/api/v1/status" | sed -n 's/.*"bootstrap":"\([^"]*\)".*/\1/p')
[ -n "$bootstrap" ] || fail "no bootstrap address"
shift_from=(--shift-from 2022-11-25T12:00:00+08:00)
for t in posts news mailbox; do
  "$yuqingctl" produce "${shift_from[@]}" --brokers "$bootstrap" --topic "yuqing.$t" "$src/seeds/sample/$t.jsonl" >/dev/null
done
"$yuqingctl" produce "${shift_from[@]}" --brokers "$bootstrap" --topic yuqing.mailbox-replies "$src/seeds/sample/replies.jsonl" >/dev/null
total=$(cat "$src"/seeds/sample/{posts,news,mailbox,replies}.jsonl | grep -c .)
wait_consumed "$port" "$total"
# Read whole first: `grep -q` stops at the first match, and with pipefail curl's failed
# write of the rest (the page is over a pipe's 64 KB) would fail the check.
metrics=$(curl -fs "http://127.0.0.1:$port/metrics") || fail "no /metrics"
grep -q '^yuqing_storage_keys{column_family="hits"}' <<<"$metrics" || fail "no storage metrics"
curl -fs "http://127.0.0.1:$port/api/v1/report" >/dev/null 2>&1 && fail "the report answered without a token"
curl -fs -H "Authorization: Bearer $YUQING_HTTP_TOKEN" "http://127.0.0.1:$port/api/v1/report" >/dev/null || fail "no report"
kill -HUP "$daemon"
"$yuqingctl" backtest --set "$src/seeds/keyword-sets/epidemic.yaml" --since 30d >/dev/null || fail "backtest"
kill -TERM "$daemon"
rc=0
wait "$pid" || rc=$?  # strace exits with the daemon's status
pid=
[ "$rc" -eq 0 ] || { tail -n 20 "$work/yuqingd.log"; fail "yuqingd exited with $rc"; }
grep -q 'event=stopped' "$work/yuqingd.log" || fail "no event=stopped in the log"

# Calls made after execve (the dynamic loader's and ours), then the filter.
grep -oE '^[0-9]+ +[a-z_0-9]+\(' "$work/strace.txt" | awk '{print $2}' | tr -d '(' | sort -u >"$work/used.txt"
# The trace must be the daemon's work, not an empty or cut-short file: its synced batch
# writes, its Kafka and HTTP sockets and its threads.
for call in fdatasync openat sendmsg recvmsg accept clone3 futex; do
  grep -qx "$call" "$work/used.txt" || fail "strace saw no $call: the trace is incomplete ($(wc -l <"$work/used.txt") calls)"
done
outside=$(comm -23 "$work/used.txt" "$work/allowed.txt")
echo "system calls made: $(wc -l <"$work/used.txt"), outside $filter: ${outside:-none}"
[ -z "$outside" ] || fail "yuqingd makes system calls the unit's filter refuses: $outside"
wx=$(grep -E '(mmap|mprotect|pkey_mprotect)\(' "$work/strace.txt" | grep 'PROT_EXEC' | grep 'PROT_WRITE' || true)
[ -z "$wx" ] || fail "writable and executable mappings (MemoryDenyWriteExecute would refuse them): $wx"
echo "ok"

#!/usr/bin/env bash
# The Debian package, on this machine (root, no live systemd):
#  1. cpack makes it from the build tree (no compile) and lintian finds no error in it;
#  2. dpkg -i installs it: files, the `yuqing` system user, the conffile, the keyword sets
#     seeded, the unit enabled (not started) and verified by systemd-analyze with its man
#     page, `yuqingd --check-config` on /etc/yuqing/yuqing.yaml;
#  3. the installed yuqingd runs as `yuqing` (setpriv) on its embedded Kafka with the
#     installed sample stream, in /var/lib/yuqing (a copy of the conffile on a free port);
#  4. an upgrade to a bumped version keeps an edited conffile and the keyword sets;
#  5. dpkg -r keeps the data and the configuration; dpkg -P deletes them.
# The machine is left as it was: the package purged, the user removed if this test made
# it. Exit 77 (skip) when yuqing is installed already or its directories exist.
# Usage: deb.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
skip() { echo "SKIP: $*"; exit 77; }
. "$src/tests/support/daemon.sh"

[ "$(id -u)" -eq 0 ] || skip "dpkg -i needs root"
status=$(dpkg-query -W -f='${db:Status-Status}' yuqing 2>/dev/null || true)
[ -z "$status" ] || [ "$status" = not-installed ] || skip "the yuqing package is on this machine ($status): not touching it"
for d in /etc/yuqing /var/lib/yuqing; do
  [ ! -e "$d" ] || skip "$d exists (an installation by hand?): not touching it"
done
for tool in cpack lintian dpkg-deb setpriv curl python3 systemd-analyze; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/test installs it)"
done
user_existed=false
getent passwd yuqing >/dev/null && user_existed=true

work=$(mktemp -d /tmp/yuqing-deb-XXXXXX)
chmod 755 "$work"  # the daemon, as yuqing, reads its configuration copy here
pid=
cleanup() {
  [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
  if dpkg-query -W yuqing >/dev/null 2>&1; then dpkg -P yuqing >/dev/null 2>&1 || true; fi
  rm -rf /etc/yuqing /var/lib/yuqing  # neither existed before (or the test skipped)
  if ! $user_existed && getent passwd yuqing >/dev/null; then userdel yuqing; fi
  if ! $user_existed && getent group yuqing >/dev/null; then groupdel yuqing; fi
  if [ -n "${YUQING_KEEP_TEST_DIRS:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
step() { echo "== $*"; }

# 1. Build (release 1 and 2, for the upgrade) and lint.
step "cpack"
cpack --config "$build/CPackConfig.cmake" -B "$work/v1" >"$work/cpack1.log" 2>&1 || { cat "$work/cpack1.log"; fail "cpack"; }
cpack --config "$build/CPackConfig.cmake" -B "$work/v2" -D CPACK_DEBIAN_PACKAGE_RELEASE=2 \
  >"$work/cpack2.log" 2>&1 || { cat "$work/cpack2.log"; fail "cpack (release 2)"; }
deb1=$(echo "$work"/v1/yuqing_*_*.deb) deb2=$(echo "$work"/v2/yuqing_*_*.deb)
[ -f "$deb1" ] && [ -f "$deb2" ] || fail "no package made: $deb1 $deb2"
version1=$(dpkg-deb -f "$deb1" Version) version2=$(dpkg-deb -f "$deb2" Version)
dpkg --compare-versions "$version2" gt "$version1" || fail "release 2 ($version2) is not newer than $version1"
dpkg-deb -f "$deb1" Depends | grep -q 'librdkafka1' || fail "Depends lacks the shared libraries: $(dpkg-deb -f "$deb1" Depends)"
step "lintian $(basename "$deb1")"
rc=0
lintian --fail-on error "$deb1" >"$work/lintian.txt" 2>&1 || rc=$?
grep -v 'root privileges' "$work/lintian.txt" || true
[ "$rc" -eq 0 ] || fail "lintian reports errors (exit $rc)"
zcat <(dpkg-deb --fsys-tarfile "$deb1" | tar -xO ./usr/share/doc/yuqing/changelog.Debian.gz) | head -n 1 |
  grep -qF "yuqing ($version1)" || fail "changelog.Debian's first entry is not $version1 (deploy/package/changelog)"

# 2. Install.
step "dpkg -i $version1"
dpkg -i "$deb1" </dev/null || fail "dpkg -i"
for f in /usr/bin/yuqingd /usr/bin/yuqingctl /usr/lib/systemd/system/yuqingd.service \
         /usr/share/man/man8/yuqingd.8.gz /usr/share/man/man1/yuqingctl.1.gz \
         /usr/share/bash-completion/completions/yuqingctl /usr/share/yuqing/seeds/plan.yaml \
         /usr/share/yuqing/seeds/calendar/cn-2026.yaml /usr/share/yuqing/seeds/sample/posts.jsonl \
         /usr/share/yuqing/prometheus/yuqing-rules.yml /usr/share/yuqing/alertmanager/alertmanager.yml \
         /usr/share/yuqing/grafana/dashboards/yuqing.json /usr/share/doc/yuqing/copyright; do
  [ -f "$f" ] || fail "$f not installed"
done
dpkg-query -W -f='${Conffiles}\n' yuqing | grep -q '^ /etc/yuqing/yuqing.yaml ' || fail "/etc/yuqing/yuqing.yaml is not a conffile"
diff -r /usr/share/yuqing/seeds/keyword-sets /etc/yuqing/keyword-sets || fail "keyword sets not seeded"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd yuqing) || fail "no user yuqing"
[ "$uid" -lt 1000 ] && [ "$home" = /var/lib/yuqing ] || fail "yuqing is not a system user at /var/lib/yuqing: uid $uid home $home"
case $shell in */nologin|/bin/false) ;; *) fail "yuqing may log in ($shell)" ;; esac
[ "$(stat -c '%U:%G %a' /var/lib/yuqing)" = "yuqing:yuqing 750" ] || fail "/var/lib/yuqing: $(stat -c '%U:%G %a' /var/lib/yuqing)"
[ -L /etc/systemd/system/multi-user.target.wants/yuqingd.service ] || fail "the unit is not enabled"
grep -qx 'ExecStart=/usr/bin/yuqingd --config /etc/yuqing/yuqing.yaml' /usr/lib/systemd/system/yuqingd.service ||
  fail "the unit's ExecStart is not the installed yuqingd"
verify=$(systemd-analyze verify /usr/lib/systemd/system/yuqingd.service 2>&1) && [ -z "$verify" ] ||
  fail "systemd-analyze verify of the installed unit: $verify"
/usr/bin/yuqingd --version | grep -qxF "yuqingd ${version1%-*}" || fail "yuqingd --version: $(/usr/bin/yuqingd --version)"
/usr/bin/yuqingd --check-config --config /etc/yuqing/yuqing.yaml || fail "check-config"
for line in 'path: /var/lib/yuqing' 'dir: /etc/yuqing/keyword-sets' \
            'path: /usr/share/yuqing/seeds/plan.yaml' 'calendar_dir: /usr/share/yuqing/seeds/calendar' \
            'gazetteer: /usr/share/yuqing/seeds/gazetteer/jiangmen.yaml'; do
  grep -qx "  *$line" /etc/yuqing/yuqing.yaml || fail "/etc/yuqing/yuqing.yaml lacks '$line'"
done
# ... and is config/yuqing.yaml otherwise (every key documented): two header lines, five paths.
changed=$(diff <(tail -n +3 /etc/yuqing/yuqing.yaml) "$src/config/yuqing.yaml" | grep -c '^[<>]' || true)
[ "$changed" -eq 10 ] || fail "/etc/yuqing/yuqing.yaml differs from config/yuqing.yaml in $changed lines, not the 5 paths"

# 3. The installed daemon as yuqing, on a copy of the conffile with a free port.
step "yuqingd as yuqing"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed "s|^  listen: 127.0.0.1:9464\$|  listen: 127.0.0.1:$port|" /etc/yuqing/yuqing.yaml >"$work/yuqing.yaml"
grep -q "listen: 127.0.0.1:$port" "$work/yuqing.yaml" || fail "no http.listen to override"
chmod 644 "$work/yuqing.yaml"
(cd / && exec setpriv --reuid=yuqing --regid=yuqing --init-groups -- \
  /usr/bin/yuqingd --config "$work/yuqing.yaml") >"$work/yuqingd.log" 2>&1 &
pid=$!
wait_ready "$port" "$pid" "$work/yuqingd.log"
[ "$(ps -o user= -p "$pid")" = yuqing ] || fail "yuqingd does not run as yuqing"
bootstrap=$(curl -fs "http://127.0.0.1:$port/api/v1/status" | sed -n 's/.*"bootstrap":"\([^"]*\)".*/\1/p')
[ -n "$bootstrap" ] || { cat "$work/yuqingd.log"; fail "no bootstrap address at /api/v1/status"; }
sample=/usr/share/yuqing/seeds/sample
for t in posts news mailbox; do
  /usr/bin/yuqingctl produce --shift-from 2022-11-25T12:00:00+08:00 --brokers "$bootstrap" \
    --topic "yuqing.$t" "$sample/$t.jsonl" >/dev/null
done
total=$(cat "$sample"/{posts,news,mailbox}.jsonl | grep -c .)
wait_consumed "$port" "$total"
echo "status: consumed $consumed of $total"
hits=$(curl -fs "http://127.0.0.1:$port/api/v1/hits?limit=1000" | grep -o '"rule"' | wc -l)
[ "$hits" -gt 0 ] || fail "no hits at /api/v1/hits"
echo "hits: $hits"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" -eq 0 ] || { tail -n 20 "$work/yuqingd.log"; fail "yuqingd exited with $rc"; }
grep -q 'event=stopped' "$work/yuqingd.log" || fail "no event=stopped in the log"
[ -n "$(find /var/lib/yuqing -user yuqing -name CURRENT)" ] || fail "no RocksDB store of yuqing in /var/lib/yuqing"
[ -z "$(find /var/lib/yuqing ! -user yuqing)" ] || fail "files in /var/lib/yuqing not owned by yuqing"

# 4. Upgrade over itself, with an edited conffile and a keyword set removed.
step "upgrade to $version2"
sed -i 's/^  level: info$/  level: debug  # edited by the operator/' /etc/yuqing/yuqing.yaml
grep -q 'edited by the operator' /etc/yuqing/yuqing.yaml || fail "no log.level line to edit"
rm /etc/yuqing/keyword-sets/epidemic.yaml
dpkg -i "$deb2" </dev/null || fail "dpkg -i (upgrade)"
[ "$(dpkg-query -W -f='${Version}' yuqing)" = "$version2" ] || fail "not upgraded"
grep -q 'edited by the operator' /etc/yuqing/yuqing.yaml || fail "the upgrade overwrote the edited conffile"
[ ! -e /etc/yuqing/keyword-sets/epidemic.yaml ] || fail "the upgrade seeded the keyword sets again"
[ "$(id -u yuqing)" = "$uid" ] || fail "the upgrade changed the user"
/usr/bin/yuqingd --check-config --config /etc/yuqing/yuqing.yaml >/dev/null || fail "check-config after the upgrade"

# 5. Remove keeps data and configuration; purge deletes them.
step "dpkg -r"
dpkg -r yuqing </dev/null || fail "dpkg -r"
[ ! -e /usr/bin/yuqingd ] || fail "/usr/bin/yuqingd left after remove"
[ -n "$(find /var/lib/yuqing -name CURRENT)" ] || fail "remove deleted the data"
grep -q 'edited by the operator' /etc/yuqing/yuqing.yaml || fail "remove deleted the configuration"
[ -d /etc/yuqing/keyword-sets ] || fail "remove deleted the keyword sets"
step "dpkg -P"
dpkg -P yuqing </dev/null || fail "dpkg -P"
for d in /var/lib/yuqing /etc/yuqing /etc/systemd/system/multi-user.target.wants/yuqingd.service \
         /etc/systemd/system/yuqingd.service /var/lib/systemd/deb-systemd-helper-enabled/yuqingd.service \
         /var/lib/systemd/deb-systemd-helper-masked/yuqingd.service; do
  [ ! -e "$d" ] && [ ! -L "$d" ] || fail "$d left after purge"
done
status=$(dpkg-query -W -f='${db:Status-Status}' yuqing 2>/dev/null || true)
[ -z "$status" ] || [ "$status" = not-installed ] || fail "package state after purge: $status"
echo "ok"

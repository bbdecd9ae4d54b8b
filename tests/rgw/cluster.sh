#!/usr/bin/env bash
# A throwaway single-node Ceph cluster with an S3 gateway, for the tests and the benchmark: one
# monitor, one RAM-backed OSD (memstore) and radosgw, all on 127.0.0.1 and everything (config,
# data, logs, sockets, pid files) under one directory. Nothing is installed as a service and
# nothing outside DIR is touched. docs/platform.md#ceph-rgw-in-tests has the recipe and its reasons.
#
#   cluster.sh start DIR PORT [MON_PORT]   a new cluster in DIR (which must not hold one), its gateway
#                                          serving S3 on 127.0.0.1:PORT, and the S3 user; MON_PORT is
#                                          picked when not given
#   cluster.sh gateway DIR PORT            one more radosgw on PORT, against the same cluster
#   cluster.sh tls-gateway DIR PORT        one more radosgw serving HTTPS on PORT, its certificate (for
#                                          127.0.0.1, self-signed, made once) in DIR/tls/cert.pem
#   cluster.sh kill DIR PORT               kill -9 the gateway on PORT (for fault tests)
#   cluster.sh restart DIR PORT            (kill it if it runs and) start that gateway again, wait until it serves
#   cluster.sh stop DIR                    kill -9 every daemon of the cluster (its data is in RAM, and
#                                          a memstore OSD that stops cleanly first writes it all to DIR);
#                                          DIR itself, with the logs, is left to the caller
#
# Environment: RGW_ACCESS_KEY, RGW_SECRET_KEY (the S3 user's fixed keys; defaults below),
# RGW_MEMSTORE_GIB (the OSD's RAM-backed capacity, default 8), RGW_OWNER_PID (start: when that
# process is gone, the cluster is stopped, so a test run that crashes leaves no daemons behind).
# Prints one line on success: the endpoint.
set -euo pipefail

access_key=${RGW_ACCESS_KEY:-WSDTESTACCESSKEY00001}
secret_key=${RGW_SECRET_KEY:-wsd-test-secret-key-not-for-production}
memstore_gib=${RGW_MEMSTORE_GIB:-8}
self=$(readlink -f "${BASH_SOURCE[0]}")

die() { echo "cluster.sh: $*" >&2; exit 1; }

usage() { sed -n '7,17p' "$self" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# The config every daemon and tool reads. Ceph expands $name itself, so each daemon gets its own
# log, admin socket and pid file. The timings at the end are what make it quick and fault tests
# harmless; docs/platform.md#ceph-rgw-in-tests says why.
write_config() {
  local dir=$1 fsid=$2 mon_port=$3
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = [v1:127.0.0.1:$mon_port]
public addr = 127.0.0.1
ms bind msgr2 = false
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
run dir = $dir/run
log file = $dir/log/\$name.log
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
keyring = $dir/keyring
mon data = $dir/mon
osd data = $dir/osd
osd objectstore = memstore
memstore device bytes = $((memstore_gib << 30))
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 0
mon data avail crit = 0
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
# A tool or daemon that cannot reach the monitor gives up after 20 s, not 5 minutes.
client mount timeout = 20
# Every gateway watches the control pool; a gateway killed -9 holds up the others' metadata writes
# (bucket creation) until its watch times out: 2 s instead of 30, with pings every 0.5 s.
osd client watch timeout = 2
objecter tick interval = 0.5
# Each map change (a pool, the OSD joining) waits for the next proposal: 1 s by default, which made
# the gateway's first start, with its seven pools, take 12 s instead of under 2.
paxos propose interval = 0.05
paxos min wait = 0.01
# An overwritten object's old data is deleted by the gateway's garbage collector, by default two
# hours later: memstore holds it in RAM till then. A benchmark overwriting a 1 GiB backup five times
# would need five times the memory; collected within seconds instead.
rgw gc obj min wait = 2
rgw gc processor period = 2
EOF
}

# A loopback port nothing answers on, from a range the kernel does not hand out on its own.
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 10000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  die "no free loopback port found"
}

# True when an S3 GET of / on the port answers with a status line (anonymous: an empty bucket list).
serving() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    read -r -t 5 status <&3 && [[ $status == HTTP/1.1\ 200* ]]
  ) 2>/dev/null
}

# The same over TLS, trusting only the cluster's own certificate.
serving_tls() {
  [[ $(curl -s -o /dev/null -m 5 -w '%{http_code}' --cacert "$2/tls/cert.pem" "https://127.0.0.1:$1/") == 200 ]]
}

pid_of() { [ -s "$1/run/$2.pid" ] && cat "$1/run/$2.pid"; }

# A key and a self-signed certificate for 127.0.0.1, made once per cluster; clients trust it alone.
make_certificate() {
  local dir=$1
  [ -s "$dir/tls/cert.pem" ] && return
  command -v openssl >/dev/null || die "openssl is missing (./build.sh deps installs it)"
  mkdir -p "$dir/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" 2>>"$dir/log/setup.log" || die "openssl could not make a certificate; see $dir/log/setup.log"
}

# A gateway on PORT; one started with TLS is restarted with TLS (DIR/tls/PORT marks it).
start_gateway() {
  local dir=$1 port=$2 tls=${3:-} name=client.rgw.$2 frontend
  [ -f "$dir/ceph.conf" ] || die "$dir holds no cluster"
  [ -z "$tls" ] && [ -e "$dir/tls/$port" ] && tls=tls
  frontend="beast endpoint=127.0.0.1:$port"
  if [ -n "$tls" ]; then
    command -v curl >/dev/null || die "curl is missing (./build.sh deps installs it)"
    make_certificate "$dir"
    touch "$dir/tls/$port"
    frontend="beast ssl_endpoint=127.0.0.1:$port ssl_certificate=$dir/tls/cert.pem ssl_private_key=$dir/tls/key.pem"
  fi
  rm -f "$dir/run/$name.pid"
  radosgw -c "$dir/ceph.conf" --no-mon-config -n "$name" --rgw-frontends "$frontend" >>"$dir/log/setup.log" 2>&1 ||
    die "radosgw $name did not start; see $dir/log/$name.log"
  local deadline=$((SECONDS + 60))
  until if [ -n "$tls" ]; then serving_tls "$port" "$dir"; else serving "$port"; fi; do
    local pid; pid=$(pid_of "$dir" "$name" || true)
    if [ -n "$pid" ] && ! running "$pid" "$dir"; then die "radosgw $name exited; see $dir/log/$name.log"; fi
    ((SECONDS < deadline)) || die "radosgw $name is not serving on 127.0.0.1:$port after 60 s; see $dir/log/$name.log"
    sleep 0.1
  done
}

# A process that has not exited. A killed daemon stays a zombie until init reaps it, which may take
# seconds: that counts as gone, but only once its other threads have gone too (until then its open
# files, and so the file systems they are on, are still held).
alive() {
  local state tasks
  state=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) && [ -n "$state" ] || return 1
  [ "$state" != Z ] && return 0
  tasks=$(ls "/proc/$1/task" 2>/dev/null | wc -l)
  ((tasks > 1))
}

# A process of this cluster: alive, and its command line names DIR (a pid file may be stale).
running() {
  alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

kill_daemon() {
  local pid=$1 dir=$2
  running "$pid" "$dir" || return 0
  kill -9 "$pid" 2>/dev/null || return 0
  while alive "$pid"; do sleep 0.02; done # a zombie's command line is empty
}

start() {
  local dir=$1 port=$2 mon_port=${3:-}
  [ -e "$dir/ceph.conf" ] && die "$dir already holds a cluster"
  for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt packages ceph-mon ceph-osd radosgw; ./build.sh deps installs them)"
  done
  mkdir -p "$dir/run" "$dir/log" "$dir/mon" "$dir/osd"
  # Whatever fails from here on, no daemon is left running.
  trap 'stop "$dir"' EXIT
  [ -n "$mon_port" ] || mon_port=$(free_port)
  local fsid; fsid=$(cat /proc/sys/kernel/random/uuid)
  write_config "$dir" "$fsid" "$mon_port"
  # Everything but the monitor is told not to ask it for configuration: in 16.2 that fetch leaves
  # the client's monitor map without the cluster's fsid, and a command sent before the monitor's own
  # map arrives is refused ("wrong fsid"), which made about one start in three fail.
  local conf=(-c "$dir/ceph.conf") client=(-c "$dir/ceph.conf" --no-mon-config)

  # The monitor, from a monmap naming only itself, speaking the v1 protocol.
  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon "${conf[@]}" -i a --mkfs --monmap "$dir/monmap" 2>>"$dir/log/setup.log" || die "ceph-mon --mkfs failed; see $dir/log/setup.log"
  ceph-mon "${conf[@]}" -i a >>"$dir/log/setup.log" 2>&1 || die "ceph-mon did not start; see $dir/log/mon.a.log"

  # The OSD: registered with the monitor, its store made, then started. CRUSH places it itself.
  local osd_uuid osd_id; osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_id=$(timeout 60 ceph "${client[@]}" osd new "$osd_uuid" 2>>"$dir/log/setup.log") || die "ceph osd new failed; see $dir/log/setup.log"
  ceph-osd "${client[@]}" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" 2>>"$dir/log/setup.log" >/dev/null ||
    die "ceph-osd --mkfs failed; see $dir/log/setup.log"
  ceph-osd "${client[@]}" -i "$osd_id" >>"$dir/log/setup.log" 2>&1 || die "ceph-osd did not start; see $dir/log/osd.$osd_id.log"

  if [ -n "${RGW_OWNER_PID:-}" ]; then
    # Detached, so it outlives the caller's process group; it ends with the cluster.
    setsid "$self" watch "$dir" "$RGW_OWNER_PID" </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/run/watchdog.pid"
  fi

  # The gateway creates its pools (and waits for the OSD) itself.
  start_gateway "$dir" "$port"
  timeout 60 radosgw-admin "${client[@]}" user create --uid=wsd --display-name=wsd \
    --access-key="$access_key" --secret="$secret_key" >"$dir/log/user.json" 2>>"$dir/log/setup.log" ||
    die "radosgw-admin user create failed; see $dir/log/setup.log"
  trap - EXIT
  echo "http://127.0.0.1:$port"
}

stop() {
  local dir=$1 file pid
  [ -d "$dir/run" ] || return 0
  for file in "$dir"/run/*.pid; do
    [ -e "$file" ] || continue
    case $(basename "$file") in watchdog.pid) continue ;; esac
    pid=$(cat "$file") && [ -n "$pid" ] && kill_daemon "$pid" "$dir"
    rm -f "$file"
  done
  # The watchdog last, unless it is the one stopping the cluster.
  if pid=$(pid_of "$dir" watchdog) && [ "$pid" != $$ ]; then kill_daemon "$pid" "$dir"; fi
  rm -f "$dir/run/watchdog.pid"
}

kill_gateway() {
  local dir=$1 port=$2 pid
  pid=$(pid_of "$dir" "client.rgw.$port") || die "no gateway on port $port in $dir"
  kill_daemon "$pid" "$dir"
  rm -f "$dir/run/client.rgw.$port.pid"
}

command=${1:-}
(($# >= 2)) || usage
dir=$(readlink -f "$2")
case "$command" in
  start) (($# >= 3 && $# <= 4)) || usage; start "$dir" "$3" "${4:-}" ;;
  gateway)
    (($# == 3)) || usage
    if pid=$(pid_of "$dir" "client.rgw.$3") && running "$pid" "$dir"; then die "a gateway already serves port $3"; fi
    start_gateway "$dir" "$3"; echo "http://127.0.0.1:$3" ;;
  tls-gateway)
    (($# == 3)) || usage
    if pid=$(pid_of "$dir" "client.rgw.$3") && running "$pid" "$dir"; then die "a gateway already serves port $3"; fi
    start_gateway "$dir" "$3" tls; echo "https://127.0.0.1:$3" ;;
  kill) (($# == 3)) || usage; kill_gateway "$dir" "$3" ;;
  restart)
    (($# == 3)) || usage
    [ -f "$dir/log/client.rgw.$3.log" ] || die "no gateway was started on port $3 in $dir"
    if pid_of "$dir" "client.rgw.$3" >/dev/null; then kill_gateway "$dir" "$3"; fi
    start_gateway "$dir" "$3"
    if [ -e "$dir/tls/$3" ]; then echo "https://127.0.0.1:$3"; else echo "http://127.0.0.1:$3"; fi ;;
  stop) (($# == 2)) || usage; stop "$dir" ;;
  # Internal: started by start when RGW_OWNER_PID is set; stops the cluster once that process is gone.
  watch)
    (($# == 3)) || usage
    while alive "$3" && [ -f "$dir/ceph.conf" ]; do sleep 1; done
    stop "$dir" ;;
  *) usage ;;
esac

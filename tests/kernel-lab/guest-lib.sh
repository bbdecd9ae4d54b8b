# Sourced by kernel lab scenarios (busybox sh inside the guest). Results are lines the xunit side
# reads: "PASS name" or "FAIL name: why"; the scenario's exit status is the number of failures.
failures=0
MiB=1048576

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failures=$((failures + 1)); }

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
  name=$1; shift
  if "$@" >/tmp/check.out 2>&1; then pass "$name"; else fail "$name" "$(tail -c 400 /tmp/check.out | tr '\n' ' ')"; fi
}

# expect_over_quota NAME FILE MIB: writing MIB MiB to FILE must fail for the quota. XFS answers a
# project quota's hard limit with ENOSPC, not EDQUOT (project quotas act as the directory tree's
# size: df inside shows the limit), so either counts; the scenario shows the disk itself has room.
expect_over_quota() {
  if dd if=/dev/zero of="$2" bs=1M count="$3" conv=fsync >/tmp/dd.out 2>&1; then
    fail "$1" "writing $3 MiB to $2 succeeded"
  elif grep -q -e "Disk quota exceeded" -e "No space left on device" /tmp/dd.out; then
    pass "$1"
  else
    fail "$1" "$(tr '\n' ' ' < /tmp/dd.out)"
  fi
}

# write_config FILE AREA STORAGE PORT HEALTHPORT: a wsd config for the guest.
write_config() {
  cat > "$1" <<JSON
{ "service": { "address": "127.0.0.1:$4", "shutdownGracePeriod": "5s" },
  "health": { "address": "127.0.0.1:$5" },
  "log": { "level": "info" },
  "content": { "workingArea": "$2", "minFreeBytes": 0,
               "storage": { "kind": "local", "local": { "root": "$3" } } } }
JSON
}

# start_wsd CONFIG HEALTHPORT LOG: starts "wsd run" in the background and waits until it is ready.
start_wsd() {
  wsd run --config "$1" >"$3" 2>&1 &
  WSD_PID=$!
  i=0
  until wget -q -O /dev/null "http://127.0.0.1:$2/ready" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 $WSD_PID 2>/dev/null; then echo "wsd did not become ready:"; cat "$3"; return 1; fi
    sleep 0.1
  done
}

stop_wsd() { kill -TERM "$1" && wait "$1"; }

# project_of AREA ID: the project id recorded in a workspace's session file.
project_of() { sed -n 's/.*"xfsProjectID":\([0-9]*\).*/\1/p' "$1/$2.workspace.json"; }

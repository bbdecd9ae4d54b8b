# The in-workspace service on a pure cgroup v2 kernel (booted with cgroup_no_v1=all) with the cpu,
# memory and pids controllers: run by KernelLabCgroupTests with an XFS image as /dev/vda, which
# holds the container's root (an ID-mapped mount needs a file system that supports it).
. /lab/lib.sh
cg=/sys/fs/cgroup
mkdir -p /mnt/c && mount -t xfs /dev/vda /mnt/c || { echo "cannot mount /dev/vda"; exit 1; }
mkdir -p /mnt/c/bin /mnt/c/proc /mnt/c/dev /mnt/c/mnt/proc /tmp/pids
cp /bin/busybox /mnt/c/bin/busybox && ln -s busybox /mnt/c/bin/sh

# The container: its own cgroup with limits, new PID, mount, UTS, IPC and network namespaces,
# chrooted into the XFS root, PID 1 a busy loop.
echo "+cpu +memory +pids" > $cg/cgroup.subtree_control
mkdir $cg/ws-lab
echo "150000 100000" > $cg/ws-lab/cpu.max
echo $((256 * MiB)) > $cg/ws-lab/memory.max
sh -c "echo \$\$ > $cg/ws-lab/cgroup.procs; exec unshare -p -m -u -i -n -f chroot /mnt/c /bin/sh -c 'while :; do :; done'" &
launcher=$!
sleep 1
init=$(cat /proc/$launcher/task/*/children | tr -d ' ')
echo "$init" > /tmp/pids/ws-1.pid

cat > /tmp/wsd.json <<JSON
{ "service": { "address": "127.0.0.1:8080" }, "health": { "address": "127.0.0.1:9500" },
  "content": { "workingArea": "/tmp/area", "minFreeBytes": 0, "storage": { "kind": "local", "local": { "root": "/tmp/storage" } } },
  "runtime": { "process": { "pidDirectory": "/tmp/pids" }, "cgroupRoot": "$cg" } }
JSON
start_wsd /tmp/wsd.json 9500 /tmp/wsd.log || exit 1
check "init the workspace" wsd client init ws-1
sock=/tmp/area/ws-1-daemon/daemon.sock

check "PrepareForUserNS" sh -c "wsd iws $sock prepare | grep -q IDMAPPED"
check "the mark is the container's root, ID-mapped" sh -c "grep ' /tmp/area/ws-1-daemon/mark ' /proc/self/mountinfo | grep -q idmapped"
check "/dev/net/tun in the container" test -c /mnt/c/dev/net/tun
check "EvacuateCGroup" wsd iws $sock evacuate
check "the container's processes are in workspace/user" grep -qx "$init" $cg/ws-lab/workspace/user/cgroup.procs
check "nothing is left above" test -z "$(cat $cg/ws-lab/cgroup.procs $cg/ws-lab/workspace/cgroup.procs)"
check "the controllers are delegated to workspace" sh -c "grep -q cpu $cg/ws-lab/cgroup.subtree_control && grep -q memory $cg/ws-lab/workspace/cgroup.subtree_control"
check "workspace belongs to the workspace's root" test "$(stat -c %u $cg/ws-lab/workspace)" = 33333

wsd iws $sock info > /tmp/info.json; cat /tmp/info.json
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" /tmp/info.json; }
check "WorkspaceInfo keeps a fractional CPU limit (1.5 CPUs = 1500)" test "$(field cpuLimitMillicores)" = 1500
check "WorkspaceInfo reads the memory limit" test "$(field memoryLimitBytes)" = $((256 * MiB))
check "WorkspaceInfo sees the busy loop" test "$(field cpuUsedMillicores)" -gt 300
check "WorkspaceInfo sees memory in use" test "$(field memoryUsedBytes)" -gt 0

check "MountProc" wsd iws $sock mount-proc 1 /mnt/proc
check "kcore is masked" test "$(wc -c < /proc/$init/root/mnt/proc/kcore)" = 0
check "the proc is the container's PID namespace" sh -c "test -d /proc/$init/root/mnt/proc/1 && ! test -d /proc/$init/root/mnt/proc/$init"

if [ $failures -gt 0 ]; then echo "--- daemon log"; tail -n 20 /tmp/wsd.log; fi
exit $failures

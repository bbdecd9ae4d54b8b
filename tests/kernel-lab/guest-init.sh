#!/bin/busybox sh
# PID 1 of the kernel lab's guest: mounts the basics, loads the modules the run asked for,
# runs /lab/scenario.sh between markers the host reads from the serial console, powers off.
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/usr/sbin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
while read -r module; do
  insmod "$module" || echo "insmod $module failed"
done < /lab/modules
ip link set lo up
hostname lab
echo WSD-LAB-BEGIN
cd /lab
set --
while IFS= read -r arg; do [ -n "$arg" ] && set -- "$@" "$arg"; done < /lab/args
sh /lab/scenario.sh "$@" 2>&1
echo "WSD-LAB-EXIT $?"
sync
poweroff -f

# MountNfs and UmountNfs against a real NFSv4 server: the kernel's nfsd with nfs-kernel-server's
# rpc.nfsd, rpc.mountd and exportfs, serving in the workspace container's own network namespace
# (MountNfs connects from the caller's network). Grace and lease times are cut to 10 s: an open in
# nfsd's grace period waits it out (90 s by default). Run by NfsLabTests.
. /lab/lib.sh
mkdir -p /srv/export /var/lib/nfs/v4recovery /proc/fs/nfsd /tmp/pids
touch /var/lib/nfs/etab /var/lib/nfs/rmtab
printf 'tcp tpi_cots_ord v inet tcp - -\ntcp6 tpi_cots_ord v inet6 tcp - -\nlocal tpi_cots_ord - loopback - - -\n' > /etc/netconfig
mount -t tmpfs tmpfs /srv/export && echo "from the server" > /srv/export/file
echo "/srv/export 127.0.0.1(rw,fsid=0,no_subtree_check,no_root_squash,insecure)" > /etc/exports

# The container: new PID, mount, UTS, IPC and network namespaces; the NFS server in its network.
unshare -p -m -u -i -n -f sh -c 'ip link set lo up; mkdir -p /mnt/nfs; exec sleep 100000' &
launcher=$!
sleep 1
init=$(cat /proc/$launcher/task/*/children | tr -d ' ')
echo "$init" > /tmp/pids/ws-1.pid
nsenter -n -t $init sh -c 'mount -t nfsd nfsd /proc/fs/nfsd && echo 10 > /proc/fs/nfsd/nfsv4gracetime && echo 10 > /proc/fs/nfsd/nfsv4leasetime && exportfs -r && { rpc.mountd -N 3 --no-udp -F 2>/dev/null & } && sleep 1 && rpc.nfsd -p 2049 -N 3 --no-udp 4' ||
  { echo "the NFS server did not start"; exit 1; }

cat > /tmp/wsd.json <<JSON
{ "service": { "address": "127.0.0.1:8080" }, "health": { "address": "127.0.0.1:9500" },
  "content": { "workingArea": "/tmp/area", "minFreeBytes": 0, "storage": { "kind": "local", "local": { "root": "/tmp/storage" } } },
  "runtime": { "process": { "pidDirectory": "/tmp/pids" } } }
JSON
start_wsd /tmp/wsd.json 9500 /tmp/wsd.log || exit 1
check "init the workspace" wsd client init ws-1
sock=/tmp/area/ws-1-daemon/daemon.sock

check "MountNfs" wsd iws $sock mount-nfs 1 127.0.0.1:/ /mnt/nfs vers=4.2,soft
check "the export is readable in the container" test "$(cat /proc/$init/root/mnt/nfs/file)" = "from the server"
check "the mount is nosuid,nodev" sh -c "grep ' /mnt/nfs ' /proc/$init/mountinfo | grep -q 'nosuid,nodev'"
check "the node's own /mnt/nfs is untouched" test ! -e /mnt/nfs/file
check "a suid option is refused" sh -c "! wsd iws $sock mount-nfs 1 127.0.0.1:/ /mnt/nfs vers=4.2,suid | grep -q mounted"
check "UmountNfs" wsd iws $sock umount-nfs 1 /mnt/nfs
check "the mount is gone" sh -c "! grep -q ' /mnt/nfs ' /proc/$init/mountinfo"

if [ $failures -gt 0 ]; then echo "--- daemon log"; tail -n 20 /tmp/wsd.log; fi
exit $failures

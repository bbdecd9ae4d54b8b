# Project quotas on a real XFS filesystem (docs/decisions.md#quota-and-disk-guard): run by
# KernelLabQuotaTests with an XFS image as /dev/vda. Each PASS/FAIL line is one acceptance point.
. /lab/lib.sh
mkdir -p /mnt/xfs
mount -t xfs -o prjquota /dev/vda /mnt/xfs || { echo "cannot mount /dev/vda as XFS with prjquota"; exit 1; }
area=/mnt/xfs/area
write_config /tmp/a.json $area /mnt/xfs/storage 8080 9500
start_wsd /tmp/a.json 9500 /tmp/a.log || exit 1
a() { wsd client --address 127.0.0.1:8080 "$@"; }

# A workspace limited to 8 MiB: writes inside stop at the limit, writes elsewhere on the same
# filesystem do not.
check "init with a quota" a init ws-1 --quota $((8 * MiB))
check "writes within the limit succeed" dd if=/dev/zero of=$area/ws-1/small bs=1M count=4 conv=fsync
expect_over_quota "writes past the hard limit fail" $area/ws-1/big 16
check "writes outside the workspace are not limited" dd if=/dev/zero of=/mnt/xfs/outside bs=1M count=16 conv=fsync
check "statfs inside the workspace shows the limit" test "$(stat -f -c '%b*%S' $area/ws-1 | sed 's/\*/ * /' | xargs expr)" = $((8 * MiB))
rm -f $area/ws-1/big
check "a new subdirectory" mkdir -p $area/ws-1/sub/deeper
expect_over_quota "new subdirectories inherit the project" $area/ws-1/sub/deeper/big 16
id1=$(project_of $area ws-1)
check "the first id is 1000" test "$id1" = 1000
check "wsd quota reports the hard limit" sh -c "wsd quota $area | grep -q '\"project\":1000,\"softBytes\":0,\"hardBytes\":$((8 * MiB))'"

# A backup larger than the quota is restored while initializing (soft limit), then the hard
# limit holds.
check "init a workspace without a quota" a init ws-src --workspace big
dd if=/dev/urandom of=$area/ws-src/data bs=1M count=24 2>/dev/null
check "back it up and dispose" a dispose ws-src --backup
check "a restore larger than the quota succeeds" a init ws-big --workspace big --quota $((8 * MiB))
check "the restored content is whole" test "$(stat -c %s $area/ws-big/data)" = $((24 * MiB))
expect_over_quota "once ready the hard limit holds" $area/ws-big/more 1
check "its project is 1001" test "$(project_of $area ws-big)" = 1001

# Ids go back to the pool on dispose, with their limits.
check "dispose the first workspace" a dispose ws-1
check "its limits are gone" sh -c "! wsd quota $area | grep -q '\"project\":1000,'"
check "init another limited workspace" a init ws-3 --quota $((4 * MiB))
check "it reuses the freed id 1000" test "$(project_of $area ws-3)" = 1000

# A restarted daemon keeps the limits and knows which ids are taken.
stop_wsd $WSD_PID
start_wsd /tmp/a.json 9500 /tmp/a.log || exit 1
expect_over_quota "after a restart the limit still holds" $area/ws-3/big 8
check "after a restart a new workspace gets a new id" a init ws-4 --quota $((4 * MiB))
check "which is 1002" test "$(project_of $area ws-4)" = 1002

# A second daemon on the same filesystem respects the ids in use there.
write_config /tmp/b.json /mnt/xfs/area-b /mnt/xfs/storage-b 8081 9501
start_wsd /tmp/b.json 9501 /tmp/b.log || exit 1
check "a second daemon on the filesystem inits a limited workspace" wsd client --address 127.0.0.1:8081 init ws-b --quota $((4 * MiB))
check "with an id no one else uses (1003)" test "$(project_of /mnt/xfs/area-b ws-b)" = 1003

if [ $failures -gt 0 ]; then echo "--- daemon log"; tail -n 30 /tmp/a.log; fi
exit $failures

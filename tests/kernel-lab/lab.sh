#!/usr/bin/env bash
# The kernel lab: boots a real Debian kernel under QEMU (TCG) with the AOT wsd binary in its
# initramfs and runs one scenario script inside, for what this host's kernel cannot show
# (project quotas, cgroup v2 with every controller, NFS). See README "Kernel lab".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${WSD_LAB_CACHE:-$root/.tools/kernel-lab}
cant_run=77 # the scenario could not be run here: the caller reports a skip, never a pass

usage() {
  cat >&2 <<'USAGE'
usage: tests/kernel-lab/lab.sh prepare
       tests/kernel-lab/lab.sh run [options] SCENARIO [ARGS...]
  prepare             fetch the Debian cloud kernel into the cache (.tools/kernel-lab) once
  run                 boot the kernel, run SCENARIO (a sh script, busybox inside) with ARGS,
                      print its output and exit with its status (77: the lab cannot run here)
    --disk FILE       attach FILE as the next virtio disk (/dev/vda, /dev/vdb, ...)
    --module NAME     load a kernel module and what it depends on before the scenario
    --file SRC[:DEST] copy SRC into the guest (default /lab/<name of SRC>)
    --append ARGS     more kernel command line, e.g. cgroup_no_v1=all
    --memory MIB      guest memory (default 1024)
    --timeout SEC     give up after SEC seconds (default 600), exit 124
    --wsd FILE        the wsd binary (default out/wsd)
    --package NAME    fetch a Debian package into the cache (once) for --bin to take programs from
    --bin PATH        copy the program at PATH (from a --package, else the host) and its libraries
USAGE
  exit 2
}

log() { printf '[lab] %s\n' "$*" >&2; }

kernel_dir() { ls -d "$cache"/linux-* 2>/dev/null | head -n1; }

packages="$cache/packages"

# Unpacks a Debian package into the shared package root once (never installed on the host).
fetch_package() {
  local name=$1
  [ -f "$packages/.have-$name" ] && return 0
  local work; work=$(mktemp -d)
  (cd "$work" && apt-get download -qq "$name" 2>/dev/null) || { rm -rf "$work"; log "cannot download $name"; exit $cant_run; }
  mkdir -p "$packages/root"
  dpkg-deb -x "$work"/*.deb "$packages/root"
  rm -rf "$work"
  touch "$packages/.have-$name"
}

# Copies a program and the shared libraries it needs (from the package root first, then the host).
copy_program() {
  local rootfs=$1 path=$2 source=$2 lib
  [ -e "$packages/root$path" ] && source="$packages/root$path"
  [ -e "$source" ] || { log "no program $path"; exit 2; }
  mkdir -p "$rootfs$(dirname "$path")"; cp -L "$source" "$rootfs$path"
  LD_LIBRARY_PATH="$packages/root/lib/x86_64-linux-gnu:$packages/root/usr/lib/x86_64-linux-gnu" ldd "$source" |
    awk '/=> \// { print $3 } /^[ \t]*\/lib/ { print $1 }' | while read -r lib; do
      local target=${lib#"$packages/root"}
      [ -e "$rootfs$target" ] || { mkdir -p "$rootfs$(dirname "$target")"; cp -L "$lib" "$rootfs$target"; }
    done
}

prepare() {
  if [ -n "$(kernel_dir)" ] && [ -f "$(kernel_dir)/vmlinuz" ]; then return 0; fi
  command -v apt-get >/dev/null || { log "apt-get is needed to fetch the kernel"; return $cant_run; }
  local package
  package=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  [ -n "$package" ] || { log "no linux-image-cloud-amd64 in the apt sources"; return $cant_run; }
  log "fetching $package"
  local work; work=$(mktemp -d)
  (cd "$work" && apt-get download -qq "$package" 2>/dev/null) || { rm -rf "$work"; log "cannot download $package"; return $cant_run; }
  local version=${package#linux-image-}
  local target="$cache/linux-$version"
  mkdir -p "$target.tmp"
  dpkg-deb -x "$work"/*.deb "$target.tmp/root"
  depmod -b "$target.tmp/root" "$version"
  ln -s "root/boot/vmlinuz-$version" "$target.tmp/vmlinuz"
  echo "$version" > "$target.tmp/version"
  rm -rf "$work" "$target"
  mv "$target.tmp" "$target"
  log "kernel $version ready in $target"
}

# Load order of a module: its dependencies (modules.dep lists them last-loaded-first), then itself.
module_order() {
  local deps=$1 name=$2 line path dep
  line=$(grep -E "(^|/)${name//-/_}\.ko(\.[gx]z|\.zst)?:" "$deps" || grep -E "(^|/)${name}\.ko(\.[gx]z|\.zst)?:" "$deps" || true)
  [ -n "$line" ] || { log "no module $name in this kernel"; exit $cant_run; }
  path=${line%%:*}
  local rest=${line#*:}
  local reversed=()
  for dep in $rest; do reversed=("$dep" "${reversed[@]}"); done
  for dep in "${reversed[@]}"; do
    dep=$(basename "$dep"); module_order "$deps" "${dep%%.ko*}"
  done
  echo "$path"
}

run() {
  local disks=() modules=() files=() bins=() append="" memory=1024 timeout=600 wsd="$root/out/wsd"
  while [ $# -gt 0 ]; do
    case $1 in
      --disk) disks+=("$2"); shift 2 ;;
      --module) modules+=("$2"); shift 2 ;;
      --file) files+=("$2"); shift 2 ;;
      --append) append="$2"; shift 2 ;;
      --memory) memory=$2; shift 2 ;;
      --timeout) timeout=$2; shift 2 ;;
      --wsd) wsd=$2; shift 2 ;;
      --package) fetch_package "$2"; shift 2 ;;
      --bin) bins+=("$2"); shift 2 ;;
      --*) usage ;;
      *) break ;;
    esac
  done
  [ $# -ge 1 ] || usage
  local scenario=$1; shift
  [ -f "$scenario" ] || { log "no scenario $scenario"; exit 2; }
  command -v qemu-system-x86_64 >/dev/null || { log "qemu-system-x86_64 is not installed (apt: qemu-system-x86)"; exit $cant_run; }
  command -v busybox >/dev/null || { log "busybox is not installed (apt: busybox-static)"; exit $cant_run; }
  [ -x "$wsd" ] || { log "$wsd is missing: ./build.sh build makes it"; exit 2; }
  prepare || exit $?
  local kdir; kdir=$(kernel_dir)
  local version; version=$(cat "$kdir/version")
  local modroot="$kdir/root/lib/modules/$version"

  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/wsd-lab.XXXXXX")
  [ -n "${WSD_LAB_KEEP:-}" ] && log "keeping $work" || trap 'rm -rf "$work"' EXIT
  local rootfs="$work/root"
  mkdir -p "$rootfs"/{bin,dev,proc,sys,tmp,mnt,lab,etc,run,usr/local/bin,lib/modules}
  cp "$(command -v busybox)" "$rootfs/bin/busybox"
  # wsd and the shared libraries it links (glibc only: OpenSSL is linked in statically).
  cp "$wsd" "$rootfs/usr/local/bin/wsd"
  ldd "$wsd" | awk '/=> \// { print $3 } /^[ \t]*\/lib/ { print $1 }' | while read -r lib; do
    mkdir -p "$rootfs$(dirname "$lib")"; cp -L "$lib" "$rootfs$lib"
  done
  local b
  for b in "${bins[@]}"; do copy_program "$rootfs" "$b"; done
  # Modules in load order, without repeats.
  : > "$rootfs/lab/modules"
  local all=(virtio_pci virtio_blk "${modules[@]}") m path
  for m in "${all[@]}"; do
    for path in $(module_order "$modroot/modules.dep" "$m"); do
      grep -qx "/lib/modules/$path" "$rootfs/lab/modules" && continue
      mkdir -p "$rootfs/lib/modules/$(dirname "$path")"
      cp "$modroot/$path" "$rootfs/lib/modules/$path"
      echo "/lib/modules/$path" >> "$rootfs/lab/modules"
    done
  done
  for f in "${files[@]}"; do
    local src=${f%%:*} dest=/lab/$(basename "${f%%:*}")
    [ "$f" != "$src" ] && dest=${f#*:}
    mkdir -p "$rootfs$(dirname "$dest")"; cp -r "$src" "$rootfs$dest"
  done
  cp "$scenario" "$rootfs/lab/scenario.sh"
  cp "$here/guest-lib.sh" "$rootfs/lab/lib.sh"
  printf '%s\n' "$@" > "$rootfs/lab/args"
  cp "$here/guest-init.sh" "$rootfs/init"
  chmod +x "$rootfs/init"
  (cd "$rootfs" && find . | cpio -o -H newc --quiet) > "$work/initrd"

  local drives=() d
  for d in "${disks[@]}"; do drives+=(-drive "file=$d,format=raw,if=virtio,cache=unsafe"); done
  local console="$work/console.log"
  log "booting $version with $(basename "$scenario") ($(du -m "$work/initrd" | cut -f1) MiB initramfs)"
  local started=$SECONDS status=0
  timeout "$timeout" qemu-system-x86_64 -accel tcg,thread=multi -smp 2 -m "$memory" -nographic -no-reboot -nodefaults \
    -serial "file:$console" -kernel "$kdir/vmlinuz" -initrd "$work/initrd" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3 $append" "${drives[@]}" >"$work/qemu.log" 2>&1 || status=$?
  # The guest prints its scenario's output between markers and its status at the end.
  tr -d '\r' < "$console" | awk '/^WSD-LAB-EXIT /{ on = 0 } on { print } /WSD-LAB-BEGIN/{ on = 1 }'
  local exit_line; exit_line=$(grep -a '^WSD-LAB-EXIT ' "$console" | tr -d '\r' | tail -n1 || true)
  if [ -z "$exit_line" ]; then
    log "no result from the guest after $((SECONDS - started)) s (qemu status $status); console:"
    tail -n 40 "$console" >&2 || true
    cat "$work/qemu.log" >&2 || true
    [ "$status" = 124 ] && exit 124
    exit 1
  fi
  log "guest finished in $((SECONDS - started)) s"
  exit "${exit_line#WSD-LAB-EXIT }"
}

case ${1:-} in
  prepare) shift; prepare ;;
  run) shift; run "$@" ;;
  *) usage ;;
esac

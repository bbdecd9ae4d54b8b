#!/usr/bin/env bash
# assemble.sh DEST WSD [--with-base]
# Puts the files of files.list, the shared libraries they need and the daemon WSD into DEST, the
# root file system of the wsd image on top of gcr.io/distroless/cc-debian12. With --with-base it
# also copies base.list and writes what that base image holds (users, /tmp), so that DEST runs on
# its own (chroot) where no container engine is. Run on Debian 12 (the base's release).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=$1 wsd=$2 with_base=${3:-}
[ -z "$with_base" ] || [ "$with_base" = --with-base ] || { echo "usage: assemble.sh DEST WSD [--with-base]" >&2; exit 2; }

entries() { grep -v '^[[:space:]]*#' "$1" | sed '/^[[:space:]]*$/d'; }

# Shared libraries the base provides are left to it, unless it is being stood in for.
declare -A provided=()
while read -r lib; do provided[$(basename "$lib")]=1; done < <(entries "$here/base.list")

copied=()

# A listed path keeps its place; a symlink stays a symlink, made absolute, and its target comes too.
place() {
  local path=$1
  if [ -L "$path" ]; then
    local target; target=$(realpath "$path")
    place "$target"
    mkdir -p "$dest$(dirname "$path")"
    ln -sfn "$target" "$dest$path"
  elif [ -d "$path" ]; then
    mkdir -p "$dest$path"
    cp -a "$path/." "$dest$path/"
  else
    mkdir -p "$dest$(dirname "$path")"
    cp -a "$path" "$dest$path"
    copied+=("$path")
  fi
}

# A library goes into its real directory under its soname (the loader looks both in /lib and
# /usr/lib multiarch directories).
library() {
  local lib=$1 name; name=$(basename "$lib")
  if [ -n "${provided[$name]:-}" ] && [ -z "$with_base" ]; then return; fi
  local dir; dir=$(dirname "$(realpath "$lib")")
  [ -e "$dest$dir/$name" ] && return
  mkdir -p "$dest$dir"
  cp -L "$lib" "$dest$dir/$name"
}

mkdir -p "$dest"
while read -r path; do place "${path%/}"; done < <(entries "$here/files.list")
if [ -n "$with_base" ]; then
  while read -r path; do place "$path"; done < <(entries "$here/base.list")
  mkdir -p "$dest/etc" "$dest/tmp" "$dest/root" "$dest/home/nonroot"
  chmod 1777 "$dest/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$dest/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$dest/etc/group"
  printf 'hosts: files dns\n' >"$dest/etc/nsswitch.conf"
fi
install -D -m 0755 "$wsd" "$dest/usr/local/bin/wsd"
copied+=("$wsd")
for file in "${copied[@]}"; do
  # ldd fails on scripts, which need no libraries.
  { ldd "$file" 2>/dev/null || true; } | awk '/=> \// { print $3 } /^[[:space:]]*\/.*ld-linux/ { print $1 }' |
    while read -r lib; do library "$lib"; done
done

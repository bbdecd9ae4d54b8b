#!/usr/bin/env bash
# wsd's one entry point for building, running, testing and benchmarking.
#   ./build.sh deps     install what the build, the tests and the benchmarks need (apt by package name; only what is missing)
#   ./build.sh build    publish the Native AOT daemon to out/wsd and build the tests
#   ./build.sh run      build, then serve the embedded default in the foreground (extra args go to `wsd run`)
#   ./build.sh rootfs   the image's root file system in out/rootfs (or the directory given), for chroot
#   ./build.sh test     deps, build, every test; the last line is "N passed, N failed, N skipped"
#   ./build.sh bench    installs what its stages need, then one report (out/bench/report.md + .svg, rewritten after each stage):
#                       startup, archive, content, storage; or name some (incremental, iws, veths); headers: BenchmarkDotNet
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Packages by name, grouped by who needs them. The build: the AOT linker (clang, which brings
# binutils and libc6-dev), OpenSSL and zlib headers/archives for static linking, git for the
# revision stamp and CA certificates.
build_packages=(clang libc6-dev libssl-dev zlib1g-dev git ca-certificates)
# The benchmarks' peers and tools (the tests drive them too): GNU tar, /usr/bin/time for peak RSS,
# busybox for the iws bench's container and the kernel lab's guest, iproute2, nftables and procps'
# sysctl for the networks made beside SetupPairVeths (and read back by the tests); Ceph's monitor,
# OSD and RADOS Gateway for the S3 tests and the storage stage (tests/rgw/cluster.sh starts them
# under a directory of its own, never as services).
bench_packages=(tar time busybox-static iproute2 nftables procps ceph-mon ceph-osd radosgw openssl curl)
# The incremental stage's peers only, not the tests': restic and borg.
incremental_packages=(restic borgbackup)
# The tests only: bsdtar as a second archive reader, setfattr/getfattr, zstd, the kernel lab's
# QEMU, cpio for the initramfs, kmod's depmod, xfsprogs for its XFS images; containerd and runc
# for the containerd runtime provider's tests (started by the tests, never as a service).
test_packages=(libarchive-tools attr zstd qemu-system-x86 cpio kmod xfsprogs containerd runc)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

need_dotnet() {
  command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required and not on PATH" >&2; exit 1; }
}

# apt packages by name, only those not installed yet (quick when all are).
install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  local sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq || return 1
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

deps() {
  need_dotnet
  install_packages "${build_packages[@]}" "${bench_packages[@]}" "${test_packages[@]}"
  # The kernel the lab boots (a Debian cloud kernel from apt, unpacked into .tools/kernel-lab/).
  # Without it the lab's tests are skipped with the reason, so a failure here does not stop the build.
  tests/kernel-lab/lab.sh prepare || log "the kernel lab's kernel could not be fetched; its tests will be skipped"
}

# What the benchmarks need, and no more: not the tests' packages nor the kernel lab's kernel,
# which no stage uses. A tool that cannot be installed does not stop the run: the stage that
# needs it is reported as skipped with the reason.
bench_deps() {
  need_dotnet
  install_packages "${build_packages[@]}" "${bench_packages[@]}" "${incremental_packages[@]}" ||
    log "some packages could not be installed; the stages that need them will be skipped"
}

revision() { git rev-parse --short=12 HEAD 2>/dev/null || echo unknown; }

publish() {
  log "publishing the Native AOT daemon to out/wsd"
  local logfile=out/build.log
  mkdir -p out
  # Trim and AOT warnings are errors in wsd-aot.csproj; the log is kept for the record.
  if ! dotnet publish wsd-aot.csproj -c Release -o out -p:SourceRevisionId="$(revision)" -nologo >"$logfile" 2>&1; then
    grep -E 'error|warning' "$logfile" | sort -u >&2 || true
    echo "build failed; full log in $logfile" >&2
    exit 1
  fi
  if grep -qE 'warning (IL[0-9]+|CS[0-9]+|NU[0-9]+)' "$logfile"; then
    grep -E 'warning' "$logfile" | sort -u >&2
    echo "the build printed warnings; see $logfile" >&2
    exit 1
  fi
  log "out/wsd: $(stat -c %s out/wsd) bytes, no trim/AOT warnings"
}

build() {
  publish
  log "building the tests"
  dotnet build tests/Wsd.Tests -c Release -nologo -v quiet -p:SourceRevisionId="$(revision)" >out/build-tests.log 2>&1 ||
    { grep -E 'error' out/build-tests.log | sort -u >&2; echo "test build failed; see out/build-tests.log" >&2; exit 1; }
}

# The image's root file system as a directory (deploy/image/files.list on a stand-in for the
# distroless base, the same list Dockerfile.distroless copies from): for chroot, a node image, or
# a look at what the image holds.
rootfs() {
  local dest=${1:-out/rootfs}
  publish
  rm -rf "$dest"
  deploy/image/assemble.sh "$dest" out/wsd --with-base
  log "$dest: $(du -sh "$dest" | cut -f1), $(find "$dest" -type f | wc -l) files; try: sudo chroot $dest /usr/local/bin/wsd version"
}

run() {
  build
  log "serving the embedded default (Ctrl-C stops)"
  exec out/wsd run "$@"
}

test_all() {
  deps
  build
  local results=out/test-results
  rm -rf "$results"; mkdir -p "$results"
  local status=0
  for project in tests/*/*.csproj; do
    local name; name=$(basename "$project" .csproj)
    log "testing $name"
    WSD_BINARY="$root/out/wsd" dotnet test "$project" -c Release --no-build -nologo \
      --logger "console;verbosity=normal" --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
      2>&1 | tee "$results/$name.log" || status=1
  done
  # dotnet test's own summary is not the plain line CI reads: total every project's trx counters.
  # A skipped test is counted in "total" but not in "executed" (its notExecuted counter stays 0).
  local summary
  summary=$(for project in tests/*/*.csproj; do
      local trx="$results/$(basename "$project" .csproj).trx"
      if [ -f "$trx" ]; then grep -o '<Counters [^>]*>' "$trx"; else echo '<Counters failed="1" />'; fi
    done | awk '
      function count(name,   m) { return match($0, name "=\"[0-9]+\"") ? substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 3) + 0 : 0 }
      { p += count("passed"); f += count("failed") + count("error") + count("timeout") + count("aborted"); s += count("total") - count("executed") }
      END { printf "%d passed, %d failed, %d skipped\n", p, f, s; exit f > 0 }') || status=1
  echo "$summary"
  return $status
}

bench() {
  if [ "${1:-}" = headers ]; then
    shift
    log "BenchmarkDotNet: tar header encode/decode, wsd beside System.Formats.Tar"
    dotnet run --project bench/Wsd.Bench -c Release -- --filter '*TarHeader*' --job short "$@"
    return
  fi
  bench_deps
  # The AOT daemon only: the stages start out/wsd, never the tests.
  publish
  log "building the JIT (framework-dependent) build for comparison"
  dotnet publish wsd-aot.csproj -c Release -o out/jit -p:PublishAot=false -p:SelfContained=false \
    -p:SourceRevisionId="$(revision)" -nologo >out/build-jit.log 2>&1 ||
    { tail -20 out/build-jit.log >&2; exit 1; }
  # One report of every figure beside its peer, rewritten after each stage to out/bench/report.md
  # with the ratios as a bar chart in out/bench/report.svg, and printed at the end; a stage that
  # cannot run or fails is recorded there and the run goes on (exit 1 if one failed).
  WSD_COMMIT="$(revision)" dotnet run --project bench/Wsd.ProcessBench -c Release -- "$root" "$@"
}

case "${1:-}" in
  deps) deps ;;
  build) build ;;
  run) shift; run "$@" ;;
  rootfs) shift; rootfs "$@" ;;
  test) test_all ;;
  bench) shift; bench "$@" ;;
  *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

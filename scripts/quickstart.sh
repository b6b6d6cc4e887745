#!/usr/bin/env bash
# One command from a fresh clone, as root:
#   scripts/quickstart.sh demo   set everything up, run a demo container
#   scripts/quickstart.sh test   set everything up, run the whole test suite
# Setup: Debian packages (gcc and the Linux headers for the native helper, python3
# for the console-socket tests, busybox-static for rootfs images, the official
# runtime-spec schema (the build's offline fallback: it fetches the pinned v1.3.0), runc to compare against; on amd64, qemu and Debian's
# generic kernel for the cgroup v2 tests in a VM), npm ci, build.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-}
case "$what" in demo|test|setup) ;; *) echo "usage: $0 demo|test|setup" >&2; exit 2 ;; esac

packages=(gcc linux-libc-dev python3 busybox-static golang-github-opencontainers-specs-dev runc libseccomp2 docker.io containerd podman)
if [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then
  packages+=(qemu-system-x86 linux-image-amd64)
fi
if [ "$(id -u)" = 0 ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "quickstart: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q "${missing[@]}" >/dev/null
  fi
else
  echo "quickstart: not root: skipping apt packages (${packages[*]}); containers need root" >&2
fi

npm ci --no-audit --no-fund --loglevel=error
case "$what" in
  setup) npm run --silent build ;;
  demo) npm run --silent demo ;;
  test) npm test ;;
esac

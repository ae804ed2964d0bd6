#!/usr/bin/env bash
# Installs what building (and, with --test, testing) ifmatch needs on Debian 12. Idempotent: skips
# apt-get when every package is already present.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build_pkgs=(cmake make g++ libboost1.81-dev libssl-dev libsqlite3-dev libpq-dev zlib1g-dev libpugixml-dev
            nlohmann-json3-dev ccache)
test_pkgs=(doctest-dev clang libclang-rt-14-dev curl python3 s3cmd rclone wrk chromium postgresql-15)
pkgs=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then pkgs+=("${test_pkgs[@]}"); fi
missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# Node.js may come from outside Debian (with its own npm): only install Debian's when absent.
if [[ "${1:-}" == "--test" ]] && ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
if (( ${#missing[@]} )); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  apt=($SUDO apt-get -o DPkg::Lock::Timeout=600 -qq)
  "${apt[@]}" update
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}"
fi
if [[ "${1:-}" == "--test" ]]; then
  (cd "$here/tests/integration" && npm ci --no-audit --no-fund --loglevel=error)
fi

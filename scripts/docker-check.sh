#!/usr/bin/env bash
# Builds the container image and proves it works (docker/verify.sh): build, run on a named
# volume, conditional PUTs with the AWS CLI, SIGTERM -> exit 0, restart, data still there.
# Not part of scripts/test.sh (it needs a container engine and several minutes). Uses Docker
# when `docker info` works, otherwise rootful podman set up by verify.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
exec "$here/docker/verify.sh" "$@"

#!/usr/bin/env bash
# Builds the container image and proves it works (docker/verify.sh): build, run on a named
# volume, conditional PUTs with the AWS CLI, SIGTERM -> exit 0, restart, data still there.
# Step 4 of scripts/test.sh (IFMATCH_SKIP_DOCKER=1 skips it). Uses Docker when `docker info`
# works, otherwise rootful podman set up by verify.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
exec "$here/docker/verify.sh" "$@"

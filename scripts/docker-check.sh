#!/usr/bin/env bash
# Builds the container image and proves it works (docker/verify.sh): build, run on a named
# volume, conditional PUTs with the AWS CLI, SIGTERM -> exit 0, restart, data still there; then
# the shared-mode compose file (docker/compose.shared.yaml): PostgreSQL 15, two replicas and
# HAProxy, conditional PUTs through HAProxy answered by both replicas, one replica killed.
# Step 4 of scripts/test.sh (IFMATCH_SKIP_DOCKER=1 skips it). Uses Docker when `docker info`
# works, otherwise rootful podman set up by verify.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
exec "$here/docker/verify.sh" "$@"

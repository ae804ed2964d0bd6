#!/usr/bin/env bash
# docker/verify.sh: builds the ifmatch image and proves the container works.
#
#   1. builds docker/Dockerfile (tag ifmatch:verify) and reports the image size;
#   2. checks it declares a HEALTHCHECK and a non-root user, runs it with a named volume and a
#      published port, and waits until its HEALTHCHECK command (`ifmatch health`) passes;
#   3. drives it with the AWS CLI: create a bucket, `put-object --if-none-match "*"` twice
#      (200, then 412 PreconditionFailed);
#   4. stops it with SIGTERM (docker stop) and expects exit status 0;
#   5. starts a new container on the same volume and finds the object still there.
#
# Uses a real Docker engine when `docker info` works. Otherwise it uses rootful podman (installed
# from Debian when missing) with a private containers.conf (runc, cgroupfs, default ulimits) and
# local base images made with debootstrap from the Debian mirror apt is configured with, so the
# unchanged Dockerfile builds with --pull=never. The debootstrap tarball is cached under
# $IFMATCH_DOCKER_CACHE (default ~/.cache/ifmatch-docker), so later runs skip it.
#
# Options: --prepare-only (set up the engine and base images, build nothing), --keep (leave the
# image and volume behind). Exit status 0 only when every step passed.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
cache="${IFMATCH_DOCKER_CACHE:-$HOME/.cache/ifmatch-docker}"
image="ifmatch:verify"
volume="ifmatch-verify-data"
name="ifmatch-verify"
prepare_only=0
keep=0
for a in "$@"; do
    case "$a" in
        --prepare-only) prepare_only=1 ;;
        --keep) keep=1 ;;
        *) echo "usage: $0 [--prepare-only] [--keep]" >&2; exit 2 ;;
    esac
done

log() { echo "verify: $*"; }
die() { echo "verify: FAILED: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# --- engine ----------------------------------------------------------------------------------

debian_mirror() {
    local m=""
    if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
        m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' \
            /etc/apt/sources.list.d/*.sources)
    fi
    if [[ -z "$m" ]]; then
        m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')
    fi
    echo "${m:-http://deb.debian.org/debian}"
}

setup_podman() {
    if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null ||
       ! command -v runc >/dev/null; then
        [[ $(id -u) -eq 0 ]] || die "no Docker engine and podman is missing (run as root to install)"
        log "installing podman, runc, debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
    fi
    mkdir -p "$cache"
    cat >"$cache/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
    export CONTAINERS_CONF="$cache/containers.conf"
}

# Trims a root tree the way Debian's slim images are trimmed: no apt lists, docs, man pages or
# translations, and a dpkg configuration that keeps later package installs just as lean.
slim_tree() {
    local root=$1
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
           "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/debconf/*-old \
           "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
           "$root"/usr/share/groff/* "$root"/usr/share/lintian/* "$root"/usr/share/linda/* \
           "$root"/var/log/*.log
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
    cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF2'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF2
}

# Makes debian:bookworm-slim and debian:bookworm from one debootstrap minbase tree. The raw
# debootstrap result is cached as a tarball; slimming and import happen on every fresh engine.
ensure_base_images() {
    if podman image exists debian:bookworm-slim && podman image exists debian:bookworm; then
        return 0
    fi
    local tarball="$cache/bookworm-minbase.tar" root t0
    root=$(mktemp -d "${TMPDIR:-/tmp}/ifmatch-rootfs.XXXXXX")
    t0=$(now)
    if [[ ! -s "$tarball" ]]; then
        local mirror
        mirror=$(debian_mirror)
        log "debootstrap --variant=minbase bookworm from $mirror (once; cached in $cache)"
        debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
            { tail -20 "$cache/debootstrap.log" >&2; rm -rf "$root"; die "debootstrap failed"; }
        echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
        tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    else
        tar -C "$root" -xf "$tarball"
    fi
    slim_tree "$root"
    tar -C "$root" -c . | podman import - debian:bookworm-slim >/dev/null
    podman tag debian:bookworm-slim debian:bookworm
    rm -rf "$root"
    log "base images debian:bookworm-slim and debian:bookworm ready in $(elapsed "$t0")"
}

engine=""
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    engine=docker
    build_flags=()
else
    setup_podman
    ensure_base_images
    engine=podman
    # The base images are local; the build stage reaches the Debian mirror for apt-get.
    build_flags=(--pull=never --network=host --format docker)
fi
log "engine: $engine"
if (( prepare_only )); then
    exit 0
fi

# --- build -----------------------------------------------------------------------------------

t_build=$(now)
log "building $image"
"$engine" build "${build_flags[@]}" -f "$here/docker/Dockerfile" -t "$image" "$here" \
    >"$cache/build.log" 2>&1 || { tail -40 "$cache/build.log" >&2; die "image build failed"; }
build_time=$(elapsed "$t_build")
size_bytes=$("$engine" image inspect "$image" --format '{{.Size}}')
size_mb=$(awk -v b="$size_bytes" 'BEGIN { printf "%.1f", b / 1000000 }')
log "built in $build_time; image size ${size_mb} MB"
(( size_bytes < 100000000 )) || die "runtime image is ${size_mb} MB (limit 100 MB)"
health_cmd=$("$engine" image inspect "$image" --format '{{json .Config.Healthcheck}}')
[[ "$health_cmd" == *'"ifmatch","health"'* ]] || die "image has no HEALTHCHECK: $health_cmd"
user=$("$engine" image inspect "$image" --format '{{.Config.User}}')
[[ -n "$user" && "$user" != root && "$user" != 0 ]] || die "image runs as root"
log "HEALTHCHECK $health_cmd; user $user"

# --- run -------------------------------------------------------------------------------------

port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
cleanup() {
    "$engine" rm -f "$name" >/dev/null 2>&1 || true
    if (( ! keep )); then
        "$engine" volume rm -f "$volume" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
cleanup
"$engine" volume create "$volume" >/dev/null

# True when the image's own HEALTHCHECK command passes. Docker runs it on its schedule and
# reports the state; podman (no systemd here for its timers) runs it on request.
container_healthy() {
    if [[ "$engine" == podman ]]; then
        podman healthcheck run "$name" >/dev/null 2>&1
    else
        [[ $(docker inspect "$name" --format '{{.State.Health.Status}}') == healthy ]]
    fi
}

start_container() {
    local extra=()
    [[ "$engine" == podman ]] && extra=(--health-interval=disable)
    "$engine" run -d --name "$name" "${extra[@]}" -p "127.0.0.1:$port:9000" -v "$volume:/data" \
        "$image" >/dev/null || die "container did not start"
    local i
    for (( i = 0; i < 600; i++ )); do
        if container_healthy && curl -sf -o /dev/null "http://127.0.0.1:$port/_ifmatch/health"
        then
            return 0
        fi
        sleep 0.1
    done
    "$engine" logs "$name" >&2 || true
    die "container did not become healthy (HEALTHCHECK and port $port)"
}

stop_container() {
    local t0 rc
    t0=$(now)
    "$engine" stop -t 20 "$name" >/dev/null
    rc=$("$engine" inspect "$name" --format '{{.State.ExitCode}}')
    log "stopped with SIGTERM in $(elapsed "$t0"), exit status $rc"
    [[ "$rc" == 0 ]] || { "$engine" logs "$name" >&2; die "exit status $rc after SIGTERM"; }
    "$engine" rm "$name" >/dev/null
}

t_run=$(now)
start_container
log "healthy on 127.0.0.1:$port in $(elapsed "$t_run")"
# sed reads the whole log (no `head`): with pipefail, a log longer than three lines made
# `logs` die of SIGPIPE and failed the check.
"$engine" logs "$name" 2>&1 | sed -n '1,3s/^/verify:   log: /p'

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
unset AWS_CA_BUNDLE AWS_PROFILE AWS_ENDPOINT_URL
s3api() { aws --endpoint-url "http://127.0.0.1:$port" s3api "$@"; }

body=$(mktemp)
echo "hello from the container" >"$body"
s3api create-bucket --bucket verify >/dev/null || die "create-bucket failed"
etag=$(s3api put-object --bucket verify --key greeting --body "$body" --if-none-match '*' \
       --query ETag --output text) || die "first put-object --if-none-match '*' failed"
log "put-object --if-none-match '*': 200, ETag $etag"
if out=$(s3api put-object --bucket verify --key greeting --body "$body" --if-none-match '*' 2>&1)
then
    die "second put-object --if-none-match '*' succeeded; expected 412"
fi
[[ "$out" == *PreconditionFailed* ]] ||
    die "second put-object: expected 412 PreconditionFailed, got: $out"
log "put-object --if-none-match '*' again: 412 PreconditionFailed"

stop_container
start_container
got=$(s3api head-object --bucket verify --key greeting --query ETag --output text) ||
    die "object missing after restart"
[[ "$got" == "$etag" ]] || die "ETag after restart $got, expected $etag"
log "after restart on volume $volume: object present, ETag $got"
stop_container
log "PASSED (build $build_time, image ${size_mb} MB, total $(elapsed "$t_build"))"

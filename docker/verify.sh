#!/usr/bin/env bash
# docker/verify.sh: builds the ifmatch image and proves the container works.
#
#   1. builds docker/Dockerfile (tag ifmatch:verify) and reports the image size;
#   2. checks it declares a HEALTHCHECK and a non-root user, runs it with a named volume and a
#      published port, and waits until its HEALTHCHECK command (`ifmatch health`) passes;
#   3. drives it with the AWS CLI: create a bucket, `put-object --if-none-match "*"` twice
#      (200, then 412 PreconditionFailed);
#   4. stops it with SIGTERM (docker stop) and expects exit status 0;
#   5. starts a new container on the same volume and finds the object still there;
#   6. shared mode (docker/compose.shared.yaml): builds the PostgreSQL and HAProxy images, starts
#      PostgreSQL 15, two ifmatch replicas and HAProxy with the engine's compose tool, and through
#      HAProxy's port creates a bucket, sends `put-object --if-none-match "*"` twice (200, 412),
#      shows from /_ifmatch/events that both replicas answered, kills one replica and shows that
#      requests through HAProxy still succeed, then removes containers, network and volumes.
#
# Uses a real Docker engine when `docker info` works. Otherwise it uses rootful podman (installed
# from Debian when missing) with a private containers.conf (runc, cgroupfs, default ulimits) and
# local base images made with debootstrap from the Debian mirror apt is configured with, so the
# unchanged Dockerfile builds with --pull=never. The debootstrap tarball is cached under
# $IFMATCH_DOCKER_CACHE (default ~/.cache/ifmatch-docker), so later runs skip it.
#
# Step 6 runs `docker compose` (or docker-compose) with Docker, podman-compose (Debian's 1.0.3,
# installed when missing) with podman. podman-compose 1.0 ignores depends_on conditions, so this
# script starts PostgreSQL first and waits for its health check, as docker compose does; it pins
# the network bridge's MAC address (pin_bridge_address says why); and since podman-compose's
# `down` leaves networks and anonymous volumes, the project is removed by its compose labels.
#
# Options: --prepare-only (set up the engine and base images, build nothing), --keep (leave the
# image and volume of steps 1-5 behind; the shared-mode topology is always removed),
# --no-shared (skip step 6; also IFMATCH_SKIP_DOCKER_SHARED=1), --shared-only (build the image,
# skip steps 2-5). Exit status 0 only when every step passed.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
cache="${IFMATCH_DOCKER_CACHE:-$HOME/.cache/ifmatch-docker}"
image="ifmatch:verify"
volume="ifmatch-verify-data"
name="ifmatch-verify"
prepare_only=0
keep=0
shared=1
single=1
[[ "${IFMATCH_SKIP_DOCKER_SHARED:-0}" == 1 ]] && shared=0
for a in "$@"; do
    case "$a" in
        --prepare-only) prepare_only=1 ;;
        --keep) keep=1 ;;
        --no-shared) shared=0 ;;
        --shared-only) single=0 ;;
        *) echo "usage: $0 [--prepare-only] [--keep] [--no-shared | --shared-only]" >&2; exit 2 ;;
    esac
done
if (( ! shared && ! single )); then
    echo "verify: --no-shared and --shared-only leave nothing to do" >&2
    exit 2
fi

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

# --- common ----------------------------------------------------------------------------------

free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# True when the HEALTHCHECK command of container $1 passes. Docker runs it on its schedule and
# reports the state; podman (no systemd here for its timers) runs it on request.
healthy() {
    if [[ "$engine" == podman ]]; then
        podman healthcheck run "$1" >/dev/null 2>&1
    else
        [[ $("$engine" inspect "$1" --format '{{.State.Health.Status}}') == healthy ]]
    fi
}

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
unset AWS_CA_BUNDLE AWS_PROFILE AWS_ENDPOINT_URL
port=""
s3api() { aws --endpoint-url "http://127.0.0.1:$port" s3api "$@"; }

project="ifmatch-verify-shared"
compose_file="$here/docker/compose.shared.yaml"
pg_image="ifmatch-postgres:verify"
haproxy_image="ifmatch-haproxy:verify"

# Removes every container (with its anonymous volumes), volume and network that carries the
# shared-mode project's compose label. Both docker compose and podman-compose set the label.
shared_sweep() {
    local kind ids
    ids=$("$engine" ps -aq --filter "label=com.docker.compose.project=$project" 2>/dev/null) || true
    if [[ -n "$ids" ]]; then
        # shellcheck disable=SC2086  # one id a line
        "$engine" rm -f -v $ids >/dev/null 2>&1 || true
    fi
    for kind in volume network; do
        ids=$("$engine" "$kind" ls -q --filter "label=com.docker.compose.project=$project" \
              2>/dev/null) || true
        if [[ -n "$ids" ]]; then
            # shellcheck disable=SC2086
            "$engine" "$kind" rm $ids >/dev/null 2>&1 || true
        fi
    done
}

shared_up=0
# After a failure in the shared-mode step: the last log lines of every container of the project,
# without the health checks.
shared_logs() {
    local id
    for id in $("$engine" ps -aq --filter "label=com.docker.compose.project=$project"); do
        echo "verify: --- $("$engine" inspect "$id" --format '{{.Name}}') (last log lines)" >&2
        "$engine" logs "$id" 2>&1 | grep -v -e '"operation":"Admin"' -e '/_ifmatch/health' |
            tail -15 >&2 || true
    done
}

cleanup() {
    local rc=$?
    if (( rc != 0 && shared_up )); then
        shared_logs
    fi
    if (( single )); then
        "$engine" rm -f "$name" >/dev/null 2>&1 || true
        if (( ! keep )); then
            "$engine" volume rm -f "$volume" >/dev/null 2>&1 || true
        fi
    fi
    if (( shared )); then
        shared_sweep
    fi
}
trap cleanup EXIT
cleanup

# --- run -------------------------------------------------------------------------------------

start_container() {
    local extra=()
    [[ "$engine" == podman ]] && extra=(--health-interval=disable)
    "$engine" run -d --name "$name" "${extra[@]}" -p "127.0.0.1:$port:9000" -v "$volume:/data" \
        "$image" >/dev/null || die "container did not start"
    local i
    for (( i = 0; i < 600; i++ )); do
        if healthy "$name" && curl -sf -o /dev/null "http://127.0.0.1:$port/_ifmatch/health"
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

single_check() {
    port=$(free_port)
    "$engine" volume create "$volume" >/dev/null
    local t_run body etag out got
    t_run=$(now)
    start_container
    log "healthy on 127.0.0.1:$port in $(elapsed "$t_run")"
    # sed reads the whole log (no `head`): with pipefail, a log longer than three lines made
    # `logs` die of SIGPIPE and failed the check.
    "$engine" logs "$name" 2>&1 | sed -n '1,3s/^/verify:   log: /p'

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
    rm -f "$body"

    stop_container
    start_container
    got=$(s3api head-object --bucket verify --key greeting --query ETag --output text) ||
        die "object missing after restart"
    [[ "$got" == "$etag" ]] || die "ETag after restart $got, expected $etag"
    log "after restart on volume $volume: object present, ETag $got"
    stop_container
}

# --- shared mode: docker/compose.shared.yaml -------------------------------------------------

compose=()
setup_compose() {
    if [[ "$engine" == docker ]]; then
        if docker compose version >/dev/null 2>&1; then
            compose=(docker compose)
        elif command -v docker-compose >/dev/null; then
            compose=(docker-compose)
        else
            die "Docker has no compose tool (the compose plugin or docker-compose)"
        fi
        return 0
    fi
    # podman-compose; aardvark-dns resolves the service names on the compose network; `ip`
    # pins the network bridge's address (pin_bridge_address).
    if ! command -v podman-compose >/dev/null || ! command -v ip >/dev/null ||
       [[ $(dpkg-query -W -f='${Status}' aardvark-dns 2>/dev/null) != "install ok installed" ]]
    then
        [[ $(id -u) -eq 0 ]] ||
            die "podman-compose, aardvark-dns or ip missing (run as root to install)"
        log "installing podman-compose, aardvark-dns, iproute2"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman-compose aardvark-dns netavark \
            iproute2 >/dev/null
    fi
    local backend
    backend=$(podman info --format '{{.Host.NetworkBackend}}')
    [[ "$backend" == netavark ]] ||
        die "podman uses the $backend network backend; service names resolve only with netavark"
    compose=(podman-compose)
}

compose_run() {
    IFMATCH_IMAGE="$image" IFMATCH_POSTGRES_IMAGE="$pg_image" \
    IFMATCH_HAPROXY_IMAGE="$haproxy_image" IFMATCH_SHARED_PUBLISH="127.0.0.1:$port" \
    IFMATCH_PG_PASSWORD="$pg_password" \
        "${compose[@]}" -p "$project" -f "$compose_file" "$@"
}

# The one container of compose service $1.
service_container() {
    local ids
    ids=$("$engine" ps -aq --filter "label=com.docker.compose.project=$project" \
          --filter "label=com.docker.compose.service=$1")
    [[ -n "$ids" && "$ids" != *$'\n'* ]] || die "expected one container for service $1, got: $ids"
    echo "$ids"
}

build_image() { # dockerfile tag
    local t0 size blog="$cache/build-$1.log"
    t0=$(now)
    "$engine" build "${build_flags[@]}" -f "$here/docker/$1" -t "$2" "$here/docker" \
        >"$blog" 2>&1 || { tail -40 "$blog" >&2; die "$1: build failed"; }
    size=$("$engine" image inspect "$2" --format '{{.Size}}')
    size=$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1000000 }')
    log "built $2 in $(elapsed "$t0"); image size $size MB"
}

# netavark 1.4 (Debian 12's podman) gives a network's bridge no MAC address of its own, so the
# kernel gives it the lowest one among its ports, and a container joining can change it. The
# containers that joined before keep the old address of the gateway in their neighbour tables,
# and their DNS queries to aardvark-dns (on the gateway) are lost until that entry expires, for
# up to a minute: a replica's first connections to PostgreSQL then waited 10 s and failed with
# 503 SlowDown. Setting the bridge's current address explicitly (once its first container has
# made it exist) keeps it from changing.
pin_bridge_address() {
    local net br mac
    for net in $(podman network ls -q --filter "label=com.docker.compose.project=$project"); do
        br=$(podman network inspect "$net" --format '{{.NetworkInterface}}')
        [[ -n "$br" && -e "/sys/class/net/$br/address" ]] || die "no bridge for network $net"
        mac=$(<"/sys/class/net/$br/address")
        ip link set dev "$br" address "$mac" || die "cannot set the address of bridge $br"
        log "network $net: bridge $br address pinned to $mac"
    done
}

# Waits until the HEALTHCHECK of compose service $1 passes.
wait_healthy() {
    local id i
    id=$(service_container "$1")
    for (( i = 0; i < 600; i++ )); do
        healthy "$id" && return 0
        sleep 0.2
    done
    "$engine" logs "$id" 2>&1 | tail -20 >&2
    die "$1 did not become healthy"
}

# The distinct replica names in the outcome events of key $1 of bucket `shared`, sorted.
event_replicas() {
    curl -sf "http://127.0.0.1:$port/_ifmatch/events?bucket=shared&key=$1" | python3 -c '
import json, sys
print(" ".join(sorted({e["replica"] for e in json.load(sys.stdin)})))'
}

# put-object --if-none-match "*" on key $1 that must be refused with 412.
put_expect_412() {
    local out
    if out=$(s3api put-object --bucket shared --key "$1" --body "$body" --if-none-match '*' 2>&1)
    then
        die "put-object --if-none-match '*' on existing $1 succeeded; expected 412"
    fi
    [[ "$out" == *PreconditionFailed* ]] || die "expected 412 PreconditionFailed, got: $out"
}

shared_check() {
    local t_shared t0 i svc names etag got victim survivor victim_id body
    t_shared=$(now)
    setup_compose
    log "shared mode: ${compose[*]} with docker/compose.shared.yaml (project $project)"
    t0=$(now)
    build_image postgres.Dockerfile "$pg_image"
    build_image haproxy.Dockerfile "$haproxy_image"
    local build_shared
    build_shared=$(elapsed "$t0")

    port=$(free_port)
    pg_password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    t0=$(now)
    shared_up=1
    local up_log="$cache/compose-up.log"
    : >"$up_log"
    if [[ "$engine" == podman ]]; then
        # podman-compose 1.0 ignores depends_on conditions. Do what docker compose does: start
        # PostgreSQL, wait for its health check, then the rest (replicas started too early would
        # exit and be restarted by their restart policy).
        compose_run up -d --no-build postgres >>"$up_log" 2>&1 ||
            { tail -40 "$up_log" >&2; die "${compose[*]} up postgres failed"; }
        pin_bridge_address
        wait_healthy postgres
    fi
    compose_run up -d --no-build >>"$up_log" 2>&1 ||
        { tail -40 "$up_log" >&2; die "${compose[*]} up failed"; }
    for svc in postgres ifmatch-1 ifmatch-2; do
        wait_healthy "$svc"
    done
    for (( i = 0; i < 300; i++ )); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/_ifmatch/health" && break
        sleep 0.2
    done
    (( i < 300 )) || { "$engine" logs "$(service_container haproxy)" 2>&1 | tail -20 >&2
                       die "no answer through HAProxy on 127.0.0.1:$port"; }
    log "up in $(elapsed "$t0"): postgres, ifmatch-1, ifmatch-2 healthy;" \
        "HAProxy answers on 127.0.0.1:$port"
    for svc in postgres ifmatch-1 ifmatch-2; do
        [[ -z "$("$engine" port "$(service_container "$svc")")" ]] || die "$svc publishes a port"
    done

    # Each AWS CLI call is exactly one HTTP request: no retry may hide a failure.
    local AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=1
    export AWS_RETRY_MODE AWS_MAX_ATTEMPTS
    body=$(mktemp)
    echo "hello from shared mode" >"$body"
    t0=$(now)
    s3api create-bucket --bucket shared >/dev/null || die "create-bucket through HAProxy failed"
    etag=$(s3api put-object --bucket shared --key greeting --body "$body" --if-none-match '*' \
           --query ETag --output text) || die "first put-object --if-none-match '*' failed"
    log "through HAProxy: put-object --if-none-match '*': 200, ETag $etag"
    put_expect_412 greeting
    log "through HAProxy: put-object --if-none-match '*' again: 412 PreconditionFailed" \
        "($(elapsed "$t0"))"

    # Round robin sends successive requests to alternate replicas; every refusal is an event
    # in the shared table, named by the replica that answered it. Two more refusals in a row
    # reach both replicas (an events query between them would take every other turn).
    t0=$(now)
    for (( i = 0; i < 3; i++ )); do
        put_expect_412 greeting
        put_expect_412 greeting
        names=$(event_replicas greeting) || die "GET /_ifmatch/events failed"
        [[ "$names" == "ifmatch-1 ifmatch-2" ]] && break
    done
    [[ "$names" == "ifmatch-1 ifmatch-2" ]] ||
        die "412s for greeting came from replicas '$names' only; expected both"
    log "both replicas refused the second create (events name ifmatch-1 and ifmatch-2)" \
        "in $(elapsed "$t0")"

    # Crash one replica: its requests must go to the other one.
    t0=$(now)
    victim=ifmatch-2
    survivor=ifmatch-1
    victim_id=$(service_container "$victim")
    "$engine" kill "$victim_id" >/dev/null
    log "killed $victim (SIGKILL)"
    local t1
    t1=$(now)
    got=$(s3api put-object --bucket shared --key after-kill --body "$body" --if-none-match '*' \
          --query ETag --output text) || die "put-object after the kill failed"
    log "  put-object --if-none-match '*' new key: 200 in $(elapsed "$t1")"
    t1=$(now)
    put_expect_412 after-kill
    log "  put-object --if-none-match '*' again: 412 in $(elapsed "$t1")"
    for (( i = 0; i < 2; i++ )); do
        got=$(s3api head-object --bucket shared --key greeting --query ETag --output text) ||
            die "head-object after the kill failed"
        [[ "$got" == "$etag" ]] || die "head-object after the kill: ETag $got, expected $etag"
    done
    log "  head-object x2: 200, ETag $got"
    names=$(event_replicas after-kill) || die "GET /_ifmatch/events failed"
    [[ "$names" == "$survivor" ]] ||
        die "after the kill, 412s came from '$names'; expected $survivor"
    [[ $("$engine" inspect "$victim_id" --format '{{.State.Running}}') == false ]] ||
        die "$victim is running again: the requests above may have reached it"
    local hp_id
    hp_id=$(service_container haproxy)
    for (( i = 0; i < 75; i++ )); do
        [[ "$("$engine" logs "$hp_id" 2>&1)" == *"replicas/$victim is DOWN"* ]] && break
        sleep 0.2
    done
    (( i < 75 )) || die "HAProxy did not mark $victim DOWN"
    log "requests through HAProxy succeeded without $victim (refusals answered by $survivor;" \
        "HAProxy marked $victim DOWN) in $(elapsed "$t0")"
    rm -f "$body"

    t0=$(now)
    if [[ "$engine" == docker ]]; then
        compose_run down -v --remove-orphans -t 10 >"$cache/compose-down.log" 2>&1 ||
            { tail -20 "$cache/compose-down.log" >&2; die "${compose[*]} down failed"; }
    fi
    # podman-compose 1.0's `down` stops containers one by one and leaves the network and the
    # anonymous volumes: remove the project by its labels instead.
    shared_sweep
    local left=""
    left+=$("$engine" ps -aq --filter "label=com.docker.compose.project=$project")
    left+=$("$engine" volume ls -q --filter "label=com.docker.compose.project=$project")
    left+=$("$engine" network ls -q --filter "label=com.docker.compose.project=$project")
    [[ -z "$left" ]] || die "left behind after teardown: $left"
    log "torn down (containers, network, volumes) in $(elapsed "$t0")"
    log "shared mode PASSED (image builds $build_shared, total $(elapsed "$t_shared"))"
}

if (( single )); then
    single_check
fi
if (( shared )); then
    shared_check
fi
log "PASSED (build $build_time, image ${size_mb} MB, total $(elapsed "$t_build"))"

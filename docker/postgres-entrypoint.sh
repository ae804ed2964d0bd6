#!/usr/bin/env bash
# Entrypoint of docker/postgres.Dockerfile: starts PostgreSQL 15 on the data volume ($PGDATA).
#
# On an empty volume it first creates the cluster (UTF-8, C.UTF-8 collation), a login role
# $IFMATCH_PG_USER with the password $IFMATCH_PG_PASSWORD, a database $IFMATCH_PG_DATABASE owned
# by it, and a pg_hba.conf with two rules:
#   local  all all          peer            the postgres OS user inside the container
#   host   all all samenet  scram-sha-256   password logins from the attached networks only
# `samenet` matches the subnets of the container's own interfaces, i.e. the compose network.
# The bootstrap server listens on a private Unix socket only, so nobody connects to a half-made
# database and the image's HEALTHCHECK (TCP on 127.0.0.1) passes only for the final server.
# Later starts find PG_VERSION on the volume and start the server directly; the variables are
# then ignored (change a password with ALTER ROLE).
#
# Arguments are passed to `postgres` (e.g. `-c max_connections=200`).
set -euo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
: "${IFMATCH_PG_USER:=ifmatch}"
: "${IFMATCH_PG_DATABASE:=ifmatch}"

log() { echo "postgres-entrypoint: $*" >&2; }

bootstrap() {
    if [[ -z "${IFMATCH_PG_PASSWORD:-}" ]]; then
        log "IFMATCH_PG_PASSWORD is empty: set a password for role $IFMATCH_PG_USER"
        exit 1
    fi
    if [[ -n "$(ls -A "$PGDATA")" ]]; then
        log "$PGDATA is not empty and holds no cluster (no PG_VERSION): refusing to touch it"
        exit 1
    fi
    log "empty volume: creating the cluster in $PGDATA"
    initdb -D "$PGDATA" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    cat >"$PGDATA/pg_hba.conf" <<'EOF'
# Written by postgres-entrypoint.sh on first start.
# TYPE  DATABASE  USER  ADDRESS   METHOD
local   all       all             peer
host    all       all   samenet   scram-sha-256
EOF
    local sock
    sock=$(mktemp -d)
    pg_ctl -D "$PGDATA" -w -s -o "-c listen_addresses='' -c unix_socket_directories='$sock'" start
    # psql quotes :"user" as an identifier and :'password' as a literal.
    psql -q -v ON_ERROR_STOP=1 -h "$sock" -U postgres -d postgres \
        -v user="$IFMATCH_PG_USER" -v password="$IFMATCH_PG_PASSWORD" \
        -v db="$IFMATCH_PG_DATABASE" <<'EOF'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
EOF
    pg_ctl -D "$PGDATA" -w -s -m fast stop
    rmdir "$sock"
    log "role $IFMATCH_PG_USER and database $IFMATCH_PG_DATABASE created"
}

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    bootstrap
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"

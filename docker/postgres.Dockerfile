# PostgreSQL 15 from Debian's packages, for the shared-mode compose file (compose.shared.yaml).
#   build:   docker build -f docker/postgres.Dockerfile -t ifmatch-postgres docker
# On an empty data volume the entrypoint (postgres-entrypoint.sh) creates the cluster, a login
# role and a database for ifmatch; logins over the network need the role's password and are
# accepted only from the networks the container is attached to (pg_hba `samenet`).
FROM debian:bookworm-slim
# postgresql-common first, so that installing postgresql-15 does not create Debian's "main"
# cluster: the cluster lives on the volume and is made on first start.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-common \
 && sed -i 's/^#\?\s*create_main_cluster\s*=.*/create_main_cluster = false/' \
      /etc/postgresql-common/createcluster.conf \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && mkdir -p /var/lib/postgresql/data /run/postgresql \
 && chown postgres:postgres /var/lib/postgresql/data /run/postgresql \
 && chmod 700 /var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# TCP on loopback: true only once the final server listens (the first-start bootstrap server
# listens on a private Unix socket only). pg_isready needs no valid login to answer.
HEALTHCHECK --interval=2s --timeout=3s --start-period=30s --retries=5 \
  CMD ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]
ENTRYPOINT ["postgres-entrypoint.sh"]
# SIGINT is PostgreSQL's fast shutdown: SIGTERM (smart shutdown) would wait for the replicas'
# pooled connections to close, which they never do on their own.
STOPSIGNAL SIGINT

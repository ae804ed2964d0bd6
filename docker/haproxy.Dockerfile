# HAProxy from Debian's package with docker/haproxy.cfg, for compose.shared.yaml.
#   build:   docker build -f docker/haproxy.Dockerfile -t ifmatch-haproxy docker
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log
COPY haproxy.cfg /etc/haproxy/haproxy.cfg
# The configuration is checked at build time (the replicas' names need not resolve yet).
RUN haproxy -c -q -f /etc/haproxy/haproxy.cfg
USER haproxy
EXPOSE 9000
# -db: stay in the foreground, log to stdout/stderr.
ENTRYPOINT ["haproxy", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
# In -db mode HAProxy leaves SIGTERM to its default action, which the kernel does not apply to a
# container's PID 1: `docker stop` would wait out its timeout. SIGUSR1 is HAProxy's soft stop:
# close the listener, let transfers in progress finish (at most hard-stop-after), exit.
STOPSIGNAL SIGUSR1

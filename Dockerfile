# syntax=docker/dockerfile:1
#
# One image, four services: registry (7101), filing (7102), assessment (7103) and
# settlement (7104), plus the CLI `xctl`. The image has no ENTRYPOINT; its CMD runs
# `registry`, and docker-compose.yml picks the program per container with `command:`
# (`filing`, `assessment`, `settlement`, `xctl db migrate`, ...).
#
#   docker build -t xcert:local .
#   docker run --rm -e PGHOST=db -e PGPASSWORD=... xcert:local filing
#
# Configuration is by environment (Shared/XCertService/ServiceConfiguration.swift and
# Shared/XCertStore/DatabaseConfiguration.swift): XCERT_HOST (0.0.0.0 here), XCERT_PORT,
# XCERT_METRICS_PORT (port + 1000, Prometheus `GET /metrics`), XCERT_MIGRATE,
# XCERT_LOG_LEVEL, and libpq's PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.
#
# Health: there is no HEALTHCHECK here because the port depends on which service the
# container runs. Check it with the CLI that ships in the image, e.g. for registry:
#   xctl health --address 127.0.0.1:7101     (exit 0 when SERVING)
# docker-compose.yml does exactly that per service.

# Two ways to the same runtime stage (build arguments):
#   BINARIES=builder (default)  the binaries are built in the Swift image below;
#   BINARIES=prebuilt           they are taken from containers/prebuilt/, where
#                               scripts/images puts release binaries built on the host;
#   RUNTIME_BASE                the Debian image the runtime stage starts from
#                               (default debian:bookworm-slim; scripts/images passes the
#                               one it makes with debootstrap when no registry is reachable).
ARG BINARIES=builder
ARG RUNTIME_BASE=debian:bookworm-slim

# ---- build ------------------------------------------------------------------------
FROM swift:6.3-bookworm AS builder

WORKDIR /src

# Dependencies first, so that a change to our sources does not fetch them again.
# (Package.resolved is optional: the glob copies it only when it exists.)
COPY Package.swift Package.resolve[d] ./
RUN swift package resolve

COPY . .

# The Swift runtime and Foundation are linked statically; `-Xlinker -s` drops symbol
# tables to keep the binaries small.
RUN swift build -c release --static-swift-stdlib -Xlinker -s \
    && bin="$(swift build -c release --static-swift-stdlib -Xlinker -s --show-bin-path)" \
    && mkdir -p /staging \
    && for program in registry filing assessment settlement xctl; do \
           install -m 0755 "$bin/$program" /staging/; \
       done

# ---- or prebuilt on the host (scripts/images) ------------------------------------
FROM scratch AS prebuilt
COPY containers/prebuilt/ /staging/

FROM ${BINARIES} AS binaries

# ---- run --------------------------------------------------------------------------
FROM ${RUNTIME_BASE}

# ca-certificates: TLS to peers; libstdc++6 / libgcc-s1: the C++ runtime the statically
# linked Swift runtime still needs; tzdata: Foundation's time zones (deadlines are
# dates in Asia/Shanghai).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       ca-certificates libstdc++6 libgcc-s1 tzdata \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 xcert \
    && useradd --system --uid 10001 --gid xcert --create-home --home-dir /home/xcert \
       --shell /usr/sbin/nologin xcert \
    && for secrets in registry filing assessment settlement analyst; do \
           install -d -o xcert -g xcert -m 0700 "/run/xcert/$secrets"; \
       done
# /run/xcert/<name>: where compose mounts each service's own secrets volume (a new volume
# takes the folder's owner, so the migrate job, running as xcert, can write into it).

COPY --from=binaries /staging/ /usr/local/bin/
RUN rm -f /usr/local/bin/README.md

ENV XCERT_HOST=0.0.0.0

# Wire protocol (7101-7104) and Prometheus metrics (8101-8104).
EXPOSE 7101-7104 8101-8104

USER xcert:xcert
WORKDIR /home/xcert

# No ENTRYPOINT: the command is the program. Compose sets it per service.
CMD ["registry"]

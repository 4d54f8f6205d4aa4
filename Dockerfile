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

# ---- run --------------------------------------------------------------------------
FROM debian:bookworm-slim

# ca-certificates: TLS to peers; libstdc++6 / libgcc-s1: the C++ runtime the statically
# linked Swift runtime still needs; tzdata: Foundation's time zones (deadlines are
# dates in Asia/Shanghai).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       ca-certificates libstdc++6 libgcc-s1 tzdata \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 xcert \
    && useradd --system --uid 10001 --gid xcert --create-home --home-dir /home/xcert \
       --shell /usr/sbin/nologin xcert

COPY --from=builder /staging/ /usr/local/bin/

ENV XCERT_HOST=0.0.0.0

# Wire protocol (7101-7104) and Prometheus metrics (8101-8104).
EXPOSE 7101-7104 8101-8104

USER xcert:xcert
WORKDIR /home/xcert

# No ENTRYPOINT: the command is the program. Compose sets it per service.
CMD ["registry"]

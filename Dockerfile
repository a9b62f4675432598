# syntax=docker/dockerfile:1
# The clientele image: `docker build -t clientele .`, then `docker run -p 8080:8080 clientele`
# (embedded SQLite under /var/lib/clientele; mount a volume there to keep it) or deploy it with
# helm/clientele. The binary is the one the tests and benchmarks build: the `release` profile
# of Cargo.toml, with the locked dependency versions of Cargo.lock.

ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# The commit `/metrics` reports in clientele_build_info:
# `docker build --build-arg CLIENTELE_COMMIT=$(git rev-parse --short HEAD) .` (else "unknown").
ARG CLIENTELE_COMMIT
# build.rs installs the GraphiQL assets (assets/package-lock.json) with npm and embeds them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
COPY . .
# Cache mounts keep the registry and target directory between builds on the same machine.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin clientele \
 && install -D -m 0755 target/release/clientele /out/clientele

FROM debian:bookworm-slim
# The binary needs only libc, libm and libgcc_s (in the base image) and TLS roots.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 clientele \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/clientele --no-create-home \
      --shell /usr/sbin/nologin clientele \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/clientele
COPY --from=build /out/clientele /usr/local/bin/clientele
# Numeric, so that Kubernetes' runAsNonRoot can check it; the Helm chart runs as the same id.
USER 10001:10001
WORKDIR /var/lib/clientele
ENV CLIENTELE_SERVER__BIND=0.0.0.0:8080 \
    CLIENTELE_DATA_DIR=/var/lib/clientele
EXPOSE 8080
ENTRYPOINT ["clientele"]
CMD ["serve"]

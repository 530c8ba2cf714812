# hardened-ws container: the single Bun-compiled binary on a small Debian base, run as non-root.
#
#   docker build -t hardened-ws .
#   docker run --rm -p 8080:8080 --read-only --cap-drop=ALL --security-opt=no-new-privileges \
#     --stop-timeout=15 hardened-ws
#
# No Docker engine runs on the development machines: `npm run check:docker` replays the build
# stage's COPY/RUN lines of this file on the host and smoke-tests the result (see that script for
# what it does and does not prove). Keep RUN lines in the build stage in plain shell form, with
# paths relative to WORKDIR, so that they can be replayed.
#
# Base images are referenced by tag; pin them by digest (`image:tag@sha256:…`) in the release
# pipeline, where the registry can be reached.

# ---- build: install from the lockfile and compile the binary ---------------------------------------
# Node, not oven/bun: the lockfile is package-lock.json (`bun install --frozen-lockfile` cannot read
# it), and `npm ci` installs the Bun that compiles the binary as the pinned `bun` devDependency
# (node_modules/.bin/bun), so the Bun version comes from the lockfile, exactly as on a developer's
# machine and in CI, instead of from a second place (an image tag) that could drift.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so this layer is cached until the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Then only what the build reads (no tests, docs, certificates or .env files can slip in).
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY static ./static
# `build:binary` runs `bun build --compile` and writes build/hardened-ws, a self-contained
# executable with static/ embedded. `--help` fails the build early if the binary cannot start.
RUN npm run build:binary && ./build/hardened-ws --help >/dev/null

# ---- runtime ------------------------------------------------------------------------------------------
# Why debian:bookworm-slim and not gcr.io/distroless/cc-debian12:nonroot:
# - The binary is a dynamically linked glibc executable (Bun's runtime plus the bundle). Its only
#   dependencies are libc, libm, libpthread, libdl and the loader (`ldd build/hardened-ws`; glibc
#   ≥ 2.17). Distroless/cc (even distroless/base) would run it.
# - But distroless has no shell, curl or wget, and the binary has no health probe of its own, so a
#   distroless image could not have a working HEALTHCHECK. Correctness first: Debian slim plus curl.
# - To switch to distroless later (about 70 MB smaller), add a `hardened-ws healthcheck` subcommand
#   (GET http://127.0.0.1:$PORT/readyz, exit 0 on 200) and use
#     FROM gcr.io/distroless/cc-debian12:nonroot
#     HEALTHCHECK CMD ["/usr/local/bin/hardened-ws", "healthcheck"]
FROM debian:bookworm-slim AS runtime

# curl is only for HEALTHCHECK. The user has fixed ids (those of distroless "nonroot"), so that
# Kubernetes `runAsNonRoot` can verify them and file ownership on mounted volumes is predictable.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 nonroot \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin nonroot

# Owned by root and not writable by the process that runs it.
COPY --from=build /app/build/hardened-ws /usr/local/bin/hardened-ws

# Read-only-filesystem friendly: the server writes nothing to disk (logs go to stdout as JSON, the
# default ticket store and broker are in memory, static files are embedded), so `--read-only`
# needs no tmpfs. The working directory is root-owned and empty on purpose: a Bun-compiled
# executable autoloads `.env` and `bunfig.toml` from its working directory.
WORKDIR /
# Metrics (Prometheus) listen on their own port; inside the container that must be all interfaces
# for a scraper to reach it. Publish 9464 only to your monitoring network, never to the internet.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9464
EXPOSE 8080 9464
USER 65532:65532

# Readiness, not liveness: /readyz turns 503 while the server drains after SIGTERM. Plain HTTP on
# the container's own loopback; if you run with --tls inside the container, override this
# (e.g. `curl -fsS --cacert /certs/ca.pem https://localhost:${PORT}/readyz`).
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:${PORT}/readyz" || exit 1

# The binary handles SIGTERM itself (drain: readiness 503, sockets closed with 1001, exit 0) and
# spawns no children, so it can be PID 1 without an init. Draining may take up to 10 s: give
# `docker stop` / Kubernetes a longer grace period than that (--stop-timeout=15,
# terminationGracePeriodSeconds: 15).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/hardened-ws"]
CMD []

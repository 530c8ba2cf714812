# hardened-ws container: the single Bun-compiled binary on distroless (glibc, no shell), run as non-root.
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
# Node 24, the active LTS line (Node 20 no longer gets security fixes). The build needs only Node
# >= 20 (package.json "engines"); Node only runs npm and the build scripts, none of it ships.
FROM node:24-bookworm-slim AS build
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
# gcr.io/distroless/cc-debian12: glibc, libgcc, libstdc++ and CA certificates, and nothing else (no
# shell, no package manager, no curl). The binary is a dynamically linked glibc executable (Bun's
# runtime plus the bundle) whose only dependencies are libc, libm, libpthread, libdl and the loader
# (`ldd build/hardened-ws`; `npm run check:docker` checks them). Its health probe is the binary
# itself (`hardened-ws healthcheck`), so no HTTP client is needed in the image. The `nonroot` tag
# runs as uid/gid 65532, fixed ids that Kubernetes `runAsNonRoot` can verify.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime

# Owned by root and not writable by the process that runs it.
COPY --from=build /app/build/hardened-ws /usr/local/bin/hardened-ws

# Read-only-filesystem friendly: the server writes nothing to disk (logs go to stdout as JSON, the
# default ticket store and broker are in memory, static files are embedded), so `--read-only`
# needs no tmpfs. The working directory is root-owned and holds no .env or bunfig.toml (the binary
# is also compiled not to autoload them).
WORKDIR /
# Metrics (Prometheus) listen on their own port; inside the container that must be all interfaces
# for a scraper to reach it. Publish 9464 only to your monitoring network, never to the internet.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9464
EXPOSE 8080 9464
USER 65532:65532

# Liveness, not readiness: GET /healthz on the container's own loopback (HOST, PORT and TLS from
# this environment, as the server reads them), exit 0 on 200. /readyz is for the load balancer
# (deploy/haproxy.cfg): it turns 503 while Redis is unreachable or the server drains, and a
# HEALTHCHECK on it would mark every container unhealthy during one Redis outage, so an
# orchestrator that replaces unhealthy containers would restart them all at once. With TLS inside
# the container, the certificate must be valid for 127.0.0.1 and trusted (NODE_EXTRA_CA_CERTS).
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/hardened-ws", "healthcheck"]

# The binary handles SIGTERM itself (drain: readiness, upgrades, logins and tickets 503, sockets
# closed with 1001 and a retry hint, exit 0) and spawns no children, so it can be PID 1 without an
# init. Draining may take up to 10 s: give `docker stop` / Kubernetes a longer grace period than
# that (--stop-timeout=15, terminationGracePeriodSeconds: 15).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/hardened-ws"]
CMD []

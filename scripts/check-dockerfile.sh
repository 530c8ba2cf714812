#!/usr/bin/env bash
# Check the Dockerfile without a Docker engine (npm run check:docker).
#
# 1. Static checks: the final stage runs as a non-root USER, sets HOST/PORT, EXPOSEs the port and
#    has a liveness HEALTHCHECK (not /readyz); hadolint and `docker build --check` run too when
#    they can.
# 2. Replay: the build stages' COPY/RUN/WORKDIR/ENV lines are read from the Dockerfile (not copied
#    into this script) and run, in order, in a fresh temporary directory whose "build context" is
#    the working tree as git sees it (tracked + untracked, not ignored) minus .dockerignore.
#    Host tools stand in for the base image. For a node:N image the image's Node must satisfy
#    package.json engines.node; the replay runs on the host's Node, or on CHECK_DOCKER_NODE (a node
#    binary of major N) when set, and says which major it proved the build on.
# 3. Image: only what the final stage COPYs --from a build stage is placed into a second, clean
#    directory (the "image"). The final stage's own RUN lines (apt-get, useradd) are NOT run.
# 4. Run: the ENTRYPOINT starts from that directory as the final stage's USER (setpriv, when run as
#    root), with the final stage's ENV plus HOST=127.0.0.1 PORT=<free port>; then /readyz and
#    /healthz must answer 200, the HEALTHCHECK command (exec form: run from the image directory
#    with the image's ENV) must pass, a ticket-authenticated WebSocket must work, no file may be
#    written (when strace is available), SIGTERM must exit 0, and then the HEALTHCHECK must fail
#    (exit 1, one line).
#
# Exits non-zero on the first failure. KEEP_TMP=1 keeps the temporary directory for inspection.
set -euo pipefail
shopt -s nullglob

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dockerfile="${DOCKERFILE:-$root/Dockerfile}"

step() { printf '\n== %s\n' "$*"; }
ok() { printf '  ok: %s\n' "$*"; }
note() { printf '  note: %s\n' "$*"; }
fail() { printf '  FAIL: %s\n' "$*" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/check-docker.XXXXXX")"
server_pid=''
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  if [[ -n "${KEEP_TMP:-}" ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# Commands replayed from the Dockerfile get a clean environment: none of the npm_* variables or
# node_modules/.bin PATH entries that `npm run` adds, nothing from the caller's shell.
node_dir="$(dirname "$(command -v node)")"
clean_path="$node_dir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# ---- parse ------------------------------------------------------------------------------------------
# One logical instruction per line: continuation lines joined, comment and blank lines dropped.
mapfile -t instructions < <(awk '
  /^[[:space:]]*#/ { next }
  /^[[:space:]]*$/ { next }
  { sub(/\r$/, ""); sub(/^[[:space:]]+/, "")
    if ($0 ~ /\\[[:space:]]*$/) { sub(/[[:space:]]*\\[[:space:]]*$/, ""); buf = buf $0 " "; next }
    line = buf $0; buf = ""; sub(/^[[:space:]]+/, "", line); print line }
  END { if (buf != "") print buf }' "$dockerfile")

instr_of() { local i="${1%%[[:space:]]*}"; printf '%s' "${i^^}"; }
args_of() { local a="${1#*[[:space:]]}"; [[ "$a" == "$1" ]] && a=''; a="${a#"${a%%[![:space:]]*}"}"; printf '%s' "$a"; }

stage_count=0
for line in "${instructions[@]}"; do
  if [[ "$(instr_of "$line")" == FROM ]]; then stage_count=$((stage_count + 1)); fi
done
((stage_count >= 2)) || fail "expected a multi-stage Dockerfile (found $stage_count FROM lines)"

step "static checks of $dockerfile"
final_lines=()
stage=0
for line in "${instructions[@]}"; do
  if [[ "$(instr_of "$line")" == FROM ]]; then stage=$((stage + 1)); fi
  if ((stage == stage_count)); then final_lines+=("$line"); fi
done
final_user='' final_healthcheck='' final_expose='' final_env=() final_entrypoint='' final_cmd='' final_workdir='/'
for line in "${final_lines[@]}"; do
  args="$(args_of "$line")"
  case "$(instr_of "$line")" in
    USER) final_user="$args" ;;
    HEALTHCHECK) final_healthcheck="$args" ;;
    EXPOSE) final_expose="$args" ;;
    ENV) final_env+=("$args") ;;
    ENTRYPOINT) final_entrypoint="$args" ;;
    CMD) final_cmd="$args" ;;
    WORKDIR) final_workdir="$args" ;;
  esac
done
[[ -n "$final_user" ]] || fail "the final stage has no USER (it would run as root)"
user_part="${final_user%%:*}"
[[ "$user_part" != 0 && "$user_part" != root ]] || fail "the final stage's USER is root ($final_user)"
ok "final stage runs as USER $final_user"
env_text="${final_env[*]:-}"
[[ "$env_text" =~ (^|[[:space:]])HOST= && "$env_text" =~ (^|[[:space:]])PORT= ]] || fail "the final stage must set ENV HOST and PORT"
ok "ENV $env_text"
[[ -n "$final_expose" ]] || fail "the final stage has no EXPOSE"
ok "EXPOSE $final_expose"
[[ "$final_healthcheck" == *CMD* ]] || fail "the final stage has no HEALTHCHECK CMD"
# Liveness for the container: a readiness probe would mark every container unhealthy during one
# Redis outage (and an orchestrator would restart them all at once). Readiness is the load balancer's.
[[ "$final_healthcheck" != *readyz* ]] || fail "the HEALTHCHECK probes /readyz (readiness); the container's probe must be liveness"
ok "HEALTHCHECK $final_healthcheck"
[[ "$final_entrypoint" == \[* ]] || fail "ENTRYPOINT must be in exec (JSON) form so that the binary is PID 1 and receives SIGTERM"
ok "ENTRYPOINT $final_entrypoint"

if command -v hadolint >/dev/null; then
  hadolint "$dockerfile" && ok "hadolint: no findings"
else
  note "hadolint not installed: skipped"
fi
if docker build --help 2>/dev/null | grep -q -- '--check'; then
  if docker info >/dev/null 2>&1; then
    docker build --check -f "$dockerfile" "$root" && ok "docker build --check"
  else
    note "docker build --check needs a running engine (none here): skipped"
  fi
else
  note "this docker client has no 'build --check' (legacy builder, no buildx plugin): skipped"
fi

# ---- build context ----------------------------------------------------------------------------------
step "build context: git ls-files -co --exclude-standard, minus .dockerignore"
context="$work/context"
mkdir -p "$context"
(cd "$root" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -xf - -C "$context"
if [[ -f "$root/.dockerignore" ]]; then
  (
    cd "$context"
    shopt -s globstar dotglob nullglob
    while IFS= read -r pattern || [[ -n "$pattern" ]]; do
      pattern="${pattern%$'\r'}"
      [[ -z "$pattern" || "$pattern" == \#* ]] && continue
      [[ "$pattern" == '!'* ]] && { echo "  note: .dockerignore exception '$pattern' is not emulated"; continue; }
      pattern="${pattern#/}"
      for match in $pattern; do rm -rf -- "$match"; done
    done <"$root/.dockerignore"
  )
fi
ok "$(find "$context" -type f | wc -l) files in the context"

# ---- replay the build stages ------------------------------------------------------------------------
declare -A stage_root=()
stage_dir='' stage_name='' workdir='/' stage_env=() stage_path="$clean_path" replayed_on='host tools'

# COPY [--from=stage] src... dest, with Docker's rules: a directory's contents are copied, a
# missing source is an error, several sources or a trailing / make dest a directory.
docker_copy() { # $1 = source root, $2 = destination root, $3 = workdir, rest = COPY words
  local src_root="$1" dst_root="$2" wd="$3"
  shift 3
  local words=("$@")
  local dest="${words[-1]}" srcs=("${words[@]:0:${#words[@]}-1}")
  local dest_is_dir=false
  [[ "$dest" == */ || "$dest" == . || ${#srcs[@]} -gt 1 ]] && dest_is_dir=true
  [[ "$dest" == /* ]] || dest="$wd/$dest"
  dest="$dst_root/${dest#/}"
  local src matches m target
  for src in "${srcs[@]}"; do
    # shellcheck disable=SC2206 # the source is a glob on purpose
    matches=("$src_root"/${src#/})
    ((${#matches[@]} > 0)) || fail "COPY source not found: $src"
    for m in "${matches[@]}"; do
      [[ -e "$m" ]] || fail "COPY source not found: $src"
      if [[ -d "$m" ]]; then
        mkdir -p "$dest" && cp -a "$m/." "$dest/"
      else
        if $dest_is_dir || [[ -d "$dest" ]]; then target="$dest/$(basename "$m")"; else target="$dest"; fi
        mkdir -p "$(dirname "$target")" && cp -a "$m" "$target"
      fi
    done
  done
}

copy_words() { # prints "from<US>word word ..." for a COPY/ADD argument string; refuses JSON form
  local args="$1" from='' w words=()
  [[ "$args" == \[* ]] && fail "JSON-form COPY is not supported by this check: $args"
  read -r -a parts <<<"$args"
  for w in "${parts[@]}"; do
    case "$w" in
      --from=*) from="${w#--from=}" ;;
      --chown=* | --chmod=* | --link | --link=*) ;; # ownership/mode are not emulated
      --*) fail "unsupported COPY flag $w" ;;
      *) words+=("$w") ;;
    esac
  done
  printf '%s\x1f%s' "$from" "${words[*]}"
}

env_pairs() { # ENV KEY=VALUE [KEY=VALUE...] or the legacy ENV KEY VALUE; prints one KEY=VALUE a line
  local args="$1" w
  if [[ "${args%%[[:space:]]*}" != *=* ]]; then printf '%s=%s\n' "${args%%[[:space:]]*}" "$(args_of "$args")"; return; fi
  read -r -a parts <<<"$args"
  for w in "${parts[@]}"; do w="${w/=\"/=}"; w="${w%\"}"; printf '%s\n' "$w"; done
}

stage=0
for line in "${instructions[@]}"; do
  instr="$(instr_of "$line")" args="$(args_of "$line")"
  if [[ "$instr" == FROM ]]; then
    stage=$((stage + 1))
    ((stage < stage_count)) || break # the final stage is handled below
    read -r -a parts <<<"$args"
    image="${parts[0]}" stage_name="stage$stage"
    [[ "${parts[1]:-}" =~ ^[Aa][Ss]$ ]] && stage_name="${parts[2]}"
    stage_dir="$work/stages/$stage_name" workdir='/' stage_env=() stage_path="$clean_path"
    mkdir -p "$stage_dir"
    step "replay build stage '$stage_name' (FROM $image)"
    if [[ -n "${stage_root[$image]:-}" ]]; then
      cp -a "${stage_root[$image]}/." "$stage_dir/"
    elif [[ "$image" =~ ^node:([0-9]+) ]]; then
      image_major="${BASH_REMATCH[1]}"
      engines="$(node -p 'require(process.argv[1]).engines?.node ?? ""' "$root/package.json")"
      [[ "$engines" =~ ^\>=[[:space:]]*([0-9]+) ]] || fail "package.json engines.node ($engines) is not of the form >=N"
      min_major="${BASH_REMATCH[1]}"
      ((image_major >= min_major)) || fail "the image's Node $image_major does not satisfy package.json engines.node $engines"
      ok "the image's Node $image_major satisfies package.json engines.node $engines"
      replay_node="${CHECK_DOCKER_NODE:-$(command -v node)}"
      [[ -x "$replay_node" ]] || fail "CHECK_DOCKER_NODE=$replay_node is not an executable"
      replay_version="$("$replay_node" -v)" replay_major="$("$replay_node" -p 'process.versions.node.split(".")[0]')"
      stage_path="$(dirname "$replay_node"):$clean_path"
      if [[ -n "${CHECK_DOCKER_NODE:-}" && "$replay_major" != "$image_major" ]]; then
        fail "CHECK_DOCKER_NODE is Node $replay_version but the image has Node $image_major"
      fi
      replay_npm="$(env -i HOME="$HOME" PATH="$stage_path" npm -v)"
      if [[ "$replay_major" == "$image_major" ]]; then
        ok "base image not pulled; Node $replay_version (the image's major) / npm $replay_npm stand in for $image"
        replayed_on="Node $replay_version, the image's major"
      else
        ((replay_major >= min_major)) || fail "this host's Node $replay_version does not satisfy engines.node $engines"
        note "base image not pulled, and its Node major differs from this host's: the replay runs on Node $replay_version / npm $replay_npm, which proves the build on Node $replay_major (engines.node $engines), not on Node $image_major; set CHECK_DOCKER_NODE to a Node $image_major binary to replay on the image's major"
        replayed_on="Node $replay_version, NOT the image's Node $image_major"
      fi
    else
      note "base image $image not pulled; host tools stand in for it"
    fi
    stage_root[$stage_name]="$stage_dir"
    continue
  fi
  ((stage >= 1)) || continue # ARG before the first FROM
  case "$instr" in
    WORKDIR)
      [[ "$args" == /* ]] && workdir="$args" || workdir="$workdir/$args"
      mkdir -p "$stage_dir/${workdir#/}"
      echo "  WORKDIR $workdir" ;;
    ENV)
      mapfile -t pairs < <(env_pairs "$args")
      stage_env+=("${pairs[@]}")
      echo "  ENV ${pairs[*]}" ;;
    COPY | ADD)
      IFS=$'\x1f' read -r from words <<<"$(copy_words "$args")"
      read -r -a words_array <<<"$words"
      echo "  $instr $args"
      if [[ -n "$from" ]]; then
        [[ -n "${stage_root[$from]:-}" ]] || fail "COPY --from=$from: no such earlier stage"
        docker_copy "${stage_root[$from]}" "$stage_dir" "$workdir" "${words_array[@]}"
      else
        docker_copy "$context" "$stage_dir" "$workdir" "${words_array[@]}"
      fi ;;
    RUN)
      [[ "$args" == \[* ]] && fail "JSON-form RUN is not supported by this check: $args"
      [[ "$args" == --* ]] && fail "RUN flags (--mount etc.) are not supported by this check: $args"
      echo "  RUN $args"
      (cd "$stage_dir/${workdir#/}" && env -i HOME="$HOME" PATH="$stage_path" TERM=dumb "${stage_env[@]}" sh -c "$args") ||
        fail "RUN $args (exit $?)" ;;
    ARG | LABEL | SHELL | USER | EXPOSE | HEALTHCHECK | CMD | ENTRYPOINT | STOPSIGNAL | ONBUILD | VOLUME)
      note "$instr in a build stage is not replayed: $args" ;;
    *) fail "unknown instruction $instr" ;;
  esac
done

# ---- the image: only what the final stage copies ---------------------------------------------------
step "assemble the final stage's files in a clean directory"
image_root="$work/image"
mkdir -p "$image_root"
for line in "${final_lines[@]}"; do
  instr="$(instr_of "$line")" args="$(args_of "$line")"
  case "$instr" in
    COPY | ADD)
      IFS=$'\x1f' read -r from words <<<"$(copy_words "$args")"
      read -r -a words_array <<<"$words"
      echo "  $instr $args"
      if [[ -n "$from" ]]; then
        [[ -n "${stage_root[$from]:-}" ]] || fail "COPY --from=$from: no such build stage"
        docker_copy "${stage_root[$from]}" "$image_root" "$final_workdir" "${words_array[@]}"
      else
        docker_copy "$context" "$image_root" "$final_workdir" "${words_array[@]}"
      fi ;;
    RUN) note "not run here (would change this machine): RUN $args" ;;
  esac
done
chmod 755 "$work" "$image_root" # the unprivileged user must reach the binary; nothing here is writable by it
echo "  image files:"
(cd "$image_root" && find . -type f -printf '    /%P  %s bytes  mode %m\n')

mapfile -t entrypoint < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$final_entrypoint")
[[ -z "$final_cmd" || "$final_cmd" == '[]' ]] || mapfile -t -O "${#entrypoint[@]}" entrypoint < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$final_cmd")
binary="$image_root/${entrypoint[0]#/}"
[[ -x "$binary" ]] || fail "the ENTRYPOINT ${entrypoint[0]} is not an executable file in the image"

if command -v ldd >/dev/null; then
  # What a glibc base image must provide (all of these are in debian-slim and distroless/cc).
  deps="$(ldd "$binary" | awk '{print $1}' | xargs -n1 basename | sort -u | tr '\n' ' ')"
  for lib in $deps; do
    [[ "$lib" =~ ^(linux-vdso\.so|ld-linux|libc\.so|libm\.so|libpthread\.so|libdl\.so|librt\.so|libgcc_s\.so|libstdc\+\+\.so) ]] ||
      fail "the binary needs $lib, which distroless/cc and debian-slim do not ship"
  done
  ok "dynamic dependencies: $deps"
  if command -v objdump >/dev/null; then
    glibc="$(objdump -T "$binary" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
    ok "newest glibc symbol needed: $glibc (bookworm ships 2.36)"
  fi
fi

# ---- run it -------------------------------------------------------------------------------------------
step "run the image's ENTRYPOINT from the clean directory"
port="$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
mapfile -t image_env < <(for e in "${final_env[@]}"; do env_pairs "$e"; done)
run_env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent "${image_env[@]}" HOST=127.0.0.1 PORT="$port")

as_user=()
if [[ "$(id -u)" == 0 ]] && command -v setpriv >/dev/null; then
  uid="${final_user%%:*}" gid="${final_user#*:}"
  [[ "$final_user" == *:* ]] || gid="$uid"
  [[ "$uid" =~ ^[0-9]+$ ]] || uid="$(id -u "$uid" 2>/dev/null || id -u nobody)"
  [[ "$gid" =~ ^[0-9]+$ ]] || gid="$(getent group "$gid" | cut -d: -f3 || true)"
  [[ -n "$gid" ]] || gid="$(id -g nobody)"
  as_user=(setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs --)
  ok "running as uid $uid gid $gid (setpriv), like USER $final_user"
else
  note "not root or no setpriv: running as the current user ($(id -un))"
fi
tracer=()
if command -v strace >/dev/null; then
  # shellcheck disable=SC2054 # commas belong to strace -e
  tracer=(strace -f -qq -o "$work/strace.log" -e trace=open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,truncate,ftruncate -e status=successful)
else
  note "strace not installed: file writes are not checked"
fi
log="$work/server.log"
echo "  (cd <image>$final_workdir && env -i ${run_env[*]} ${entrypoint[*]})"
(cd "$image_root/${final_workdir#/}" && exec env -i "${run_env[@]}" "${tracer[@]}" "${as_user[@]}" "$binary" "${entrypoint[@]:1}") >"$log" 2>&1 &
launcher_pid=$!
server_pid=$launcher_pid

base="http://127.0.0.1:$port"
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true; }
for _ in $(seq 100); do
  [[ "$(status_of "$base/readyz")" == 200 ]] && break
  kill -0 "$launcher_pid" 2>/dev/null || { cat "$log"; fail "the binary exited during startup"; }
  sleep 0.2
done
if ((${#tracer[@]})); then server_pid="$(pgrep -P "$launcher_pid" | head -1)"; fi
[[ "$(status_of "$base/readyz")" == 200 ]] || { cat "$log"; fail "GET /readyz did not answer 200 within 20 s"; }
ok "GET /readyz 200"
[[ "$(status_of "$base/healthz")" == 200 ]] || fail "GET /healthz is not 200"
ok "GET /healthz 200"
curl -fsS --max-time 2 "$base/" | grep -qi '<html' || fail "GET / does not serve the embedded demo page"
ok "GET / serves the embedded demo page (no static/ directory next to the binary)"
proc_uid="$(awk '/^Uid:/ {print $2}' "/proc/$server_pid/status")"
ok "server process $server_pid runs with uid $proc_uid"
[[ -z "${as_user[*]}" || "$proc_uid" != 0 ]] || fail "the server runs as root"

# The HEALTHCHECK as Docker runs it: exec form (no shell in the image) with the image's ENV, from
# its working directory; an absolute program path is taken inside the image directory.
healthcheck_cmd="${final_healthcheck#*CMD }"
if [[ "$healthcheck_cmd" == \[* ]]; then
  mapfile -t probe < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$healthcheck_cmd")
  [[ "${probe[0]}" == /* ]] && probe[0]="$image_root/${probe[0]#/}"
  [[ -x "${probe[0]}" ]] || fail "the HEALTHCHECK program ${probe[0]#"$image_root"} is not an executable file in the image"
else
  probe=(sh -c "$healthcheck_cmd")
fi
run_probe() { (cd "$image_root/${final_workdir#/}" && exec env -i "${run_env[@]}" "${as_user[@]}" "${probe[@]}"); }
probe_out="$(run_probe 2>&1)" || fail "HEALTHCHECK command failed: $healthcheck_cmd: $probe_out"
[[ -z "$probe_out" ]] || fail "the HEALTHCHECK printed on success: $probe_out"
ok "HEALTHCHECK passes (exit 0, silent): $healthcheck_cmd"

# The product itself: Basic-auth ticket, WebSocket, auth.ok, echo (client from the repo's `ws`).
(cd "$root" && node -e '
  const WebSocket = require("ws"); const base = process.argv[1];
  const fail = (m) => { console.error("  FAIL: " + m); process.exit(1); };
  setTimeout(() => fail("WebSocket flow timed out"), 10000).unref();
  fetch(base + "/auth/ticket", { method: "POST", body: "{}", headers: { "content-type": "application/json",
      authorization: "Basic " + Buffer.from("demo:demo").toString("base64") } })
    .then(async (r) => { if (r.status !== 201) fail("POST /auth/ticket " + r.status); return (await r.json()).ticket; })
    .then((ticket) => {
      const ws = new WebSocket(base.replace("http", "ws") + "/ws");
      ws.on("open", () => ws.send(JSON.stringify({ type: "auth", ticket })));
      const seen = [];
      ws.on("message", (d) => { const m = JSON.parse(d); seen.push(m.type);
        if (m.type === "auth.ok") ws.send(JSON.stringify({ type: "echo", id: "1", data: "check" }));
        else if (m.type === "echo") ws.close(1000); else fail("unexpected " + JSON.stringify(m)); });
      ws.on("close", (code) => { if (code !== 1000 || seen.join() !== "auth.ok,echo") fail("close " + code + " after " + seen); process.exit(0); });
      ws.on("error", (e) => fail(e.message));
    }, (e) => fail(e.message));' "$base") || fail "ticket + WebSocket flow"
ok "POST /auth/ticket 201, GET /ws 101, auth.ok, echo, close 1000"

step "stop with SIGTERM"
kill -TERM "$server_pid"
for _ in $(seq 75); do kill -0 "$launcher_pid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$launcher_pid" 2>/dev/null && fail "still running 15 s after SIGTERM"
rc=0
wait "$launcher_pid" || rc=$?
server_pid=''
((rc == 0)) || { tail -5 "$log"; fail "exit status $rc after SIGTERM (expected 0)"; }
ok "exited 0 after SIGTERM"
probe_rc=0
probe_out="$(run_probe 2>&1)" || probe_rc=$?
((probe_rc == 1)) || fail "with the server gone the HEALTHCHECK exited $probe_rc (expected 1): $probe_out"
[[ "$(printf '%s\n' "$probe_out" | wc -l)" == 1 ]] || fail "the failing HEALTHCHECK printed more than one line: $probe_out"
ok "with the server gone the HEALTHCHECK fails: exit 1, \"$probe_out\""
grep -q '"shutdown.done"' "$log" || fail "the log has no shutdown.done"
ok "log: shutdown.start … shutdown.done"
if grep -qE '"level":(50|60)' "$log"; then grep -E '"level":(50|60)' "$log" | head -5; fail "errors in the server log"; fi
ok "no error-level log lines"

if ((${#tracer[@]})); then
  # Successful opens for writing, creations, renames and deletions, outside /dev and /proc.
  writes="$(grep -E 'O_WRONLY|O_RDWR|O_CREAT|creat\(|mkdir|rename|unlink|truncate' "$work/strace.log" |
    grep -vE '"/(dev|proc)/' || true)"
  grep -q 'openat' "$work/strace.log" || fail "strace recorded no file access at all: the write check did not work"
  if [[ -n "$writes" ]]; then echo "$writes" | head -10; fail "the server wrote to the filesystem (a --read-only container would break)"; fi
  ok "no file was written (strace): --read-only is safe"
fi

step "check:docker passed"
cat <<EOF
  Proven: the build stages' COPY/RUN lines work from a clean checkout (on $replayed_on);
  the final stage's COPY picks up a binary that runs alone (no node_modules, no static/, no shell or
  other program next to it), as uid ${uid:-$(id -u)}, with the image's ENV; /readyz, /healthz, the
  HEALTHCHECK (the binary's own healthcheck subcommand), the ticket + WebSocket flow, SIGTERM → 0,
  and the HEALTHCHECK failing once the server is gone.
  Not proven: the base images themselves (not pulled; distroless/cc is taken to provide Debian 12's
  glibc 2.36 and the libraries listed above), the final stage's RUN lines if any, --chown/--chmod,
  real .dockerignore semantics beyond simple globs, container networking (HOST=0.0.0.0, published
  ports), and other CPU architectures.
EOF

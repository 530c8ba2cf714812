#!/usr/bin/env bash
# `npm test`'s first step (pretest): the system programs the suites run for real — Redis, HAProxy,
# Chromium, OpenSSL, NSS's certutil. Missing ones are installed with apt-get when running as root
# (as CI does); otherwise one line names the exact command to run, and the tests do not start.
set -euo pipefail

# program or file that must exist → the Debian package that provides it
declare -A needs=(
  [/usr/bin/redis-server]=redis-server
  [/usr/sbin/haproxy]=haproxy
  [/usr/bin/chromium]=chromium
  [/usr/bin/certutil]=libnss3-tools
  [/usr/bin/openssl]=openssl
  [/etc/ssl/certs/ca-certificates.crt]=ca-certificates
  [/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf]=fonts-dejavu-core
)
missing=()
for path in "${!needs[@]}"; do [[ -e "$path" ]] || missing+=("${needs[$path]}"); done
((${#missing[@]} == 0)) && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
install="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "npm test needs these system packages first: sudo apt-get update && sudo $install" >&2
  exit 1
fi
echo "installing system packages for the tests: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$install -qq

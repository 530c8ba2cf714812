#!/usr/bin/env bash
# Make a local development CA and a localhost server certificate signed by it.
#
#   npm run cert                      # writes into the current directory (the project root under npm)
#   npm run cert -- ./certs           # or into a directory (relative paths: from where you ran npm)
#   npm run cert -- --force [dir]     # also replace an existing CA (you must re-trust the new one)
#
# Files (PEM):
#   ca.pem       the local CA certificate: this is what clients trust
#   ca-key.pem   its private key (0600): keep it private, never ship it
#   cert.pem     the server leaf certificate only (the CA is the trust anchor, so it is not appended)
#   key.pem      the leaf's private key (0600)
#
# Why a CA and a separate leaf: Deno (rustls/webpki) rejects a self-signed certificate that is used
# as its own CA (CaUsedAsEndEntity), and a leaf that says CA:FALSE is what every client expects.
#
# Re-running keeps an existing CA (so clients that already trust it keep working) and issues a
# fresh leaf from it. Extra names for the leaf: CERT_EXTRA_SAN="DNS:myhost.local,IP:192.168.1.10".
set -euo pipefail

CA_DAYS=825   # the most Apple platforms accept for a locally trusted certificate
LEAF_DAYS=397 # the CA/Browser Forum limit for a leaf; clients enforce shorter lifetimes on leaves

die() { printf 'cert: %s\n' "$*" >&2; exit 1; }

force=false
dir=''
for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $arg (expected --force and/or an output directory)" ;;
    *) [[ -z "$dir" ]] || die "only one output directory may be given"; dir="$arg" ;;
  esac
done

command -v openssl >/dev/null || die "openssl is required (apt-get install openssl / brew install openssl)"

# npm runs scripts from the package root; a relative directory means "relative to where you typed it".
if [[ -z "$dir" ]]; then
  dir="$PWD"
elif [[ "$dir" != /* && -n "${INIT_CWD:-}" ]]; then
  dir="$INIT_CWD/$dir"
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

ca="$dir/ca.pem" ca_key="$dir/ca-key.pem" cert="$dir/cert.pem" key="$dir/key.pem"

umask 077 # every file this script creates starts private; certificates are opened up below
work="$(mktemp -d "${TMPDIR:-/tmp}/hardened-ws-cert.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Self-contained config: no dependence on the system openssl.cnf and its default extensions.
cat >"$work/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[v3_ca]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = @san
[san]
DNS.1 = localhost
IP.1 = 127.0.0.1
IP.2 = ::1
EOF
if [[ -n "${CERT_EXTRA_SAN:-}" ]]; then
  # Rewrite "subjectAltName = @san" as an explicit list that includes the extra names.
  sed -i.bak "s|^subjectAltName = @san\$|subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1, ${CERT_EXTRA_SAN}|" "$work/openssl.cnf"
fi

new_p256_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
pubkey_of_cert() { openssl x509 -in "$1" -noout -pubkey; }
pubkey_of_key() { openssl pkey -in "$1" -pubout; }
random_serial() { printf '0x%s' "$(openssl rand -hex 16)"; }

# ---- CA ---------------------------------------------------------------------------------------
if [[ -e "$ca" || -e "$ca_key" ]] && [[ "$force" != true ]]; then
  [[ -f "$ca" && -f "$ca_key" ]] || die "found only one of ca.pem / ca-key.pem in $dir; re-run with --force to make a new CA"
  [[ "$(pubkey_of_cert "$ca")" == "$(pubkey_of_key "$ca_key")" ]] || die "ca-key.pem does not match ca.pem in $dir; re-run with --force"
  openssl x509 -in "$ca" -noout -checkend $((LEAF_DAYS * 86400)) >/dev/null ||
    die "the CA in $dir expires within $LEAF_DAYS days, before a new leaf would; re-run with --force (and re-trust it)"
  echo "cert: keeping the existing CA $ca (use --force to replace it)"
else
  [[ -e "$ca" ]] && echo "cert: --force: replacing the CA in $dir; clients must trust the new ca.pem"
  new_p256_key "$work/ca-key.pem"
  openssl req -new -x509 -config "$work/openssl.cnf" -extensions v3_ca -sha256 -days "$CA_DAYS" \
    -key "$work/ca-key.pem" -set_serial "$(random_serial)" \
    -subj "/O=hardened-ws development/CN=hardened-ws local CA ($(hostname 2>/dev/null || echo host) $(date +%Y-%m-%d))" \
    -out "$work/ca.pem"
  mv -f "$work/ca-key.pem" "$ca_key"
  mv -f "$work/ca.pem" "$ca"
  echo "cert: made a new CA $ca (EC P-256, $CA_DAYS days)"
fi

# ---- leaf -------------------------------------------------------------------------------------
new_p256_key "$work/key.pem"
openssl req -new -config "$work/openssl.cnf" -key "$work/key.pem" -subj "/O=hardened-ws development/CN=localhost" \
  -out "$work/leaf.csr"
openssl x509 -req -in "$work/leaf.csr" -CA "$ca" -CAkey "$ca_key" -set_serial "$(random_serial)" \
  -sha256 -days "$LEAF_DAYS" -extfile "$work/openssl.cnf" -extensions v3_leaf -out "$work/cert.pem" 2>/dev/null
openssl verify -purpose sslserver -CAfile "$ca" "$work/cert.pem" >/dev/null || die "the new leaf does not verify against $ca"
mv -f "$work/key.pem" "$key"
mv -f "$work/cert.pem" "$cert"

chmod 600 "$ca_key" "$key"
chmod 644 "$ca" "$cert"

san="$(openssl x509 -in "$cert" -noout -ext subjectAltName | tail -n +2 | sed 's/^ *//')"
cat <<EOF
cert: issued $cert (+ $key) for $san, valid $LEAF_DAYS days

Start the server with TLS:
  npm start -- --tls --cert $cert --key $key

Trust the CA (only on machines you control; ca-key.pem can sign for any name):
  Node, Bun:  NODE_EXTRA_CA_CERTS=$ca node client.js
  Deno:       DENO_CERT=$ca deno run ...
  curl:       curl --cacert $ca https://localhost:8080/healthz
  Firefox:    Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import
  Chrome/OS:  Debian/Ubuntu: sudo cp $ca /usr/local/share/ca-certificates/hardened-ws-dev.crt && sudo update-ca-certificates
              (Chrome on Linux reads its own NSS store: certutil -d sql:\$HOME/.pki/nssdb -A -t C,, -n hardened-ws-dev -i $ca)
              macOS: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain $ca
EOF

#!/usr/bin/env bash
# A test PKI for sealed PDFs, made with openssl in DIR (no network):
#   root.pem           the root to trust (verify --trust, pyHanko --trust)
#   seal.p12           the city's seal key and certificate (password "test"), chain included
#   seal.key/seal.pem  the same as PEM (for SoftHSM2 imports)
#   tsa.pem, tsa.key   a time-stamp authority (extendedKeyUsage timeStamping, critical)
#   tsa.cnf            the `openssl ts -reply` configuration of that TSA
#   other-root.pem     an unrelated root (a verifier that trusts only it must refuse)
# Usage: pki.sh DIR
set -euo pipefail
dir="$1"
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1; }

cat > ext.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[seal]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

q openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 3650 \
  -subj "/C=BE/O=Paraaf Test PKI/CN=Paraaf Test Root" -extensions ca -config ext.cnf \
  -set_serial 1
q openssl req -x509 -newkey rsa:2048 -nodes -keyout other-root.key -out other-root.pem -days 3650 \
  -subj "/C=BE/O=Somebody Else/CN=Other Root" -extensions ca -config ext.cnf

for who in seal tsa; do
  case "$who" in
    seal) subj="/C=BE/O=Stad Aalst/OU=Secretariaat/CN=Stad Aalst (elektronisch zegel)" ;;
    tsa) subj="/C=BE/O=Paraaf Test PKI/CN=Paraaf Test TSA" ;;
  esac
  q openssl req -newkey rsa:2048 -nodes -keyout "$who.key" -out "$who.csr" -subj "$subj" -config ext.cnf
  q openssl x509 -req -in "$who.csr" -CA root.pem -CAkey root.key -out "$who.pem" -days 1825 \
    -extfile ext.cnf -extensions "$who" -set_serial "0x$(openssl rand -hex 8)"
done
q openssl pkcs12 -export -inkey seal.key -in seal.pem -certfile root.pem -passout pass:test \
  -name seal -out seal.p12

cat > tsa.cnf <<CNF
[tsa]
default_tsa = tsa_config
[tsa_config]
dir = $PWD
serial = \$dir/tsaserial
crypto_device = builtin
signer_cert = \$dir/tsa.pem
certs = \$dir/root.pem
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
echo 01 > tsaserial

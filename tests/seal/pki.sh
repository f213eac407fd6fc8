#!/usr/bin/env bash
# A test PKI for sealed PDFs, made with openssl in DIR (no network):
#   root.pem           the root to trust (verify --trust, pyHanko --trust)
#   seal.p12           the city's seal key and certificate (password "test"), chain included
#   seal.key/seal.pem  the same as PEM (for SoftHSM2 imports)
#   tsa.pem, tsa.key   a time-stamp authority (extendedKeyUsage timeStamping, critical)
#   tsa.cnf            the `openssl ts -reply` configuration of that TSA
#   other-root.pem     an unrelated root (a verifier that trusts only it must refuse)
#   root.crl           the root's CRL (DER), published at BASE_URL/root.crl; it revokes
#                      seal-revoked.pem
#   seal-revoked.p12   a seal certificate of the same root that the CRL revokes
#   seal-badchain.p12  a seal certificate issued by not-ca.pem, an "intermediate" whose
#                      basicConstraints say CA:false (a verifier must refuse the chain)
# With BASE_URL (e.g. http://127.0.0.1:8123, served by pki_server.py) every certificate
# the root issues names BASE_URL/root.crl as its CRL distribution point.
# Usage: pki.sh DIR [BASE_URL]
set -euo pipefail
dir="$1"
base="${2:-}"
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1; }

crldp=""
if [ -n "$base" ]; then
  crldp="crlDistributionPoints = URI:$base/root.crl"
fi

cat > ext.cnf <<CNF
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
$crldp
[tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
$crldp
[notca]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
$crldp
[underling]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

q openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 3650 \
  -subj "/C=BE/O=Paraaf Test PKI/CN=Paraaf Test Root" -extensions ca -config ext.cnf \
  -set_serial 1
q openssl req -x509 -newkey rsa:2048 -nodes -keyout other-root.key -out other-root.pem -days 3650 \
  -subj "/C=BE/O=Somebody Else/CN=Other Root" -extensions ca -config ext.cnf

# issue NAME SUBJECT EXTENSIONS [CA CAKEY]
issue() {
  q openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" -config ext.cnf
  q openssl x509 -req -in "$1.csr" -CA "${4:-root.pem}" -CAkey "${5:-root.key}" -out "$1.pem" \
    -days 1825 -extfile ext.cnf -extensions "$3" -set_serial "0x$(openssl rand -hex 8)"
}
issue seal "/C=BE/O=Stad Aalst/OU=Secretariaat/CN=Stad Aalst (elektronisch zegel)" seal
issue tsa "/C=BE/O=Paraaf Test PKI/CN=Paraaf Test TSA" tsa
issue seal-revoked "/C=BE/O=Stad Aalst/CN=Stad Aalst (ingetrokken zegel)" seal
issue not-ca "/C=BE/O=Paraaf Test PKI/CN=Not A CA" notca
issue seal-badchain "/C=BE/O=Stad Aalst/CN=Stad Aalst (zegel onder een niet-CA)" underling \
  not-ca.pem not-ca.key

q openssl pkcs12 -export -inkey seal.key -in seal.pem -certfile root.pem -passout pass:test \
  -name seal -out seal.p12
q openssl pkcs12 -export -inkey seal-revoked.key -in seal-revoked.pem -certfile root.pem \
  -passout pass:test -name seal -out seal-revoked.p12
cat not-ca.pem root.pem > badchain-issuers.pem
q openssl pkcs12 -export -inkey seal-badchain.key -in seal-badchain.pem \
  -certfile badchain-issuers.pem -passout pass:test -name seal -out seal-badchain.p12

# The root's CRL: revokes seal-revoked.pem (openssl ca's database in ca/).
mkdir -p ca
: > ca/index.txt
echo 1000 > ca/crlnumber
cat > ca.cnf <<CNF
[ca]
default_ca = root
[root]
database = $PWD/ca/index.txt
crlnumber = $PWD/ca/crlnumber
certificate = $PWD/root.pem
private_key = $PWD/root.key
default_md = sha256
default_crl_days = 30
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid
CNF
q openssl ca -config ca.cnf -revoke seal-revoked.pem -crl_reason keyCompromise
q openssl ca -config ca.cnf -gencrl -out root.crl.pem
q openssl crl -in root.crl.pem -outform DER -out root.crl

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

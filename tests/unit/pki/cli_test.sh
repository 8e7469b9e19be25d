#!/bin/sh
# End-to-end check of `rsp pki init` and `rsp pki verify` through the tool.
# Usage: cli_test.sh <rsp executable> <reference dir>
set -eu
RSP="$1"
REF="$2/certs"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$RSP" pki init --out "$WORK/pki" --curves nist,brp --smdpp-address smdp.example.test > "$WORK/init.txt"
grep -q "CERT_S_SM_DP_TLS_BRP.pem" "$WORK/init.txt"
test "$(stat -c %a "$WORK/pki/SK_CI_ECDSA_NIST.pem")" = 600
"$RSP" pki verify "$WORK/pki" > "$WORK/verify.txt"
grep -q "24 certificate(s), 0 failed" "$WORK/verify.txt"

# A certificate signed by a CI that is not in the directory fails the run.
"$RSP" pki init --out "$WORK/other" --curves nist > /dev/null
cp "$WORK/other/CERT_S_SM_DPauth_ECDSA_NIST.pem" "$WORK/pki/CERT_FOREIGN.pem"
if "$RSP" pki verify "$WORK/pki" > "$WORK/verify2.txt"; then
  echo "verify accepted a foreign certificate" >&2
  exit 1
fi
grep -q "unknown-issuer" "$WORK/verify2.txt"

"$RSP" pki eid --check 89049032123451234512345678901235 > /dev/null
if "$RSP" pki eid --check 89049032123451234512345678901234 > /dev/null; then exit 1; fi

if [ -d "$REF" ]; then
  "$RSP" pki verify "$REF" --at 2026-07-25T00:00:00Z > "$WORK/sgp26.txt"
  if "$RSP" pki verify "$REF" --at 2026-11-25T00:00:00Z > "$WORK/sgp26_late.txt"; then
    echo "expired SGP.26 TLS certificates accepted" >&2
    exit 1
  fi
  grep "CERT_S_SM_DP_TLS_NIST.der" "$WORK/sgp26_late.txt" | grep -q "certificate expired"
else
  echo "SGP.26 reference certificates absent: skipping that part"
fi
echo "rsp pki CLI OK"

#!/usr/bin/env bash
# Seed inputs for the harnesses of tests/fuzz (docs/FUZZING.md), in each harness's input format
# (fuzz_split: a little-endian u16 length before every part but the last).
#
#   seeds.sh vectors OUT       from ../shared/vectors (run by `make fuzz` into the build folder):
#                              evidence records with the data they protect, their tokens, CMS signatures
#   seeds.sh store KURA OUT    from a small store made with the kura command KURA (a signed document
#                              with validation data from a test PKI, a plain one, both sealed by the
#                              store's own TSA, and their export packages) into OUT/corpus, and the
#                              store's TSA root and the PKI's root into OUT/anchors: run by hand with
#                              OUT tests/fuzz, the result is committed (the harnesses' FUZZ_NOW lies
#                              within the certificates' validity)
#
# OUT gets one folder per harness. Nothing is written outside OUT and a temporary folder.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VECTORS=$REPO/../shared/vectors
PYTHON=${PYTHON:-python3}

# pack OUT MODE PART... : writes MODE (a byte in hex, or "-" for none) and the parts in fuzz_split form
pack() {
	"$PYTHON" - "$@" <<'EOF'
import struct, sys
out, mode, parts = sys.argv[1], sys.argv[2], sys.argv[3:]
b = b"" if mode == "-" else bytes([int(mode, 16)])
for i, p in enumerate(parts):
    data = b"" if p == "" else open(p, "rb").read()
    b += (struct.pack("<H", len(data)) if i + 1 < len(parts) else b"") + data
open(out, "wb").write(b)
EOF
}

vectors() {
	local out=$1 d n=0 f
	mkdir -p "$out"/{record,tst,cms,validation,policy,retention}
	# records with the data they protect (one member)
	for d in "$VECTORS"/bc-java/Testdaten_ERS-Testool/rfc4998/*/; do
		for f in "$d"*.ers; do
			pack "$out/record/bc-$((n++))" 00 "$d/BIN.bin" "$f"
		done
		for f in "$d"*.tsr; do
			[ -e "$f" ] || continue
			pack "$out/tst/bc-$((n++))" 00 "$f"
			pack "$out/validation/bc-$n" 01 "$f" "" # the certificates and revocation data it carries
			pack "$out/cms/bc-$n" - "" "" "$f"       # a token is a CMS SignedData too
		done
	done
	local bin=$VECTORS/bsi-erverifytool/decoded/bin
	pack "$out/record/bsi-txt" 00 "$bin/TXT_DATA.txt" "$bin/example.ers"
	pack "$out/record/bsi-tif" 00 "$bin/example.tif" "$bin/ATS1_BIN_ER.ers"
	for f in "$bin"/*.ers "$bin"/*.er "$VECTORS"/bsi-erverifytool/decoded/*/*.ers; do
		pack "$out/record/bsi-$((n++))" 00 "" "$f"
	done
	local cms=$VECTORS/bsi-erverifytool/decoded/cms
	pack "$out/cms/bsi-detached" - "$cms/TestDataLogo.png" "" "$cms/TestDataLogo.png_er.p7s"
	pack "$out/cms/bsi-attached" - "" "" "$cms/encapsulated_with_er.p7s"
	# the tokens inside the records, as a token and as a TSA's answer
	for f in "$out"/tst/bc-*; do
		"$PYTHON" - "$f" "$f.resp" <<'EOF'
import sys
tok = open(sys.argv[1], "rb").read()[1:]
def der_len(n):
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b
status = b"\x30\x03\x02\x01\x00"  # PKIStatusInfo { granted }
body = status + tok
open(sys.argv[2], "wb").write(b"\x01" + b"\x30" + der_len(len(body)) + body)
EOF
	done
	for f in "$REPO"/policies/*.yaml; do
		cp "$f" "$out/policy/"
	done
	cp "$REPO/policies/retention.yaml" "$out/retention/"
}

store() {
	local kura=$1 out=$2/corpus
	T=$(mktemp -d) # global: the EXIT trap runs after this function returned
	trap 'rm -rf "$T"' EXIT
	mkdir -p "$out"/{record,tst,cms,validation,package,object_json,segment,policy} "$2/anchors"
	cd "$T"
	# a test PKI (as tests/cli/test_signatures.sh makes it), its CRLs standing in for OCSP
	fail() { echo "seeds.sh: $*" >&2; exit 1; }
	source "$REPO/tests/cli/signatures/pki.sh"
	pki_init "$T/pki" 9 9
	pki_signer alice
	printf 'clinical trial 0042: final report\n' >report.txt
	printf 'ledger 2026-Q4\n' >ledger.csv
	pki_sign alice report.txt report.p7s
	"$kura" init S --tsa-days 730 >/dev/null
	"$kura" trust add S --signers pki/root.pem >/dev/null
	"$kura" ingest S --signature report.p7s --crl pki/inter.crl.pem --crl pki/www/root.crl.pem report.txt >/dev/null
	"$kura" ingest S ledger.csv >/dev/null
	"$kura" export S -o pkg.tar >/dev/null 2>&1
	"$kura" export S -o pkg.tar.zst >/dev/null 2>&1
	pack "$out/package/verify" 00 pkg.tar
	pack "$out/package/import" 01 pkg.tar
	pack "$out/package/verify-zst" 00 pkg.tar.zst
	mkdir x && tar -xf pkg.tar -C x
	(cd x/pkg && sh verify.sh --rebuild "$T/rec" >/dev/null) || fail "the package's verify.sh fails"
	mkdir -p "$out/parts"
	cp x/pkg/data/tsa-anchors.pem "$2/anchors/store-tsa.pem"
	cp pki/root.pem "$2/anchors/test-pki-root.pem"
	local o id doc
	for o in x/pkg/data/*/object.json; do
		id=$(dirname "$o")
		doc=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["members"][0]["file"])' "$o")
		local sig="" vd="" base
		base=$(basename "$id")
		sig=$("$PYTHON" -c 'import json,sys; print(" ".join(m["file"] for m in json.load(open(sys.argv[1]))["members"] if m["role"]=="signature"))' "$o")
		vd=$("$PYTHON" -c 'import json,sys; print(" ".join(m["file"] for m in json.load(open(sys.argv[1]))["members"] if m["role"]=="validation-data"))' "$o")
		# object.json with its members renamed to the files fuzz_object_json lays out
		"$PYTHON" - "$o" "$T/object-$base.json" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
for m in o.get("members", []):
    m["file"] = {"document": "doc", "signature": "sig", "validation-data": "vd"}.get(m["role"], m["file"])
json.dump(o, open(sys.argv[2], "w"), ensure_ascii=False, indent=1)
EOF
		# the record whole (rebuilt from its parts), its first token, and the parts themselves
		local ers="$T/rec/$base/$doc.ers" first
		first=x/pkg/data/tokens/$(head -n 1 "$id/$doc.erp" | cut -d ' ' -f 6).tsr
		pack "$out/parts/$base" - "$id/$doc.erp" "$first"
		pack "$out/object_json/$base" - "$T/object-$base.json" "$id/$doc" "$ers" \
			"${sig:+$id/$sig}" "${vd:+$id/$vd}"
		if [ -n "$sig" ]; then
			pack "$out/record/$base" 02 "$id/$doc" "$id/$sig" "$id/$vd" "$ers"
			pack "$out/cms/$base" - "$id/$doc" "$id/$vd" "$id/$sig"
			pack "$out/validation/vdata-$base" 00 "$id/$vd"
			pack "$out/validation/token-$base" 01 "$first" "$id/$vd"
		else
			pack "$out/record/$base" 00 "$id/$doc" "$ers"
		fi
		pack "$out/tst/$base" 00 "$first"
	done
	pack "$out/validation/crl-pem" 02 pki/inter.crl.pem
	pack "$out/validation/crl-der" 02 pki/www/root.crl
	# an OCSP response from the PKI's responder key, made offline, in validation data
	openssl ocsp -issuer pki/inter.pem -cert pki/alice.pem -reqout ocsp.req -no_nonce 2>/dev/null
	openssl ocsp -index pki/inter/index.txt -rsigner pki/ocsp.pem -rkey pki/ocsp.key -CA pki/inter.pem \
		-reqin ocsp.req -respout ocsp.resp -ndays 1 >/dev/null 2>&1
	"$PYTHON" - "$out/validation/vdata-ocsp" pki/alice.pem pki/inter.pem pki/root.pem ocsp.resp <<'EOF'
import os, ssl, sys
sys.path.insert(0, os.environ["DERPY"])
from der import tlv
def der(tag, body):
    n = len(body)
    ln = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + ln + body
certs = b"".join(ssl.PEM_cert_to_DER_cert(open(p).read()) for p in sys.argv[2:5])
resp = open(sys.argv[5], "rb").read()
# OCSPResponse { status, [0] { responseType, OCTET STRING BasicOCSPResponse } }
_, s, e, _ = tlv(resp, 0)
_, s1, e1, end1 = tlv(resp, s)            # status
_, s2, e2, _ = tlv(resp, end1)            # [0]
_, s3, e3, _ = tlv(resp, s2)              # ResponseBytes
_, s4, e4, end4 = tlv(resp, s3)           # responseType
_, s5, e5, _ = tlv(resp, end4)            # OCTET STRING
basic = resp[s5:e5]
vdata = der(0x30, b"\x02\x01\x01" + der(0x18, b"20261206000000Z") + der(0x30, certs) +
            der(0x30, der(0xa1, der(0x30, basic))))
open(sys.argv[1], "wb").write(b"\x00" + vdata)
EOF
	local seg
	for seg in S/segments/*.seg; do
		pack "$out/segment/$(basename "$seg")" 00 "$seg"
		pack "$out/segment/$(basename "$seg").framed" 02 "$seg"
	done
	cp S/policy.yaml "$out/policy/store.yaml" 2>/dev/null || true
}

case "${1:-}" in
vectors) mkdir -p "$2" && vectors "$(realpath "$2")" ;;
store) mkdir -p "$3" && DERPY=$REPO/tests/cli/tsa store "$(realpath "$2")" "$(realpath "$3")" ;;
*) echo "usage: seeds.sh vectors OUT | seeds.sh store KURA OUT" >&2; exit 2 ;;
esac

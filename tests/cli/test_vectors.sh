#!/usr/bin/env bash
# Interop: `kura verify-er` against the public RFC 4998 evidence records in shared/vectors
# (Bouncy Castle's copy of the BSI ERS-Testtool data, and the BSI ERVerifyTool test data),
# following shared/ERS-RULES.md and each folder's README.txt / ANALYSIS.txt.
#
#  - positives: VALID with that source's certs/ as anchors, --at shortly after the last genTime
#    (the TSA certificates have expired since), with the chains/ATSs/hash per chain of
#    ANALYSIS.txt, "covers" data / previous time-stamp / hash-tree renewal, the matching rule
#    where the README makes a point of it, and every token checked at the next time-stamp's
#    genTime (the last at --at); the same without --trust is indeterminate, with the other
#    source's certificates untrusted
#  - negatives: the README's negative vectors, damaged data, verification now (expired TSA
#    certificate), wrong data, structure-only vectors (data not available)
#  - records damaged in $T (tests/cli/ers_tool.py finds the places: an independent DER reader):
#    truncated, garbage, trailing bytes, empty, tree values and tokens changed, BER copies of
#    the tokens, unknown hash OIDs; plus tolerated variants ERS-RULES.md says a verifier accepts
#  - every JSON report has the keys verdict/integrity/trust/chains (+ reason unless valid), each
#    ATS genTime/tsa/signature_algorithm/key/covers/integrity (+ rule when it holds, trust and
#    checked_at when anchors are given, reason when something failed), exit 0 iff valid
#
# KURA_VECTORS overrides the vectors folder (default: ../shared/vectors next to the repository).
source "$(dirname "$0")/lib.sh" || exit 1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the interpreter itself, not a version-manager shim (a pyenv shim costs ~1 s a start)
PY=$(python3 -c 'import sys; print(sys.executable)')
pyc()
{
	local code=$1
	shift
	"$PY" -c "import json, sys, os
$code" "$@"
}
TOOL=$HERE/ers_tool.py
VEC=${KURA_VECTORS:-$(cd "$HERE/../../.." && pwd)/shared/vectors}
[ -d "$VEC/bc-java/certs" ] && [ -d "$VEC/bsi-erverifytool/certs" ] ||
	fail "test vectors not found in $VEC (set KURA_VECTORS)"
BC=$VEC/bc-java/Testdaten_ERS-Testool/rfc4998
BSI=$VEC/bsi-erverifytool
BC_BIN=$BC/1Chain1ATS/BIN.bin # "some binary content": the data of every bc-java record
TXT=$BSI/decoded/bin/TXT_DATA.txt
TIF=$BSI/decoded/bin/example.tif # "TestData"

BC_TRUST=()
for f in "$VEC"/bc-java/certs/*.der; do BC_TRUST+=(--trust "$f"); done
BSI_TRUST=()
for f in "$VEC"/bsi-erverifytool/certs/*.der; do BSI_TRUST+=(--trust "$f"); done
[ "${#BC_TRUST[@]}" -ge 12 ] && [ "${#BSI_TRUST[@]}" -ge 32 ] || fail "certificates missing in $VEC/*/certs"

# --at per record: shortly after its last genTime (ANALYSIS.txt), when every TSA certificate was valid
AT_BC=2017-02-10T15:00:00Z          # exceet TSA 04, last genTime 2017-02-10T14:09:36.5Z
AT_RENEWAL=2018-04-03T09:00:00Z     # testRenewal.ers: Belgian TSA, 2018-04-03T08:18:24Z
AT_EXAMPLE=2022-08-18T10:00:00Z     # Governikus test TSA, 2022-08-18T08:12:00Z .. 09:09:07Z
AT_DGN=2022-08-04T17:00:00Z         # DGN TSS Signer 53, 2022-08-04T16:03:33Z
AT_CMS=2017-01-03T16:00:00Z         # Governikus test TSA, 2017-01-03T15:04:06Z
AT_DTRUST12=2018-02-01T12:00:00Z    # D-TRUST TSU 12 2017, 2018-02-01T11:17:54Z
AT_UTIMACO=2022-09-29T14:00:00Z     # Utimaco RSA TSU 2021:1, 2022-09-29T13:49:07Z
AT_DTRUST14=2022-10-10T17:00:00Z    # D-TRUST TSU 14 2020, 2022-10-10T15:56:25Z
AT_MSOS=2017-02-15T14:00:00Z        # BNotK TSS 4, 2017-02-15T13:38:13Z
AT_DPCOM=2012-03-25T17:00:00Z       # TSS DP Com 77, 2012-03-25T16:16:23Z
AT_BASIS=2017-02-09T16:00:00Z       # Governikus test TSA, 2017-02-09T15:51:35Z

# ------------------------------------------------------------------ report checks (python)
# Every report goes through PRELUDE (the key/consistency checks), then the case's own checks,
# then POSTLUDE; all failed checks of a case are printed together.
PRELUDE=$(
	cat <<'PY'
import datetime
path, name, status, want, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
fails = []
def ok(cond, msg):
    if not cond:
        fails.append(msg)
    return bool(cond)
def note(msg):
    print("NOTE [test_vectors] %s: %s" % (name, msg), file=sys.stderr)
try:
    r = json.load(open(path))
except ValueError as e:
    print("FAIL [test_vectors]: %s: stdout is not JSON (%s)\n  command: kura verify-er %s\n  stdout: %s"
          % (name, e, cmd, open(path, errors="replace").read()[:600]), file=sys.stderr)
    sys.exit(1)
if not isinstance(r, dict):
    print("FAIL [test_vectors]: %s: the report is not a JSON object" % name, file=sys.stderr)
    sys.exit(1)
ok(status == want, "exit status %d, expected %d" % (status, want))
for k in ("verdict", "integrity", "trust", "chains"):
    ok(k in r, "the report has no '%s'" % k)
V, I, TR = r.get("verdict"), r.get("integrity"), r.get("trust")
ok(V in ("valid", "invalid", "indeterminate"), "verdict %r" % V)
ok(I in ("valid", "invalid", "indeterminate"), "integrity %r" % I)
ok(TR in ("valid", "invalid", "indeterminate"), "trust %r" % TR)
ok((status == 0) == (V == "valid"), "exit status %d with verdict %r" % (status, V))
if V != "valid":
    ok(isinstance(r.get("reason"), str) and r["reason"].strip(), "no reason for verdict %r" % V)
if I == "invalid" or TR == "invalid":
    ok(V == "invalid", "verdict %r with integrity %r, trust %r" % (V, I, TR))
elif I == "valid" and TR == "valid":
    ok(V == "valid", "verdict %r with integrity and trust valid" % V)
C = r.get("chains") if isinstance(r.get("chains"), list) else []
ALL = []
for ci, c in enumerate(C):
    ok(isinstance(c, dict) and isinstance(c.get("ats"), list), "chain %d has no 'ats' list" % (ci + 1))
    for ai, a in enumerate(c.get("ats", []) if isinstance(c, dict) else []):
        w = "chain %d ATS %d" % (ci + 1, ai + 1)
        ALL.append(a)
        ok(a.get("integrity") in ("valid", "invalid", "indeterminate"), "%s: integrity %r" % (w, a.get("integrity")))
        if "genTime" in a:  # the token was read
            for k in ("genTime", "tsa", "signature_algorithm", "key"):
                ok(isinstance(a.get(k), str) and a[k], "%s: no '%s'" % (w, k))
        if a.get("integrity") == "valid":
            for k in ("genTime", "tsa", "signature_algorithm", "key", "covers", "rule"):
                ok(isinstance(a.get(k), str) and a[k], "%s: integrity valid but no '%s'" % (w, k))
            ok(isinstance(c.get("hash"), str) and c["hash"], "chain %d: no 'hash'" % (ci + 1))
        else:
            ok(isinstance(a.get("reason"), str) and a["reason"], "%s: integrity %r but no 'reason'" % (w, a.get("integrity")))
        if "trust" in a:
            ok(a["trust"] in ("valid", "invalid"), "%s: trust %r" % (w, a["trust"]))
            ok(isinstance(a.get("checked_at"), str), "%s: trust without 'checked_at'" % w)
            if a["trust"] == "invalid":
                ok(isinstance(a.get("reason"), str) and a["reason"], "%s: trust invalid but no 'reason'" % w)
if any(a.get("integrity") == "invalid" for a in ALL):
    ok(I == "invalid", "an ATS has integrity invalid, the record %r" % I)
if I == "valid":
    ok(ALL and all(a.get("integrity") == "valid" for a in ALL), "integrity valid, but not every ATS is")
if any(a.get("trust") == "invalid" for a in ALL):
    ok(TR == "invalid", "an ATS has trust invalid, the record %r" % TR)
if TR == "valid" and not (ALL and all(a.get("trust") == "valid" for a in ALL)):
    note("trust is 'valid' although %d of %d time-stamps were checked"
         % (sum(a.get("trust") == "valid" for a in ALL), len(ALL)))

def T(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
def A(ci, ai):
    try:
        return C[ci]["ats"][ai]
    except (IndexError, KeyError, TypeError):
        ok(False, "chain %d ATS %d missing" % (ci + 1, ai + 1))
        return {}
def verdict(v, integrity=None, trust=None):
    ok(V == v, "verdict %r, expected %r" % (V, v))
    if integrity:
        ok(I == integrity, "integrity %r, expected %r" % (I, integrity))
    if trust:
        ok(TR == trust, "trust %r, expected %r" % (TR, trust))
def shape(*exp):  # ("sha256", number of ATSs) per chain, from ANALYSIS.txt
    ok(len(C) == len(exp), "%d chains, expected %d" % (len(C), len(exp)))
    for ci, (h, n) in enumerate(exp[:len(C)]):
        ok(C[ci].get("hash") == h, "chain %d: hash %r, expected %r" % (ci + 1, C[ci].get("hash"), h))
        ok(len(C[ci].get("ats", [])) == n, "chain %d: %d ATSs, expected %d" % (ci + 1, len(C[ci].get("ats", [])), n))
def covers_ok():
    for ci, c in enumerate(C):
        for ai, a in enumerate(c.get("ats", [])):
            cv = (a.get("covers") or "").lower()
            w = "chain %d ATS %d covers %r" % (ci + 1, ai + 1, a.get("covers"))
            if ci == 0 and ai == 0:
                ok(cv.startswith("data") and "renewal" not in cv and "previous" not in cv, w + ", expected the data")
            elif ai == 0:
                ok("hash-tree renewal" in cv, w + ", expected a hash-tree renewal")
            else:
                ok("previous time-stamp" in cv, w + ", expected the previous time-stamp")
def mentions(text, words):
    return any(x.lower() in (text or "").lower() for x in words)
def reason_has(*words):
    ok(mentions(r.get("reason"), words), "reason %r does not mention any of %s" % (r.get("reason"), list(words)))
def ats_is(ci, ai, integrity=None, trust=None):
    a = A(ci, ai)
    if integrity:
        ok(a.get("integrity") == integrity, "chain %d ATS %d: integrity %r, expected %r" % (ci + 1, ai + 1, a.get("integrity"), integrity))
    if trust:
        ok(a.get("trust") == trust, "chain %d ATS %d: trust %r, expected %r" % (ci + 1, ai + 1, a.get("trust"), trust))
def rule_has(ci, ai, *words):
    rule = A(ci, ai).get("rule") or ""
    for x in words:
        ok(x.lower() in rule.lower(), "chain %d ATS %d: rule %r does not say %r" % (ci + 1, ai + 1, rule, x))
def rule_lacks(ci, ai, *words):
    rule = A(ci, ai).get("rule") or ""
    for x in words:
        ok(x.lower() not in rule.lower(), "chain %d ATS %d: rule %r says %r" % (ci + 1, ai + 1, rule, x))
def checked_at(at):  # RFC 4998 5.3: each token at the genTime of the next one, the last at --at
    for i, a in enumerate(ALL):
        want = ALL[i + 1].get("genTime") if i + 1 < len(ALL) else at
        got = a.get("checked_at")
        ok(got and want and T(got) == T(want), "time-stamp %d checked at %r, expected %r" % (i + 1, got, want))
PY
)
POSTLUDE=$(
	cat <<'PY'
if fails:
    print("FAIL [test_vectors]: %s\n  command: kura verify-er %s\n  - %s\n  report: %s"
          % (name, cmd, "\n  - ".join(fails), json.dumps(r)[:2000]), file=sys.stderr)
    sys.exit(1)
PY
)

# ver NAME STATUS CHECKS ARGS... : kura verify-er ARGS --json must exit STATUS (0 or 1) with a
# well-formed report ($T/NAME.json) that passes the python CHECKS.
ver()
{
	local name=$1 want=$2 code=$3 got=0 shown
	shift 3
	shown=$(printf '%s ' "$@" | sed "s#$VEC#\$VEC#g; s#$T#\$T#g; s#--trust [^ ]*/certs/[^ ]* #--trust ... #g; s#\(--trust \.\.\. \)\{2,\}#--trust ...(all) #g")
	kura verify-er "$@" --json >"$T/$name.json" 2>"$T/$name.err" || got=$?
	if grep -q -e 'Sanitizer' -e 'runtime error:' "$T/$name.err"; then
		fail "$name: sanitizer report from: kura verify-er $shown
  stderr: $(head -c 1500 "$T/$name.err")"
	fi
	if [ "$got" -gt 1 ]; then
		fail "$name: exit status $got (expected $want; a crash or an error) from: kura verify-er $shown
  stderr: $(head -c 800 "$T/$name.err")"
	fi
	pyc "$PRELUDE
$code
$POSTLUDE" "$T/$name.json" "$name" "$got" "$want" "$shown" || fail "$name: the report is not as expected (above)"
}

tool() { "$PY" "$TOOL" "$@"; }

# A value of `ers_tool.py info` of file $1, selected by python expression $2 over d
info_get()
{
	tool info "$1" >"$T/.info.json"
	pyc "d = json.load(open(sys.argv[1])); print($2)" "$T/.info.json"
}

# ================================================================== positive vectors
# positive NAME DATA ER AT OWN-TRUST-ARRAY OTHER-TRUST-ARRAY CHECKS
positive()
{
	local name=$1 data=$2 er=$3 at=$4 checks=$7
	local -n own=$5 other=$6
	[ -f "$data" ] && [ -f "$er" ] || fail "$name: vector file missing ($data, $er)"
	run_case "$name" ver "$name" 0 "verdict('valid', 'valid', 'valid'); covers_ok(); checked_at('$at')
$checks" --data "$data" --er "$er" "${own[@]}" --at "$at"
	run_case "$name.no-trust" ver "$name.no-trust" 1 "verdict('indeterminate', 'valid', 'indeterminate')
$checks" --data "$data" --er "$er" --at "$at"
	run_case "$name.wrong-anchors" ver "$name.wrong-anchors" 1 "verdict('invalid', 'valid', 'invalid')
ok(any(a.get('trust') == 'invalid' for a in ALL), 'no time-stamp reports trust invalid')" \
		--data "$data" --er "$er" "${other[@]}" --at "$at"
}

# bc-java (BSI ERS-Testtool data): 1 chain 1 ATS; time-stamp renewal; hash-tree renewal
positive bc.1Chain1ATS "$BC/1Chain1ATS/BIN.bin" "$BC/1Chain1ATS/BIN_ER.ers" $AT_BC BC_TRUST BSI_TRUST \
	"shape(('sha256', 1))"
positive bc.1Chain2ATS "$BC/1Chain2ATS/BIN.bin" "$BC/1Chain2ATS/BIN_ER.ers" $AT_BC BC_TRUST BSI_TRUST \
	"shape(('sha256', 2))"
# chain 2: h' = H(h || ha), unsorted (the sorted form does not verify: discriminating vector)
positive bc.2Chains3ATS "$BC/2Chains3ATS/BIN.bin" "$BC/2Chains3ATS/BIN_ER.ers" $AT_BC BC_TRUST BSI_TRUST \
	"shape(('sha256', 2), ('sha512', 1)); rule_has(1, 0, 'h || ha'); rule_lacks(1, 0, 'sort')"
# hash-tree renewal with a one-value list: only the pass-through rule verifies it
positive bc.testRenewal "$BC/1Chain2ATS/BIN.bin" "$BC/1Chain2ATS/testRenewal.ers" $AT_RENEWAL BC_TRUST BSI_TRUST \
	"shape(('sha256', 2), ('sha512', 1)); rule_has(1, 0, 'h || ha', 'pass through'); rule_lacks(1, 0, 'double', 'sort')"

# BSI ERVerifyTool data
positive bsi.example "$TIF" "$BSI/decoded/bin/example.ers" $AT_EXAMPLE BSI_TRUST BC_TRUST \
	"shape(('sha256', 1))"
# a one-value list hashed again: only the tolerated double-hash rule verifies it, and says so
positive bsi.double_hashed "$TXT" "$BSI/orig/bin/ER_DOUBLE_HASHED_FOR_TXT_DATA.ers" $AT_DGN BSI_TRUST BC_TRUST \
	"shape(('sha256', 1)); rule_has(0, 0, 'double')"
# no reducedHashtree: the imprint is the data's hash (ERS-RULES: a single-object record may omit it)
positive bsi.no_tree "$TXT" "$BSI/orig/bin/ER_SHA256-DGN_XAIP_OK_SC1.ers" $AT_DGN BSI_TRUST BC_TRUST \
	"shape(('sha256', 1)); rule_has(0, 0, 'no reduced tree')"
# The READMEs list the next ones as structure-only; their first lists hold the SHA-256 of a data
# file that is in the vectors (found by hashing every file), so they are verified for real:
# ATS1_BIN_ER.ers covers bc-java's BIN.bin among 1998 values (a [1998, 63] tree)
positive bsi.ATS1_wide_tree "$BC_BIN" "$BSI/decoded/bin/ATS1_BIN_ER.ers" $AT_DTRUST12 BSI_TRUST BC_TRUST \
	"shape(('sha256', 1))"
# er_for_encapsulated_with_er.ers covers the CMS file encapsulated_with_er.p7s
positive bsi.cms_detached "$BSI/decoded/cms/encapsulated_with_er.p7s" "$BSI/decoded/cms/er_for_encapsulated_with_er.ers" \
	$AT_CMS BSI_TRUST BC_TRUST "shape(('sha256', 1))"
# the XAIP records' 4-member groups hold SHA-256("TestData") = example.tif
positive bsi.xaip_ok_qualified "$TIF" "$BSI/orig/xaip/xaip_ok_qualified.ers" $AT_UTIMACO BSI_TRUST BC_TRUST \
	"shape(('sha256', 1))"
positive bsi.xaip_ok_qualified_dtrust "$TIF" "$BSI/orig/xaip/xaip_ok_qualified_dtrust.ers" $AT_DTRUST14 BSI_TRUST BC_TRUST \
	"shape(('sha256', 1))"
positive bsi.xaip_ok_rehashed "$TIF" "$BSI/decoded/xaip/xaip_ok.rehashed.ers" $AT_EXAMPLE BSI_TRUST BC_TRUST \
	"shape(('sha256', 2), ('sha512', 1)); rule_has(1, 0, 'h || ha'); rule_lacks(1, 0, 'sort')"

# --trust takes PEM as well as DER: one PEM bundle of all bc-java certificates; the CA alone
for f in "$VEC"/bc-java/certs/*.der; do openssl x509 -inform DER -in "$f"; done >"$T/bc-bundle.pem"
openssl x509 -inform DER -in "$VEC"/bc-java/certs/*_exceet_trustcenter_CA2.der >"$T/exceet-ca.pem"
run_case pem.bundle ver pem.bundle 0 "verdict('valid', 'valid', 'valid'); shape(('sha256', 2), ('sha512', 1))" \
	--data "$BC_BIN" --er "$BC/2Chains3ATS/BIN_ER.ers" --trust "$T/bc-bundle.pem" --at $AT_BC
run_case pem.ca-only ver pem.ca-only 0 "verdict('valid', 'valid', 'valid')" \
	--data "$BC_BIN" --er "$BC/2Chains3ATS/BIN_ER.ers" --trust "$T/exceet-ca.pem" --at $AT_BC
# testRenewal.ers with only the exceet CA: its last token (Belgian TSA) is untrusted, the others are
run_case anchors.partial ver anchors.partial 1 "verdict('invalid', 'valid', 'invalid')
ats_is(0, 0, trust='valid'); ats_is(0, 1, trust='valid'); ats_is(1, 0, trust='invalid')" \
	--data "$BC_BIN" --er "$BC/1Chain2ATS/testRenewal.ers" --trust "$T/exceet-ca.pem" --at $AT_RENEWAL

# ================================================================== negative vectors
# EvidenceRecord version 0: rejected for the version (the data does not matter)
run_case neg.wrong_version ver neg.wrong_version 1 "verdict('invalid', 'invalid'); reason_has('version')" \
	--data "$TXT" --er "$BSI/decoded/bin/er_nok_wrong_version.er" "${BSI_TRUST[@]}" --at $AT_BASIS
# erDataMSOS-001.bin is corrupted in the repository (UTF-8 replacement characters)
run_case neg.erDataMSOS ver neg.erDataMSOS 1 "verdict('invalid', 'invalid'); ats_is(0, 0, integrity='invalid')
reason_has('data')" --data "$BSI/orig/bin/erDataMSOS-001.bin" --er "$BSI/decoded/bin/erDataMSOS-001.ers" \
	"${BSI_TRUST[@]}" --at $AT_MSOS
# the TST SignedData has a wrong CMS version (the Basis-ERS profile rejects it); data unknown
run_case neg.wrong_cms_version ver neg.wrong_cms_version 1 "verdict('invalid', 'invalid')
ok(mentions(r.get('reason'), ['version']) or any(mentions(a.get('reason'), ['version']) for a in ALL),
   'nothing says the CMS version is wrong: %r' % r.get('reason'))" \
	--data "$TXT" --er "$BSI/decoded/bin/example_wrong_cms_version.ers" "${BSI_TRUST[@]}" --at $AT_BASIS

# one flipped byte in the data
flipped_data()
{
	local name=$1 data=$2 er=$3 at=$4
	local -n anchors=$5
	tool flip "$data" "$T/$name.data" $(($(stat -c %s "$data") / 2))
	ver "$name" 1 "verdict('invalid', 'invalid'); ats_is(0, 0, integrity='invalid'); reason_has('data')" \
		--data "$T/$name.data" --er "$er" "${anchors[@]}" --at "$at"
}
run_case neg.flip.1Chain1ATS flipped_data neg.flip.1Chain1ATS "$BC_BIN" "$BC/1Chain1ATS/BIN_ER.ers" $AT_BC BC_TRUST
run_case neg.flip.2Chains3ATS flipped_data neg.flip.2Chains3ATS "$BC_BIN" "$BC/2Chains3ATS/BIN_ER.ers" $AT_BC BC_TRUST
run_case neg.flip.double_hashed flipped_data neg.flip.double_hashed "$TXT" "$BSI/orig/bin/ER_DOUBLE_HASHED_FOR_TXT_DATA.ers" $AT_DGN BSI_TRUST
run_case neg.flip.no_tree flipped_data neg.flip.no_tree "$TXT" "$BSI/orig/bin/ER_SHA256-DGN_XAIP_OK_SC1.ers" $AT_DGN BSI_TRUST
run_case neg.flip.example flipped_data neg.flip.example "$TIF" "$BSI/decoded/bin/example.ers" $AT_EXAMPLE BSI_TRUST

# 2Chains3ATS against other data: chain 1 ATS 1 and the hash-tree renewal fail, the
# time-stamp renewal (over the previous token) still holds
run_case neg.2Chains3ATS.wrong_data ver neg.2Chains3ATS.wrong_data 1 "verdict('invalid', 'invalid')
ats_is(0, 0, integrity='invalid'); ats_is(0, 1, integrity='valid'); ats_is(1, 0, integrity='invalid'); reason_has('data')" \
	--data "$BC/2Chains3ATS/test.txt" --er "$BC/2Chains3ATS/BIN_ER.ers" "${BC_TRUST[@]}" --at $AT_BC

# verified now: the last token's TSA certificate has expired; the earlier ones were valid at the
# genTime of the time-stamp that covers them
now_expired()
{
	local name=$1 er=$2
	ver "$name" 1 "verdict('invalid', 'valid', 'invalid'); reason_has('expired')
ok(ALL and ALL[-1].get('trust') == 'invalid' and mentions(ALL[-1].get('reason'), ['expired']), 'the last time-stamp is not reported expired')
for i, a in enumerate(ALL[:-1]):
    ok(a.get('trust') == 'valid', 'time-stamp %d (covered by the next one) has trust %r' % (i + 1, a.get('trust')))" \
		--data "$BC_BIN" --er "$er" "${BC_TRUST[@]}"
}
run_case now.1Chain1ATS now_expired now.1Chain1ATS "$BC/1Chain1ATS/BIN_ER.ers"
run_case now.1Chain2ATS now_expired now.1Chain2ATS "$BC/1Chain2ATS/BIN_ER.ers"
run_case now.2Chains3ATS now_expired now.2Chains3ATS "$BC/2Chains3ATS/BIN_ER.ers"
run_case now.testRenewal now_expired now.testRenewal "$BC/1Chain2ATS/testRenewal.ers"

# structure-only vectors (data not available): invalid integrity, no crash, the structure of ANALYSIS.txt
run_case struct.example_invalidTSPs ver struct.example_invalidTSPs 1 "verdict('invalid', 'invalid')
shape(('sha256', 4)); covers_ok(); ats_is(0, 0, integrity='invalid')
for ai in (1, 2, 3):
    ats_is(0, ai, integrity='valid')
    rule_has(0, ai, 'no reduced tree')
ok(TR == 'invalid', 'the TSPs are invalid (file name), trust %r' % TR)" \
	--data "$TXT" --er "$BSI/decoded/bin/example_invalidTSPs.ers" "${BSI_TRUST[@]}" --at $AT_DPCOM
run_case struct.basis_ers ver struct.basis_ers 1 "verdict('invalid', 'invalid'); shape(('sha256', 1)); ats_is(0, 0, integrity='invalid')" \
	--data "$TXT" --er "$BSI/decoded/bin/basis_ers" "${BSI_TRUST[@]}" --at $AT_BASIS
run_case struct.xaip_ok.xml ver struct.xaip_ok.xml 1 "verdict('invalid', 'invalid'); shape(('sha256', 1))" \
	--data "$BSI/orig/xaip/xaip_ok.xml" --er "$BSI/orig/xaip/xaip_ok.ers" "${BSI_TRUST[@]}" --at $AT_EXAMPLE

# ================================================================== structural damage
E3=$BC/2Chains3ATS/BIN_ER.ers
n3=$(stat -c %s "$E3")
head -c $((n3 / 2)) "$E3" >"$T/half.ers"
head -c $((n3 - 1)) "$E3" >"$T/minus1.ers"
head -c 40 "$E3" >"$T/header.ers"
tool garbage "$T/garbage.ers" 5000 7
{
	cat "$E3"
	printf 'JUNK'
} >"$T/trailing.ers"
{
	cat "$E3"
	cat "$E3"
} >"$T/twice.ers"
: >"$T/empty.ers"
printf '\x30\x84\x7f\xff\xff\xff\x02\x01\x01' >"$T/hugelen.ers"
pyc 'sys.stdout.buffer.write(b"\x30\x80" * 50000)' >"$T/deep.ers"
tool edit "$E3" "$T/nochain.ers" replace 2 3000
tool edit "$E3" "$T/emptychain.ers" replace 2,0 3000
tool edit "$E3" "$T/tok_notsd.ers" replace 2,0,0,2 3003020100
tool edit "$E3" "$T/tok_octets.ers" replace 2,0,0,2 0403010203
for bad in half minus1 header garbage trailing twice empty hugelen deep nochain emptychain tok_notsd tok_octets; do
	run_case "bad.$bad" ver "bad.$bad" 1 "verdict('invalid', 'invalid')" \
		--data "$BC_BIN" --er "$T/$bad.ers" "${BC_TRUST[@]}" --at $AT_BC
done
# the record does not cover the data once its first ATS or chain is gone (chain 2 alone is no proof)
tool edit "$E3" "$T/nofirstats.ers" delete 2,0,0
tool edit "$E3" "$T/nofirstchain.ers" delete 2,0
tool edit "$E3" "$T/notree.ers" delete 2,0,0,1
for bad in nofirstats nofirstchain notree; do
	run_case "bad.$bad" ver "bad.$bad" 1 "verdict('invalid', 'invalid'); ats_is(0, 0, integrity='invalid')" \
		--data "$BC_BIN" --er "$T/$bad.ers" "${BC_TRUST[@]}" --at $AT_BC
done

# unreadable files and bad arguments: exit 2, nothing on stdout, "kura: ..." on stderr
args_case()
{
	expect_error 2 kura verify-er --data "$BC_BIN" --er "$T/missing.ers" --json
	expect_grep "$ERR" missing.ers
	expect_error 2 kura verify-er --data "$T/missing.bin" --er "$E3" "${BC_TRUST[@]}" --at $AT_BC --json
	expect_grep "$ERR" missing.bin
	expect_error 2 kura verify-er --data "$T" --er "$E3" "${BC_TRUST[@]}" --at $AT_BC --json
	expect_error 2 kura verify-er --data "$BC_BIN" --er "$T" --json
	expect_error 2 kura verify-er --data "$BC_BIN" --er "$E3" --at yesterday --json
	expect_error 2 kura verify-er --data "$BC_BIN" --er "$E3" --trust "$T/missing.pem" --json
	expect_error 2 kura verify-er --data "$BC_BIN" --er "$E3" --trust "$BC/2Chains3ATS/test.txt" --json
	expect_error 2 kura verify-er --data "$BC_BIN" --json
	expect_error 2 kura verify-er --er "$E3" --json
	expect_error 2 kura verify-er --data "$BC_BIN" --er "$E3" extra --json
	expect_error 2 kura verify-er --data "$BC_BIN" --er "$E3" --bogus
}
run_case args args_case

# ================================================================== token over another imprint
# the data of another record
run_case imprint.swapped_data ver imprint.swapped_data 1 "verdict('invalid', 'invalid'); ats_is(0, 0, integrity='invalid')" \
	--data "$TIF" --er "$BC/1Chain1ATS/BIN_ER.ers" "${BC_TRUST[@]}" --at $AT_BC

# one byte of a reduced-tree value: H(d) in the first list, its sibling, the next list's value
E1=$BC/1Chain1ATS/BIN_ER.ers
tree_value()
{
	local name=$1 er=$2 sel=$3 checks=$4
	local off
	off=$(info_get "$er" "d['chains']$sel['off'] + 5")
	tool flip "$er" "$T/$name.ers" "$off"
	ver "$name" 1 "verdict('invalid', 'invalid')
$checks" --data "$BC_BIN" --er "$T/$name.ers" "${BC_TRUST[@]}" --at $AT_BC
}
h_bin=$(sha256_of "$BC_BIN")
[ "$(info_get "$E1" "d['chains'][0][0]['rht'][0][0]['hex']")" = "$h_bin" ] ||
	fail "1Chain1ATS: the first value of the first list is not SHA-256(BIN.bin) (vector changed?)"
run_case imprint.tree.own_hash tree_value imprint.tree.own_hash "$E1" "[0][0]['rht'][0][0]" \
	"ats_is(0, 0, integrity='invalid'); reason_has('first list')"
run_case imprint.tree.sibling tree_value imprint.tree.sibling "$E1" "[0][0]['rht'][0][1]" \
	"ats_is(0, 0, integrity='invalid'); reason_has('imprint')"
run_case imprint.tree.level2 tree_value imprint.tree.level2 "$E1" "[0][0]['rht'][1][0]" \
	"ats_is(0, 0, integrity='invalid'); reason_has('imprint')"
# the time-stamp renewal's list [3]: a value other than H(previous token) -> only that ATS fails
run_case imprint.tree.renewal tree_value imprint.tree.renewal "$BC/1Chain2ATS/BIN_ER.ers" "[0][1]['rht'][0][2]" \
	"ats_is(0, 0, integrity='valid'); ats_is(0, 1, integrity='invalid')"
# the hash-tree renewal's tree: only chain 2 fails
run_case imprint.tree.rehash tree_value imprint.tree.rehash "$E3" "[1][0]['rht'][1][0]" \
	"ats_is(0, 0, integrity='valid'); ats_is(0, 1, integrity='valid'); ats_is(1, 0, integrity='invalid')"

# the token's hashedMessage (breaks the signature too), and its signature alone
token_byte()
{
	local name=$1 sel=$2 checks=$3
	tool flip "$E1" "$T/$name.ers" "$(info_get "$E1" "d['chains'][0][0]$sel['off'] + 7")"
	ver "$name" 1 "verdict('invalid')
$checks" --data "$BC_BIN" --er "$T/$name.ers" "${BC_TRUST[@]}" --at $AT_BC
}
run_case imprint.hashedMessage token_byte imprint.hashedMessage "['hashedMessage']" \
	"ok(I == 'invalid' or TR == 'invalid', 'neither integrity nor trust is invalid')"
run_case imprint.signature token_byte imprint.signature "['signature']" \
	"verdict('invalid', 'valid', 'invalid'); ats_is(0, 0, trust='invalid')"

# the BER copies of 2Chains3ATS's tokens (same TSTInfo, other bytes). Renewals hash the bytes as
# stored: with token 0.0 in BER, ATS 0.1 no longer covers it; with token 0.1 in BER, the chain
# the hash-tree renewal covers changed; token 1.0 in BER is covered by nothing: still valid.
ber_token()
{
	local name=$1 path=$2 tsr=$3 status=$4 checks=$5
	tool edit "$E3" "$T/$name.ers" replace "$path" "@$BC/2Chains3ATS/$tsr"
	ver "$name" "$status" "$checks" --data "$BC_BIN" --er "$T/$name.ers" "${BC_TRUST[@]}" --at $AT_BC
}
run_case ber.token00 ber_token ber.token00 2,0,0,2 BIN_ER.ers.0.0.tsr 1 "verdict('invalid', 'invalid')
ats_is(0, 0, integrity='valid', trust='valid'); ats_is(0, 1, integrity='invalid'); ats_is(1, 0, integrity='invalid')"
run_case ber.token01 ber_token ber.token01 2,0,1,2 BIN_ER.ers.0.1.tsr 1 "verdict('invalid', 'invalid')
ats_is(0, 0, integrity='valid'); ats_is(0, 1, integrity='valid', trust='valid'); ats_is(1, 0, integrity='invalid')"
run_case ber.token10 ber_token ber.token10 2,1,0,2 BIN_ER.ers.1.0.tsr 0 "verdict('valid', 'valid', 'valid')
shape(('sha256', 2), ('sha512', 1)); covers_ok(); checked_at('$AT_BC')"

# ================================================================== hash algorithm OIDs
# 2.16.840.1.101.3.4.2.1 (sha256) -> 2.16.840.1.101.3.4.2.127 (no such algorithm): last OID byte.
# A hash kura cannot compute leaves integrity indeterminate, never invalid; a patched imprint
# OID breaks the token's signature, which alone makes the verdict invalid.
oid_case()
{
	local name=$1 er=$2 verdict=$3 checks=$4
	shift 4
	local src=$er i=0 off
	for sel in "$@"; do
		off=$(info_get "$src" "$sel['off'] + $sel['len'] - 1")
		tool patch "$src" "$T/$name.$i.ers" "$off" 7f
		src=$T/$name.$i.ers
		i=$((i + 1))
	done
	ver "$name" 1 "$verdict
$checks" --data "$BC_BIN" --er "$src" "${BC_TRUST[@]}" --at $AT_BC
}
ATS00="d['chains'][0][0]"
run_case oid.ats_only oid_case oid.ats_only "$E1" "verdict('invalid', 'invalid')" "reason_has('algorithm')" \
	"$ATS00['digestAlgorithm']"
run_case oid.imprint_only oid_case oid.imprint_only "$E1" "verdict('invalid', 'invalid')" "reason_has('algorithm')" \
	"$ATS00['imprint_oid']"
run_case oid.ats_and_imprint oid_case oid.ats_and_imprint "$E1" "verdict('invalid', 'indeterminate', 'invalid')" \
	"ats_is(0, 0, integrity='indeterminate', trust='invalid')" "$ATS00['digestAlgorithm']" "$ATS00['imprint_oid']"
run_case oid.everywhere oid_case oid.everywhere "$E1" "verdict('invalid', 'indeterminate', 'invalid')" \
	"ats_is(0, 0, integrity='indeterminate', trust='invalid')" \
	"$ATS00['digestAlgorithm']" "$ATS00['imprint_oid']" "d['digestAlgorithms'][0]"
# sha512 chain of 2Chains3ATS: chain 1 still verifies, chain 2 cannot be computed (and its token is broken)
run_case oid.chain2 oid_case oid.chain2 "$E3" "verdict('invalid', 'indeterminate', 'invalid')" \
	"ats_is(0, 0, integrity='valid'); ats_is(0, 1, integrity='valid'); ats_is(1, 0, integrity='indeterminate')" \
	"d['chains'][1][0]['digestAlgorithm']" "d['chains'][1][0]['imprint_oid']"

# ================================================================== tolerated variants (ERS-RULES.md)
E2=$BC/1Chain2ATS/BIN_ER.ers
# "An ATS without digestAlgorithm uses the hash algorithm of its time-stamp's messageImprint."
tool edit "$E2" "$T/nodigalg.1.ers" delete 2,0,1,0
tool edit "$T/nodigalg.1.ers" "$T/nodigalg.ers" delete 2,0,0,0
# "Compare AlgorithmIdentifiers by OID when verifying; absent parameters equal NULL parameters."
tool edit "$E2" "$T/noparams.1.ers" delete 2,0,0,0,1
tool edit "$T/noparams.1.ers" "$T/noparams.ers" delete 2,0,1,0,1
for v in nodigalg noparams; do
	run_case "tolerate.$v" ver "tolerate.$v" 0 "verdict('valid', 'valid', 'valid'); shape(('sha256', 2)); covers_ok()" \
		--data "$BC_BIN" --er "$T/$v.ers" "${BC_TRUST[@]}" --at $AT_BC
done
# "a verifier accepts and reports them": ATS attributes, cryptoInfos, encryptionInfo
ATTR=300d06032a0304310604047465737a # Attribute { 1.2.3.4, SET { OCTET STRING "tesz" } }
tool edit "$E2" "$T/attributes.ers" insert 2,0,1,1 a10f$ATTR
run_case tolerate.attributes ver tolerate.attributes 0 "verdict('valid', 'valid', 'valid'); shape(('sha256', 2))
ok(A(0, 1).get('attributes') not in (None, False), 'the ATS attributes are not reported')" \
	--data "$BC_BIN" --er "$T/attributes.ers" "${BC_TRUST[@]}" --at $AT_BC
tool edit "$E2" "$T/cryptoinfos.ers" insert 2 a00f$ATTR
tool edit "$E2" "$T/encryptioninfo.ers" insert 2 a10a06032a03040403010203
for v in cryptoinfos encryptioninfo; do
	run_case "tolerate.$v" ver "tolerate.$v" 0 "verdict('valid', 'valid', 'valid'); shape(('sha256', 2))
ok('$v' in json.dumps(r).lower().replace('_', '').replace(' ', ''), 'the report does not mention the record\'s $v')" \
		--data "$BC_BIN" --er "$T/$v.ers" "${BC_TRUST[@]}" --at $AT_BC
done

finish_cases

#!/usr/bin/env bash
# Interop with Bouncy Castle 1.72 (Debian libbcprov/libbcpkix/libbcutil-java), the ERS
# implementation most Java users have; its side is tests/interop/BcErsCheck.java.
#   a. kura -> BC: 5 objects sealed by kura (reduced trees of 3-4 levels); BC verifies every
#      exported record with kura's TSA root; a flipped data byte and a foreign root fail.
#   b. BC -> kura: BC builds records for 3 objects with `kura tsa serve` as its TSA over
#      loopback; kura verify-er says valid (invalid for wrong data). BC renews the
#      time-stamp of a BC record (2 ATS, then 3 ATS) and of a kura record: kura and BC agree.
#   c. The BSI vectors shipped with bc-java verify in both tools at a date when the TSA
#      certificate was valid; a flipped byte fails in both.
#   d. Other producers' hashes: BC makes records whose chains use SHA-1, SHA-224 and
#      RIPEMD-160 (with a TSA of its own); kura computes them (integrity valid, a flipped
#      byte invalid), the verdict follows the policy's dates, an algorithm kura cannot
#      compute is indeterminate; they import, and a SHA-1 chain is renewed before its end.
#   e. API -> kura and BC: a document-management system's path as the README shows it (HTTPS,
#      a client certificate): documents submitted to PreservePO?wait=sealed (raw and as JSON),
#      their IDs checked, their records fetched from /api/v1/po/ID/evidence; kura verify-er and
#      BC accept them; a record with a flipped byte, or another document's, fails in both.
# BC only checks the last chain against the data and the last token's signature
# (ERS-RULES.md "Interop facts"): it is a peer to agree with, not a judge.
source "$(dirname "$0")/lib.sh" || exit 1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/renewal/servers.sh" # kura serve, for case e
on_exit stop_all_servers
cd "$T"

SRC=$HERE/../interop/BcErsCheck.java
VEC=$(cd "$HERE/../../.." && pwd)/shared/vectors/bc-java # ../shared beside the repository
JARS=/usr/share/java
BCCP=$JARS/bcprov.jar:$JARS/bcpkix.jar:$JARS/bcutil.jar

command -v javac >/dev/null || fail "javac not found: the Bouncy Castle interop test needs a JDK (make deps installs it)"
command -v java >/dev/null || fail "java not found: the Bouncy Castle interop test needs a JDK (make deps installs it)"
for j in bcprov bcpkix bcutil; do
	[ -r "$JARS/$j.jar" ] || fail "$JARS/$j.jar missing: Bouncy Castle is needed (make deps installs libbcprov-java, libbcpkix-java, libbcutil-java)"
done
[ -r "$SRC" ] || fail "missing $SRC"

mkdir classes
timeout 120 javac -nowarn -Xlint:-path -d classes -cp "$BCCP" "$SRC" >javac.log 2>&1 ||
	fail "javac BcErsCheck.java failed: $(head -c 2000 javac.log)"

# BC ARGS...: the Java side, with a time limit (a hung JVM or TSA must not hang ctest).
bc()
{
	timeout 60 java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "classes:$BCCP" BcErsCheck "$@"
}

# expect_bc "RESULT..." ARGS...: one JVM runs ARGS, commands separated by "--" (JVM start-up
# is most of this test's time). Each verify prints "OK ..." or "FAIL: ...", each object that
# make or renew writes "WROTE ...": the first words of the output lines must be RESULT, and
# the exit status 0, or 1 when a FAIL: is expected. A timeout (124) is never a result.
expect_bc()
{
	local want=$1 rc=0 got
	shift
	case " $want " in *" FAIL: "*) rc=1 ;; esac
	expect_status "$rc" bc "$@"
	got=$(awk '{ printf "%s%s", (NR > 1 ? " " : ""), $1 }' "$OUT")
	[ "$got" = "$want" ] || fail "BcErsCheck results '$got', wanted '$want' from: $*
$(head -c 3000 "$OUT")
$(head -c 1000 "$ERR")"
}

# bc_line N TEXT: line N of the last expect_bc output contains TEXT (a rejection's reason).
bc_line()
{
	sed -n "${1}p" "$OUT" | grep -qF -- "$2" || fail "BcErsCheck result $1 should say '$2': $(sed -n "${1}p" "$OUT")"
}

# kura_says VERDICT NATS ARGS...: kura verify-er ARGS --json has that verdict (exit 0 only
# for valid); unless NATS is "", its last chain has that many archive time-stamps.
kura_says()
{
	local want=$1 nats=${2:-} rc=0
	shift 2
	[ "$want" = valid ] || rc=1
	expect_status "$rc" kura verify-er "$@" --json
	py '
o = json.load(open(sys.argv[1]))
want, nats = sys.argv[2], sys.argv[3]
if o.get("verdict") != want:
    sys.exit("verdict %r, wanted %r" % (o.get("verdict"), want))
if nats and len(o["chains"][-1]["ats"]) != int(nats):
    sys.exit("last chain has %d ATS, wanted %s" % (len(o["chains"][-1]["ats"]), nats))
' "$OUT" "$want" "$nats" || fail "kura verify-er $* --json: $(head -c 1500 "$OUT")"
}

# flip IN OUT: OUT = IN with one bit of its middle byte flipped.
flip()
{
	py 'b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1; open(sys.argv[2], "wb").write(b)' "$1" "$2"
}

expect_status 0 kura init S
expect_status 0 kura tsa ca S
cp "$OUT" ca.pem
grep -q 'BEGIN CERTIFICATE' ca.pem || fail "kura tsa ca printed no certificate: $(head -c 300 ca.pem)"
# a second store: another TSA root, trusted by nobody here
expect_status 0 kura init Other
expect_status 0 kura tsa ca Other
cp "$OUT" other-ca.pem

# ------------------------------------------------------------------ a. kura -> BC
case_kura_to_bc()
{
	local i id sha path levels=0 n args=() want=() id1='' path1=''
	mkdir -p a
	for i in 1 2 3 4 5; do
		random_file "a/obj$i.bin" $((i * 777 + 13))
	done
	expect_status 0 kura ingest S a/obj1.bin a/obj2.bin a/obj3.bin a/obj4.bin a/obj5.bin
	[ "$(wc -l <"$OUT")" -eq 5 ] || fail "ingest of 5 files printed: $(cat "$OUT")"
	cp "$OUT" a/ids
	while IFS=$'\t' read -r id sha path; do
		check_ingest_line "$id	$sha	$path"
		expect_status 0 kura evidence S "$id" -o "a/$id.ers"
		[ -s "a/$id.ers" ] || fail "kura evidence wrote no a/$id.ers"
		args+=(verify "$path" "a/$id.ers" ca.pem --)
		want+=(OK)
		[ -n "$id1" ] || { id1=$id; path1=$path; }
	done <a/ids
	# then, with the first object: a flipped data byte, and the root of another store
	flip "$path1" a/flipped.bin
	args+=(verify a/flipped.bin "a/$id1.ers" ca.pem -- verify "$path1" "a/$id1.ers" other-ca.pem)
	want+=(FAIL: FAIL:)
	expect_bc "${want[*]}" "${args[@]}"
	bc_line 6 "object hash not found"
	bc_line 7 "no path from"
	# how many lists the reduced trees have (BC prints rht=[..] of the ATS it checked)
	while read -r n; do
		n=$(tr ',' '\n' <<<"$n" | grep -c .) || true
		[ "$n" -le "$levels" ] || levels=$n
	done < <(sed -n 's/^OK .* rht=\[\([0-9,]*\)\].*/\1/p' "$OUT")
	[ "$levels" -ge 3 ] || fail "no kura record had a reduced tree of 3+ lists (max $levels): the test lost its point"

	# kura agrees on the two rejections
	kura_says invalid "" --data a/flipped.bin --er "a/$id1.ers" --trust ca.pem
	kura_says invalid "" --data "$path1" --er "a/$id1.ers" --trust other-ca.pem
}

run_case "a. kura -> BC" case_kura_to_bc

# ------------------------------------------------------------------ b. BC -> kura
# (served after case a: the server and the ingest there need not share the store)
: >serve.out # there before the loop reads it (the background job opens it when it starts)
"$KURA_BIN" tsa serve --store S --listen 127.0.0.1:0 >serve.out 2>serve.err &
SERVE_PID=$!
on_exit "kill $SERVE_PID 2>/dev/null; wait $SERVE_PID 2>/dev/null"
URL=
for _ in $(seq 1 100); do
	URL=$(sed -n 's|^listening on \(http://127\.0\.0\.1:[0-9]*/\)$|\1|p' serve.out)
	[ -n "$URL" ] && break
	kill -0 "$SERVE_PID" 2>/dev/null || fail "kura tsa serve exited: $(head -c 600 serve.err)"
	sleep 0.1
done
[ -n "$URL" ] || fail "kura tsa serve printed no 'listening on http://127.0.0.1:PORT/' in 10 s: $(head -c 300 serve.out) $(head -c 300 serve.err)"

case_bc_to_kura()
{
	local i id
	mkdir -p b
	for i in 1 2 3; do
		random_file "b/doc$i.dat" $((i * 1000 + 7))
	done
	expect_bc "WROTE WROTE WROTE" make b/doc1.dat b/doc2.dat b/doc3.dat -tsa "$URL" -out b/ers
	for i in 1 2 3; do
		[ -s "b/ers/doc$i.dat.ers" ] || fail "BC wrote no b/ers/doc$i.dat.ers: $(cat "$OUT")"
		expect_status 0 kura verify-er --data "b/doc$i.dat" --er "b/ers/doc$i.dat.ers" --trust <(kura tsa ca S) --json
		py 'sys.exit(0 if json.load(open(sys.argv[1])).get("verdict") == "valid" else "not valid")' "$OUT" ||
			fail "kura says BC's record for doc$i is not valid: $(head -c 1500 "$OUT")"
	done
	# wrong data (another object of the same tree, then a flipped byte): invalid
	kura_says invalid "" --data b/doc2.dat --er b/ers/doc1.dat.ers --trust ca.pem
	flip b/doc3.dat b/doc3.flipped
	kura_says invalid "" --data b/doc3.flipped --er b/ers/doc3.dat.ers --trust ca.pem

	# BC time-stamp renewal (ERSEvidenceRecord.renewTimeStamp) of a BC record (2 ATS, then
	# 3 ATS in the chain) and of a record kura made (2 ATS)
	id=$(kura ls S | head -n 1 | cut -f1)
	[ -n "$id" ] || fail "kura ls S lists nothing"
	expect_status 0 kura evidence S "$id" -o b/kura.ers
	expect_status 0 kura get S "$id" -o b/kura.dat
	expect_bc "WROTE WROTE" renew b/ers/doc1.dat.ers -tsa "$URL" -out b/doc1.r1.ers -- \
		renew b/kura.ers -tsa "$URL" -out b/kura.r1.ers
	kura_says valid 2 --data b/doc1.dat --er b/doc1.r1.ers --trust ca.pem
	kura_says invalid "" --data b/doc2.dat --er b/doc1.r1.ers --trust ca.pem
	kura_says valid 2 --data b/kura.dat --er b/kura.r1.ers --trust ca.pem
	expect_bc "WROTE OK OK OK FAIL:" renew b/doc1.r1.ers -tsa "$URL" -out b/doc1.r2.ers -- \
		verify b/doc1.dat b/doc1.r1.ers ca.pem -- \
		verify b/kura.dat b/kura.r1.ers ca.pem -- \
		verify b/doc1.dat b/doc1.r2.ers ca.pem -- \
		verify b/doc2.dat b/doc1.r1.ers ca.pem
	bc_line 5 "object hash not found"
	kura_says valid 3 --data b/doc1.dat --er b/doc1.r2.ers --trust ca.pem
}

# ------------------------------------------------------------------ c. bc-java vectors
case_vectors()
{
	local v dir trust=() c args=()
	[ -d "$VEC/Testdaten_ERS-Testool/rfc4998" ] || fail "vectors missing: $VEC"
	for c in "$VEC"/certs/*.der; do
		trust+=(--trust "$c")
	done
	# the exceet TSA 04 certificate: 2016-10-13..2021-10-12
	local at=2018-01-01T00:00:00Z ca=$VEC/certs/5f40def90fd8_exceet_trustcenter_CA2.der
	for v in 1Chain1ATS 1Chain2ATS 2Chains3ATS; do
		dir=$VEC/Testdaten_ERS-Testool/rfc4998/$v
		args+=(verify "$dir/BIN.bin" "$dir/BIN_ER.ers" "$ca" -at "$at" --)
		kura_says valid "" --data "$dir/BIN.bin" --er "$dir/BIN_ER.ers" "${trust[@]}" --at "$at"
	done
	# today the TSA certificate has expired: kura says invalid without --at
	kura_says invalid "" --data "$dir/BIN.bin" --er "$dir/BIN_ER.ers" "${trust[@]}"
	# a flipped byte of the data: both reject
	flip "$dir/BIN.bin" vec.flipped
	kura_says invalid "" --data vec.flipped --er "$dir/BIN_ER.ers" "${trust[@]}" --at "$at"
	args+=(verify vec.flipped "$dir/BIN_ER.ers" "$ca" -at "$at")
	expect_bc "OK OK OK FAIL:" "${args[@]}"
	bc_line 4 "object hash not found"
}

# ------------------------------------------------------------------ d. other hashes
# verdict_is JSON VERDICT INTEGRITY [REASON]: the verify-er --json report in JSON says so
verdict_is()
{
	py 'o = json.load(open(sys.argv[1]))
got = (o["verdict"], o["integrity"])
assert got == tuple(sys.argv[2:4]), "%s, wanted %s: %s" % (got, sys.argv[2:4], o.get("reason"))
assert len(sys.argv) < 5 or sys.argv[4] in o.get("reason", ""), "reason %r lacks %r" % (o.get("reason"), sys.argv[4])' \
		"$@" || fail "kura verify-er: $(head -c 1500 "$1")"
}

# vrf STATUS VERDICT INTEGRITY REASON ARGS...: kura verify-er ARGS --json exits STATUS and says so
vrf()
{
	local status=$1 verdict=$2 integrity=$3 reason=$4
	shift 4
	expect_status "$status" kura verify-er "$@" --json
	verdict_is "$OUT" "$verdict" "$integrity" "$reason"
}

case_other_hashes()
{
	local h i at=2012-06-01T00:00:00Z then=2012-07-01T00:00:00Z args=() want=()
	mkdir -p d
	for i in 1 2 3; do
		random_file "d/doc$i" $((i * 100 + 1))
	done
	for h in sha1 sha224 ripemd160; do
		args+=(mint d/doc1 d/doc2 d/doc3 -hash "$h" -at "$at" -out "d/$h" --)
		want+=(WROTE WROTE WROTE)
	done
	unset 'args[${#args[@]}-1]'
	expect_bc "${want[*]}" "${args[@]}"
	flip d/doc2 d/doc2.flipped
	for h in sha1 sha224 ripemd160; do
		# integrity is arithmetic, whatever the policy says of the algorithm
		vrf 0 valid valid "" --data d/doc2 --er "d/$h/doc2.ers" --trust "d/$h/tsa-root.pem" --at "$then"
		py 'assert json.load(open(sys.argv[1]))["chains"][0]["hash"] == sys.argv[2]' "$OUT" "$h" ||
			fail "the chain's hash is not reported as $h: $(head -c 600 "$OUT")"
		vrf 1 invalid invalid "" --data d/doc2.flipped --er "d/$h/doc2.ers" --trust "d/$h/tsa-root.pem" --at "$then"
	done
	# the verdict is the policy's: SHA-224 suffices until 2030 by NIST SP 800-131A, until 2022 by
	# BSI TR-02102-1; SHA-1 until 2013 by NIST
	vrf 0 valid valid "" --data d/doc1 --er d/sha224/doc1.ers --trust d/sha224/tsa-root.pem --policy nist-sp-800-131a \
		--at 2026-06-01T00:00:00Z
	vrf 1 invalid valid "its hash sha224 no longer sufficed" --data d/doc1 --er d/sha224/doc1.ers \
		--trust d/sha224/tsa-root.pem --policy bsi-tr-02102-1 --at 2026-06-01T00:00:00Z
	vrf 0 valid valid "" --data d/doc1 --er d/sha1/doc1.ers --trust d/sha1/tsa-root.pem --policy nist-sp-800-131a --at "$then"
	vrf 1 invalid valid "its hash sha1 no longer sufficed" --data d/doc1 --er d/sha1/doc1.ers --trust d/sha1/tsa-root.pem \
		--policy nist-sp-800-131a --at 2026-06-01T00:00:00Z
	# a hash kura cannot compute (an unassigned NIST hash OID in place of SHA-224's): indeterminate
	py 'b = open(sys.argv[1], "rb").read()
old = bytes.fromhex("0609608648016503040204")
assert old in b
open(sys.argv[2], "wb").write(b.replace(old, bytes.fromhex("060960864801650304027f")))' d/sha224/doc1.ers d/unknown.ers
	vrf 1 indeterminate indeterminate "kura cannot compute the hash algorithm" --data d/doc1 --er d/unknown.ers
	# (the patch broke the token's signature over its TSTInfo: with its root, that alone is invalid)
	vrf 1 invalid indeterminate "time-stamp token not valid" --data d/doc1 --er d/unknown.ers --trust d/sha224/tsa-root.pem --at "$then"
	# import: SHA-224 records into a store under NIST SP 800-131A today
	expect_status 0 at 2026-06-01T00:00:00Z init d/S224 --policy nist-sp-800-131a
	expect_status 0 kura trust add d/S224 --tsa d/sha224/tsa-root.pem
	mkdir d/p224
	cp d/doc1 d/doc2 d/sha224/doc1.ers d/sha224/doc2.ers d/p224/
	expect_status 0 at 2026-06-01T00:00:00Z import d/S224 d/p224
	[ "$(grep -c '^OK' "$OUT")" -eq 2 ] || fail "the SHA-224 records were not imported: $(cat "$OUT")"
	expect_status 0 at 2026-06-01T00:00:00Z verify d/S224
	# under a policy that never ends SHA-224, its TSA's certificate ending makes a hash-tree renewal:
	# kura asks no TSA for SHA-224 time-stamps
	test_policy d/no-end.yaml no-end
	printf '  sha224:   {until: null, source: "test: no end"}\n' >>d/no-end.yaml
	expect_status 0 kura policy set d/S224 d/no-end.yaml
	expect_status 0 at 2049-12-15T00:00:00Z renew d/S224 --plan
	expect_grep "$OUT" "by hash tree, as kura makes no evidence with sha224"
	expect_status 0 at 2049-12-15T00:00:00Z renew d/S224
	expect_status 0 at 2049-12-20T00:00:00Z verify d/S224
	# SHA-1 records imported in 2013; the planner renews them by hash tree before SHA-1 ends
	expect_status 0 at 2013-01-01T00:00:00Z init d/S1 --policy nist-sp-800-131a
	expect_status 0 kura trust add d/S1 --tsa d/sha1/tsa-root.pem
	mkdir d/p1
	cp d/doc3 d/sha1/doc3.ers d/p1/
	expect_status 0 at 2013-01-01T00:00:00Z import d/S1 d/p1
	expect_grep "$OUT" "OK	"
	expect_status 0 at 2013-02-01T00:00:00Z renew d/S1 --plan
	expect_grep "$OUT" "hash-tree renewal"
	expect_grep "$OUT" "its hash algorithm sha1 suffices only until 2013-12-31"
	expect_status 0 at 2013-02-01T00:00:00Z renew d/S1
	expect_status 0 at 2015-01-01T00:00:00Z verify d/S1
	expect_status 1 at 2015-01-01T00:00:00Z verify-er --data d/doc3 --er d/sha1/doc3.ers --trust d/sha1/tsa-root.pem \
		--policy nist-sp-800-131a --json
	verdict_is "$OUT" invalid valid "its hash sha1 no longer sufficed"
}

# ------------------------------------------------------------------ e. API -> kura and BC
case_api_to_bc()
{
	local api id1 id2 tls=(--cacert e/server.pem --cert e/dms.pem --key e/dms.key)
	mkdir e
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout e/server.key -out e/server.pem 2>/dev/null || fail "openssl req (server)"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=Client CA" \
		-keyout e/client-ca.key -out e/client-ca.pem 2>/dev/null || fail "openssl req (client CA)"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=dms -keyout e/dms.key -out e/dms.csr \
		2>/dev/null || fail "openssl req (client)"
	openssl x509 -req -in e/dms.csr -CA e/client-ca.pem -CAkey e/client-ca.key -days 10 -out e/dms.pem 2>/dev/null ||
		fail "openssl x509 -req (client)"
	expect_status 0 kura init e/S
	expect_status 0 kura user add e/S dms --role archivist
	expect_status 0 kura user cert e/S dms e/dms.pem
	SERVE_WHAT=serve start_serve e/srv "" 127.0.0.1:0 e/S --tls-cert e/server.pem --tls-key e/server.key \
		--client-ca e/client-ca.pem
	api=${SERVER_URL}api/v1
	random_file e/invoice.pdf 4096
	curl -sSf "${tls[@]}" --data-binary @e/invoice.pdf \
		"$api/PreservePO?name=invoice.pdf&meta=dept=accounts&wait=sealed" >e/one.json || fail "PreservePO (raw)"
	random_file e/order.xml 1500
	printf '{"po": [{"binaryValue": "%s", "name": "order.xml", "meta": {"dept": "sales"}}]}' "$(base64 -w0 e/order.xml)" \
		>e/batch.json
	curl -sSf "${tls[@]}" -H 'Content-Type: application/json' --data-binary @e/batch.json \
		"$api/PreservePO?wait=sealed" >e/two.json || fail "PreservePO (JSON)"
	id1=$(py 'd = json.load(open(sys.argv[1])); assert d["sealed"] is True, d; print(d["poId"][0])' e/one.json)
	id2=$(py 'd = json.load(open(sys.argv[1])); assert d["sealed"] is True, d; print(d["poId"][0])' e/two.json)
	curl -sSf "${tls[@]}" "$api/po/$id1/info" >e/info.json || fail "po/ID/info"
	py 'd = json.load(open(sys.argv[1])); assert d["sha256"] == sys.argv[2] and d["name"] == "invoice.pdf", d' \
		e/info.json "$(sha256sum e/invoice.pdf | cut -d' ' -f1)"
	curl -sSf "${tls[@]}" -o e/invoice.ers "$api/po/$id1/evidence" || fail "po/ID/evidence"
	curl -sSf "${tls[@]}" -o e/order.ers "$api/po/$id2/evidence" || fail "po/ID/evidence (JSON-submitted)"
	stop_server "$SERVER_PID"

	# wrong records: a bit flipped in the document's hash in the hash tree, one in the signed
	# time of the time-stamp (the first GeneralizedTime), and the other document's record. (A
	# flip in the copy of the TSA root inside the token changes nothing in either tool: the
	# trust comes from the anchor given.)
	py '
import re, hashlib
b = open(sys.argv[1], "rb").read()
i = b.find(hashlib.sha256(open(sys.argv[2], "rb").read()).digest())
t = re.search(rb"\x18[\x0f-\x17]20[0-9][0-9]", b)
assert i > 0 and t, "no document hash or genTime in the record"
for at, out in ((i, sys.argv[3]), (t.start() + 6, sys.argv[4])):
    c = bytearray(b); c[at] ^= 1; open(out, "wb").write(c)
' e/invoice.ers e/invoice.pdf e/hash-flipped.ers e/time-flipped.ers
	expect_bc "OK OK FAIL: FAIL: FAIL:" verify e/invoice.pdf e/invoice.ers e/S/tsa/anchors.pem -- \
		verify e/order.xml e/order.ers e/S/tsa/anchors.pem -- \
		verify e/invoice.pdf e/hash-flipped.ers e/S/tsa/anchors.pem -- \
		verify e/invoice.pdf e/time-flipped.ers e/S/tsa/anchors.pem -- \
		verify e/invoice.pdf e/order.ers e/S/tsa/anchors.pem
	bc_line 3 "object hash not found"
	bc_line 5 "object hash not found"
	kura_says valid "" --data e/invoice.pdf --er e/invoice.ers --trust e/S/tsa/anchors.pem
	kura_says valid "" --data e/order.xml --er e/order.ers --trust e/S/tsa/anchors.pem
	kura_says invalid "" --data e/invoice.pdf --er e/hash-flipped.ers --trust e/S/tsa/anchors.pem
	kura_says invalid "" --data e/invoice.pdf --er e/time-flipped.ers --trust e/S/tsa/anchors.pem
	kura_says invalid "" --data e/invoice.pdf --er e/order.ers --trust e/S/tsa/anchors.pem
}

run_case "b. BC -> kura" case_bc_to_kura
run_case "c. bc-java vectors" case_vectors
run_case "d. other producers' hashes" case_other_hashes
run_case "e. API -> kura and BC" case_api_to_bc
finish_cases

#!/usr/bin/env bash
# Hostile input (issue 12): crafted object.json files in export packages, packages
# with a document removed or a file added (import and verify-export must account
# for them alike), mistyped and hostile policy files, numeric options out of
# range. Every case ends in a clear refusal with the right exit status, never a
# crash (the sanitized run catches memory errors), a hang or a silent skip.
source "$(dirname "$0")/lib.sh"

export KURA_NOW=2026-06-01T00:00:00Z
package_fixture one two three
one=$ID_one
two=$ID_two

# fresh_copy NAME: an unpacked copy of the package at $T/NAME
fresh_copy() {
	rm -rf "${T:?}/$1"
	cp -r "$T/x/pkg" "$T/$1"
}

# A store that trusts A's TSA, for imports.
B=$T/b
expect_status 0 kura init "$B"
expect_status 0 kura trust add "$B" --tsa "$T/a-root.pem"

# craft NAME PYTHON: a copy whose object.json of $one is changed by PYTHON (on o), remanifested
craft() {
	fresh_copy "$1"
	py 'p = sys.argv[1]
o = json.load(open(p))
'"$2"'
open(p, "w").write(o if isinstance(o, str) else json.dumps(o))' "$T/$1/data/$one/object.json"
	remanifest "$T/$1"
}

case_object_json() {
	local before
	before=$(seg_digest "$B")
	# each: a python edit of object.json, and what the refusal must say
	local -a edits=(
		'o["members"] = [o["members"][0], {"role": "signature", "file": None}, {"role": "validation-data", "file": "x"}]'
		'o["members"] = [o["members"][0], {"role": "validation-data", "file": "one.txt.ers"}]; o["signature"] = "forged"'
		'o["members"] = [o["members"][0], {"role": "signature", "file": "a"}, {"role": "signature", "file": "b"}]'
		'o["members"] = "one.txt"'
		'o["members"] = [o["members"][0], ["validation-data", "x"]]'
		'o["members"] = [{"role": "document", "file": "../two.txt"}]'
		'o["meta"] = {"k": {"nested": [1, 2]}}'
		'o["meta"] = 12'
		'o["size"] = 10**40'
		'o["id"] = {"a": {"b": {}}}'
		'o = json.dumps(o)[:-1] + ", \"meta\": {\"forged\": \"yes\"}}"'
		'o = [o]'
	)
	local -a whats=(
		'a member is not an object with a "role" and a "file"'
		'"signature" is not an object'
		'unknown or repeated role'
		'"members" is not a list'
		'a member is not an object'
		'the first member is not the document itself'
		"metadata 'k' is not a string"
		'"meta" is not an object'
		'cannot be read as JSON: too big integer'
		'"id" or "name" is not a string'
		'duplicate object key'
		'is not a JSON object'
	)
	local i
	for i in "${!edits[@]}"; do
		craft "c$i" "${edits[$i]}"
		expect_status 1 kura verify-export "$T/c$i"
		expect_grep "$OUT" "${whats[$i]}"
		expect_status 1 kura import "$B" "$T/c$i"
		grep -q "^REFUSED	\\($PD/one.txt\\|data/$one\\)	.*${whats[$i]}" "$OUT" ||
			fail "edit $i (${edits[$i]}): the object must be refused saying '${whats[$i]}': $(cat "$OUT")"
		grep -q "^OK	.*	$PD/two.txt$" "$OUT" || fail "edit $i: the untouched object must be imported"
		rm -rf "${T:?}/c$i"
	done
	# the imports above added the untouched objects; none of the crafted ones
	expect_status 0 kura ls "$B" --json
	py 'names = sorted(o["name"] for o in json.load(open(sys.argv[1])))
assert "one.txt" not in names, names' "$OUT"
	[ "$(seg_digest "$B")" != "$before" ] || fail "nothing was imported at all"
}

case_accounting() {
	expect_status 0 kura init "$T/m"
	expect_status 0 kura trust add "$T/m" --tsa "$T/a-root.pem"
	# a listed document removed: both commands name it; import does not say "refused 0"
	fresh_copy gone
	rm "$T/gone/$PD/one.txt"
	expect_status 1 kura verify-export "$T/gone"
	expect_grep "$OUT" "$PD/one.txt	is listed in the manifest but missing"
	expect_status 1 kura import "$T/m" "$T/gone"
	expect_grep "$OUT" "REFUSED	data/$one	$PD/one.txt is listed in the manifest but missing"
	expect_grep "$ERR" "imported 2 object(s), refused 1"
	# the whole object removed, manifests rewritten: still an object folder left without its pair
	fresh_copy gone2
	rm "$T/gone2/$PD/one.txt" "$T/gone2/data/$one/one.txt.erp"
	remanifest "$T/gone2"
	expect_status 1 kura verify-export "$T/gone2"
	expect_grep "$OUT" "data/$one	holds no document with its evidence record"
	expect_status 1 kura import "$T/m" "$T/gone2"
	expect_grep "$OUT" "REFUSED	data/$one	holds no document with its evidence record"
	# an extra file outside data/: the whole package is refused, and verify-export names it
	fresh_copy extra
	printf 'planted\n' >"$T/extra/README.txt"
	expect_status 1 kura verify-export "$T/extra"
	expect_grep "$OUT" "README.txt	is in no manifest"
	expect_error 1 kura import "$T/m" "$T/extra"
	expect_grep "$ERR" "README.txt is in no manifest"
	# an extra folder under data/ without a pair: named by both
	fresh_copy extra2
	mkdir "$T/extra2/data/planted"
	printf 'x\n' >"$T/extra2/data/planted/x.txt"
	expect_status 1 kura verify-export "$T/extra2"
	expect_grep "$OUT" "data/planted/x.txt	is not listed in the manifest"
	expect_status 1 kura import "$T/m" "$T/extra2"
	expect_grep "$OUT" "REFUSED	data/planted	data/planted/x.txt is not listed in the manifest"
}

# bad_policy FILE UNTIL: a policy whose sha256 entry (line 5) has "until: UNTIL"
bad_policy() {
	printf 'kura-policy: 1\nname: typo\nmargins: {certificate-days: 30, algorithm-days: 30}\nalgorithms:\n' >"$1"
	printf '  sha256: {until: %s, source: "test"}\n  ec-p256: {until: null, source: "test"}\n' "$2" >>"$1"
}

case_policies() {
	local S=$T/p v
	expect_status 0 kura init "$S"
	cp "$S/policy.yaml" "$T/good-policy.yaml"
	# a mistyped date is an error naming the file and line, never "no end"
	for v in '[2028-01-01]' '{year: 2028}' '2028-13-01' '2028-02-30' '' '"soon"'; do
		bad_policy "$T/typo.yaml" "$v"
		expect_error 2 kura policy set "$S" "$T/typo.yaml"
		expect_grep "$ERR" "typo.yaml line 5: until must be a date (YYYY-MM-DD) or null"
		expect_error 2 kura init "$T/p2" --policy "$T/typo.yaml"
		[ ! -e "$T/p2/FORMAT" ] || fail "init made a store with a bad policy"
		rm -rf "$T/p2"
		cp "$T/typo.yaml" "$S/policy.yaml" # as if edited in place: every command that plans refuses it
		expect_error 2 kura renew "$S" --plan
		expect_grep "$ERR" "policy.yaml line 5: until must be a date"
		cp "$T/good-policy.yaml" "$S/policy.yaml"
	done
	bad_policy "$T/ok.yaml" 2028-01-01
	expect_status 0 kura policy set "$S" "$T/ok.yaml"
	expect_status 0 kura policy show "$S" --json
	py 'assert json.load(open(sys.argv[1]))["algorithms"]["sha256"]["until"] == "2028-01-01"' "$OUT"
	# a key given twice: which one was meant cannot be told
	printf 'kura-policy: 1\nname: twice\nalgorithms:\n  sha256: {until: null, source: "a"}\n  sha256: {until: 2020-01-01, source: "b"}\n' >"$T/twice.yaml"
	expect_error 2 kura policy set "$S" "$T/twice.yaml"
	expect_grep "$ERR" "twice.yaml line 5: 'sha256' is given twice"
	# bytes that made libfyaml 0.7.12 loop for ever: an error at once (timeout: a hang fails)
	printf '%%\xa1' >"$T/spin.yaml"
	printf 'kura-policy: 1\n%%\xa1\n' >"$T/spin2.yaml"
	for v in spin spin2; do
		expect_error 2 timeout 20 "$KURA_BIN" policy set "$S" "$T/$v.yaml"
		expect_grep "$ERR" "$v.yaml line"
		cp "$T/$v.yaml" "$S/policy.yaml"
		expect_error 2 timeout 20 "$KURA_BIN" renew "$S" --plan
		cp "$T/good-policy.yaml" "$S/policy.yaml"
	done
	# damaged sunsets are said, not dropped
	printf '["sha256"]' >"$S/sunsets.json"
	expect_error 3 kura renew "$S" --plan
	expect_grep "$ERR" "sunsets.json is not a JSON object"
	rm "$S/sunsets.json"
}

case_numbers() {
	local v
	# every numeric option: negative, overflowing, signed, spaced or trailing text is bad input
	for v in -1 0 ' 5' +5 5x 1e3 99999999999999999999999 ''; do
		expect_error 2 kura import "$B" "$T/pkg.tar" --max-size "$v"
		expect_grep "$ERR" "--max-size takes a number of bytes"
		expect_error 2 kura init "$T/n" --segment-size "$v"
		expect_error 2 kura init "$T/n" --tsa-days "$v"
		expect_error 2 kura init "$T/n" --tsa-root-days "$v"
		[ ! -e "$T/n" ] || fail "init made a store with --segment-size/--tsa-days '$v'"
	done
	for v in -1 65536 80x ' 80' +80 99999999999999999999999; do
		expect_error 2 kura tsa serve --dir "$T/nodir" --listen "127.0.0.1:$v"
		expect_grep "$ERR" "--listen takes HOST:PORT"
	done
}

# tst_sigalg NAME ER ALGID-HEX: ER with the first token's SignerInfo signatureAlgorithm replaced
tst_sigalg() {
	"$PYTHON" "$(dirname "$0")/ers_tool.py" sigalg "$2" "$T/$1.ers" "$3"
}

case_token_algorithm() {
	local rsa=300d06092a864886f70d01010b0500 ecdsa256=300a06082a8648ce3d040302 ecdsa384=300a06082a8648ce3d040303
	local vec c trust=()
	expect_status 0 kura evidence "$A" "$one" -o "$T/one.ers"
	expect_status 0 kura verify-er --data "$T/docs/one.txt" --er "$T/one.ers" --trust "$T/a-root.pem"
	# an RSA algorithm over the embedded TSA's EC key; ECDSA with another hash than the digest's
	tst_sigalg rsa-on-ec "$T/one.ers" "$rsa"
	expect_status 1 kura verify-er --data "$T/docs/one.txt" --er "$T/rsa-on-ec.ers" --trust "$T/a-root.pem"
	expect_grep "$OUT" "its signature algorithm (sha256WithRSAEncryption) does not match its signer's key (ec-p256)"
	tst_sigalg other-hash "$T/one.ers" "$ecdsa384"
	expect_status 1 kura verify-er --data "$T/docs/one.txt" --er "$T/other-hash.ers" --trust "$T/a-root.pem"
	expect_grep "$OUT" "its signature algorithm (ecdsa-with-SHA384) names another digest than its digestAlgorithm"
	# ecdsa-with-SHA256 on the RSA key of a real TSA (the BSI vectors shipped with bc-java)
	vec=$(cd "$(dirname "$0")/../../.." && pwd)/shared/vectors/bc-java
	for c in "$vec"/certs/*.der; do
		trust+=(--trust "$c")
	done
	tst_sigalg ec-on-rsa "$vec/Testdaten_ERS-Testool/rfc4998/1Chain1ATS/BIN_ER.ers" "$ecdsa256"
	expect_status 0 kura verify-er --data "$vec/Testdaten_ERS-Testool/rfc4998/1Chain1ATS/BIN.bin" \
		--er "$vec/Testdaten_ERS-Testool/rfc4998/1Chain1ATS/BIN_ER.ers" "${trust[@]}" --at 2018-01-01T00:00:00Z
	expect_status 1 kura verify-er --data "$vec/Testdaten_ERS-Testool/rfc4998/1Chain1ATS/BIN.bin" \
		--er "$T/ec-on-rsa.ers" "${trust[@]}" --at 2018-01-01T00:00:00Z
	expect_grep "$OUT" "its signature algorithm (ecdsa-with-SHA256) does not match its signer's key (rsa-2048)"
}

# export onto a full disk (a 1 MiB tmpfs, as test_full_disk.sh; skipped where it cannot be mounted)
mkdir "$T/mnt"
if mount -t tmpfs -o size=1m tmpfs "$T/mnt" 2>/dev/null; then
	on_exit "umount '$T/mnt' 2>/dev/null || umount -l '$T/mnt'"
else
	rmdir "$T/mnt"
fi
case_export_full_disk() {
	local S=$T/fd big
	if [ ! -d "$T/mnt" ]; then
		echo "SKIP export_full_disk: cannot mount tmpfs"
		return 0
	fi
	expect_status 0 kura init "$S"
	random_file "$T/big.bin" 1500000
	expect_status 0 kura ingest "$S" "$T/big.bin"
	big=$(cut -f1 "$OUT")
	for v in pkg.tar pkg.tar.zst; do
		expect_error 3 kura export "$S" -o "$T/mnt/$v"
		expect_grep "$ERR" "mnt/$v: no space left on its file system while writing data/files/${T#/}/big.bin"
		expect_grep "$ERR" "the package needs more than 1500000 bytes"
		[ -z "$(ls -A "$T/mnt")" ] || fail "a failed export left files behind: $(ls -A "$T/mnt")"
	done
}

run_case object_json case_object_json
run_case accounting case_accounting
run_case policies case_policies
run_case numbers case_numbers
run_case token_algorithm case_token_algorithm
run_case export_full_disk case_export_full_disk
finish_cases

#!/usr/bin/env bash
# Help: every command `kura help` lists answers --help and -h with its own usage on
# stdout (exit 0), and `kura help CMD` prints the same; an unknown command points to
# kura help. And `kura ingest STORE - --name NAME` stores standard input under NAME.
source "$(dirname "$0")/lib.sh"

expect_status 0 kura help
cp "$OUT" "$T/help"
commands=$(awk '/^  [a-z-]+ / {print $1}' "$T/help")
[ "$(echo "$commands" | wc -l)" -ge 25 ] || fail "kura help lists too few commands: $(cat "$T/help")"
for cmd in $commands; do
	for flag in --help -h; do
		expect_status 0 kura "$cmd" "$flag"
		grep -q "^usage: kura $cmd " "$OUT" || fail "kura $cmd $flag: no usage line naming $cmd: $(head -c 300 "$OUT")"
		[ ! -s "$ERR" ] || fail "kura $cmd $flag wrote to stderr: $(cat "$ERR")"
		cp "$OUT" "$T/flag.out"
	done
	expect_status 0 kura help "$cmd"
	cmp -s "$OUT" "$T/flag.out" || fail "kura help $cmd differs from kura $cmd --help"
	# --help after other arguments, too, and nothing is done
	expect_status 0 kura "$cmd" "$T/no-store" --help
	[ ! -e "$T/no-store" ] || fail "kura $cmd --help made $T/no-store"
done
expect_error 2 kura frobnicate
expect_grep "$ERR" "kura help"
expect_error 2 kura help frobnicate
expect_grep "$ERR" "kura help"

# standard input with its name
S=$T/s
expect_status 0 kura init "$S"
printf '日付,金額\n2026-04-01,1000\n' | kura ingest "$S" - --name 台帳.csv >"$OUT" 2>"$ERR" || fail "ingest - --name: $(cat "$ERR")"
id=$(cut -f1 "$OUT")
expect_status 0 kura show "$S" "$id" --json
py 'import json, sys
o = json.load(open(sys.argv[1]))
assert o["name"] == "台帳.csv" and o["size"] == len("日付,金額\n2026-04-01,1000\n".encode()), o' "$OUT"
expect_status 0 kura get "$S" "$id" -o "$T/back.csv"
printf '日付,金額\n2026-04-01,1000\n' | cmp - "$T/back.csv" || fail "the bytes read back differ"
# without --name: as before
printf 'x' | kura ingest "$S" - >"$OUT" 2>"$ERR" || fail "ingest -: $(cat "$ERR")"
expect_status 0 kura show "$S" "$(cut -f1 "$OUT")" --json
py 'import json, sys
assert json.load(open(sys.argv[1]))["name"] == "stdin"' "$OUT"
# --name without standard input, or not a file name: refused, nothing stored
before=$(seg_digest "$S")
printf 'doc\n' >"$T/doc.txt"
expect_error 2 kura ingest "$S" "$T/doc.txt" --name other.txt
expect_grep "$ERR" "standard input"
printf 'x' | expect_error 2 kura ingest "$S" - --name a/b.txt
expect_grep "$ERR" "--name"
[ "$(seg_digest "$S")" = "$before" ] || fail "a refused ingest wrote to the store"

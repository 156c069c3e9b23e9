#!/usr/bin/env bash
# Bad input through the CLI: each case must exit with the status of DESIGN.md (2 bad
# usage/input, 1 not found), print its message on stderr starting with "kura:",
# print nothing on stdout, and leave the store exactly as it was.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

expect_status 0 kura init S
printf 'already here\n' >a.txt
expect_status 0 kura ingest S --meta k=v a.txt
aid=$(cut -f1 "$OUT")
printf 'good one\n' >good.txt

kura ls S --json >snap.json
snap_seg=$(seg_digest S)

# The store holds exactly what it held at the snapshot: same listing, same segment bytes.
unchanged()
{
	kura ls S --json >now.json || fail "$1: ls failed afterwards"
	cmp -s snap.json now.json || fail "$1: the listing changed: $(head -c 400 now.json)"
	[ "$(seg_digest S)" = "$snap_seg" ] || fail "$1: the segment files changed"
}

# ------------------------------------------------------------------ missing paths
expect_error 2 kura ingest S nope.txt
expect_grep "$ERR" nope.txt
unchanged "missing path"
expect_error 2 kura ingest S good.txt nope.txt
unchanged "good + missing path"
expect_error 2 kura ingest S nope.txt good.txt
unchanged "missing + good path"
mkdir folder
printf 'in a folder\n' >folder/f.txt
expect_error 2 kura ingest S folder good.txt missing/deeper.txt
unchanged "folder + file + missing path"

# ------------------------------------------------------------------ --meta
for bad in novalue =value 'a b=c' '' 'key/slash=v' "$(printf 'k%.0s' $(seq 1 129))=v" $'k=\xff\xfe'; do
	expect_error 2 kura ingest S --meta "$bad" good.txt
	unchanged "--meta '${bad:0:40}'"
done
expect_error 2 kura ingest S --meta "big=$(head -c 65537 /dev/zero | tr '\0' x)" good.txt
unchanged "--meta with a 64 KiB + 1 value"
expect_error 2 kura ingest S --meta a=1 --meta a=2 good.txt folder
unchanged "--meta key given twice"
expect_error 2 kura ingest S good.txt --meta
unchanged "--meta without its argument"

# ------------------------------------------------------------------ other bad ingest input
expect_error 2 kura ingest S - - </dev/null
unchanged "stdin twice"
expect_error 2 kura ingest S /dev/null
unchanged "a device"
expect_error 2 kura ingest S
unchanged "no PATH"
# ------------------------------------------------------------------ unknown options and commands
expect_error 2 kura init S9 --bogus
[ ! -e S9 ] || fail "init --bogus created S9"
expect_error 2 kura ingest S --bogus good.txt
unchanged "ingest --bogus"
expect_error 2 kura ls S --bogus
expect_error 2 kura get S "$aid" --bogus
expect_error 2 kura get S "$aid" -x
expect_error 2 kura get S "$aid" -o
expect_error 2 kura show S "$aid" --bogus
expect_error 2 kura scrub S --bogus
expect_error 2 kura reindex S --bogus
expect_error 2 kura nosuchcommand S
expect_status 2 kura # no command: the help, on stderr
[ ! -s "$OUT" ] && [ -s "$ERR" ] || fail "kura without a command must print its help on stderr only"
expect_error 2 kura ls
expect_error 2 kura get S
expect_error 2 kura show S
expect_error 2 kura scrub
expect_error 2 kura reindex
unchanged "unknown options"

# ------------------------------------------------------------------ not a store
mkdir empty
echo data >plain.txt
wellformed=01ARZ3NDEKTSV4RRFFQ69G5FAV
for notstore in empty nowhere; do
	expect_error 2 kura ingest "$notstore" good.txt
	expect_error 2 kura ls "$notstore"
	expect_error 2 kura ls "$notstore" --json
	expect_error 2 kura get "$notstore" "$wellformed"
	expect_error 2 kura get "$notstore" "$wellformed" -o out.bin
	[ ! -e out.bin ] && [ ! -e out.bin.kura-partial ] || fail "get -o on a non-store ($notstore) created a file"
	expect_error 2 kura show "$notstore" "$wellformed"
	expect_error 2 kura scrub "$notstore"
	expect_error 2 kura reindex "$notstore"
done
[ -z "$(ls -A empty)" ] || fail "commands on an empty non-store folder created: $(ls -A empty)"
[ ! -e nowhere ] || fail "commands on a missing store created it"

# ------------------------------------------------------------------ IDs
absent=$wellformed # well-formed, from 2016: not in this store
expect_error 1 kura get S "$absent"
expect_error 1 kura show S "$absent"
expect_error 1 kura show S "$absent" --json
expect_error 1 kura get S "$absent" -o out.bin
[ ! -e out.bin ] && [ ! -e out.bin.kura-partial ] || fail "get -o of an unknown ID created a file"
for bad in abc "${aid}X" "${aid:0:25}" "8${aid:1}" "${aid:0:25}U" "${aid:0:12}-${aid:13}" "../${aid:3}" "" "$aid "; do
	expect_error 2 kura get S "$bad"
	expect_error 2 kura show S "$bad"
	expect_error 2 kura get S "$bad" -o out.bin
	[ ! -e out.bin ] && [ ! -e out.bin.kura-partial ] || fail "get -o of malformed ID '$bad' created a file"
done
# -o into a folder that does not exist: a usage problem, no stray file
expect_error 2 kura get S "$aid" -o no/such/dir/out.bin

# ------------------------------------------------------------------ KURA_NOW
for bad in garbage 2031-13-01T00:00:00Z 2031-02-30T00:00:00Z 2031-05-01T00:00:00 2031-05-01T25:00:00Z \
	"2031-05-01T00:00:00Z junk" 2031-5-1T00:00:00Z; do
	KURA_NOW=$bad expect_error 2 kura ingest S good.txt folder
	expect_grep "$ERR" KURA_NOW
	unchanged "KURA_NOW='$bad'"
done
KURA_NOW=garbage expect_error 2 kura init S8
expect_error 2 kura ls S8 # whatever init left behind is not a store

# ------------------------------------------------------------------ after all that
expect_status 0 kura scrub S
unchanged "the whole run"
cmp <(kura get S "$aid") a.txt || fail "the original object changed"

# ------------------------------------------------------------------ cases run on their own
# (a failure in one does not hide the others)

# A plain file given as STORE is "not a store" like a folder without FORMAT: exit 2.
plain_file_store()
{
	local args wrong=()
	for args in "ingest plain.txt good.txt" "ls plain.txt" "get plain.txt $wellformed" \
		"show plain.txt $wellformed" "scrub plain.txt" "reindex plain.txt"; do
		# shellcheck disable=SC2086
		(expect_error 2 kura $args) || wrong+=("kura $args")
	done
	[ "${#wrong[@]}" -eq 0 ] || fail "a plain file as STORE must give exit 2 in: $(printf '%s; ' "${wrong[@]}")"
}
run_case "plain file as STORE" plain_file_store

# A file name that cannot be described (not UTF-8): either accepted whole (exit 0, both
# files ingested) or refused as bad input, and then nothing is ingested and nothing printed.
non_utf8_name()
{
	mkdir badname
	printf 'fine\n' >badname/good.txt
	printf 'odd name\n' >badname/$'\xff\xfe.txt'
	expect_status 0 kura init SB
	local st=0
	kura ingest SB badname >"$OUT" 2>"$ERR" || st=$?
	if [ "$st" -eq 0 ]; then
		[ "$(wc -l <"$OUT")" -eq 2 ] || fail "non-UTF-8 name: exit 0 but $(wc -l <"$OUT") lines printed"
		return 0
	fi
	[ "$st" -eq 2 ] || fail "non-UTF-8 name: exit status $st, expected 2 (or 0 if accepted)"
	head -n 1 "$ERR" | grep -q '^kura: ' || fail "non-UTF-8 name: message does not start with kura:"
	[ ! -s "$OUT" ] || fail "ingest of a folder holding a non-UTF-8 name exited 2 but printed (and stored): $(cat "$OUT")"
	expect_status 0 kura ls SB
	[ ! -s "$OUT" ] || fail "non-UTF-8 name: exit 2 but the store now holds: $(cat "$OUT")"
}
run_case "folder with a non-UTF-8 file name" non_utf8_name

# init refuses settings it could not open again: exit 2 and no store.
init_refusals()
{
	local args wrong=()
	for args in "--segment-size 100" "--segment-size -5" "--segment-size 99999999999999999999" \
		"--segment-size 9223372036854775808" "--hash sha1" "--hash"; do
		rm -rf S7
		# shellcheck disable=SC2086
		if ! (expect_error 2 kura init S7 $args) || [ -e S7/FORMAT ]; then
			wrong+=("kura init S7 $args")
		fi
	done
	[ "${#wrong[@]}" -eq 0 ] || fail "init must refuse (exit 2, no store): $(printf '%s; ' "${wrong[@]}")"
}
run_case "init refusals" init_refusals

# get -o naming an existing folder: bad usage (exit 2), and no temporary file left behind.
get_into_folder()
{
	mkdir outdir
	expect_error 2 kura get S "$aid" -o outdir
	[ ! -e outdir.kura-partial ] || fail "get -o FOLDER left outdir.kura-partial behind"
	[ -z "$(ls -A outdir)" ] || fail "get -o FOLDER wrote into the folder"
}
run_case "get -o an existing folder" get_into_folder

# get -o and evidence -o naming a FIFO (or a device such as /dev/null): written as it is, never
# replaced by a regular file through a rename (as root, get -o /dev/null replaced the device).
outputs_into_fifo()
{
	expect_status 0 kura seal S
	mkfifo doc.fifo er.fifo
	timeout 20 cat doc.fifo >doc.got &
	local reader=$!
	expect_status 0 kura get S "$aid" -o doc.fifo
	wait "$reader" || fail "nothing read from the FIFO given to get -o"
	[ -p doc.fifo ] || fail "get -o FIFO replaced the FIFO"
	cmp -s a.txt doc.got || fail "get -o FIFO: the bytes differ"
	timeout 20 cat er.fifo >er.got &
	reader=$!
	expect_status 0 kura evidence S "$aid" -o er.fifo
	wait "$reader" || fail "nothing read from the FIFO given to evidence -o"
	[ -p er.fifo ] || fail "evidence -o FIFO replaced the FIFO"
	kura evidence S "$aid" -o er.file || fail "evidence -o FILE failed"
	cmp -s er.file er.got || fail "evidence -o FIFO: the bytes differ"
	[ -z "$(ls -A | grep -E 'fifo\.|kura-partial|\.tmp')" ] || fail "a temporary file was left: $(ls -A)"
}
run_case "get -o and evidence -o into a FIFO" outputs_into_fifo

# Usage errors name what the user typed escaped, as every other message: no
# terminal escape gets through and no forged line ("kura: FAKE OK") appears.
usage_escaped()
{
	local args wrong=() esc=$'\e' # ESC
	local -a cases=(
		"ingest S --meta $'x\e]0;pwned\a\nkura: FAKE OK' good.txt"
		"ingest S --event $'x\e[2J\nkura: FAKE' good.txt"
		"log S --since $'\e[31mX\nFAKE'" "log S --until $'\e[31mX\nFAKE'"
		"verify S --at $'\e[2J'" "ls S $'--x\e[2J'" "show S $aid $'--y\e[2J\nkura: FAKE'"
		"hold add S h $aid --reason r $'--z\e[2J'")
	for args in "${cases[@]}"; do
		eval "(expect_error 2 kura $args)" || { wrong+=("$args: not refused"); continue; }
		if grep -q "$esc" "$ERR" || grep -qE '^(kura: )?FAKE' "$ERR"; then
			wrong+=("$args: $(head -c 200 "$ERR" | cat -v)")
		fi
	done
	[ "${#wrong[@]}" -eq 0 ] || fail "usage messages must be escaped: $(printf '%s; ' "${wrong[@]}")"
}
run_case "usage messages escape what the user typed" usage_escaped

# migrate and init name a store folder and a Ceph configuration as typed: escaped too
names_escaped()
{
	local s=$'m\e[2J\nkura: FAKE'
	expect_status 0 kura init "$s"
	expect_status 0 kura migrate "$s" --to-backend local
	expect_grep "$OUT" 'nothing to do'
	expect_error 2 kura init m2 --backend rados --ceph-conf $'no\e[2J\nkura: FAKE.conf' --pool p
	expect_grep "$ERR" 'cannot read the Ceph configuration'
	if grep -q $'\e' "$OUT" "$ERR" || grep -qE '^(kura: )?FAKE' "$OUT" "$ERR"; then
		fail "a store or configuration name printed raw: $(cat -v "$OUT" "$ERR")"
	fi
}
run_case "migrate and init escape the names they print" names_escaped

finish_cases

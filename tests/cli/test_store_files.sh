#!/usr/bin/env bash
# The store's own files (issue 12, defects 3 and 6):
# - links: a symbolic link planted in a store (policy.yaml's temporary file, sunsets.json's,
#   config.json's, trust/, the lock, a TSA file) never makes kura write outside the store:
#   the command refuses (exit 3, naming the link and what to do) and the outside file is
#   unchanged;
# - modes: a store's files are its owner's alone (0700/0600), or its group's too with
#   init --group (02750/0640); an older store with looser modes is tightened when opened
#   for writing;
# - the embedded TSA's rollover: every state a kill can leave (after any number of the
#   renames, before or after the journal) and the state kura left before the journal
#   (new key beside the old certificate) is finished or undone at the next open, and the
#   store seals again;
# - policy set with a policy naming TSAs: policy.yaml and config.json change as one;
# - init: one killed before FORMAT (its last file) is started again by the next init;
# - exports: the temporary file of an export killed with -9 is removed by the next export
#   to the same output; temporary files of live processes and other files are kept.
source "$(dirname "$0")/lib.sh" || exit 1
cd "$T"

D0=2026-01-01T00:00:00Z
LATER=2026-02-05T00:00:00Z # the TSA certificate (60 days) is within its 30-day margin
AFTER=2026-02-06T00:00:00Z
POLICY=$T/policy.yaml
test_policy "$POLICY" files-test

printf 'first' >doc1
printf 'second' >doc2
expect_status 0 at "$D0" init base --policy "$POLICY" --tsa-days 60
expect_status 0 at "$D0" ingest base doc1

# fresh NAME: a copy of the base store at $T/NAME
fresh()
{
	rm -rf "$T/$1"
	cp -a "$T/base" "$T/$1"
}

# ---------------------------------------------------------------- links

digest_of() { if [ -d "$1" ]; then ls -A "$1"; elif [ -e "$1" ]; then sha256_of "$1"; else echo absent; fi; }

# planted STORE RELPATH TARGET CMD...: plants RELPATH -> TARGET in a fresh copy, runs CMD
# (with STORE in it), expects a refusal naming the link, and TARGET unchanged
planted()
{
	local s=$1 rel=$2 target=$3 before
	shift 3
	fresh "$s"
	before=$(digest_of "$target")
	rm -rf "${T:?}/$s/$rel"
	mkdir -p "$(dirname "$T/$s/$rel")"
	ln -s "$target" "$T/$s/$rel"
	expect_status 3 "$@" # (the daemon prefixes its lines with the time)
	expect_grep "$ERR" "symbolic link"
	expect_grep "$ERR" "$rel"
	[ "$(digest_of "$target")" = "$before" ] || fail "kura wrote through $rel to $target"
	[ -L "$T/$s/$rel" ] || fail "the planted $rel was replaced instead of refused"
}

case_links()
{
	echo precious >outside
	echo '{}' >outside.json
	mkdir -p outdir
	planted L1 policy.yaml.tmp "$T/outside" kura policy set L1 "$POLICY"
	planted L2 sunsets.json.tmp "$T/outside.json" kura policy sunset L2 sha256 2030-01-01
	planted L3 sunsets.json "$T/outside.json" kura policy sunset L3 sha256 2030-01-01
	planted L4 config.json.tmp "$T/outside" kura tsa urls L4 --set http://127.0.0.1:9/
	planted L5 lock "$T/created-by-kura" kura ingest L5 doc2
	[ ! -e created-by-kura ] || fail "following the planted lock made a file outside the store"
	kura tsa ca base >ca.pem
	planted L6 trust "$T/outdir" kura trust add L6 --tsa ca.pem
	[ -z "$(ls outdir)" ] || fail "trust add wrote into a linked folder: $(ls outdir)"
	# the rollover writes the TSA's new files (kura before the journal: NAME.new)
	planted L7 tsa/tsa.pem.new "$T/outside" at "$LATER" renew L7
	planted L8 tsa/tsa.pem.next "$T/outside" at "$LATER" daemon L8 --once
	planted L9 policy.yaml "$T/outside" kura policy set L9 "$POLICY"
	planted L11 trust/tsa.pem "$T/outside" kura trust add L11 --tsa ca.pem
	planted L12 tsa/anchors.pem "$T/outside" at "$LATER" renew L12
	# reading commands refuse too: a planted link is a hostile store
	planted L10 index "$T/outdir" kura ls L10
	# get -o: a link planted where its partial file goes is removed, not followed
	ln -s "$T/outside" got.bin.kura-partial
	expect_status 0 kura get base "$(kura ls base | cut -f1)" -o got.bin
	[ "$(cat outside)" = precious ] && [ "$(cat got.bin)" = first ] || fail "get -o wrote through a planted link"
	# init refuses a folder with anything in it, a link included
	mkdir I && ln -s "$T/outside" I/config.json
	expect_error 2 kura init I
	[ "$(cat outside)" = precious ] || fail "init wrote through a planted link"
}

# ---------------------------------------------------------------- modes

# loose STORE MASK: the files and folders of STORE with a permission bit of MASK
loose()
{
	find "$1" ! -type l -perm "/$2" -printf '%m %p\n'
}

case_modes()
{
	fresh M
	expect_status 0 kura ingest M doc2
	expect_status 0 kura policy sunset M sha256 2090-01-01
	kura tsa ca M >ca.pem
	expect_status 0 kura trust add M --tsa ca.pem
	expect_status 0 kura scrub M
	[ -z "$(loose M 077)" ] || fail "files of a store that others may read: $(loose M 077 | head -n 5)"
	[ "$(stat -c %a M)" = 700 ] || fail "the store folder has mode $(stat -c %a M), not 700"
	# an older store, readable by all: tightened by the next command that writes
	chmod -R go+rX M
	expect_status 0 kura ingest M doc1
	[ -z "$(loose M 077)" ] || fail "an older loose store was not tightened: $(loose M 077 | head -n 5)"

	local group
	group=$(getent group users >/dev/null && echo users || getent group | awk -F: '$3 != 0 { print $1; exit }')
	expect_status 0 at "$D0" init G --policy "$POLICY" --group "$group"
	expect_status 0 kura ingest G doc1
	[ "$(stat -c '%a %G' G)" = "2750 $group" ] || fail "init --group $group: the store folder is $(stat -c '%a %G' G)"
	[ "$(stat -c '%a %G' G/segments/00000001.seg)" = "640 $group" ] ||
		fail "init --group: a segment is $(stat -c '%a %G' G/segments/00000001.seg)"
	[ -z "$(loose G 007)" ] || fail "files of a grouped store that others may read: $(loose G 007 | head -n 5)"
	[ "$(stat -c %a G/tsa/tsa.key)" = 600 ] || fail "the TSA key is readable by the group"
	expect_grep G/config.json "\"group\": \"$group\""
	# a member of the group reads and verifies (not the keys); anyone else reads nothing
	if command -v setpriv >/dev/null && getent passwd nobody >/dev/null; then
		chmod 755 "$T"
		local other
		other=$(getent group | awk -F: -v g="$group" '$1 != g && $3 != 0 { print $1; exit }')
		expect_status 0 setpriv --reuid=nobody --regid="$group" --clear-groups "$KURA_BIN" verify G
		expect_status 0 setpriv --reuid=nobody --regid="$group" --clear-groups "$KURA_BIN" tsa ca G
		expect_grep "$OUT" "BEGIN CERTIFICATE"
		expect_status 3 setpriv --reuid=nobody --regid="$other" --clear-groups "$KURA_BIN" ls G
		expect_status 3 setpriv --reuid=nobody --regid="$group" --clear-groups "$KURA_BIN" ls M
		chmod 700 "$T"
	fi
	expect_error 2 kura init N --group no-such-group-here
	[ ! -e N ] || fail "init with an unknown group made the folder"
}

# ---------------------------------------------------------------- rollover crash windows

# The TSA folders before and after one rollover, and which files it changed.
make_rollover()
{
	fresh R0
	cp -a R0/tsa tsa.before
	expect_status 0 at "$LATER" renew R0
	expect_grep "$ERR" "rolled over"
	cp -a R0/tsa tsa.after
	CHANGED=()
	local f
	for f in tsa.key tsa.pem tsa.json root.key root.pem anchors.pem; do
		cmp -s "tsa.before/$f" "tsa.after/$f" || CHANGED+=("$f")
	done
	[ "${#CHANGED[@]}" -ge 2 ] || fail "test bug: the rollover changed only ${CHANGED[*]}"
}

# after_crash STORE WANT: the store seals and verifies after the state built in STORE/tsa,
# with no leftover of the rollover; its TSA is then the one of tsa.after (WANT=after), or
# (WANT=before) not that one: the old one, which the seal (its certificate due) rolls over anew
after_crash()
{
	local s=$1 want=$2
	expect_status 0 at "$AFTER" ingest "$s" doc2
	expect_grep "$ERR" "sealed 1 object"
	expect_status 0 at "$AFTER" verify "$s"
	if [ "$want" = after ]; then
		cmp -s "$s/tsa/tsa.pem" tsa.after/tsa.pem || fail "$s: the TSA is not the one of the rollover"
		cmp -s "$s/tsa/tsa.key" tsa.after/tsa.key || fail "$s: the TSA key is not the one of the rollover"
	else
		! cmp -s "$s/tsa/tsa.key" tsa.after/tsa.key || fail "$s: an unfinished rollover's key was taken"
	fi
	[ -z "$(ls "$s/tsa" | grep -E '\.(new|next)$|^rollover')" ] || fail "$s: leftovers: $(ls "$s/tsa")"
}

# with_tsa STORE: a fresh copy of the base store holding the TSA folder from before
with_tsa()
{
	fresh "$1"
	rm -rf "$1/tsa"
	cp -a tsa.before "$1/tsa"
}

case_rollover()
{
	make_rollover
	local k i
	# committed (the journal exists), killed after k of the renames
	for k in $(seq 0 "${#CHANGED[@]}"); do
		with_tsa "C$k"
		{
			echo "kura switch 1"
			printf '%s\n' "${CHANGED[@]}"
		} >"C$k/tsa/rollover"
		for i in "${!CHANGED[@]}"; do
			if [ "$i" -lt "$k" ]; then
				cp "tsa.after/${CHANGED[$i]}" "C$k/tsa/${CHANGED[$i]}"
			else
				cp "tsa.after/${CHANGED[$i]}" "C$k/tsa/${CHANGED[$i]}.next"
			fi
		done
		after_crash "C$k" after
	done
	# killed before the journal: the new files are dropped, the old TSA goes on
	with_tsa U
	for f in "${CHANGED[@]}"; do cp "tsa.after/$f" "U/tsa/$f.next"; done
	head -c 100 tsa.after/tsa.pem >U/tsa/tsa.pem.next # one was being written
	after_crash U before
	# kura before the journal, killed between its two renames: the new key beside the old
	# certificate, the new certificate still named tsa.pem.new
	with_tsa V
	cp tsa.after/tsa.key V/tsa/tsa.key
	cp tsa.after/tsa.pem V/tsa/tsa.pem.new
	after_crash V after
	# the same kura killed while writing tsa.pem.new: the old TSA goes on
	with_tsa W
	cp tsa.after/tsa.key W/tsa/tsa.key.new
	head -c 200 tsa.after/tsa.pem >W/tsa/tsa.pem.new
	after_crash W before
}

# Real kills: renew (which rolls the TSA over) killed with -9 after 0 to ~100 ms, then the
# store must seal and verify. Random kills seldom hit the narrow windows the states above
# cover one by one; these check that nothing else is left half done.
case_rollover_kills()
{
	local n=$((KURA_SANITIZED ? 4 : 12)) i pid
	for i in $(seq 1 "$n"); do
		fresh K
		KURA_NOW=$LATER "$KURA_BIN" renew K >/dev/null 2>&1 &
		pid=$!
		sleep "0.0$((i * 7 % 10))$((i % 10))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		expect_status 0 at "$AFTER" ingest K doc2
		expect_grep "$ERR" "sealed 1 object"
		expect_status 0 at "$AFTER" verify K
		[ -z "$(ls K/tsa | grep -E '\.(new|next|tmp)$|^rollover')" ] || fail "kill $i: leftovers: $(ls K/tsa)"
	done
}

# ---------------------------------------------------------------- policy.yaml + config.json

# A policy that names TSAs changes policy.yaml and config.json (its TSA URLs) as one: every
# state a kill can leave is finished or undone by the next command that writes.
case_policy_switch()
{
	test_policy tsa-policy.yaml with-tsa
	printf 'tsa-urls: [http://127.0.0.1:9/]\n' >>tsa-policy.yaml
	fresh P0
	expect_status 0 kura policy set P0 tsa-policy.yaml
	expect_grep P0/config.json "http://127.0.0.1:9/"
	local k f names=(config.json policy.yaml)
	for k in 0 1 2; do
		fresh "Q$k"
		printf 'kura switch 1\nconfig.json\npolicy.yaml\n' >"Q$k/switch"
		for f in 0 1; do
			if [ "$f" -lt "$k" ]; then
				cp "P0/${names[$f]}" "Q$k/${names[$f]}"
			else
				cp "P0/${names[$f]}" "Q$k/${names[$f]}.next"
			fi
		done
		expect_status 0 kura tsa urls "Q$k" --embedded # any command that writes
		expect_status 0 kura policy show "Q$k"
		expect_grep "$OUT" with-tsa
		[ ! -e "Q$k/switch" ] && [ ! -e "Q$k/policy.yaml.next" ] || fail "Q$k: leftovers: $(ls "Q$k")"
	done
	# not committed: the old files stay
	fresh PU
	cp P0/config.json PU/config.json.next
	cp P0/policy.yaml PU/policy.yaml.next
	expect_status 0 kura ingest PU doc2
	cmp -s PU/policy.yaml base/policy.yaml && cmp -s PU/config.json base/config.json ||
		fail "an uncommitted change was taken"
	[ ! -e PU/policy.yaml.next ] && [ ! -e PU/config.json.next ] || fail "PU: leftovers: $(ls PU)"
}

# ---------------------------------------------------------------- an interrupted init

case_init_again()
{
	# killed before FORMAT (written last): everything else is there; init starts again
	expect_status 0 kura init X
	rm X/FORMAT
	expect_error 2 kura ingest X doc1
	expect_status 0 kura init X
	expect_status 0 kura ingest X doc1
	# what is not only init's is never cleared: a file of someone else, or stored data
	expect_status 0 kura init Y
	rm Y/FORMAT
	echo mine >Y/notes.txt
	expect_error 2 kura init Y
	[ -e Y/notes.txt ] || fail "init removed a file it did not make"
	fresh Z
	rm Z/FORMAT
	expect_error 2 kura init Z
	[ "$(seg_bytes Z)" -gt 16 ] || fail "init removed the segments of a store without FORMAT"
}

# ---------------------------------------------------------------- killed exports

case_export_temps()
{
	fresh E
	random_file big.bin $((KURA_SANITIZED ? 24 : 96))000000
	expect_status 0 at "$D0" ingest E big.bin
	local pid t0 tmp
	KURA_NOW=$D0 "$KURA_BIN" export E -o out.tar >/dev/null 2>&1 &
	pid=$!
	for t0 in $(seq 1 500); do
		tmp=$(find . -maxdepth 1 -name 'out.tar.tmp.*' | head -n 1)
		[ -z "$tmp" ] || [ "$(stat -c %s "$tmp")" -lt 100000 ] || break
		sleep 0.01
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ ! -e out.tar ] || fail "test bug: the export finished before it was killed"
	tmp=$(find . -maxdepth 1 -name 'out.tar.tmp.*')
	[ -n "$tmp" ] || fail "test bug: no temporary file was seen"
	# a temporary file of a live process, and files that only look alike, are kept
	sleep 60 >/dev/null 2>&1 & # (its output closed: ctest waits for every holder of the pipe)
	local live=$!
	: >"out.tar.tmp.$live.abcdef"
	: >out.tar.tmp.notes
	: >other.tar.tmp.99999999.abcdef
	expect_status 0 at "$D0" export E -o out.tar
	[ ! -e "$tmp" ] || fail "the killed export's $tmp is still there"
	[ -e "out.tar.tmp.$live.abcdef" ] && [ -e out.tar.tmp.notes ] && [ -e other.tar.tmp.99999999.abcdef ] ||
		fail "the export removed a file that was not its stale temporary: $(ls)"
	expect_status 0 at "$D0" verify-export out.tar
	kill "$live" 2>/dev/null || true
}

run_case links case_links
run_case modes case_modes
run_case rollover case_rollover
run_case rollover_kills case_rollover_kills
run_case export_temps case_export_temps
run_case init_again case_init_again
run_case policy_switch case_policy_switch
finish_cases

#!/usr/bin/env bash
# The kura demo: builds a small archive of fictional business records in
# ./demo-store (in the current folder) and walks through what kura does with it.
#
#   usage: demo/run.sh KURA_BINARY        (make demo runs: ./demo/run.sh build/kura)
#
# Each step is one small function named step_<what>, run in order by main().
# To extend the demo (sealing, evidence export, verification), write another
# step_ function and add it to the STEPS list in main(). The steps share state
# through the globals below; INGESTED holds the ingest output (ID, SHA-256, path).
set -euo pipefail

STORE_NAME=demo-store
DEMO_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
DOCS=$DEMO_DIR/docs
INVOICE=invoices/2026-10-INV-0042.txt   # relative to $DOCS

KURA=            # absolute path of the kura binary
STORE=           # absolute path of ./demo-store
WORK=            # scratch folder, removed on exit
INGESTED=        # file with every "ID<TAB>SHA256<TAB>PATH" line printed by ingest
INVOICE_ID=      # the invoice's object ID, found in $INGESTED
LATER=           # the clock (KURA_NOW) after the ten years of renewals
CURRENT_STEP=setup

heading() { printf '\n== %s ==\n' "$1"; }
say() { printf '%s\n' "$*"; }
die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

# Runs kura, echoing the command first so a newcomer can repeat it by hand.
kura() {
	printf '$ kura %s\n' "$*"
	"$KURA" "$@"
}

on_exit() {
	local status=$?
	[ -n "$WORK" ] && rm -rf -- "$WORK"
	if [ "$status" -ne 0 ]; then
		printf '\ndemo FAILED in step "%s" (exit status %d)\n' "$CURRENT_STEP" "$status" >&2
	fi
}

# ---------------------------------------------------------------- steps

step_setup() {
	heading "setup"
	[ -x "$KURA" ] || die "kura binary '$KURA' is not executable (build it with: make build)"
	[ -d "$DOCS" ] || die "demo documents not found in $DOCS"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/kura-demo.XXXXXX")
	INGESTED=$WORK/ingested.tsv
	: >"$INGESTED"
	say "kura:      $KURA"
	say "documents: $DOCS"
	say "store:     $STORE"
}

# Removes the store of an earlier run, but only if it is a kura store: anything
# else called demo-store is someone's data, and the demo stops instead.
step_reset() {
	heading "reset"
	if [ ! -e "$STORE" ] && [ ! -L "$STORE" ]; then
		say "no earlier $STORE_NAME here; nothing to remove"
		return
	fi
	if [ -L "$STORE" ] || [ ! -d "$STORE" ] || [ ! -f "$STORE/FORMAT" ] ||
		[ "$(head -n 1 -- "$STORE/FORMAT")" != "kura store" ]; then
		die "$STORE exists but is not a kura store (no FORMAT file saying 'kura store'); not touching it. Move it away or run the demo in another folder."
	fi
	rm -rf -- "$STORE"
	say "removed the store of an earlier run: $STORE"
}

step_init() {
	heading "init"
	say "Create an empty store: append-only segment files plus an index."
	kura init "$STORE"
}

# Ingests one folder of $DOCS with its own metadata. Paths are given relative to
# $DOCS, so the store records "invoices/..." rather than this machine's layout.
ingest_folder() {
	local folder=$1
	shift
	local args=(ingest --no-seal "$STORE")
	local kv
	for kv in "$@"; do
		args+=(--meta "$kv")
	done
	printf '$ kura %s %s\n' "${args[*]}" "$folder"
	(cd -- "$DOCS" && "$KURA" "${args[@]}" "$folder" 2>&1) | tee -a "$INGESTED.log"
	grep -P '^[0-9A-Z]{26}\t' "$INGESTED.log" >>"$INGESTED" || true
	: >"$INGESTED.log"
}

step_ingest() {
	heading "ingest"
	say "Each file is hashed, compressed and appended; kura prints ID <TAB> SHA-256 <TAB> PATH"
	say "once the object is durable. Metadata (--meta) makes records searchable later."
	say "(--no-seal: the three runs are sealed together below; without it each run seals itself.)"
	ingest_folder invoices kind=invoice counterparty=有限会社サンプル設備工業 \
		invoice-no=INV-0042 date=2026-10-31 amount=2351800 currency=JPY
	ingest_folder ledgers kind=ledger period=2026-Q3 company=架空建設株式会社
	ingest_folder trials kind=trial-data study=KT-0117 site=03
	INVOICE_ID=$(awk -F '\t' -v p="$INVOICE" '$3 == p { print $1 }' "$INGESTED")
	[ -n "$INVOICE_ID" ] || die "ingest did not report an ID for $INVOICE"
}

step_seal() {
	heading "seal"
	say "Seal everything pending: one hash tree over all new objects, ONE RFC 3161 time-stamp"
	say "over its root (here from the store's embedded TSA)."
	kura seal "$STORE" 2>&1
}

step_ls() {
	heading "ls"
	say "Every object in ingest order: ID <TAB> SIZE <TAB> INGESTED <TAB> NAME"
	kura ls "$STORE"
}

step_show() {
	heading "show"
	say "What the store knows about the invoice:"
	kura show "$STORE" "$INVOICE_ID"
}

step_get() {
	heading "get"
	say "Read the invoice back; kura checks its SHA-256 while it streams."
	local out=$WORK/invoice-copy.txt
	kura get "$STORE" "$INVOICE_ID" -o "$out"
	cmp -- "$DOCS/$INVOICE" "$out" || die "the retrieved invoice differs from $DOCS/$INVOICE"
	say "cmp: the copy is identical to the original ($(wc -c <"$out") bytes)"
}

step_records() {
	heading "records: a correction is a new version"
	say "The invoice's amount was mistyped. Nothing is overwritten: the change is a new version"
	say "(same content, new metadata), the old one stays readable, and the audit trail says who,"
	say "when and why."
	kura meta set "$STORE" "$INVOICE_ID" amount=2315800 --reason "amount mistyped (2351800)" --actor 経理-佐藤 2>&1
	kura history "$STORE" "$INVOICE_ID"
	kura log "$STORE" --verify 2>&1
}

step_search() {
	heading "search by typed fields"
	say "Give metadata keys a type: their values are checked at ingest and kept in an ordered index."
	say "Fields can be added to a store that already holds values (their index is filled then)."
	kura field add "$STORE" date date 2>&1
	kura field add "$STORE" amount amount 2>&1
	kura field ls "$STORE"
	say "Invoices from October 2026 over ¥1,000,000 (each record's current version):"
	local hits
	hits=$(kura ls "$STORE" --where 'date>=2026-10-01' --where 'date<=2026-10-31' --where 'amount>=¥1,000,000')
	printf '%s\n' "$hits"
	say "typed query: $(grep -c "	" <<<"$hits") hit(s)"
}

step_scrub() {
	heading "scrub"
	say "Re-read and verify every stored byte (run this regularly)."
	kura scrub "$STORE" 2>&1
}

step_verify() {
	heading "verify"
	say "Check every object against its evidence: hash from the stored bytes, hash tree, time-stamp."
	kura verify "$STORE" 2>&1
}

step_evidence() {
	heading "evidence"
	say "Export the invoice's RFC 4998 evidence record and the TSA's root certificate."
	kura evidence "$STORE" "$INVOICE_ID" -o "$WORK/invoice.ers"
	kura tsa ca "$STORE" >"$WORK/tsa-root.pem"
	say "wrote $WORK/invoice.ers ($(wc -c <"$WORK/invoice.ers") bytes) and the TSA root"
}

step_verify_er() {
	heading "verify-er"
	say "Verify the exported record against the original file, without the store:"
	kura verify-er --data "$DOCS/$INVOICE" --er "$WORK/invoice.ers" --trust "$WORK/tsa-root.pem"
}

step_openssl() {
	heading "openssl ts -verify"
	say "And without kura at all: recompute the hash-tree root from the file (Python's hashlib),"
	say "then let OpenSSL check that the time-stamp token covers that root."
	local root
	printf '$ demo/ers_extract.py invoice.ers %s tokens/\n' "$INVOICE"
	root=$(python3 "$DEMO_DIR/ers_extract.py" "$WORK/invoice.ers" "$DOCS/$INVOICE" "$WORK/tokens")
	say "root = $root"
	printf '$ openssl ts -verify -token_in -in tokens/token-1-1.der -digest %s -CAfile tsa-root.pem\n' "$root"
	openssl ts -verify -token_in -in "$WORK/tokens/token-1-1.der" -digest "$root" -CAfile "$WORK/tsa-root.pem" 2>&1 |
		grep -v '^Using configuration'
}

step_ten_years() {
	heading "ten years later"
	say "The embedded TSA's certificate lives 5 years; SHA-256 and its keys may not last forever."
	say "The scheduler (kura daemon) renews the evidence before anything ends; it must run more"
	say "often than the policy's margin (180 days). Here it runs once a month for ten years, with"
	say "KURA_NOW moving the clock:"
	local start year month now
	start=$(($(date -u +%Y) + 1))
	for year in $(seq "$start" $((start + 9))); do
		for month in 01 02 03 04 05 06 07 08 09 10 11 12; do
			now=$year-$month-15T00:00:00Z
			KURA_NOW=$now "$KURA" daemon "$STORE" --once 2>&1 | grep -E 'rolled over|renewal:|NOT RENEWED' |
				sed "s/^/$now  /" || true
		done
	done
	now=$((start + 10))-01-01T00:00:00Z
	LATER=$now
	say "In $now:"
	KURA_NOW=$now kura verify "$STORE" 2>&1
	KURA_NOW=$now kura evidence "$STORE" "$INVOICE_ID" -o "$WORK/invoice-2.ers"
	kura tsa ca "$STORE" >"$WORK/tsa-roots.pem"
	KURA_NOW=$now kura verify-er --data "$DOCS/$INVOICE" --er "$WORK/invoice-2.ers" --trust "$WORK/tsa-roots.pem" |
		grep -E '^verdict|ATS'
}

step_export() {
	heading "export"
	say "Hand everything to an auditor: one BagIt package (RFC 8493) with each document, its"
	say "evidence record, its time-stamp tokens and the TSA roots, checked here without the store:"
	local pkg=$PWD/demo-export.tar.zst dir=$WORK/unpacked/demo-export
	KURA_NOW=$LATER kura export "$STORE" -o "$pkg"
	KURA_NOW=$LATER kura verify-export "$pkg"
	say "And without kura: unpack, check every file against the manifests, then every token of"
	say "the invoice with OpenSSL (each at its own genTime), and that the first one covers the file:"
	mkdir -p "$WORK/unpacked"
	zstd -dcq "$pkg" | tar -xmf - -C "$WORK/unpacked"
	say '$ sha256sum -c manifest-sha256.txt && sha256sum -c tagmanifest-sha256.txt'
	(cd "$dir" && sha256sum --quiet -c manifest-sha256.txt && sha256sum --quiet -c tagmanifest-sha256.txt) ||
		die "the exported package does not match its manifests"
	say "every file as exported"
	say '$ sh verify.sh --rebuild records     # the package'"'"'s own script: POSIX sh, awk, coreutils, openssl'
	(cd "$dir" && sh verify.sh --rebuild "$WORK/records") || die "the package's verify.sh does not accept it"
	say "every token checked with openssl ts -verify at its own genTime, every record rebuilt from"
	say "its parts (data/<ID>/<name>.erp: the record without its tokens, each token kept once in"
	say "data/tokens/) and its first hash tree recomputed from the document (under its original"
	say "path in data/files/, as object.json's \"file\" says). By hand, the invoice's tokens:"
	local name file gentime epoch hash imprint root first doc erp
	name=$(basename "$INVOICE")
	doc=$dir/data/$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["file"])' "$dir/data/$INVOICE_ID/object.json")
	erp=$dir/data/$INVOICE_ID/$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["record_parts"])' \
		"$dir/data/$INVOICE_ID/object.json")
	for file in $(head -n 1 "$erp" | cut -d ' ' -f 5- | tr ' ' '\n' | sed -n 'n;p'); do
		IFS=$'\t' read -r _ gentime epoch hash imprint < <(grep "^$file.tsr" "$dir/data/tokens/INDEX.tsv")
		printf '$ openssl ts -verify -token_in -in tokens/%.12s….tsr -digest %.12s… -CAfile tsa-anchors.pem -attime %s\n' \
			"$file" "$imprint" "$epoch"
		openssl ts -verify -token_in -in "$dir/data/tokens/$file.tsr" -digest "$imprint" \
			-CAfile "$dir/data/tsa-anchors.pem" -attime "$epoch" 2>&1 | grep -v '^Using configuration'
	done
	root=$(python3 "$DEMO_DIR/ers_extract.py" "$WORK/records/$INVOICE_ID/$(basename "$erp" .erp).ers" "$doc" \
		"$WORK/tokens-export" 2>/dev/null)
	first=$(head -n 1 "$erp" | cut -d ' ' -f 6)
	[ "$root" = "$(grep "^$first.tsr" "$dir/data/tokens/INDEX.tsv" | cut -f 5)" ] ||
		die "the first token does not cover the exported invoice"
	say "the root recomputed from $name ($root) is the first token's imprint"
	say "The package is $pkg; its VERIFY.md says all this for the auditor."
}

step_summary() {
	heading "done"
	say "Ingested $(wc -l <"$INGESTED") fictional documents (invoice, ledger, trial data) with metadata,"
	say "listed and described them, got the invoice back byte-for-byte, corrected its metadata as a"
	say "new version (history and the audit trail say who, when, why), scrubbed the store, and"
	say "verified the invoice's evidence record with kura and with OpenSSL alone, then let the"
	say "scheduler keep the evidence alive for ten years, and exported it all as a package that"
	say "sha256sum and OpenSSL check without kura."
	say "The store is in $STORE; look around with: $KURA ls $STORE"
}

# ---------------------------------------------------------------- main

main() {
	if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
		printf 'usage: %s KURA_BINARY\n  builds ./%s in the current folder from %s\n' "$0" "$STORE_NAME" "$DOCS" >&2
		exit 2
	fi
	# absolute paths: ingest runs from inside $DOCS
	case $1 in
	*/*) KURA=$(realpath -e -- "$1") || die "cannot find the kura binary '$1'" ;;
	*) KURA=$(command -v -- "$1") || die "cannot find the kura binary '$1'" ;;
	esac
	STORE=$PWD/$STORE_NAME
	trap on_exit EXIT

	local STEPS=(setup reset init ingest seal ls show get records search scrub verify evidence verify_er openssl ten_years export summary)
	local step
	for step in "${STEPS[@]}"; do
		CURRENT_STEP=$step
		"step_$step"
	done
}

main "$@"

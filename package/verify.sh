#!/bin/sh
# Checks this package without kura: POSIX sh, awk, coreutils and openssl only.
#
#   sh verify.sh                  check everything (run it in the package's folder or name it)
#   sh verify.sh --rebuild DIR    also write every object's whole RFC 4998 record as
#                                 DIR/<ID>/<name>.ers (for Bouncy Castle, EU DSS, ...)
#
# A document lies under its original path in data/files/ (object.json's "file" in its
# object's folder data/<ID>/ names it); in packages of earlier kura beside its record.
#
# 1. The BagIt manifests: every file as exported, none added.
# 2. Every time-stamp token (data/tokens/<SHA-256>.tsr, once per package) is named by its
#    SHA-256 and is signed by a TSA of data/tsa-anchors.pem, over the imprint INDEX.tsv
#    gives, at its own time.
# 3. Each object's record is rebuilt from its parts (<name>.erp: a first line, then the
#    record's bytes without its tokens) and must have the size and SHA-256 that line gives;
#    the root of its first reduced hash tree, recomputed from the document, must be the
#    imprint of its first token.
# Prints OK or FAILED with the reason for each object; exit status 0 when everything
# holds, 1 when something does not, 2 when the check cannot run.
set -u
set -f
LC_ALL=C
export LC_ALL
rebuild_to=
case ${1:-} in
--rebuild) rebuild_to=${2:?usage: sh verify.sh [--rebuild DIR]} ;;
'') ;;
*) echo "usage: sh verify.sh [--rebuild DIR]" >&2; exit 2 ;;
esac
case $rebuild_to in '' | /*) ;; *) rebuild_to=$(pwd)/$rebuild_to ;; esac
for tool in openssl sha256sum awk sed head tail sort comm find uniq; do
	command -v "$tool" >/dev/null 2>&1 || { echo "verify.sh: $tool is needed" >&2; exit 2; }
done
[ -f bagit.txt ] || cd "$(dirname "$0")" || exit 2
[ -f bagit.txt ] || { echo "verify.sh: run it in the package's folder (no bagit.txt here)" >&2; exit 2; }
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
bad=0
anchors=data/tsa-anchors.pem

failed() {
	printf 'FAILED\t%s\t%s\n' "$1" "$2"
	bad=1
}

# ---- 1. manifests
sha256sum --quiet -c manifest-sha256.txt >"$tmp/m" 2>&1 || failed manifest-sha256.txt "$(head -n 3 "$tmp/m")"
sha256sum --quiet -c tagmanifest-sha256.txt >"$tmp/m" 2>&1 || failed tagmanifest-sha256.txt "$(head -n 3 "$tmp/m")"
cut -c 67- manifest-sha256.txt | sort >"$tmp/listed"
find data -type f | sort >"$tmp/present"
comm -13 "$tmp/listed" "$tmp/present" >"$tmp/extra"
[ -s "$tmp/extra" ] && failed data "files not in manifest-sha256.txt: $(head -n 3 "$tmp/extra")"

# ---- 2. tokens
index=data/tokens/INDEX.tsv
[ -f "$index" ] || { failed "$index" "is missing"; exit 1; }
cut -f 1 "$index" | sort | uniq -d >"$tmp/twice"
[ -s "$tmp/twice" ] && failed "$index" "lists a token twice: $(head -n 1 "$tmp/twice")"
while IFS='	' read -r file gentime epoch hash imprint; do
	hex=${file%.tsr}
	case $hex in *[!0-9a-f]*) hex= ;; esac
	[ ${#hex} -eq 64 ] && [ "$file" = "$hex.tsr" ] ||
		{ failed "$index" "names a file that is not <SHA-256>.tsr: $file"; continue; }
	[ "$(sha256sum <"data/tokens/$file" 2>/dev/null | cut -c 1-64).tsr" = "$file" ] ||
		{ failed "data/tokens/$file" "is missing or not the token its name says"; continue; }
	openssl ts -verify -token_in -in "data/tokens/$file" -digest "$imprint" -CAfile "$anchors" \
		-attime "$epoch" >"$tmp/ts" 2>&1 || failed "data/tokens/$file" "openssl ts -verify: $(tail -n 1 "$tmp/ts")"
done <"$index"
find data/tokens -type f -name '*.tsr' | while IFS= read -r f; do
	grep -q "^${f#data/tokens/}	" "$index" || printf 'FAILED\t%s\t%s\n' "$f" "is not listed in $index"
done >"$tmp/unlisted"
[ -s "$tmp/unlisted" ] && cat "$tmp/unlisted" && bad=1

# ---- 3. records
# The record $1 rebuilt from its parts into $2; why in $why when it cannot be.
rebuild() {
	head -n 1 "$1" >"$tmp/head"
	hlen=$(wc -c <"$tmp/head")
	set -- "$1" "$2" $(cat "$tmp/head")
	[ $# -ge 6 ] && [ "$3" = kura-ers-parts ] && [ "$4" = 1 ] || { why="is not a record in parts"; return 1; }
	erp=$1 out=$2 size=$5 sum=$6 pos=0 taken=$hlen first= total=$(wc -c <"$1")
	shift 6
	: >"$out"
	while [ $# -ge 2 ]; do
		case $1 in '' | *[!0-9]*) why="has a malformed offset"; return 1 ;; esac
		case $2 in *[!0-9a-f]*) why="names a token that is not a SHA-256"; return 1 ;; esac
		[ ${#2} -eq 64 ] || { why="names a token that is not a SHA-256"; return 1; }
		tok=data/tokens/$2.tsr
		[ -f "$tok" ] || { why="names a token file that is missing: $tok"; return 1; }
		[ "$(sha256sum <"$tok" | cut -c 1-64)" = "$2" ] ||
			{ why="names the token $tok, which is not the one its name says"; return 1; }
		n=$(($1 - pos))
		[ "$n" -ge 0 ] && [ "$n" -le $((total - taken)) ] || { why="has a token offset out of range"; return 1; }
		tail -c +$((taken + 1)) "$erp" | head -c "$n" >>"$out"
		taken=$((taken + n))
		cat "$tok" >>"$out"
		pos=$(($1 + $(wc -c <"$tok")))
		[ -n "$first" ] || first=$2
		shift 2
	done
	[ $# -eq 0 ] || { why="has a malformed token reference"; return 1; }
	tail -c +$((taken + 1)) "$erp" >>"$out"
	[ "$(wc -c <"$out")" = "$size" ] || { why="rebuilt, is not the size its first line gives"; return 1; }
	[ "$(sha256sum <"$out" | cut -c 1-64)" = "$sum" ] ||
		{ why="rebuilt, does not have the SHA-256 its first line gives"; return 1; }
}

# The first archive time-stamp's hash algorithm ("alg NAME") and reduced hash tree
# ("LIST HEX" per value, lists numbered from 1) of the DER record $1.
first_tree() {
	openssl asn1parse -inform DER -in "$1" 2>/dev/null | awk '
	{ d = $0; sub(/^[^d]*d=/, "", d); sub(/[^0-9].*/, "", d); depth[NR] = d + 0; line[NR] = $0 }
	depth[NR] == 1 { seq = NR }
	END {
		i = seq + 1
		while (i <= NR && depth[i] != 3) i++
		for (i++; i <= NR && depth[i] > 3; i++) {
			if (depth[i] == 4) { tree = line[i] ~ /cont \[ 2 \]/; alg = line[i] ~ /cont \[ 0 \]/; continue }
			if (alg && line[i] ~ /OBJECT/) { a = line[i]; sub(/.*:/, "", a); print "alg", a }
			if (tree && depth[i] == 5) n++
			if (tree && depth[i] == 6 && line[i] ~ /OCTET STRING/) {
				h = line[i]; sub(/.*\[HEX DUMP\]:/, "", h); print n, tolower(h)
			}
		}
	}'
}

# The digest under $1 of the concatenation of the hex values on standard input, sorted.
hash_sorted() {
	esc=$(sort | tr -d '\n' | awk '{
		for (i = 1; i < length($0); i += 2)
			printf "\\%03o", (index("0123456789abcdef", substr($0, i, 1)) - 1) * 16 + index("0123456789abcdef", substr($0, i + 1, 1)) - 1
	}')
	printf "$esc" | openssl dgst -"$1" -r | cut -d ' ' -f 1
}

# The root of the first reduced hash tree over the document $2 (RFC 4998 4.3), or why not.
first_root() {
	first_tree "$1" >"$tmp/tree"
	alg=$(awk '$1 == "alg" { print $2; exit }' "$tmp/tree")
	[ -n "$alg" ] || alg=$(awk -F '	' -v f="$3.tsr" '$1 == f { print $4 }' "$index")
	root=$(openssl dgst -"$alg" -r <"$2" | cut -d ' ' -f 1) || { why="cannot hash the document with $alg"; return 1; }
	lists=$(awk '$1 != "alg" { print $1 }' "$tmp/tree" | sort -n | uniq)
	[ -z "$lists" ] && return 0
	grep -qx "1 $root" "$tmp/tree" || { why="the document's $alg hash is not in the first hash tree list"; return 1; }
	for k in $lists; do
		{ awk -v k="$k" '$1 == k { print $2 }' "$tmp/tree"; [ "$k" = 1 ] || echo "$root"; } >"$tmp/list"
		if [ "$(wc -l <"$tmp/list")" -eq 1 ]; then
			root=$(cat "$tmp/list")
		else
			root=$(hash_sorted "$alg" <"$tmp/list")
		fi
	done
}

# The document of the record $1: under its original path, data/<"file" of object.json
# beside the record> (kura writes that key on a line of its own, two spaces in), or, in
# a package of earlier kura (no "file"), the file beside the record; why when neither.
document() {
	doc=${1%.erp}
	[ -f "${1%/*}/object.json" ] || return 0
	file=$(sed -n 's/^  "file": "\(.*\)",\{0,1\}$/\1/p' "${1%/*}/object.json")
	[ -n "$file" ] || return 0
	case $file in
	*"
"* | *\\*) why="object.json names its file more than once, or with an escape"; return 1 ;;
	files/*) ;;
	*) why="object.json's file is not under data/files/: $file"; return 1 ;;
	esac
	case /$file/ in */../* | */./* | *//*) why="object.json's file has an empty, . or .. component: $file"; return 1 ;; esac
	doc=data/$file
	echo "$doc" >>"$tmp/claimed"
}

objects=0
: >"$tmp/claimed"
find data -type l >"$tmp/links"
[ -s "$tmp/links" ] && failed data "holds links, which no package has: $(head -n 3 "$tmp/links")"
find data -path data/files -prune -o -name '*.erp' -type f -print | sort >"$tmp/records"
while IFS= read -r erp; do
	objects=$((objects + 1))
	why=
	if ! document "$erp"; then
		failed "$erp" "$why"
		continue
	fi
	if ! rebuild "$erp" "$tmp/record.ers"; then
		failed "$doc" "$erp $why"
		continue
	fi
	[ -f "$doc" ] || { failed "$doc" "the document is missing"; continue; }
	first_root "$tmp/record.ers" "$doc" "$first" || { failed "$doc" "$why"; continue; }
	epoch=$(awk -F '	' -v f="$first.tsr" '$1 == f { print $3 }' "$index")
	if ! openssl ts -verify -token_in -in "data/tokens/$first.tsr" -digest "$root" -CAfile "$anchors" \
		${epoch:+-attime "$epoch"} >"$tmp/ts" 2>&1; then
		failed "$doc" "the first time-stamp does not cover the document: $(tail -n 1 "$tmp/ts")"
		continue
	fi
	if [ -n "$rebuild_to" ]; then
		rel=${erp%.erp}
		rel=${rel#data/}
		mkdir -p "$rebuild_to/${rel%/*}" && cp "$tmp/record.ers" "$rebuild_to/$rel.ers"
	fi
	printf 'OK\t%s\n' "$doc"
done <"$tmp/records"
# every document under data/files/ is the document of exactly one object
sort "$tmp/claimed" | uniq -d >"$tmp/twice"
[ -s "$tmp/twice" ] && failed "$(head -n 1 "$tmp/twice")" "is named by more than one object.json"
if [ -d data/files ]; then
	find data/files -type f | sort >"$tmp/files"
	sort -u "$tmp/claimed" | comm -13 - "$tmp/files" >"$tmp/unclaimed"
	[ -s "$tmp/unclaimed" ] && failed "$(head -n 1 "$tmp/unclaimed")" "is no object's document (no object.json names it)"
fi

[ "$objects" -gt 0 ] || failed data "holds no evidence record in parts (<name>.erp)"
if [ "$bad" -eq 0 ]; then
	echo "verify.sh: $objects object(s): everything holds"
else
	echo "verify.sh: something does not hold (FAILED lines above)"
fi
exit "$bad"

#!/usr/bin/env bash
# The layout of docs/ARCHITECTURE.md, checked against the code: which folder may include which,
# the one owner of RocksDB, segment files named only by a storage backend, a library that never
# prints, a CLI that sees only the public headers, no file over 800 lines and no function over 80. Run by ctest as `layout`; by hand:
#   bash tests/layout.sh            (from anywhere; prints every breach, exits 1 if any)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 3
LIB="common index archive evidence policies proof records search access package renewal server report"
bad=0
breach() {
	echo "layout: $*" >&2
	bad=1
}

# The folders a folder's files may include from (besides its own, the system's and kura/).
allowed() {
	case $1 in
	common | index) echo "common" ;;
	archive) echo "common index" ;;
	evidence | policies) echo "common" ;;
	proof) echo "common index archive evidence policies" ;;
	records) echo "common index archive evidence policies proof" ;;
	search) echo "common index archive evidence policies proof records" ;;
	access) echo "common archive" ;;
	renewal) echo "common archive evidence policies proof records" ;;
	package) echo "common archive evidence policies proof records" ;;
	server) echo "common evidence policies proof archive records" ;;
	report) echo "common" ;;
	esac
}
[ "$(allowed common)" = common ] || breach "allowed() is broken"
[ "$(allowed index)" = common ] || breach "allowed() is broken"

for dir in $LIB; do
	ok=" $dir kura $(allowed "$dir") "
	for f in "$dir"/*.[ch]; do
		while IFS= read -r inc; do
			top=${inc%%/*}
			case "$ok" in *" $top "*) ;; *) breach "$f includes \"$inc\": $dir/ may not use $top/ (docs/ARCHITECTURE.md)" ;; esac
		done < <(sed -n 's/^#include "\([^"]*\/[^"]*\)".*/\1/p' "$f")
	done
done

# Public headers include public headers only; the CLI includes nothing else.
for f in include/kura/*.h cli/*.[ch]; do
	while IFS= read -r inc; do
		case "$inc" in kura/* | cli.h) ;; *) breach "$f includes \"$inc\": only kura/*.h may be included here" ;; esac
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done

# index/ is the one owner of RocksDB.
for f in $(grep -l 'rocksdb/' $(for d in $LIB cli; do echo "$d"/*.[ch]; done) include/kura/*.h); do
	case $f in index/*) ;; *) breach "$f uses RocksDB: only index/ may" ;; esac
done

# archive/backend_rados.c (with its header and archive/backend_rados_{health,fence,lock}.c) is the one user of librados.
for f in $(grep -l 'rados/librados' $(for d in $LIB cli; do echo "$d"/*.[ch]; done) include/kura/*.h); do
	case $f in archive/backend_rados.c | archive/backend_rados.h | archive/backend_rados_health.c | archive/backend_rados_fence.c | archive/backend_rados_lock.c) ;;
	*) breach "$f uses librados: only archive/backend_rados.c may" ;; esac
done

# Only a storage backend names segment files (archive/backend.h).
for f in $(grep -l '\.seg"' $(for d in $LIB cli; do echo "$d"/*.c; done)); do
	case $f in archive/backend_*.c) ;; *) breach "$f names segment files: only a storage backend may (archive/backend.h)" ;; esac
done

# The library never prints: no stdout, stderr, printf, puts or perror (writing a FILE it
# opened itself is not printing). Lines that are comments are skipped.
for dir in $LIB; do
	grep -nE '\b(stdout|stderr|perror)\b|(^|[^a-z_])(printf|puts|vprintf)\(' "$dir"/*.c |
		grep -vE '^[^:]+:[0-9]+:\s*(/?\*|//)' | while IFS= read -r line; do
		echo "layout: $line: the library never prints (kura/log.h)" >&2
		echo x
	done | grep -q x && bad=1
done

# No file over 800 lines; no function over 80 (from the "{" in column 0 to the "}" in column 0).
for f in $(for d in $LIB cli; do echo "$d"/*.[ch]; done) include/kura/*.h; do
	n=$(wc -l <"$f")
	[ "$n" -le 800 ] || breach "$f has $n lines (at most 800: split it by concept)"
	[ "${f##*.}" = c ] || continue
	while IFS= read -r long; do
		breach "$f: $long (at most 80 lines: split it into named steps)"
	done < <(awk '/^[A-Za-z].*\(/ { name = $0 } /^\{/ { start = NR } /^\}/ && start { if (NR - start + 1 > 80) printf "function of %d lines: %s\n", NR - start + 1, name; start = 0 }' "$f")
done

[ $bad -eq 0 ] && echo "layout: ok"
exit $bad

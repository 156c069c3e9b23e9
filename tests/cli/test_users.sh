#!/usr/bin/env bash
# kura user add/ls/remove: the service's accounts. The token is printed once and is
# found nowhere in the store afterwards (users.json keeps a hash, the audit trail the
# name, role and collections); bad names, roles and duplicates are refused with
# nothing written; every change is an audit record naming who made it.
source "$(dirname "$0")/lib.sh"

kura init "$T/s" >/dev/null 2>&1 || fail "init"

expect_status 0 kura user add "$T/s" 山田花子 --role auditor --collection 治験A --collection trial-B --actor 管理者
tok=$(cat "$OUT")
[[ $tok =~ ^kura_[0-9a-f]{64}$ ]] || fail "the token is kura_ and 64 hex digits, got '$tok'"
expect_grep "$ERR" "not kept"
expect_status 0 kura user add "$T/s" ops --role admin
tok2=$(cat "$OUT")
[ "$tok" != "$tok2" ] || fail "two accounts got the same token"

# the token is nowhere in the store: not in users.json, not in segments, not in the index
if grep -rqF -- "${tok#kura_}" "$T/s"; then fail "the token was kept in the store"; fi
expect_grep "$T/s/users.json" token_sha256
[ "$(stat -c %a "$T/s/users.json")" = 600 ] || fail "users.json is not private: $(stat -c %a "$T/s/users.json")"

expect_status 0 kura user ls "$T/s"
printf '山田花子\tauditor\t治験A,trial-B\t' >"$T/want"
head -n 1 "$OUT" | grep -qF -- "$(cat "$T/want")" || fail "ls: $(cat "$OUT")"
grep -q $'^ops\tadmin\tall\t' "$OUT" || fail "ls: an account of every collection says all: $(cat "$OUT")"
expect_status 0 kura user ls "$T/s" --json
py "import json,sys; a=json.load(open('$OUT')); assert [u['name'] for u in a]==['山田花子','ops'], a; assert a[0]['collections']==['治験A','trial-B'], a; assert 'token_sha256' not in a[0], a"

# refusals: nothing written
cp "$T/s/users.json" "$T/before"
expect_error 2 kura user add "$T/s" 山田花子 --role admin
expect_grep "$ERR" "kura user remove"
expect_error 2 kura user add "$T/s" eve --role root
expect_grep "$ERR" "admin, archivist, approver and auditor"
expect_error 2 kura user add "$T/s" $'eve\tOK' --role admin
expect_error 2 kura user add "$T/s" eve
expect_error 2 kura user add "$T/s" eve --role admin --collection ''
cmp -s "$T/before" "$T/s/users.json" || fail "a refused add changed users.json"
expect_error 1 kura user remove "$T/s" nobody
expect_grep "$ERR" "kura user ls"

# removal, and the audit trail of all of it with its actors
expect_status 0 kura user remove "$T/s" 山田花子 --actor 管理者
expect_status 0 kura user ls "$T/s" --json
py "import json; a=json.load(open('$OUT')); assert [u['name'] for u in a]==['ops'], a"
expect_status 0 kura log "$T/s" --json
py "
import json
recs=[r for r in json.load(open('$OUT')) if r.get('action','').startswith('user-')]
assert [(r['action'], r['name'], r['actor']) for r in recs][0]==('user-add','山田花子','管理者'), recs
assert [r['action'] for r in recs]==['user-add','user-add','user-remove'], recs
assert recs[0]['role']=='auditor' and recs[0]['collections']==['治験A','trial-B'], recs[0]
assert not any('token' in k for r in recs for k in r), recs
"

# a users.json damaged behind kura's back is named, and the store still works
echo '{"kura-users": 1, "users": [' >"$T/s/users.json"
expect_error 3 kura user ls "$T/s"
expect_grep "$ERR" "users.json is damaged"
echo doc >"$T/doc.txt"
expect_status 0 kura ingest "$T/s" --no-seal "$T/doc.txt"

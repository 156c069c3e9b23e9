#!/usr/bin/env bash
# Accounts while kura serve runs (issue 17): an admin adds, lists and removes accounts and
# binds client certificates through the API (UserAdd, UserList, UserRemove, UserCert); the
# new token signs in at once and a removed one is refused at once; every other role gets
# 403, an admin limited to collections too, a missing or wrong token 401, each an audit
# record; no answer, log line or audit record holds a token's hash (nor a token but the
# new one, once, in UserAdd's answer). `kura user add/remove/cert` and other writing
# commands fail at once while the service holds the store, naming it and the API
# operation, instead of waiting for ever; `kura user ls` works beside it.
source "$(dirname "$0")/serve_lib.sh"

kura init s >/dev/null 2>&1 || fail init
add_user() { kura user add s "$@" 2>/dev/null || fail "user add $*"; }
ADMIN=$(add_user 管理者 --role admin)
ADMIN_A=$(add_user admin-a --role admin --collection trialA)
ARCH=$(add_user arch --role archivist)
APPR=$(add_user appr --role approver)
AUD=$(add_user aud --role auditor)

start_serve srv "" 127.0.0.1:0 s
API=${SERVER_URL}api/v1
: >answers # every answer of the service, for the search for hashes at the end

# call TOKEN METHOD PATH [curl args...]: body in $OUT, status in $CODE
call()
{
	local tok=$1 method=$2 path=$3
	shift 3
	CODE=$(curl -s -o "$OUT" -w '%{http_code}' -X "$method" ${tok:+-H "Authorization: Bearer $tok"} "$@" "$API/$path")
	cat "$OUT" >>answers
}
jcall() { call "$1" POST "$2" -H 'Content-Type: application/json' --data-binary "$3"; }

# the CLI fails at once while the service holds the store (it used to wait for ever)
start=$SECONDS
expect_error 3 timeout 30 "$KURA_BIN" user add s late --role auditor
expect_grep "$ERR" "kura serve on ${SERVER_URL}"
expect_grep "$ERR" "POST /api/v1/UserAdd"
expect_error 3 timeout 30 "$KURA_BIN" user remove s aud
expect_grep "$ERR" "POST /api/v1/UserRemove"
echo doc >doc.txt
expect_error 3 timeout 30 "$KURA_BIN" ingest s --no-seal doc.txt
expect_grep "$ERR" "kura serve on ${SERVER_URL}"
[ $((SECONDS - start)) -lt 20 ] || fail "the refusals took $((SECONDS - start)) s"
expect_status 0 timeout 30 "$KURA_BIN" user ls s # reading works beside it
grep -q $'^aud\tauditor\t' "$OUT" || fail "user ls while serving: $(cat "$OUT")"

# UserAdd: 201 with the token once; it signs in at once
jcall "$ADMIN" UserAdd '{"name": "新人", "role": "auditor", "collections": ["trialA"]}'
expect_code 201 "UserAdd by an admin"
NEW=$(py "import json; d=json.load(open('$OUT')); assert d['role']=='auditor' and d['collections']==['trialA'], d; print(d['token'])")
[[ $NEW =~ ^kura_[0-9a-f]{64}$ ]] || fail "UserAdd's token: '$NEW'"
call "$NEW" GET RetrieveInfo
expect_code 200 "RetrieveInfo with the new account's token"
jcall "$ADMIN" UserAdd '{"name": "新人", "role": "admin"}'
expect_code 409 "UserAdd of an existing name"
expect_grep "$OUT" "(UserRemove)"
jcall "$ADMIN" UserAdd '{"name": "eve", "role": "root"}'
expect_code 400 "UserAdd with no such role"
expect_grep "$OUT" "admin, archivist, approver and auditor"
jcall "$ADMIN" UserAdd '{"name": "eve", "role": "auditor", "collections": [""]}'
expect_code 400 "UserAdd with an empty collection"
jcall "$ADMIN" UserAdd 'not json'
expect_code 400 "UserAdd with a body that is not JSON"

# UserList: every account, no token and no hash
call "$ADMIN" GET UserList
expect_code 200 "UserList by an admin"
py "
import json
d=json.load(open('$OUT'))
names=[u['name'] for u in d['users']]
assert names==['管理者','admin-a','arch','appr','aud','新人'], names
assert not any('token' in k or 'sha' in k for u in d['users'] for k in u), d
"

# UserCert: a client certificate bound to an account, its SHA-256 answered
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout c.key -out c.pem -days 30 \
	-subj "/CN=aud client" >/dev/null 2>&1 || fail "openssl req"
want=$(openssl x509 -in c.pem -outform DER | sha256sum | cut -d' ' -f1)
jcall "$ADMIN" UserCert "$(py "import json; print(json.dumps({'name': 'aud', 'certificate': open('c.pem').read()}))")"
expect_code 200 "UserCert by an admin"
py "import json; d=json.load(open('$OUT')); assert d['sha256']=='$want', d"
jcall "$ADMIN" UserCert '{"name": "aud", "certificate": "not PEM"}'
expect_code 400 "UserCert without a certificate"
expect_status 0 kura user ls s --json
py "import json; a={u['name']: u for u in json.load(open('$OUT'))}; assert a['aud']['certificate']['sha256']=='$want', a['aud']"

# every other role is refused (403), as is an admin limited to collections; no token: 401
for who in ARCH APPR AUD NEW ADMIN_A; do
	tok=${!who}
	jcall "$tok" UserAdd '{"name": "x-'"$who"'", "role": "admin"}'
	expect_code 403 "UserAdd by $who"
	call "$tok" GET UserList
	expect_code 403 "UserList by $who"
	jcall "$tok" UserRemove '{"name": "管理者"}'
	expect_code 403 "UserRemove by $who"
	jcall "$tok" UserCert '{"name": "aud", "certificate": "x"}'
	expect_code 403 "UserCert by $who"
done
for path in UserAdd UserRemove UserCert; do
	jcall "" "$path" '{"name": "x", "role": "admin"}'
	expect_code 401 "$path without a token"
	jcall "kura_$(printf '0%.0s' {1..64})" "$path" '{"name": "x", "role": "admin"}'
	expect_code 401 "$path with a wrong token"
done
call "" GET UserList
expect_code 401 "UserList without a token"

# UserRemove: the removed account's token is refused at once
jcall "$ADMIN" UserRemove '{"name": "新人"}'
expect_code 200 "UserRemove by an admin"
call "$NEW" GET RetrieveInfo
expect_code 401 "the removed account's token"
jcall "$ADMIN" UserRemove '{"name": "新人"}'
expect_code 404 "UserRemove of an account that is not there"
expect_grep "$OUT" "(UserList lists them)"
expect_status 0 kura user ls s --json
py "import json; a=[u['name'] for u in json.load(open('$OUT'))]; assert '新人' not in a and 'x-ARCH' not in a, a"

# the audit trail: each change by its admin, each refusal with its account
expect_status 0 kura log s --json
cp "$OUT" log.json
py "
import json
recs=json.load(open('log.json'))
ch=[(r['action'], r['name'], r['actor']) for r in recs if r.get('action','').startswith('user-') and r['actor']=='管理者']
assert ch==[('user-add','新人','管理者'), ('user-cert','aud','管理者'), ('user-remove','新人','管理者')], ch
api=[(r['actor'], r['path'], r['status']) for r in recs if r.get('action')=='api' and r.get('path','').startswith('/api/v1/User')]
for who in ['arch','appr','aud','新人','admin-a']:
    for p in ['UserAdd','UserList','UserRemove','UserCert']:
        assert (who, '/api/v1/'+p, 403) in api, (who, p, api)
for p in ['UserAdd','UserList','UserRemove','UserCert']:
    assert ('anonymous', '/api/v1/'+p, 401) in api, (p, api)
assert ('管理者', '/api/v1/UserAdd', 201) in api and ('管理者', '/api/v1/UserRemove', 200) in api, api
"

stop_all_servers
[ ! -e s/holder.json ] || fail "the service left s/holder.json behind"

# no token's hash anywhere but users.json, and no token at all but the new one in its answer
for tok in "$ADMIN" "$ADMIN_A" "$ARCH" "$APPR" "$AUD" "$NEW"; do
	h=$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)
	for f in answers srv.err srv.out log.json; do
		if grep -qF -- "$h" "$f"; then fail "a token's hash is in $f"; fi
		if [ "$tok" != "$NEW" ] && grep -qF -- "${tok#kura_}" "$f"; then fail "a token is in $f"; fi
	done
	if grep -qF -- "${NEW#kura_}" srv.err; then fail "the new token is in the service's log"; fi
done
[ "$(grep -cF -- "${NEW#kura_}" answers)" = 1 ] || fail "the new token is in more than UserAdd's answer"

# once it stops, the CLI writes again; after a kill -9, the note it leaves does not stop it
expect_status 0 timeout 30 "$KURA_BIN" user add s late --role auditor
start_serve srv2 "" 127.0.0.1:0 s
kill -KILL "$SERVER_PID" 2>/dev/null
{ wait "$SERVER_PID"; } 2>/dev/null || true
sed -i "/^$SERVER_PID\$/d" "$SERVERS_FILE"
[ -e s/holder.json ] || fail "the service wrote no s/holder.json"
expect_status 0 timeout 30 "$KURA_BIN" user remove s late
[ ! -e s/holder.json ] || fail "a stale s/holder.json was left after a writer opened the store"

# kura status says whose round it was: kura serve's scheduler's, not the daemon's
expect_status 0 kura init s3 --tsa-url "http://127.0.0.1:$(closed_port)/"
expect_status 0 kura ingest s3 --no-seal doc.txt
start_serve srv3 "" 127.0.0.1:0 s3 --seal-every 1
for ((i = 0; i < 300; i++)); do
	grep -q '"failed"' s3/state.json 2>/dev/null && break
	sleep 0.1
done
stop_all_servers
expect_status 1 kura status s3
expect_grep "$OUT" "kura serve: last round"
expect_grep "$OUT" "kura serve's scheduler's last round"
if grep -q "daemon" "$OUT"; then fail "kura status names the daemon for kura serve's round: $(cat "$OUT")"; fi

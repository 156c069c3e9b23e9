# A real test PKI for tests/cli/test_signatures.sh, built with `openssl ca`, sourced after lib.sh.
#
#   root CA (20 years) -> intermediate CA (10 years; its status: the root's CRL, served over HTTP
#   from its CRL distribution point) -> signers (one year; their status: the intermediate's
#   OCSP responder, `openssl ocsp -port`, named in their AIA). Both ports are fixed when
#   pki_init runs, because the certificates name them.
#
#   pki_init DIR OCSP_PORT CRL_PORT   the CAs, the OCSP responder's certificate, empty CRLs
#   pki_signer NAME                   DIR/NAME.pem, DIR/NAME.key: a signer's certificate and key
#   pki_tsa NAME                      the same for a TSA (critical EKU timeStamping, OCSP in its AIA)
#   pki_revoke NAME [REASON]          revokes NAME (now; keyCompromise unless REASON), publishes
#                                     fresh CRLs and restarts a running OCSP responder
#   pki_sign NAME DOC OUT [attached]  a CMS signature by NAME over DOC (detached, or attached)
#   start_ocsp / start_crl_server     the responders, in the background (stopped at exit)

PKI=

_pki_conf()
{
	local name=$1
	cat <<CONF
[ca]
default_ca = this
[this]
dir = $PKI/$name
database = \$dir/index.txt
new_certs_dir = \$dir/certs
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $PKI/$name.pem
private_key = $PKI/$name.key
default_md = sha256
default_crl_days = 3650
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
organizationName = optional
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_inter]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://127.0.0.1:$CRL_PORT/root.crl
[v3_signer]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$OCSP_PORT/
[v3_tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$OCSP_PORT/
[v3_ocsp]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
[v3_server]
basicConstraints = critical, CA:false
keyUsage = critical, keyEncipherment
CONF
}

_pki_ca_dir()
{
	mkdir -p "$PKI/$1/certs"
	: >"$PKI/$1/index.txt"
	echo 1000 >"$PKI/$1/serial"
	echo 1000 >"$PKI/$1/crlnumber"
	_pki_conf "$1" >"$PKI/$1.cnf"
}

# _pki_issue CA NAME CN EXT DAYS_BEFORE DAYS_AFTER
_pki_issue()
{
	local ca=$1 name=$2 cn=$3 ext=$4
	local start end
	start=$(date -u -d "-$5 days" +%Y%m%d%H%M%SZ)
	end=$(date -u -d "+$6 days" +%Y%m%d%H%M%SZ)
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$PKI/$name.key" \
		-subj "/CN=$cn/O=kura test PKI" -out "$PKI/$name.csr" 2>/dev/null
	openssl ca -batch -config "$PKI/$ca.cnf" -extfile "$PKI/$ca.cnf" -extensions "$ext" -startdate "$start" \
		-enddate "$end" -in "$PKI/$name.csr" -out "$PKI/$name.pem" -notext >/dev/null 2>&1 ||
		fail "openssl ca could not issue $name"
}

pki_init()
{
	PKI=$1 OCSP_PORT=$2 CRL_PORT=$3
	mkdir -p "$PKI/www"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$PKI/root.key" \
		-subj "/CN=kura test root CA/O=kura test PKI" -days 7300 -out "$PKI/root.pem" \
		-addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	_pki_ca_dir root
	_pki_issue root inter "kura test signing CA" v3_inter 1 3650
	_pki_ca_dir inter
	_pki_issue inter ocsp "kura test OCSP responder" v3_ocsp 1 3650
	pki_publish
}

pki_publish()
{
	openssl ca -batch -config "$PKI/root.cnf" -gencrl -out "$PKI/www/root.crl.pem" 2>/dev/null
	openssl crl -in "$PKI/www/root.crl.pem" -outform DER -out "$PKI/www/root.crl"
	openssl ca -batch -config "$PKI/inter.cnf" -gencrl -out "$PKI/inter.crl.pem" 2>/dev/null
}

pki_signer()
{
	_pki_issue inter "$1" "$1" v3_signer 1 365
}

pki_tsa()
{
	_pki_issue inter "$1" "$1" v3_tsa 1 365
}

pki_revoke()
{
	openssl ca -batch -config "$PKI/inter.cnf" -revoke "$PKI/$1.pem" -crl_reason "${2:-keyCompromise}" >/dev/null 2>&1 ||
		fail "openssl ca could not revoke $1"
	pki_publish
	if [ -n "${OCSP_PID:-}" ] && alive "$OCSP_PID"; then # it reads its index only when it starts
		stop_server "$OCSP_PID"
		start_ocsp
	fi
}

pki_sign()
{
	local flags=(-binary -md sha256)
	if [ "${4:-}" = attached ]; then flags+=(-nodetach); fi
	openssl cms -sign -in "$2" -signer "$PKI/$1.pem" -inkey "$PKI/$1.key" -certfile "$PKI/inter.pem" \
		-outform DER -out "$3" "${flags[@]}" || fail "openssl cms could not sign $2"
}

start_ocsp()
{
	openssl ocsp -port "$OCSP_PORT" -index "$PKI/inter/index.txt" -CA "$PKI/inter.pem" -rsigner "$PKI/ocsp.pem" \
		-rkey "$PKI/ocsp.key" -ndays 1 >"$PKI/ocsp.log" 2>&1 &
	OCSP_PID=$!
	echo "$OCSP_PID" >>"$SERVERS_FILE"
	# not probed with a connection: the one-at-a-time responder would wait on it
	local i
	for ((i = 0; i < 250; i++)); do
		grep -q 'waiting for OCSP client' "$PKI/ocsp.log" && return 0
		sleep 0.04
	done
	fail "openssl ocsp did not start: $(cat "$PKI/ocsp.log")"
}

start_crl_server()
{
	"$PYTHON" -m http.server --bind 127.0.0.1 --directory "$PKI/www" "$CRL_PORT" >"$PKI/http.log" 2>&1 &
	echo "$!" >>"$SERVERS_FILE"
	_wait_port "$CRL_PORT" "the CRL server"
}

_wait_port()
{
	local i
	for ((i = 0; i < 250; i++)); do
		py "import socket,sys
s = socket.socket()
sys.exit(0 if s.connect_ex(('127.0.0.1', $1)) == 0 else 1)" && return 0
		sleep 0.04
	done
	fail "$2 did not listen on port $1"
}

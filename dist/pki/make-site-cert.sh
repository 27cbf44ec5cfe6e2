#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# make-site-cert.sh: the certificates of an ivgmp VPN, with the openssl CLI.
#
#   make-site-cert.sh [-d DIR] [--days N] ca [NAME]
#   make-site-cert.sh [-d DIR] [--days N] [--force] server HOST [HOST ...]
#   make-site-cert.sh [-d DIR] [--days N] [--force] site SITE_ID [--csr FILE]
#   make-site-cert.sh [-d DIR] [--days N] [--force] admin
#   make-site-cert.sh [-d DIR] [--days N] revoke SITE_ID
#   make-site-cert.sh [-d DIR] [--days N] crl
#
# What vnocd and ivgmpd expect (doc/vnocd.rst "Who is who", doc/operations.rst):
#
#   ca      DIR/ca.key, DIR/ca.crt: the CA. vnocd's --client-ca (it signs the
#           site certificates) and every site's vnoc-ca (it signs the VNOC's).
#           ca.key stays on the machine that issues certificates.
#   server  DIR/vnoc-HOST.key, DIR/vnoc-HOST.crt: the VNOC's certificate
#           (vnocd --cert/--key), extended key usage serverAuth, one
#           subjectAltName per HOST (an IPv4 address or a DNS name). ivgmpd
#           checks the host of its vnoc-url against them (libcurl,
#           CURLOPT_SSL_VERIFYHOST 2).
#   site    DIR/site-ID.key, DIR/site-ID.crt: a site's certificate (vnoc-cert,
#           vnoc-key), subject CN = the site id (vnocd takes the site id from
#           it, exactly one CN, [A-Za-z0-9._-]{1,31}), extended key usage
#           clientAuth (vnocd verifies the TLS client purpose). With --csr,
#           signs a request made at the site (its key never travels); the
#           request's subject must be exactly CN=SITE_ID.
#   admin   DIR/admin.key, DIR/admin.crt: the operator (CN admin), who may
#           call ListGroups and GetAccounting.
#   revoke  adds DIR/site-ID.crt to the revoked list (DIR/crl-index.txt) and
#           writes DIR/sites.crl anew: vnocd's --crl (reloaded on SIGHUP).
#   crl     writes DIR/sites.crl anew from the list (renew it before it
#           expires: --days, 30 by default).
#
# Keys are EC P-256, written mode 0600. Existing files are never overwritten
# unless --force (a CA never). Defaults: 3650 days for the CA, 397 for
# the others. Needs openssl 1.1.1 or later.

set -eu
umask 077

prog=$(basename "$0")
dir=.
days=
force=0

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	sed -n '6,11p' "$0" | sed 's/^# *//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	-d) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
	--days) [ $# -ge 2 ] || usage; days=$2; shift 2 ;;
	--force) force=1; shift ;;
	-h|--help) usage ;;
	-*) die "unknown option '$1'" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
command=$1
shift

if [ -n "$days" ]; then
	case "$days" in
	''|*[!0-9]*) die "--days '$days' is not a number of days" ;;
	esac
	[ "$days" -ge 1 ] || die "--days must be 1 or more"
fi
command -v openssl >/dev/null || die "openssl not found"

ca_key=$dir/ca.key
ca_crt=$dir/ca.crt
cnf=$(mktemp)
csr=$(mktemp)
trap 'rm -f "$cnf" "$csr" "$cnf.san"' EXIT

# The extensions of each kind of certificate.
cat > "$cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
subjectAltName = @san
EOF

no_clobber() {
	for f in "$@"; do
		if [ -e "$f" ] && [ "$force" -eq 0 ]; then
			die "$f exists (--force to replace it)"
		fi
	done
}

need_ca() {
	if [ ! -r "$ca_key" ] || [ ! -r "$ca_crt" ]; then
		die "no CA in $dir (make one with: $prog -d $dir ca)"
	fi
}

new_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ||
		die "cannot write the key $1"
	chmod 600 "$1"
}

# sign CSR CERT KIND: the CA signs CSR with the extensions of KIND.
sign() {
	# A random positive 127-bit serial number (RFC 5280 4.1.2.2: unique per CA).
	local serial
	serial=$(openssl rand -hex 16)
	serial=$(printf '%x%s' $((0x${serial:0:1} & 7)) "${serial:1}")
	openssl x509 -req -in "$1" -CA "$ca_crt" -CAkey "$ca_key" -set_serial "0x$serial" \
		-days "${days:-397}" -sha256 -extfile "$cnf" -extensions "$3" -out "$2" \
		2>/dev/null || die "openssl could not sign $2"
	chmod 644 "$2"
	echo "$2: $(openssl x509 -in "$2" -noout -subject -enddate -nameopt RFC2253 | paste -sd ' ')"
}

# leaf NAME CN KIND: a new key and a certificate for CN.
leaf() {
	new_key "$dir/$1.key"
	openssl req -new -config "$cnf" -key "$dir/$1.key" -subj "/CN=$2" -out "$csr" ||
		die "openssl could not make the request for $2"
	sign "$csr" "$dir/$1.crt" "$3"
}

valid_site_id() {
	# vnoc_site_id_valid(): 1 to 31 letters, digits, '.', '_' or '-'.
	[ ${#1} -ge 1 ] && [ ${#1} -le 31 ] && [ -z "$(printf '%s' "$1" | tr -d 'A-Za-z0-9._-')" ]
}

case "$command" in
ca)
	[ $# -le 1 ] || usage
	name=${1:-ivgmp-ca}
	case "$name" in
	*/*|*=*|'') die "CA name '$name': no '/' or '='" ;;
	esac
	if [ -e "$ca_key" ] || [ -e "$ca_crt" ]; then
		die "$dir already holds a CA; it is never replaced"
	fi
	mkdir -p "$dir"
	new_key "$ca_key"
	openssl req -new -x509 -config "$cnf" -extensions ca -key "$ca_key" -subj "/CN=$name" \
		-days "${days:-3650}" -sha256 -out "$ca_crt" || die "openssl could not make the CA"
	chmod 644 "$ca_crt"
	echo "$ca_crt: $(openssl x509 -in "$ca_crt" -noout -subject -enddate -nameopt RFC2253 | paste -sd ' ')"
	echo "keep $ca_key off the VNOC and the sites"
	;;
server)
	[ $# -ge 1 ] || usage
	need_ca
	host=$1
	case "$host" in
	*/*|.*|'') die "'$host' is not a host name" ;;
	esac
	no_clobber "$dir/vnoc-$host.key" "$dir/vnoc-$host.crt"
	{
		echo "[san]"
		ip=0
		dns=0
		for h in "$@"; do
			if printf '%s' "$h" | grep -Eq '^[0-9]{1,3}(\.[0-9]{1,3}){3}$'; then
				ip=$((ip + 1))
				echo "IP.$ip = $h"
			elif printf '%s' "$h" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$'; then
				dns=$((dns + 1))
				echo "DNS.$dns = $h"
			else
				die "'$h' is neither an IPv4 address nor a DNS name"
			fi
		done
	} > "$cnf.san"
	cat "$cnf.san" >> "$cnf"
	leaf "vnoc-$host" "$host" server
	;;
site)
	[ $# -eq 1 ] || [ $# -eq 3 ] || usage
	id=$1
	valid_site_id "$id" || die "site id '$id' must be 1 to 31 letters, digits, '.', '_' or '-'"
	[ "$id" != admin ] || die "'admin' is the operator, not a site (use: $prog admin)"
	need_ca
	if [ $# -eq 3 ]; then
		[ "$2" = --csr ] || usage
		no_clobber "$dir/site-$id.crt"
		openssl req -in "$3" -noout -verify 2>/dev/null || die "$3: not a valid request"
		subject=$(openssl req -in "$3" -noout -subject -nameopt RFC2253)
		[ "$subject" = "subject=CN=$id" ] ||
			die "$3: the subject is '${subject#subject=}', not 'CN=$id'"
		sign "$3" "$dir/site-$id.crt" client
	else
		no_clobber "$dir/site-$id.key" "$dir/site-$id.crt"
		leaf "site-$id" "$id" client
	fi
	;;
admin)
	[ $# -eq 0 ] || usage
	need_ca
	no_clobber "$dir/admin.key" "$dir/admin.crt"
	leaf admin admin client
	;;
revoke)
	[ $# -eq 1 ] || usage
	need_ca
	crt=$dir/site-$1.crt
	[ -r "$crt" ] || die "no $crt to revoke"
	serial=$(openssl x509 -in "$crt" -noout -serial | cut -d= -f2)
	index=$dir/crl-index.txt
	touch "$index"
	if ! grep -q "	$serial	" "$index"; then
		# openssl ca's database: R, expiry, revocation time, serial, file, subject.
		printf 'R\t%s\t%s\t%s\tunknown\t/CN=%s\n' \
			"$(date -u -d "$(openssl x509 -in "$crt" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)" \
			"$(date -u +%y%m%d%H%M%SZ)" "$serial" "$1" >> "$index"
	fi
	echo "$crt: serial $serial revoked"
	;&
crl)
	[ "$command" = revoke ] || [ $# -eq 0 ] || usage
	need_ca
	index=$dir/crl-index.txt
	touch "$index"
	printf '[ca]\ndefault_ca = sites\n[sites]\ndatabase = %s\ndefault_md = sha256\n' \
		"$index" > "$cnf"
	openssl ca -batch -gencrl -config "$cnf" -cert "$ca_crt" -keyfile "$ca_key" \
		-crldays "${days:-30}" -out "$dir/sites.crl" 2>/dev/null ||
		die "openssl could not write $dir/sites.crl"
	chmod 644 "$dir/sites.crl"
	echo "$dir/sites.crl: $(grep -c '^R' "$index") revoked, next update" \
		"$(openssl crl -in "$dir/sites.crl" -noout -nextupdate | cut -d= -f2)"
	;;
*)
	die "unknown command '$command' (ca, server, site, admin, revoke, crl)"
	;;
esac

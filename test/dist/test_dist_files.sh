#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_dist_files.sh SOURCE_ROOT IVGMPD VNOCD
#
# What dist/ ships works the way doc/operations.rst says:
#
#   units    dist/systemd/*.service, with the paths filled in as meson
#            install does, pass `systemd-analyze verify`;
#   pki      dist/pki/make-site-cert.sh makes a CA, a VNOC certificate and
#            site certificates that `openssl verify` accepts for their
#            purpose (and not for the other), CN = site id; it refuses what
#            vnocd would refuse; its CRL revokes the site named and no other;
#   configs  dist/ivgmp/site.conf.example and every configuration in
#            doc/operations.rst marked ".. test-dist: ivgmpd-config" start
#            ivgmpd (net_null ports: the file is read, the ports are found);
#            a bad line stops it with FILE:LINE: reason;
#   policy   dist/ivgmp/policy.example passes `vnocd check-policy`, a bad
#            one does not;
#   run      vnocd started with the command line of vnocd.service, ivgmpd
#            with that of ivgmpd@.service (the .eal read as the unit reads
#            it), the certificates from make-site-cert.sh and the example
#            configuration and policy: the site registers over TLS and is
#            granted its group; a certificate from another CA, none, or the
#            server's own gets 403; `systemctl reload` (ExecReload) reloads a
#            good policy and refuses a bad one.
#
# Exit 0 when all passed, 1 when anything failed, 77 (meson: skipped) when
# everything that ran passed but systemd-analyze or curl was missing, so
# that part was not checked. Runs as root or not (EAL --no-huge --no-pci).

set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 SOURCE_ROOT IVGMPD VNOCD" >&2
	exit 2
fi
src=$(cd "$1" && pwd)
ivgmpd=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
vnocd=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
SKIP=77

if ! command -v openssl >/dev/null; then
	echo "skipped: openssl missing"
	exit $SKIP
fi

failed=0
skipped=""
pids=""
prefixes=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ivgmp-dist.XXXXXX")

# shellcheck disable=SC2317   # called by the trap
cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for p in $prefixes; do
		rm -rf "/var/run/dpdk/$p" "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/$p" "/tmp/dpdk/$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failed=1; }
skip() { echo "skip: $*"; skipped="$skipped $1"; }
# check WHAT COMMAND...: WHAT holds when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
# check_not WHAT COMMAND...: WHAT holds when COMMAND fails.
check_not() {
	local what=$1
	shift
	if "$@"; then fail "$what"; else pass "$what"; fi
}

# ---- units: configured as dist/meson.build does, for this build ----------

mkdir -p "$tmp/bin" "$tmp/etc/ivgmp" "$tmp/units" "$tmp/state/vnocd" "$tmp/cred"
ln -s "$ivgmpd" "$tmp/bin/ivgmpd"
ln -s "$vnocd" "$tmp/bin/vnocd"
for unit in ivgmpd@.service vnocd.service; do
	sed -e "s#@BINDIR@#$tmp/bin#g" -e "s#@SYSCONFDIR@#$tmp/etc#g" \
		"$src/dist/systemd/$unit" > "$tmp/units/$unit"
	if grep -n '@[A-Z_]*@' "$tmp/units/$unit"; then
		fail "$unit: a @VARIABLE@ that dist/meson.build does not fill in"
	fi
done
inst=distcheck-$$
ln -s ivgmpd@.service "$tmp/units/ivgmpd@$inst.service"

if command -v systemd-analyze >/dev/null; then
	for unit in vnocd.service ivgmpd@.service "ivgmpd@$inst.service"; do
		# Unknown keys are only warnings to systemd: any output is a failure.
		out=$(cd "$tmp/units" && systemd-analyze verify "./$unit" 2>&1)
		rc=$?
		if [ $rc -ne 0 ] || [ -n "$out" ]; then
			fail "systemd-analyze verify $unit (exit $rc): $out"
		else
			pass "systemd-analyze verify $unit"
		fi
	done
else
	skip systemd-analyze "systemd-analyze missing: units not verified"
fi

# ExecStart / ExecReload of a unit as the shell words systemd would run:
# specifiers (%i %d %S %%) and $$ replaced; $VAR is left to `eval set --`,
# which splits it as systemd splits a lone $VAR.
unit_command() {   # unit key n
	sed -n "s/^$2=//p" "$tmp/units/$1" | sed -n "${3}p" |
		sed -e "s/%i/$inst/g" -e "s#%d#$tmp/cred#g" -e "s#%S#$tmp/state#g" \
		    -e 's/%%/%/g' -e 's/\$\$/$/g'
}

# ---- pki --------------------------------------------------------------------

pki=$tmp/pki
mkpki() { "$src/dist/pki/make-site-cert.sh" "$@" > "$tmp/pki.log" 2>&1; }
if mkpki -d "$pki" ca && mkpki -d "$pki" server localhost 127.0.0.1 &&
	mkpki -d "$pki" site paris-1 && mkpki -d "$pki" admin &&
	mkpki -d "$tmp/other" ca && mkpki -d "$tmp/other" site paris-1; then
	pass "make-site-cert.sh ca, server, site, admin"
else
	fail "make-site-cert.sh: $(cat "$tmp/pki.log")"
fi
site_crt=$pki/site-paris-1.crt
site_key=$pki/site-paris-1.key
server_crt=$pki/vnoc-localhost.crt

verify() {   # purpose cert [CA]
	openssl verify -CAfile "${3:-$pki/ca.crt}" -purpose "$1" "$2" > /dev/null 2>&1
}
check "site certificate verifies as a TLS client (openssl verify -purpose sslclient)" \
	verify sslclient "$site_crt"
check "admin certificate verifies as a TLS client" verify sslclient "$pki/admin.crt"
check "VNOC certificate verifies as a TLS server" verify sslserver "$server_crt"
check_not "a site certificate is not a server certificate" verify sslserver "$site_crt"
check_not "the VNOC certificate is not a client certificate" verify sslclient "$server_crt"
check_not "another CA's site certificate does not verify" \
	verify sslclient "$tmp/other/site-paris-1.crt"
subject=$(openssl x509 -in "$site_crt" -noout -subject -nameopt RFC2253 2>/dev/null)
check "site certificate subject is CN=paris-1 (got '$subject')" \
	[ "$subject" = "subject=CN=paris-1" ]
san=$(openssl x509 -in "$server_crt" -noout -ext subjectAltName 2>&1 | tr -s ' \n' ' ')
check "VNOC certificate names its hosts (got: $san)" \
	grep -q 'DNS:localhost, IP Address:127.0.0.1' <<< "$san"
mode=$(stat -c %a "$site_key")
check "site key is mode 600 (got $mode)" [ "$mode" = 600 ]
for bad in "site admin" "site bad/id" "site abcdefghijabcdefghijabcdefghij12" "site paris-1" "ca"; do
	# shellcheck disable=SC2086   # words on purpose
	if mkpki -d "$pki" $bad; then
		fail "make-site-cert.sh $bad was accepted"
	else
		pass "make-site-cert.sh $bad is refused: $(tail -n1 "$tmp/pki.log")"
	fi
done
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/lyon.key" \
	-subj /CN=lyon-2 -out "$tmp/lyon.csr" > /dev/null 2>&1
if mkpki -d "$pki" site lyon-2 --csr "$tmp/lyon.csr" && verify sslclient "$pki/site-lyon-2.crt" &&
	[ ! -e "$pki/site-lyon-2.key" ]; then
	pass "make-site-cert.sh signs a site's request"
else
	fail "make-site-cert.sh site lyon-2 --csr: $(cat "$tmp/pki.log")"
fi
check_not "a request is signed only for the site it names" \
	mkpki -d "$pki" site lille-3 --csr "$tmp/lyon.csr"
crl_verify() { openssl verify -crl_check -CRLfile "$pki/sites.crl" -CAfile "$pki/ca.crt" "$1" \
	> /dev/null 2>&1; }
if mkpki -d "$pki" site lille-3 && mkpki -d "$pki" revoke lille-3 &&
	! crl_verify "$pki/site-lille-3.crt" && crl_verify "$site_crt" &&
	mkpki -d "$pki" revoke lille-3 && mkpki -d "$pki" crl &&
	[ "$(grep -c '^R' "$pki/crl-index.txt")" -eq 1 ] && ! crl_verify "$pki/site-lille-3.crt"; then
	pass "make-site-cert.sh revoke: lille-3 fails openssl verify -crl_check, paris-1 passes"
else
	fail "make-site-cert.sh revoke / crl: $(cat "$tmp/pki.log")"
fi

# ---- configurations -----------------------------------------------------

# ivgmpd on two net_null ports (no traffic: it exits after --idle-exit).
# The file is parsed whole before any port is looked up.
ivgmpd_parse() {   # name config
	# A file prefix of its own; its runtime directory goes at the end.
	local prefix="distcheck-$$-$1"
	prefixes="$prefixes $prefix"
	# As doc/operations.rst tries a file: no NIC, no VNOC (a closed port).
	sed -e 's/^lan-port .*/lan-port net_null0/' -e 's/^wan-port .*/wan-port net_null1/' \
		-e 's#^vnoc-url .*#vnoc-url https://127.0.0.1:9/vnoc#' "$2" > "$tmp/$1.conf"
	timeout 60 "$ivgmpd" --no-huge -m 256 --no-pci --file-prefix "$prefix" -l 0,1 \
		--log-level=warning --vdev net_null0,no-rx=1 --vdev net_null1,no-rx=1 \
		-- --config "$tmp/$1.conf" --idle-exit 100 > "$tmp/$1.out" 2> "$tmp/$1.err"
}

if ivgmpd_parse example "$src/dist/ivgmp/site.conf.example" &&
	grep -q '^ivgmpd: ready' "$tmp/example.out"; then
	pass "ivgmpd starts with dist/ivgmp/site.conf.example"
else
	fail "ivgmpd with site.conf.example: $(cat "$tmp/example.out" "$tmp/example.err")"
fi

# The same file with a bad line: ivgmpd must stop and say where.
cp "$src/dist/ivgmp/site.conf.example" "$tmp/bad-example"
echo "igmp-robustness 9" >> "$tmp/bad-example"
line=$(wc -l < "$tmp/bad-example")
if ivgmpd_parse bad "$tmp/bad-example"; then
	fail "ivgmpd accepted 'igmp-robustness 9'"
elif cat "$tmp/bad.out" "$tmp/bad.err" |
	grep -q "^ivgmpd: $tmp/bad.conf:$line: igmp-robustness '9' is not a number"; then
	pass "a bad line stops ivgmpd with FILE:LINE: reason"
else
	fail "bad line: expected '$tmp/bad.conf:$line: ...', got: $(cat "$tmp/bad.out" "$tmp/bad.err")"
fi

# The configurations of doc/operations.rst: the literal block after each
# ".. test-dist: ivgmpd-config NAME" comment.
doc=$src/doc/operations.rst
names=$(sed -n 's/^\.\. test-dist: ivgmpd-config \([A-Za-z0-9_-]*\)$/\1/p' "$doc")
[ -n "$names" ] || fail "no '.. test-dist: ivgmpd-config' example in doc/operations.rst"
for name in $names; do
	awk -v want="$name" '
		$0 == ".. test-dist: ivgmpd-config " want { state = 1; next }
		state == 1 && /::[ \t]*$/ { state = 2; next }
		state == 2 && /^[ \t]*$/ { if (started) print ""; next }
		state == 2 && /^[ \t]/ { started = 1; sub(/^    /, ""); print; next }
		state == 2 && started { exit }
	' "$doc" > "$tmp/doc-$name"
	if [ ! -s "$tmp/doc-$name" ]; then
		fail "doc/operations.rst example $name: no literal block after its marker"
	elif ivgmpd_parse "doc-$name" "$tmp/doc-$name" && grep -q '^ivgmpd: ready' "$tmp/doc-$name.out"; then
		pass "ivgmpd starts with the example '$name' of doc/operations.rst"
	else
		fail "doc/operations.rst example $name: $(cat "$tmp/doc-$name.out" "$tmp/doc-$name.err")"
	fi
done

# ---- policy ---------------------------------------------------------------

if out=$("$vnocd" check-policy "$src/dist/ivgmp/policy.example" 2>&1); then
	pass "vnocd check-policy policy.example: $out"
else
	fail "vnocd check-policy policy.example: $out"
fi
cp "$src/dist/ivgmp/policy.example" "$tmp/bad-policy"
echo "allow site lyon-2 recieve 239.30.0.0/16" >> "$tmp/bad-policy"
line=$(wc -l < "$tmp/bad-policy")
if out=$("$vnocd" check-policy "$tmp/bad-policy" 2>&1); then
	fail "vnocd check-policy accepted 'recieve'"
elif printf '%s' "$out" | grep -q "^$tmp/bad-policy:$line: 'recieve'"; then
	pass "a bad policy line is refused with FILE:LINE: $out"
else
	fail "bad policy: expected '$tmp/bad-policy:$line: ...', got: $out"
fi

# ---- run: the units' command lines, the PKI, the examples -------------------

cp "$src/dist/ivgmp/policy.example" "$tmp/etc/ivgmp/policy.conf"
cp "$server_crt" "$tmp/cred/vnoc.crt"
cp "$pki/vnoc-localhost.key" "$tmp/cred/vnoc.key"
cp "$pki/ca.crt" "$tmp/cred/ca.crt"

# vnocd.service's ExecStart, on a free loopback port.
vnocd_pid=""
for _ in 1 2 3 4 5; do
	port=$((20000 + (RANDOM % 40000)))
	export VNOCD_OPTS="--listen 127.0.0.1 --port $port"
	eval "set -- $(unit_command vnocd.service ExecStart 1)"
	"$@" 2> "$tmp/vnocd.log" &
	vnocd_pid=$!
	pids="$pids $vnocd_pid"
	for _ in $(seq 50); do
		grep -q "listening on" "$tmp/vnocd.log" && break
		kill -0 "$vnocd_pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "listening on" "$tmp/vnocd.log" && break
	kill "$vnocd_pid" 2>/dev/null
	wait "$vnocd_pid" 2>/dev/null
	vnocd_pid=""
done
if [ -z "$vnocd_pid" ]; then
	fail "vnocd.service's ExecStart did not start vnocd: $(cat "$tmp/vnocd.log")"
else
	pass "vnocd runs with vnocd.service's command line (port $port)"
fi

# Who vnocd lets in: a POST to /vnoc with a body that is not SOAP is a
# BadRequest fault (500) for a valid site, 403 for anyone else.
if [ -z "$vnocd_pid" ]; then
	:
elif ! command -v curl >/dev/null; then
	skip curl "curl missing: vnocd's certificate checks not tried"
else
	post() {
		curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/xml' \
			--data 'not soap' --cacert "$pki/ca.crt" "$@" "https://localhost:$port/vnoc"
	}
	code=$(post --cert "$site_crt" --key "$site_key")
	check "vnocd takes the site certificate (a non-SOAP body: 500, got $code)" [ "$code" = 500 ]
	code=$(post --cert "$tmp/other/site-paris-1.crt" --key "$tmp/other/site-paris-1.key")
	check "vnocd refuses a certificate of another CA (403, got $code)" [ "$code" = 403 ]
	code=$(post --cert "$server_crt" --key "$pki/vnoc-localhost.key")
	check "vnocd refuses its server certificate as a client's (403, got $code)" [ "$code" = 403 ]
	code=$(post)
	check "vnocd refuses a client without a certificate (403, got $code)" [ "$code" = 403 ]
fi

# ivgmpd@.service's ExecStart: the example configuration pointed at this
# vnocd and these certificates, one group to receive, which the example
# policy grants to paris-1.
if [ -n "$vnocd_pid" ]; then
	prefixes="$prefixes $inst"
	cat > "$tmp/etc/ivgmp/$inst.eal" <<-EOF
	# EAL arguments of the test instance ('#' comments are dropped)
	--no-huge -m 256 --no-pci -l 0,1   # no hugepages, no PCI
	--log-level=warning
	--vdev net_null0,no-rx=1 --vdev net_null1,no-rx=1
	EOF
	sed -e 's/^lan-port .*/lan-port net_null0/' -e 's/^wan-port .*/wan-port net_null1/' \
		-e '/^vnoc-url /d' -e "s#^vnoc-ca .*#vnoc-ca $pki/ca.crt#" \
		-e "s#^vnoc-cert .*#vnoc-cert $site_crt#" -e "s#^vnoc-key .*#vnoc-key $site_key#" \
		"$src/dist/ivgmp/site.conf.example" > "$tmp/etc/ivgmp/$inst.conf"
	grep -q '^site-id paris-1$' "$tmp/etc/ivgmp/$inst.conf" ||
		fail "site.conf.example is no longer site paris-1: adapt this test"
	{
		echo "vnoc-url https://localhost:$port/vnoc"
		echo "group 239.1.1.1 receive"
	} >> "$tmp/etc/ivgmp/$inst.conf"
	export IVGMPD_OPTS="--idle-exit 60000"
	eval "set -- $(unit_command ivgmpd@.service ExecStart 1)"
	"$@" > "$tmp/ivgmpd.out" 2> "$tmp/ivgmpd.err" &
	ivgmpd_pid=$!
	pids="$pids $ivgmpd_pid"
	for _ in $(seq 200); do
		grep -q '^ivgmpd: VNOC view [0-9]*: 1 group' "$tmp/ivgmpd.out" && break
		kill -0 "$ivgmpd_pid" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q '^ivgmpd: VNOC view [0-9]*: 1 group' "$tmp/ivgmpd.out" &&
		grep -q 'vnocd: join paris-1 239.1.1.1 receive' "$tmp/vnocd.log"; then
		pass "ivgmpd@.service's command line: registered over TLS, 239.1.1.1 granted"
	else
		fail "ivgmpd did not join through vnocd
--- ivgmpd stdout
$(cat "$tmp/ivgmpd.out")
--- ivgmpd stderr
$(cat "$tmp/ivgmpd.err")
--- vnocd
$(cat "$tmp/vnocd.log")"
	fi
	if [ -S "/var/run/dpdk/$inst/dpdk_telemetry.v2" ] || [ -S "/tmp/dpdk/$inst/dpdk_telemetry.v2" ] ||
		[ -S "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/$inst/dpdk_telemetry.v2" ]; then
		pass "the instance name is the EAL file prefix"
	else
		fail "no telemetry socket under the file prefix $inst"
	fi
	check "ivgmpd still runs when asked to stop" kill -TERM "$ivgmpd_pid"
	wait "$ivgmpd_pid"
	rc=$?
	check "ivgmpd stops on SIGTERM with its report (exit $rc)" \
		grep -q '^ivgmpd: counters' "$tmp/ivgmpd.out"
	check "ivgmpd exits 0 on SIGTERM (got $rc)" [ $rc -eq 0 ]
fi

# vnocd.service's ExecReload: a good policy is reloaded, a bad one refused
# before any signal.
# shellcheck disable=SC2120   # "set --" rewrites the arguments on purpose
reload() {
	local n cmd
	export MAINPID=$vnocd_pid
	for n in 1 2; do
		cmd=$(unit_command vnocd.service ExecReload $n)
		eval "set -- $cmd"
		"$@" > /dev/null 2>&1 || return 1
	done
}
if [ -n "$vnocd_pid" ]; then
	if reload; then
		for _ in $(seq 50); do
			grep -q "policy: reloading" "$tmp/vnocd.log" && break
			sleep 0.1
		done
		check "ExecReload reloads the policy" grep -q "policy: reloading" "$tmp/vnocd.log"
	else
		fail "ExecReload failed with a good policy"
	fi
	cp "$tmp/bad-policy" "$tmp/etc/ivgmp/policy.conf"
	before=$(grep -c "policy:" "$tmp/vnocd.log")
	if reload; then
		fail "ExecReload accepted a bad policy"
	else
		sleep 0.2
		after=$(grep -c "policy:" "$tmp/vnocd.log")
		check "ExecReload refuses a bad policy and leaves vnocd alone" [ "$after" = "$before" ]
	fi
	check "vnocd still runs when asked to stop" kill -TERM "$vnocd_pid"
	wait "$vnocd_pid"
	rc=$?
	check "vnocd exits 0 on SIGTERM (got $rc)" [ $rc -eq 0 ]
fi

if [ $failed -ne 0 ]; then
	echo "FAILED"
	exit 1
fi
if [ -n "$skipped" ]; then
	echo "passed, but not checked:$skipped"
	exit $SKIP
fi
echo "all passed"
exit 0

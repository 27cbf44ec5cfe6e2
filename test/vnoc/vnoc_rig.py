# SPDX-License-Identifier: BSD-3-Clause
"""Test rig for vnocd (suite `vnoc`): a throw-away PKI made with the openssl
CLI, a vnocd on a free loopback port, and a small SOAP 1.1 client written
here from the protocol's description (lib/vnoc/vnoc_msg.c, doc/vnoc.xsd), not
with the project's own codec, so that the two check each other.

Standard library only (python3 from Debian): http.client, ssl, xml.etree.
"""

import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
VNOC_NS = "urn:ivgmp:vnoc:1"
Q = "{%s}" % VNOC_NS


def free_port():
    """A TCP port free on 127.0.0.1 now (bind 0, read, close)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


# ---- PKI ----

LEAF_CNF = """[req]
distinguished_name = dn
[dn]
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
"""


class Pki:
    """A site CA, a server certificate for 127.0.0.1, site certificates
    (CN = site id) and, for the refusal tests, a second CA."""

    def __init__(self, path):
        self.path = path
        self.cnf = os.path.join(path, "leaf.cnf")
        with open(self.cnf, "w") as f:
            f.write(LEAF_CNF)
        self.key = os.path.join(path, "shared.key")
        run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", self.key])
        self.ca = self.make_ca("site-ca")
        self.server_cert = self.issue("server", "vnoc.test", self.ca, "server")
        self.server_key = self.key
        self.sites = {}

    def make_ca(self, name):
        crt = os.path.join(self.path, name + ".crt")
        key = os.path.join(self.path, name + ".key")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", crt, "-subj", "/CN=" + name, "-days", "2"])
        return (crt, key)

    def issue(self, filename, cn, ca, kind="client", key=None):
        """A certificate for cn signed by ca; the key is shared by all
        leaves (fast) unless one is given."""
        crt = os.path.join(self.path, filename + ".crt")
        run(["openssl", "req", "-config", self.cnf, "-extensions", kind, "-new",
             "-key", key or self.key, "-subj", "/CN=" + cn, "-x509", "-CA", ca[0],
             "-CAkey", ca[1], "-days", "2", "-out", crt])
        return crt

    def site(self, name):
        """(cert, key) of site `name`, made on first use."""
        if name not in self.sites:
            self.sites[name] = (self.issue("site-" + name, name, self.ca), self.key)
        return self.sites[name]

    def crl(self, revoked, ca=None, filename="sites.crl"):
        """A PEM CRL signed by ca (the site CA unless given) listing the
        certificates of the sites named in revoked; its path."""
        ca = ca or self.ca
        work = os.path.join(self.path, "crl-" + filename)
        os.makedirs(work, exist_ok=True)
        index = os.path.join(work, "index.txt")
        with open(index, "w") as f:
            for name in revoked:
                serial = run(["openssl", "x509", "-noout", "-serial", "-in",
                              self.site(name)[0]]).stdout.decode().strip().split("=")[1]
                f.write("R\t491231235959Z\t240101000000Z\t%s\tunknown\t/CN=%s\n"
                        % (serial, name))
        cnf = os.path.join(work, "ca.cnf")
        with open(cnf, "w") as f:
            f.write("[ca]\ndefault_ca = site_ca\n[site_ca]\ndatabase = %s\n"
                    "default_md = sha256\ndefault_crl_days = 2\n" % index)
        out = os.path.join(self.path, filename)
        run(["openssl", "ca", "-batch", "-gencrl", "-config", cnf, "-cert", ca[0],
             "-keyfile", ca[1], "-out", out])
        return out

    def sites_bulk(self, names, jobs=8):
        """Many site certificates at once (openssl in parallel)."""
        todo = [n for n in names if n not in self.sites]
        procs = []
        for n in todo:
            crt = os.path.join(self.path, "site-" + n + ".crt")
            procs.append(subprocess.Popen(
                ["openssl", "req", "-config", self.cnf, "-extensions", "client", "-new",
                 "-key", self.key, "-subj", "/CN=" + n, "-x509", "-CA", self.ca[0],
                 "-CAkey", self.ca[1], "-days", "2", "-out", crt]))
            self.sites[n] = (crt, self.key)
            if len(procs) >= jobs:
                for p in procs:
                    assert p.wait() == 0
                procs = []
        for p in procs:
            assert p.wait() == 0


# ---- vnocd ----

def vnocd_path():
    if len(sys.argv) > 1 and os.path.exists(sys.argv[1]):
        return sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    for b in ("build-vnocd", "build"):
        p = os.path.join(here, "..", "..", b, "app", "vnocd", "vnocd")
        if os.path.exists(p):
            return p
    raise SystemExit("vnocd not found: pass its path as the first argument")


class Vnocd:
    def __init__(self, workdir, pki=None, policy="", insecure=False, db=None, extra=()):
        self.workdir = workdir
        self.pki = pki
        self.insecure = insecure
        self.port = free_port()
        self.db = db or os.path.join(workdir, "vnoc.db")
        self.policy = os.path.join(workdir, "policy.conf")
        self.log_path = os.path.join(workdir, "vnocd.log")
        self.extra = list(extra)
        self.proc = None
        if policy is not None:
            self.write_policy(policy)

    def write_policy(self, text):
        with open(self.policy, "w") as f:
            f.write(text)

    def args(self):
        a = [vnocd_path(), "--db", self.db, "--policy", self.policy,
             "--listen", "127.0.0.1", "--port", str(self.port)]
        if self.insecure:
            a.append("--insecure-http")
        else:
            a += ["--cert", self.pki.server_cert, "--key", self.pki.server_key,
                  "--client-ca", self.pki.ca[0]]
        return a + self.extra

    def start(self, timeout=5.0):
        self.log_file = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.args(), stderr=self.log_file, stdout=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("vnocd exited %d:\n%s" % (self.proc.returncode, self.log()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("vnocd did not listen:\n" + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise RuntimeError("vnocd did not stop on signal %d:\n%s" % (sig, self.log()))
        self.proc = None
        self.log_file.close()
        return rc

    def reload(self):
        n = self.log().count("policy:")
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        while time.time() < deadline:
            if self.log().count("policy:") > n:
                time.sleep(0.05)
                return
            time.sleep(0.02)
        raise RuntimeError("no reload logged:\n" + self.log())

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def client(self, site, cert=None, header=None):
        """A client that is `site`: its certificate (TLS) or the header
        (insecure). cert=(crt, key) overrides; cert=False sends none."""
        if self.insecure:
            return Client(self.port, None, None, header if header is not None else site)
        if cert is None:
            cert = self.pki.site(site)
        return Client(self.port, self.pki.ca[0], cert or None, header)

    def __enter__(self):
        return self.start()

    def __exit__(self, kind, value, tb):
        rc = self.stop()
        if kind is None:
            # A clean stop, and nothing a sanitizer build would report.
            log = self.log()
            assert rc == 0, "vnocd exited %d on SIGTERM:\n%s" % (rc, log[-3000:])
            for bad in ("Sanitizer", "runtime error:"):
                assert bad not in log, log[-6000:]

    def sql(self, query):
        out = run(["sqlite3", "-readonly", self.db, query]).stdout.decode()
        return [line.split("|") for line in out.splitlines() if line]


# ---- SOAP client ----

class Fault(Exception):
    def __init__(self, status, code, text, reason):
        super().__init__("HTTP %d %s %s: %s" % (status, code, reason, text))
        self.status = status
        self.code = code
        self.text = text
        self.reason = reason


def envelope(body):
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<soap:Envelope xmlns:soap="%s"><soap:Body>%s</soap:Body></soap:Envelope>'
            % (SOAP_NS, body)).encode()


def element(op, **fields):
    inner = "".join("<%s>%s</%s>" % (k, v, k) for k, v in fields.items())
    return '<%s xmlns="%s">%s</%s>' % (op, VNOC_NS, inner, op)


def roles_text(roles):
    """The wire's roles (RolesType): none, receiver, sender or both."""
    if isinstance(roles, str):
        roles = [roles]
    names = {"send": "sender", "receive": "receiver", "sender": "sender",
             "receiver": "receiver"}
    bits = {names[r] for r in roles}
    if bits == {"sender", "receiver"}:
        return "both"
    return bits.pop() if bits else "none"


def roles_set(wire):
    """The wire's roles as a set of "sender" / "receiver"."""
    return {"both": {"sender", "receiver"}, "none": set(), None: set()}.get(wire, {wire})


def text(el, name, default=None):
    c = el.find(Q + name)
    return c.text if c is not None and c.text is not None else default


def parse_view(v):
    view = {"version": int(text(v, "version")), "groups": [], "sas": []}
    for g in v.findall(Q + "group"):
        view["groups"].append({
            "address": text(g, "address"),
            "saMode": text(g, "saMode"),
            "members": [{"site": text(m, "site"), "wan": text(m, "wanAddress"),
                         "udpEncap": text(m, "udpEncap") == "true",
                         "roles": roles_set(text(m, "roles"))}
                        for m in g.findall(Q + "member")],
        })
    for s in v.findall(Q + "sa"):
        view["sas"].append({
            "direction": text(s, "direction"), "peer": text(s, "peer"),
            "spi": int(text(s, "spi")), "aead": text(s, "aead"), "key": text(s, "key"),
            "salt": text(s, "salt"), "esn": text(s, "esn") == "true",
            "lifetime": int(text(s, "lifetimeSeconds")),
            "group": s.findtext(Q + "group"),       # None: pairwise
        })
    return view


class Client:
    def __init__(self, port, ca, cert, header):
        self.port = port
        self.header = header
        if ca is None:
            self.ctx = None
        else:
            self.ctx = ssl.create_default_context(cafile=ca)
            if cert:
                self.ctx.load_cert_chain(cert[0], cert[1])
        self.conn = None

    def connect(self):
        if self.ctx is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        else:
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                                    context=self.ctx)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def post(self, body, content_type="text/xml; charset=utf-8", timeout=30, path="/vnoc"):
        """One POST on the kept-alive connection (reopened once if the
        server closed it). Returns (status, body bytes)."""
        headers = {"Content-Type": content_type,
                   "SOAPAction": '"%s"' % VNOC_NS}
        if self.header is not None:
            headers["X-Ivgmp-Site"] = self.header
        for attempt in (0, 1):
            if self.conn is None:
                self.connect()
            self.conn.timeout = timeout
            if self.conn.sock is not None:
                self.conn.sock.settimeout(timeout)
            try:
                self.conn.request("POST", path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError, ssl.SSLEOFError) as e:
                # The server closed an idle kept-alive connection.
                self.close()
                if attempt == 1:
                    raise e

    def call(self, op, timeout=30, **fields):
        """op with fields; returns the response element or raises Fault."""
        status, data = self.post(envelope(element(op, **fields)), timeout=timeout)
        return self.answer(op, status, data)

    @staticmethod
    def answer(op, status, data):
        root = ET.fromstring(data)
        body = root.find("{%s}Body" % SOAP_NS)
        fault = body.find("{%s}Fault" % SOAP_NS)
        if fault is not None:
            reason = None
            detail = fault.find("detail")
            if detail is not None:
                r = detail.find(Q + "reason")
                reason = r.text if r is not None else None
            raise Fault(status, fault.findtext("faultcode"), fault.findtext("faultstring"),
                        reason)
        resp = body.find(Q + op + "Response")
        if resp is None or status != 200:
            raise RuntimeError("HTTP %d, no %sResponse: %r" % (status, op, data[:300]))
        return resp

    # The operations.

    def register(self, site, wan, udp_encap=False, software="vnoc-test", fresh_start=None):
        extra = {} if fresh_start is None else {"freshStart": "true" if fresh_start else "false"}
        r = self.call("RegisterSite", site=site, wanAddress=wan,
                      udpEncap="true" if udp_encap else "false", software=software, **extra)
        return {"heartbeat": int(text(r, "heartbeatSeconds")),
                "watchTimeout": int(text(r, "watchTimeoutSeconds")),
                "view": parse_view(r.find(Q + "view"))}

    def join(self, site, group, roles):
        r = self.call("JoinVpn", site=site, group=group, roles=roles_text(roles))
        return roles_set(text(r, "roles")), int(text(r, "version"))

    def leave(self, site, group, roles):
        r = self.call("LeaveVpn", site=site, group=group, roles=roles_text(roles))
        return roles_set(text(r, "roles")), int(text(r, "version"))

    def get_group(self, site, group):
        return parse_view(self.call("GetGroupVpn", site=site, group=group).find(Q + "view"))

    def watch(self, site, since, timeout_s):
        r = self.call("WatchUpdates", timeout=timeout_s + 10, site=site, since=since,
                      timeoutSeconds=timeout_s)
        return parse_view(r.find(Q + "view"))

    def heartbeat(self, site, rx=0, tx=0, drops=0, rekey=()):
        """rekey: SPIs of outbound SAs to replace now (<rekey>, repeated)."""
        body = element("Heartbeat", site=site, rxPackets=rx, txPackets=tx, drops=drops)
        body = body.replace("</drops>", "</drops>" + "".join(
            "<rekey>%d</rekey>" % spi for spi in rekey))
        status, data = self.post(envelope(body))
        r = self.answer("Heartbeat", status, data)
        return int(text(r, "version"))

    def list_groups(self):
        r = self.call("ListGroups")
        return parse_view(r)

    def get_accounting(self, since=0):
        r = self.call("GetAccounting", since=since)
        rows = [{"time": int(text(x, "time")), "site": text(x, "site"),
                 "group": text(x, "group"), "roles": text(x, "roles"),
                 "action": text(x, "action"), "reason": text(x, "reason", "")}
                for x in r.findall(Q + "row")]
        return rows


# ---- running tests ----

def expect_fault(reason, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except Fault as f:
        assert f.reason == reason, "expected %s, got %s" % (reason, f)
        return f
    raise AssertionError("expected a %s fault" % reason)


def main(tests):
    """Runs the named test functions, each with a fresh temp dir; exit 1 on
    any failure. Usage: script [VNOCD] [TEST ...]."""
    names = [a for a in sys.argv[2:]] if len(sys.argv) > 2 else [t.__name__ for t in tests]
    failed = 0
    # A name meson asks for that this file does not run is a failure, not
    # a silent pass.
    unknown = set(names) - {t.__name__ for t in tests}
    for name in sorted(unknown):
        failed += 1
        print("FAIL %s: no such test in %s" % (name, sys.argv[0]), flush=True)
    for t in tests:
        if t.__name__ not in names:
            continue
        with tempfile.TemporaryDirectory(prefix="vnocd-test-") as d:
            t0 = time.time()
            try:
                t(d)
                print("ok   %s (%.2fs)" % (t.__name__, time.time() - t0), flush=True)
            except Exception as e:
                failed += 1
                print("FAIL %s: %s: %s" % (t.__name__, type(e).__name__, e), flush=True)
                log = os.path.join(d, "vnocd.log")
                if os.path.exists(log):
                    with open(log) as f:
                        print("---- vnocd.log\n" + f.read()[-4000:], flush=True)
                import traceback
                traceback.print_exc()
    sys.exit(1 if failed else 0)

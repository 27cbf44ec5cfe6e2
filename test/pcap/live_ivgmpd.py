# SPDX-License-Identifier: BSD-3-Clause
"""
ivgmpd kept running on net_pcap files, for the tests that talk to it while it
runs (telemetry) or choose its EAL options (log levels); pcap_harness's
run_ivgmpd runs it to the end of its input with fixed options.

  LiveIvgmpd(binary, config, lan_in, wan_in, workdir, tag, eal_args)
      .start()            wait for "ivgmpd: ready" on stdout
      .query(command)     one telemetry command over DPDK's v2 socket, the
                          reply's value ({"/ivgmp/info": {...}} -> {...})
      .wait_for(fn)       poll until fn() is true
      .stop()             SIGTERM, wait; (exit code, stdout, stderr)
      .prefix             the EAL file prefix (dpdk-telemetry.py -f PREFIX)

The telemetry socket is a SOCK_SEQPACKET unix socket in the runtime
directory: the server greets with JSON and answers each command with one
JSON message (what usertools/dpdk-telemetry.py does).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from typing import Callable, List, Optional

import pcap_harness as h

RUNTIME_DIR = "/var/run/dpdk"
_runs = 0


class LiveIvgmpd:
    def __init__(self, binary: str, config: h.Config, lan_in, wan_in, workdir: str, tag: str,
                 eal_args: Optional[List[str]] = None):
        global _runs
        _runs += 1
        self.binary = binary
        self.workdir = workdir
        self.prefix = "ivgmp-live-%s-%d-%d" % (tag, os.getpid(), _runs)
        self.eal_args = list(eal_args or [])
        self.proc: Optional[subprocess.Popen] = None
        self.sock: Optional[socket.socket] = None
        self.max_len = 16384
        os.makedirs(workdir, exist_ok=True)
        self.config_path = self.path("site.conf")
        with open(self.config_path, "w") as f:
            f.write(config.text())
        h.write_pcap(self.path("lan_in.pcap"), lan_in)
        h.write_pcap(self.path("wan_in.pcap"), wan_in)

    def path(self, name: str) -> str:
        return os.path.join(self.workdir, name)

    def command(self) -> List[str]:
        return [self.binary, "--no-huge", "-m", "1024", "--no-pci", "--file-prefix", self.prefix,
                "-l", "0,1"] + self.eal_args + [
                "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (self.path("lan_in.pcap"),
                                                               self.path("lan_out.pcap")),
                "--vdev", "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (self.path("wan_in.pcap"),
                                                               self.path("wan_out.pcap")),
                "--", "--config", self.config_path]

    def output(self):
        with open(self.path("stdout")) as out, open(self.path("stderr")) as err:
            return out.read(), err.read()

    def start(self, timeout: float = 20.0) -> None:
        """Start and wait for the ready line; raises HarnessError with the
        output when ivgmpd exits or does not get there."""
        self.proc = subprocess.Popen(self.command(), stdout=open(self.path("stdout"), "w"),
                                     stderr=open(self.path("stderr"), "w"),
                                     stdin=subprocess.DEVNULL)
        if not self.wait_for(lambda: "ivgmpd: ready" in self.output()[0] or
                             self.proc.poll() is not None, timeout) or self.proc.poll() is not None:
            code, out, err = self.stop()
            raise h.HarnessError("ivgmpd did not get ready (exit %s): %s\n--- stdout\n%s--- stderr\n%s"
                                 % (code, " ".join(self.command()), out, err))

    @staticmethod
    def wait_for(done: Callable[[], bool], timeout: float = 10.0, step: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(step)
        return done()

    def socket_path(self) -> str:
        return os.path.join(RUNTIME_DIR, self.prefix, "dpdk_telemetry.v2")

    def query(self, command: str):
        if self.sock is None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(5)
            s.connect(self.socket_path())
            greeting = json.loads(s.recv(1024).decode())
            self.max_len = int(greeting.get("max_output_len", self.max_len))
            self.sock = s
        self.sock.send(command.encode())
        raw = self.sock.recv(self.max_len)
        if not raw:
            raise h.HarnessError("telemetry closed the connection after %s" % command)
        reply = json.loads(raw.decode())
        return reply.get(command.split(",")[0], reply)

    def stop(self, timeout: float = 20.0):
        """SIGTERM as an operator would; (exit code, stdout, stderr)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
        shutil.rmtree(os.path.join(RUNTIME_DIR, self.prefix), ignore_errors=True)
        out, err = self.output()
        if h.sanitizer_findings(err):
            raise h.HarnessError("sanitizer report from ivgmpd (exit %s):\n%s" % (code, err))
        return code, out, err

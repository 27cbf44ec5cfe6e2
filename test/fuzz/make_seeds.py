#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of test/fuzz/corpus/<target>/ from real inputs:
the frames the pcap tests build (pcap_harness.py), scapy's ESP and IGMP,
the SOAP messages lib/vnoc emits (test_vnoc --samples) and the samples in
test/unit/data/soap/, and the configuration and policy examples of doc/.

  make_seeds.py [TEST_VNOC]     TEST_VNOC: a built test/unit/test_vnoc

The files are committed; run this again only when the input formats change.
The first byte of the soap and conf seeds picks the parser (see the targets).
"""
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "pcap"))
import pcap_harness as h  # noqa: E402
from scapy.layers.inet import IP, UDP  # noqa: E402


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def literal_blocks(rst):
    """The '::' literal blocks of a reStructuredText file, dedented."""
    text = open(os.path.join(ROOT, "doc", rst)).read()
    out = []
    for m in re.finditer(r"::\n\n((?:    .*\n|\n)+)", text):
        out.append("\n".join(l[4:] for l in m.group(1).splitlines()).strip() + "\n")
    return out


def pkt_seeds():
    cfg = h.standard_config()
    frames = {
        "udp": h.lan_udp("239.1.1.1", 100, 1),
        "udp_vlan": h.lan_udp("239.1.1.1", 100, 2, vlan=7),
        "udp_padded": h.lan_udp("239.2.2.2", 28, 3, pad_to=60),
        "udp_options": h.lan_udp("239.1.1.1", 64, 4, options=[b"\x94\x04\x00\x00"]),
    }
    frames["bad_checksum"] = h.bad_checksum(frames["udp"])
    frames["bad_ihl"] = h.bad_ihl(frames["udp"])
    frames["bad_total_length"] = h.bad_total_length(frames["udp"])
    frames["truncated"] = h.truncated_ip(frames["udp"])
    frames["arp"] = h.arp_request()
    frames["ipv6"] = h.ipv6_frame()
    frames["igmpv3"] = h.lan_igmpv3_report("192.168.1.10", h.LAN_HOST_MAC,
                                          [(4, "239.1.1.1", []), (1, "232.1.1.1", ["10.0.0.1"])])
    for name, f in frames.items():
        write("fuzz_pkt_classify", name, f.raw)
    inner = h.ipv4_udp("239.9.9.9", 80, 5)
    write("fuzz_pkt_classify", "esp", h.Peer(cfg, "B").esp_frame(inner, 1))
    write("fuzz_pkt_classify", "esp_udp", h.Peer(cfg, "C").esp_frame(inner, 2))
    write("fuzz_pkt_classify", "natt_keepalive", h.Peer(cfg, "C").udp_frame(b"\xff"))
    write("fuzz_pkt_classify", "ike", h.Peer(cfg, "C").udp_frame(b"\0\0\0\0ike"))
    return frames


def igmp_seeds(frames):
    # Config bytes (max_groups 8, max_sources 8, v3, RV 2, short intervals),
    # then a script: op, operands (see fuzz_igmp.c).
    cfg = bytes([0x17, 0x87])
    v3 = frames["igmpv3"].l3
    write("fuzz_igmp", "raw_v3_report", cfg + bytes([0x00, len(v3) - 1]) + v3)
    # v2 report, v2 leave, time steps past the last member queries.
    write("fuzz_igmp", "v2_join_leave",
          cfg + bytes([0x02, 0x00, 0x01, 0x03, 0x00, 0x01, 0x06, 0x10, 0x00, 0x0e, 0x01, 0x00]))
    # v3: TO_EX({}) on one group, ALLOW(sources) on another, IS_IN and BLOCK.
    write("fuzz_igmp", "v3_records",
          cfg + bytes([0x34, 3, 1, 0, 4, 2, 3, 1, 2, 3, 0, 5, 6, 2, 2, 1, 2, 0x07, 2, 1]))
    # A lower querier's v3 group-and-source query, then its expiry.
    write("fuzz_igmp", "query_election",
          cfg + bytes([0x24, 0, 2, 0x06, 0x20, 0x00, 0x25, 0x01, 1, 10, 2, 0x02, 0x7d, 2, 1,
                       0x0e, 0x02, 0x00]))
    # v1 report then a v2 leave (ignored while a v1 host is present).
    write("fuzz_igmp", "v1_then_leave", cfg + bytes([0x01, 4, 1, 0x03, 4, 1, 0x06, 0x01, 0x00]))


def esp_seeds():
    # conf byte (ESN off/on, window), then packets: op, then sealed
    # (sel, mutation, delta16, [seq hi16], len, inner) or raw.
    inner = h.ipv4_udp("239.9.9.9", 40, 6)
    sealed = bytes([0x02, 0x01, 0x00, 0x00, 0x01, len(inner)]) + inner
    write("fuzz_esp_decap", "sealed_in_order", bytes([0x00]) + sealed * 3)
    write("fuzz_esp_decap", "sealed_replayed",
          bytes([0x00]) + sealed + bytes([0x02, 0x01, 0x00, 0xff, 0xff, len(inner)]) + inner)
    write("fuzz_esp_decap", "sealed_tampered",
          bytes([0x02]) + bytes([0x02, 0x01, 0x21, 0x00, 0x01, len(inner)]) + inner)
    write("fuzz_esp_decap", "esn_window_at_wrap",
          bytes([0x11]) + bytes([0x00, 0x01, 0x00, 0x00, 0x20, 0x00, 0x01, len(inner)]) + inner)
    cfg = h.standard_config()
    esp = bytes(IP(h.Peer(cfg, "B").esp_frame(inner, 7)[14:]).payload)
    write("fuzz_esp_decap", "raw_scapy_esp", bytes([0x00, 0x03, len(esp) >> 1, len(esp) & 1]) + esp)


def soap_seeds(test_vnoc):
    data = os.path.join(ROOT, "test", "unit", "data", "soap")
    for name in sorted(os.listdir(data)):
        if name.endswith(".xml"):
            write("fuzz_soap", "envelope_" + name, b"\x00" + open(os.path.join(data, name), "rb").read())
    for name in sorted(os.listdir(os.path.join(data, "zeep"))):
        write("fuzz_soap", "zeep_" + name, b"\x01" + open(os.path.join(data, "zeep", name), "rb").read())
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([test_vnoc, "--samples", tmp], check=True)
        for name in sorted(os.listdir(tmp)):
            xml = open(os.path.join(tmp, name), "rb").read()
            response = name.startswith("Fault") or name[:-4].endswith("Response")
            write("fuzz_soap", "vnoc_" + name, (b"\x02" if response else b"\x01") + xml)


def conf_seeds():
    for i, block in enumerate(literal_blocks("configuration.rst")):
        write("fuzz_conf", "doc_configuration_%d" % i, b"\x00" + block.encode())
    write("fuzz_conf", "pcap_standard", b"\x00" + h.standard_config().text().encode())
    for i, block in enumerate(literal_blocks("policy.rst")):
        write("fuzz_conf", "doc_policy_%d" % i, b"\x01" + block.encode())


def main():
    test_vnoc = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "test", "unit",
                                                                   "test_vnoc")
    frames = pkt_seeds()
    igmp_seeds(frames)
    esp_seeds()
    soap_seeds(test_vnoc)
    conf_seeds()


if __name__ == "__main__":
    main()

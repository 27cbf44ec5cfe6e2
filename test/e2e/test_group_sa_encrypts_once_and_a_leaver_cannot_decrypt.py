#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
sa-mode group through the VNOC (issue #6): one SA per (sender site, group),
its key held by every receiving site; A encrypts each packet once; a site
that leaves cannot read what A sends after the key changed.

    policy: every site sends and receives 239/8; sa-mode 239.56.0.0/16 group
    A: h1 sends G = 239.56.1.1 at 40/s;  B: h1 joins G;  C: h1 joins G

  1. B and C get the stream. vnocd holds one group SA (A, G) and no
     pairwise SA. On the WAN, each of A's datagrams leaves as one ESP frame
     to B and one to C with the same SPI, the same sequence number and the
     same ESP bytes: one encryption.
  2. scapy (an independent ESP implementation) decrypts A's frames to C
     with the key vnocd gave: the inner packet is A's datagram.
  3. C's host leaves. Within LMQT + vpn-leave-hold + the install grace +
     ALLOWANCE, A sends with a new SA (new SPI, new key) that only B holds;
     C's key does not open those frames (ICV failure); B's does, and B's
     host goes on getting the stream without a gap.
"""

import time

import rig as r
import vpn_rig as vpn

G = "239.56.1.1"
PORT = 5056
RATE = 40.0
ALLOWANCE = 2.0
POLICY = """# every site sends and receives 239/8; 239.56/16 in group mode
allow site * send 239.0.0.0/8
allow site * receive 239.0.0.0/8
sa-mode 239.56.0.0/16 group
"""


def group_sas(vr):
    """vnocd's group SAs: [(sender, group, spi, key+salt bytes, superseded)]."""
    rows = vr.vnoc.sql("SELECT from_site, grp, spi, hex(key), hex(salt), superseded"
                       " FROM group_sas ORDER BY id")
    return [(x[0], int(x[1]), int(x[2]), bytes.fromhex(x[3] + x[4]), x[5] == "1")
            for x in rows]


def scapy_open(frame, spi, keymat):
    """The inner packet of an ESP frame, opened by scapy; None when the ICV
    does not check out."""
    from scapy.layers.inet import IP
    from scapy.layers.ipsec import ESP, IPSecIntegrityError, SecurityAssociation

    sa = SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=keymat,
                             tunnel_header=IP(src=frame.src, dst=frame.dst))
    pkt = IP(bytes(IP(src=frame.src, dst=frame.dst, proto=50) / frame.l4))
    try:
        return bytes(sa.decrypt(pkt))
    except IPSecIntegrityError:
        return None


def test(rig, chk, args):
    with vpn.VpnRig(rig, chk, args, policy=POLICY) as vr:
        a, b, c = vr.sites

        chk.section("1. B and C get A's stream, encrypted once")
        stream, listeners, members, ok = vr.stream_to_members(a, [b, c], G, PORT, RATE,
                                                              tag="A-h1")
        chk.check(bool(ok), "B and C get the stream", "A %s" % a.summary())
        if not ok:
            return
        time.sleep(1.0)
        sas = group_sas(vr)
        chk.equal([(x[0], x[4]) for x in sas], [("A", False)], "vnocd's group SAs (sender, "
                  "superseded)")
        chk.equal(vr.vnoc.sql("SELECT count(*) FROM sas"), [["0"]], "vnocd's pairwise SAs")
        if len(sas) != 1:
            return
        _, _, spi0, key0, _ = sas[0]
        wan = vr.wan_frames()
        to_b = {f.esp_seq: f for f in vr.esp(a, b, wan)}
        to_c = {f.esp_seq: f for f in vr.esp(a, c, wan)}
        both = sorted(set(to_b) & set(to_c))
        same = [q for q in both if to_b[q].l4 == to_c[q].l4 and to_b[q].spi == spi0]
        chk.measured("ESP A -> B / A -> C / sequence numbers in both", "%d / %d / %d"
                     % (len(to_b), len(to_c), len(both)))
        chk.check(len(both) >= 20 and len(same) == len(both),
                  "every datagram: the same SPI (0x%08x), sequence number and ESP bytes to B "
                  "and C (%d of %d)" % (spi0, len(same), len(both)))

        chk.section("2. scapy opens A's frames with the group key")
        opened = [scapy_open(to_c[q], spi0, key0) for q in both[:10]]
        chk.check(all(p is not None and vpn.payload_seq(p[28:]) is not None for p in opened),
                  "scapy decrypts 10 of A's frames to C with vnocd's key: A's datagrams")

        chk.section("3. C's host leaves: the key changes, C's does not open the new frames")
        t_leave = time.time()
        members["C"].leave()
        bound = c.lmqt + c.timer("vpn-leave-hold") + 2 + ALLOWANCE

        def switched():
            frames = vr.esp(a, b)
            return frames and frames[-1].spi != spi0
        ok, took = r.wait_until(switched, bound + 2, 0.2)
        chk.within(took if ok else None, 0.0, bound, "A sends with a new SA after C's leave "
                   "(LMQT %.1f + hold %.0f + grace 2 + %.0f s)"
                   % (c.lmqt, c.timer("vpn-leave-hold"), ALLOWANCE))
        time.sleep(1.0)
        stream.stop()
        time.sleep(0.5)
        sas = group_sas(vr)
        new = [x for x in sas if not x[4]]
        chk.equal(len(new), 1, "group SAs in force after the leave")
        if not new or not ok:
            return
        _, _, spi1, key1, _ = new[0]
        chk.check(spi1 != spi0 and key1 != key0, "the new SA has a new SPI and key")
        late = [f for f in vr.esp(a, b) if f.spi == spi1]
        chk.measured("ESP A -> B with the new SA", len(late))
        chk.check(len(late) >= 10, "A sent B at least 10 frames with the new SA")
        with_old = [scapy_open(f, spi1, key0) for f in late[:10]]
        with_new = [scapy_open(f, spi1, key1) for f in late[:10]]
        chk.check(all(p is None for p in with_old),
                  "C's key does not open the frames sent after the rekey (ICV fails)")
        chk.check(all(p is not None for p in with_new), "B's (new) key opens them")
        to_c_after = [f for f in vr.esp(a, c) if f.time > t_leave + bound]
        chk.equal(len(to_c_after), 0, "ESP A -> C after the bound")
        db = vpn.Delivery(stream, listeners["B"])
        db.check(chk, "B's host, across C's leave and the rekey")
        vpn.scenario_line(
            "sent %d; one encryption per datagram for B and C (%d checked); C left -> new SA "
            "after %.2f s (bound %.1f s); C's key opens 0 of %d later frames; B received %d, "
            "missing %d" % (stream.count(), len(both), took, bound, len(with_old), db.count,
                            len(db.missing)))


if __name__ == "__main__":
    vpn.main(test, "group_sa_encrypts_once_and_a_leaver_cannot_decrypt")

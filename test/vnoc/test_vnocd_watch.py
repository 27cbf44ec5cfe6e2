# SPDX-License-Identifier: BSD-3-Clause
"""WatchUpdates: a long poll that returns as soon as the site's view changes,
or after its timeout with the view unchanged."""

import threading
import time

from vnoc_rig import Pki, Vnocd, main

POLICY = "allow site * both 239.0.0.0/8\n"


def watch_in_thread(client, site, since, timeout_s):
    out = {}

    def run():
        try:
            out["view"] = client.watch(site, since, timeout_s)
        except Exception as e:          # reported by the caller
            out["error"] = e
        out["t"] = time.monotonic()
    t = threading.Thread(target=run)
    t.start()
    return t, out


def test_watch_returns_within_a_round_trip_of_a_join(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        a, b = v.client("A"), v.client("B")
        a.register("A", "10.0.0.1")
        since = b.register("B", "10.0.0.2")["view"]["version"]
        b.join("B", "239.1.1.1", "receive")
        since = b.watch("B", 0, 1)["version"]
        delays = []
        for i in range(5):
            t, out = watch_in_thread(b, "B", since, 20)
            time.sleep(0.3)             # the long poll is waiting
            assert "t" not in out, out
            # A joins, leaves, joins ... as a sender of B's group.
            if i % 2 == 0:
                a.join("A", "239.1.1.1", "send")
            else:
                a.leave("A", "239.1.1.1", "send")
            t_join = time.monotonic()
            t.join(25)
            assert "error" not in out, out
            delays.append(out["t"] - t_join)
            assert out["view"]["version"] > since
            since = out["view"]["version"]
        print("watch answered %s ms after the change returned"
              % ", ".join("%.1f" % (x * 1000) for x in delays))
        assert max(delays) < 0.2, delays
        # The first answer carried A as a sender and the SA A -> B.
        view = b.watch("B", 0, 1)
        assert any(s["peer"] == "A" and s["direction"] == "inbound" for s in view["sas"])


def test_watch_without_change_returns_after_its_timeout(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        a, b = v.client("A"), v.client("B")
        a.register("A", "10.0.0.1")
        since = b.register("B", "10.0.0.2")["view"]["version"]
        t0 = time.monotonic()
        view = b.watch("B", since, 2)
        dt = time.monotonic() - t0
        assert 1.9 <= dt < 3.0, dt
        assert view["version"] == since and view["groups"] == []
        # A change elsewhere (A alone in its group) does not wake B.
        t, out = watch_in_thread(b, "B", since, 2)
        time.sleep(0.2)
        a.join("A", "239.9.9.9", "send")
        t.join(10)
        assert out["t"] - t0 - dt >= 1.9 and out["view"]["version"] == since, out


def test_watch_of_many_sites_at_once(d):
    sites = ["W%02d" % i for i in range(30)]
    pki = Pki(d)
    pki.sites_bulk(sites + ["A"])
    with Vnocd(d, pki, POLICY) as v:
        clients = {s: v.client(s) for s in sites}
        for i, s in enumerate(sites):
            clients[s].register(s, "10.0.3.%d" % (i + 1))
            clients[s].join(s, "239.2.2.2", "receive")
        a = v.client("A")
        a.register("A", "10.0.0.1")
        waits = [watch_in_thread(clients[s], s, clients[s].watch(s, 0, 1)["version"], 20)
                 for s in sites]
        time.sleep(0.3)
        a.join("A", "239.2.2.2", "send")
        t_join = time.monotonic()
        for t, out in waits:
            t.join(25)
            assert "view" in out, out
        slowest = max(out["t"] for _, out in waits) - t_join
        print("30 long polls answered within %.1f ms" % (slowest * 1000))
        assert slowest < 0.5, slowest
        for (t, out) in waits:
            assert any(s["peer"] == "A" for s in out["view"]["sas"])


def test_long_poll_outlives_the_idle_connection_timeout(d):
    with Vnocd(d, Pki(d), POLICY, extra=["--connection-timeout", "1"]) as v:
        b = v.client("B")
        since = b.register("B", "10.0.0.2")["view"]["version"]
        t0 = time.monotonic()
        assert b.watch("B", since, 3)["version"] == since
        assert time.monotonic() - t0 >= 2.9
        # An idle connection is closed after the timeout (the client
        # reconnects).
        time.sleep(1.5)
        assert b.heartbeat("B", rx=5) == since


def test_vnocd_stops_with_long_polls_waiting(d):
    with Vnocd(d, Pki(d), POLICY) as v:
        b = v.client("B")
        since = b.register("B", "10.0.0.2")["view"]["version"]
        t, out = watch_in_thread(b, "B", since, 30)
        time.sleep(0.3)
        t0 = time.monotonic()
        assert v.stop() == 0
        t.join(5)
        assert time.monotonic() - t0 < 5
        assert "view" in out or "error" in out


if __name__ == "__main__":
    main([test_watch_returns_within_a_round_trip_of_a_join,
          test_watch_without_change_returns_after_its_timeout,
          test_watch_of_many_sites_at_once,
          test_long_poll_outlives_the_idle_connection_timeout,
          test_vnocd_stops_with_long_polls_waiting])

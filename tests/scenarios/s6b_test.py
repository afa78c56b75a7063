#!/usr/bin/python3
"""hacpd's side of S6b on the wire (docs/aaa.md): hadp and hacpd on veth pairs, a scapy UE on
the access side (tests/lib/ue.py) and a fake charon plugin on hacpd's IKE socket
(tests/lib/ike_sock.py) playing what the plugin does for the 3GPP AAA server: the Session-Id and
the AAA's authorisation in PREFIX_REQ, the AAA's orders (AAA_ORDER), its outcomes (AAA_EVENT),
and reading the session ends hacpd tells it (AAA_END, which the plugin turns into
Session-Termination-Requests).

  TS 29.273 9.2.2.4 / 004 5.4.3.1  an ASR (AAA_ORDER abort) of a registered UE: the BRI on the
                  wire, the binding kept until the BRA, the UE's DELETE then ends the session:
                  AAA_END ADMINISTRATIVE; the Session-Id unknown from then on (5002)
  TS 29.273 9.2.2.3  the binding expires while the plugin is away: AAA_END SESSION_TIMEOUT kept
                  and sent after its next HELLO; the IKE SA's later end tells nothing more
  TS 29.273 9.2.2.1  the AAA's static home prefix outside the PDN's pool: the attach refused,
                  logged and counted
  the plugin's S6b outcomes counted by hacpd (hactl show stats)

usage: s6b_test.py BUILD_DIR WORK_DIR
"""
import errno
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import HA6, Appliance, Delta, wait_until  # noqa: E402
from checks import Checks, run_scenarios  # noqa: E402
import ike_sock  # noqa: E402
from ike_sock import PluginSocket  # noqa: E402
import mh  # noqa: E402
from steps import check_ba  # noqa: E402
from ue import UE  # noqa: E402

NAI = "00101000000%04d@nai.epc.mnc001.mcc001.3gppnetwork.org"


def sid(n):
    return f"ha.test.epc;1700000000;{n}"


def attach(check, plugin, app, n, lifetime=450):
    """IKE_AUTH's end as the plugin tells hacpd (PREFIX_REQ with the Session-Id, the BU/BA
    child SA), then the UE's registration under that SA. @return the UE (or None)."""
    rep = plugin.prefix_req(n, NAI % n, "internet", aaa_session=sid(n))
    if not check(rep.type == "PREFIX_REP" and rep.result == 0, f"UE {n}: a home prefix: {rep}"):
        return None
    prefix, plen, _, _ = rep.prefix()
    ue = UE(n, hoa=prefix + "55").attach(app).at6(f"2001:db8:aaaa::{n:x}")
    rs = plugin.signalling_sas(n, ue, HA6)
    check(all(r.result == 0 for r in rs), f"UE {n}: its BU/BA SAs installed: {rs}")
    check_ba(check, ue, ue.register(lifetime=lifetime), 1, f"UE {n} registers")
    return ue


def s_abort_of_a_registered_ue(check, app, plugin):
    """TS 29.273 9.2.2.4 (ASR) carried out as 004 5.4.3.1's network-initiated detach."""
    ue = attach(check, plugin, app, 1)
    if not ue:
        return
    d = Delta(app)
    m = ue.mark()
    r = plugin.aaa_order(ike_sock.ORDER_ABORT, sid(1))
    check(r.result == 0, f"the abort answered 0 (ASA 2001): {r.result}")
    bris = ue.wait_msg(mh.BR, m, 10, match=lambda b: b.br_type == 1)
    if not check(bris, "004 5.4.3.1: a BRI to the UE"):
        return
    check(bris[0].trigger == 1, f"Revocation Trigger 1: {bris[0]}")
    check(app.binding(ue.hoa) is not None, "the binding stays until the BRA")
    check(plugin.wait_notice("AAA_END", timeout=1) is None, "no session end before the UE's")
    ue.send_bra(bris[0].seq)
    check(app.wait_binding(ue.hoa, present=False, timeout=10), "the BRA completes the detach")
    # 004 5.4.2.1: the UE then deletes its IKE SA; charon tells hacpd
    check(plugin.ike_down(1).result == 0, "IKE_DOWN answered")
    end = plugin.wait_notice("AAA_END", timeout=10)
    if check(end is not None, "an AAA_END for the session"):
        check(end.seq == 0 and end.aaa_end() == (ike_sock.END_ADMINISTRATIVE, sid(1)),
              f"ADMINISTRATIVE, its Session-Id: {end.aaa_end()}")
    check(plugin.aaa_order(ike_sock.ORDER_KNOWN, sid(1)).result == -errno.ENOENT,
          "the Session-Id is unknown from then on (5002 UNKNOWN_SESSION_ID)")
    check(d.cp("ike", "s6b-abort-ordered") == 1 and d.cp("bri-sent") == 1 and
          d.cp("ike", "s6b-end-sent") == 1 and d.cp("ike", "s6b-order-unknown-session") == 1,
          f"counted: {app.cp_stats().get('ike')}")


def s_expiry_while_the_plugin_is_away(check, app, plugin):
    """TS 29.273 9.2.2.3: the binding's end is the session's (SESSION_TIMEOUT); told once,
    after the plugin's next HELLO when it was away."""
    ue = attach(check, plugin, app, 2, lifetime=2)  # 8 s
    if not ue:
        return
    d = Delta(app)
    plugin.close()
    check(app.wait_binding(ue.hoa, present=False, timeout=30), "the binding expires")
    time.sleep(0.5)
    check(d.cp("ike", "s6b-end-sent") == 0, "nothing sent without the plugin")
    hello = plugin.connect(instance=1)
    check(hello.result == 0, "the plugin's HELLO (same run of charon)")
    end = plugin.wait_notice("AAA_END", timeout=10)
    if check(end is not None, "the AAA_END waited for the plugin"):
        check(end.aaa_end() == (ike_sock.END_SESSION_TIMEOUT, sid(2)),
              f"SESSION_TIMEOUT, its Session-Id: {end.aaa_end()}")
    check(plugin.ike_down(2).result == 0, "the IKE SA ends later")
    check(plugin.wait_notice("AAA_END", timeout=2) is None, "and the session is not ended twice")
    check(d.cp("ike", "s6b-end-sent") == 1 and d.cp("ike", "s6b-end-dropped") == 0,
          f"counted: {app.cp_stats().get('ike')}")


def s_static_prefix_outside_the_pool(check, app, plugin):
    """TS 29.273 9.2.2.1: a Served-Party-IP-Address the PDN cannot give refuses the attach."""
    d = Delta(app)
    rep = plugin.prefix_req(3, NAI % 3, "internet", aaa_session=sid(3),
                            auth_flags=ike_sock.AUTH_F_PREFIX, static_prefix="2001:db8:999::1")
    check(rep.result == -errno.EADDRNOTAVAIL, f"refused: {rep.result}")
    check(d.cp("ike", "s6b-static-prefix-refused") == 1, "counted")
    check(wait_until(lambda: "outside the PDN's home_prefix_pool" in app.log("hacpd"), 5, 0.2),
          "a log line says why")
    rep = plugin.prefix_req(3, NAI % 3, "internet", aaa_session=sid(3),
                            auth_flags=ike_sock.AUTH_F_PREFIX, static_prefix="2001:db8:100:77::1")
    check(rep.result == 0 and rep.prefix()[0] == "2001:db8:100:77::",
          f"one inside it is the UE's: {rep.prefix()}")
    check(plugin.ike_down(3).result == 0, "the UE's DELETE")
    end = plugin.wait_notice("AAA_END", timeout=10)
    check(end is not None and end.aaa_end() == (ike_sock.END_LOGOUT, sid(3)),
          f"LOGOUT: {end and end.aaa_end()}")


def s_events_counted(check, app, plugin):
    """The plugin's S6b outcomes are hacpd's counters (hactl show stats)."""
    for name in ("s6b-auth-rejected", "s6b-auth-rejected", "s6b-str-answered"):
        check(plugin.aaa_event(name).result == 0, f"{name} taken")
    st = app.cp_stats().get("ike", {})
    check(st.get("s6b-auth-rejected") == 2 and st.get("s6b-str-answered") == 1,
          f"counted by name: {st}")
    text = app.hactl("show", "stats").stdout
    check("s6b-auth-rejected 2" in text, "in hactl show stats")


def main():
    build, work = sys.argv[1], sys.argv[2]
    check = Checks()
    absent = "/nonexistent/charon-is-not-run-here"
    ike = {"enabled": True, "local_id": "ha.test", "certificate": absent,
           "private_key": absent, "ca_certificate": absent, "subscribers": absent,
           "socket": f"{os.path.abspath(work)}/ike.sock", "max_sessions": 64}
    with Appliance(build, work, ike=ike) as app:
        plugin = PluginSocket(ike["socket"])
        check(plugin.connect(instance=1).result == 0, "the fake plugin's HELLO")
        run_scenarios(check, [s_abort_of_a_registered_ue, s_expiry_while_the_plugin_is_away,
                              s_static_prefix_outside_the_pool, s_events_counted], app, plugin,
                      after=app.check_mbufs)
        plugin.close()
        hs, cs = app.stop()
    check(hs is not None and hs["mbufs_in_use"] == 0, "hadp ends with no mbuf in use")
    check(cs is not None and cs.get("ike", {}).get("s6b-end-sent") == 3,
          f"hacpd's stats file: {cs and cs.get('ike')}")
    return check.summary("s6b scenarios")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""hactl config reload on a running appliance (docs/controlplane.md, "Reload"): hadp and hacpd
on veth pairs, scapy UEs from tests/lib.

  1. A UE registered (RFC 6275 10.3.1), static bindings in hadp, routes on the core side.
  2. The file changed and reloaded: a new PDN with its home prefix pool and IPv4 pool, the
     lifetime policy shortened (binding_lifetime.max), a route added and one removed, a
     static binding added and one removed, the new UE's static signalling SAs added (RFC
     4877). The registered UE's binding is untouched (downlink still tunnelled, its next BU's
     sequence number follows the last one accepted); a new UE registers in the new PDN with
     the new lifetime and an IPv4 home address of the new pool (RFC 5555); the new route
     carries the uplink to its next hop; the removed route's prefix falls to the default; the
     removed static binding's downlink is dropped and counted, the added one's tunnelled.
  3. hacpd killed and started again: the reload's static binding is still in hadp after the
     new hacpd's re-assertion (generation 0 is never swept), the removed one still gone.
  4. A file that changes a port's device (and the lifetime) is refused, naming the key, and
     nothing changes; a file that does not load is refused with the loader's line.

usage: reload_test.py BUILD_DIR WORK_DIR
"""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import PDNS, Appliance, Delta, wait_until  # noqa: E402
from checks import Checks  # noqa: E402
from scapy.all import raw  # noqa: E402
from steps import check_ba, data_both_ways, stop_and_check  # noqa: E402
from ue import UE, Correspondent, Tunnelled  # noqa: E402

CORE_MAC = "02:00:00:00:0c:01"
ROUTE_GONE, MAC_GONE = "2001:db8:77::/48", "02:00:00:00:0c:77"
ROUTE_NEW, MAC_NEW = "2001:db8:66::/48", "02:00:00:00:0c:66"
CORP = {"name": "corp", "home_prefix_pool": "2001:db8:300::/48", "home_prefix_length": 64,
        "ipv4_pool": "10.47.0.0/16"}
# static bindings (hadp's, not hacpd's): kept, removed by the reload, added by it
SB_KEEP = ("2001:db8:200:70::", "2001:db8:aaaa::70")
SB_GONE = ("2001:db8:200:71::", "2001:db8:aaaa::71")
SB_NEW = ("2001:db8:200:72::", "2001:db8:aaaa::72")

ue_old = UE(51)
ue_new = UE(52, prefix="2001:db8:300")


def routes(*extra):
    rows = [("::/0", CORE_MAC), ("0.0.0.0/0", CORE_MAC), *extra]
    return "  routes:\n" + "".join(f'    - {{ prefix: "{p}", next_hop_mac: "{m}" }}\n'
                                   for p, m in rows)


def statics(*bindings):
    return "static_bindings:\n" + "".join(
        f'  - {{ pdn: ims, home_prefix: "{p}/64", care_of: "{c}" }}\n' for p, c in bindings)


def reload(app):
    """Writes the appliance's configuration as it now says, and reloads it."""
    with open(app.config, "w") as f:
        f.write(app.config_text())
    return app.hactl("config", "reload", timeout=90)


def static_down(app, cn, binding, tag, present):
    """Downlink to a static binding's home prefix: tunnelled to its care-of address (present)
    or not at all; @return True when it went as expected."""
    marker = f"static {tag} {os.urandom(4).hex()}".encode()
    m = app.access.mark()
    cn.send(binding[0] + "1", marker)
    if present:
        got = app.access.wait(lambda e: Tunnelled(e) if marker in raw(e) else None, m, 20)
        return bool(got) and got[0].dst == binding[1]
    return not app.access.collect(lambda e: e if marker in raw(e) else None, m, 1.5)


def uplink_mac(app, ue, dst, tag):
    """The destination MAC of the core-side frame that carries the UE's uplink to dst."""
    marker = f"up {tag} {os.urandom(4).hex()}".encode()
    m = app.core.mark()
    ue.send_up(marker, dst=dst)
    got = app.core.wait(lambda e: e if marker in raw(e) else None, m, 20)
    return got[0].dst if got else None


def main():
    build, work = sys.argv[1], sys.argv[2]
    check = Checks()
    app = Appliance(build, work, ues=[ue_old], dataplane_extra=routes((ROUTE_GONE, MAC_GONE)),
                    extra=statics(SB_KEEP, SB_GONE))
    with app:
        cn = Correspondent(app)
        # ---- 1: before ----
        ue_old.attach(app).at6("2001:db8:aaaa::51")
        check_ba(check, ue_old, ue_old.register(), 1, "RFC 6275 10.3.1 registered before")
        b0 = app.binding(ue_old.hoa) or {}
        check(b0.get("lifetime") == 1800, f"granted what it asked for (3600 allowed): {b0}")
        check(static_down(app, cn, SB_GONE, "before", True), "static binding tunnelled before")
        check(uplink_mac(app, ue_old, "2001:db8:77::1", "gone-before") == MAC_GONE,
              "the route to be removed carries its prefix before")

        # ---- 2: the reload ----
        d = Delta(app)
        app.pdns = PDNS + [CORP]
        app.home_agent["binding_lifetime"] = {"max": 600}
        app.dataplane_extra = routes((ROUTE_NEW, MAC_NEW))
        app.extra = statics(SB_KEEP, SB_NEW)
        app.ues.append(ue_new)
        r = reload(app)
        out = r.stdout
        check(r.returncode == 0, f"config reload applied: {r.returncode} {out} {r.stderr}")
        for want in ("pdns: 'corp' added", "home_agent.binding_lifetime.max: 3600 -> 600",
                     f"dataplane.routes: {ROUTE_GONE} removed",
                     f"dataplane.routes: {ROUTE_NEW} added via {MAC_NEW}",
                     f"static_bindings: {SB_GONE[0]}/64 removed",
                     f"static_bindings: {SB_NEW[0]}/64 added",
                     f"static_sas: spi 0x{ue_new.spi_bu:08x} in added",
                     "hadp applied its 6 changes"):
            check(want in out, f"the answer lists '{want}': {out}")
        check(d.cp("config-reloads") == 1 and d.cp("config-reloads-refused") == 0,
              f"config-reloads counted: {app.cp_stats().get('config-reloads')}")
        b1 = app.binding(ue_old.hoa) or {}
        check(b1.get("lifetime") == 1800 and b1.get("sequence") == 1 and
              b1.get("care_of") == "2001:db8:aaaa::51",
              f"the registered UE's binding untouched by the reload: {b1}")
        data_both_ways(check, app, cn, ue_old, "after the reload, the registered UE")
        ba = ue_old.register()
        check_ba(check, ue_old, ba, 2, "RFC 6275 10.3.1: its next BU's sequence follows")
        check((app.binding(ue_old.hoa) or {}).get("lifetime") == 600,
              f"its refresh gets the new lifetime policy: {app.binding(ue_old.hoa)}")
        ue_new.attach(app).at6("2001:db8:aaaa::52")
        ba = ue_new.register(ipv4_hoa="0.0.0.0")
        check_ba(check, ue_new, ba, 1, "a new UE in the new PDN")
        bn = app.binding(ue_new.hoa) or {}
        check(bn.get("pdn") == "corp" and bn.get("lifetime") == 600 and
              bn.get("ipv4_home_address", "").startswith("10.47."),
              f"in the new PDN, with the new lifetime and an address of its IPv4 pool: {bn}")
        data_both_ways(check, app, cn, ue_new, "the new PDN's UE")
        check(uplink_mac(app, ue_old, "2001:db8:66::1", "new") == MAC_NEW,
              "the added route's prefix leaves to its next hop")
        check(uplink_mac(app, ue_old, "2001:db8:77::1", "gone-after") == CORE_MAC,
              "the removed route's prefix falls to the default route")
        before = app.dp_stats().get("drop-no-binding", 0)
        check(static_down(app, cn, SB_GONE, "after", False),
              "the removed static binding's downlink is not tunnelled")
        check(wait_until(lambda: app.dp_stats().get("drop-no-binding", 0) > before, 5),
              "and hadp counts it (drop-no-binding)")
        check(static_down(app, cn, SB_NEW, "after", True), "the added static binding tunnels")
        check(static_down(app, cn, SB_KEEP, "after", True), "the kept one still does")

        # ---- 3: hacpd restarted: the re-assertion sweeps no static binding ----
        app.daemons.hacpd.send_signal(signal.SIGKILL)
        app.daemons.hacpd.wait()
        app.daemons.start_hacpd(f"{app.work}/hactl.sock")
        check(wait_until(lambda: app.binding(ue_new.hoa) is not None, 20),
              "the restarted hacpd adopted the bindings")
        check(static_down(app, cn, SB_NEW, "restart", True),
              "the reload's static binding outlives a restart of hacpd (generation 0)")
        check(static_down(app, cn, SB_GONE, "restart", False), "the removed one stays gone")
        data_both_ways(check, app, cn, ue_new, "after hacpd's restart")

        # ---- 4: refused ----
        d = Delta(app)
        good = app.config_text()
        bad = good.replace("device: net_pcap0", "device: net_pcap7").replace(
            "max: 600", "max: 300")
        with open(app.config, "w") as f:
            f.write(bad)
        r = app.hactl("config", "reload", timeout=60)
        check(r.returncode == 1 and "refused: dataplane.ports.access.device cannot change at "
              "run time (restart hadp)" in r.stderr,
              f"a changed port device refused, naming the key: {r.returncode} {r.stdout} "
              f"{r.stderr}")
        check("binding_lifetime" not in r.stdout, f"nothing listed as applied: {r.stdout}")
        ba = ue_old.register()
        check_ba(check, ue_old, ba, 3, "after the refused reload")
        check((app.binding(ue_old.hoa) or {}).get("lifetime") == 600,
              f"the refused file's lifetime (300) was not applied: {app.binding(ue_old.hoa)}")
        with open(app.config, "w") as f:
            f.write(good.replace("home_agent:\n", "home_agent:\n  lifetime_maxx: 5\n"))
        r = app.hactl("config", "reload", timeout=60)
        check(r.returncode == 2 and f"{app.config}:" in r.stderr and
              "home_agent.lifetime_maxx: unknown key" in r.stderr,
              f"a file that does not load: exit 2 with the loader's line: {r.returncode} "
              f"{r.stderr}")
        check(d.cp("config-reloads") == 0 and d.cp("config-reloads-refused") == 2,
              f"both counted as refused: {app.cp_stats().get('config-reloads-refused')}")
        with open(app.config, "w") as f:
            f.write(good)
        r = app.hactl("config", "reload", timeout=60)
        check(r.returncode == 0 and "no change" in r.stdout,
              f"the running file again: no change: {r.stdout} {r.stderr}")
        check(static_down(app, cn, SB_NEW, "end", True), "the static binding is still there")
        app.check_mbufs(check, "reload")
        stop_and_check(check, app)
    return check.summary("reload scenario")


if __name__ == "__main__":
    sys.exit(main())

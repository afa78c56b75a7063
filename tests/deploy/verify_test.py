#!/usr/bin/python3
"""The appliance's systemd units as deploy/install.sh installs them (docs/deployment.md):
`systemd-analyze verify` finds nothing to say about any of them, and the ordering keeps hacpd
and charon through a restart of hadp.

usage: verify_test.py BUILD WORK

systemd-analyze verify --root=ROOT resolves everything under ROOT: the units they name
(sysinit.target...) and every command's binary. ROOT gets the machine's own unit folder and
the Debian binaries the units run (python3, charon-systemd, swanctl, dpdk-hugepages.py...),
copied, so the check is the one an installed Debian 12 server would pass; install.sh puts
the appliance's own beside them. Any line verify prints fails the test: it reports unknown
keys and bad values as warnings with exit status 0.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import Checks  # noqa: E402
from unitfile import install  # noqa: E402

EXEC_KEYS = ("ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop",
             "ExecStopPost")


def debian_side(units, root):
    """The machine's units and the binaries outside /usr/local that the units run, copied
    under root."""
    shutil.copytree("/usr/lib/systemd/system", f"{root}/usr/lib/systemd/system", symlinks=True)
    for u in units.values():
        for key in EXEC_KEYS:
            for line in u.get("Service", key):
                exe = line.lstrip("-@:+!").split()[0]
                if not exe.startswith("/usr/local/") and not os.path.exists(f"{root}{exe}"):
                    os.makedirs(os.path.dirname(f"{root}{exe}"), exist_ok=True)
                    shutil.copy(exe, f"{root}{exe}")  # missing here: deploy/setup.sh's job


def main():
    build, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    root = f"{work}/root"
    check = Checks()
    units = install(build, root)
    check(set(units) >= {"hadp.service", "hacpd.service", "ha-charon.service",
                         "ha-hugepages.service", "ha-vfio-bind.service"},
          f"install.sh installed every unit: {sorted(units)}")
    debian_side(units, root)
    for name, u in units.items():
        r = subprocess.run(["systemd-analyze", "verify", f"--root={root}", u.path],
                           capture_output=True, text=True)
        said = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and not said,
              f"systemd-analyze verify {name}: exit {r.returncode}, {said or 'nothing to say'}")

    # hacpd lives through hadp's restarts: ordered after it, pulled in by it, never bound to
    # it (BindsTo=, PartOf=, Requires=, Requisite= would stop or restart hacpd with hadp)
    binding = ("BindsTo", "PartOf", "Requires", "Requisite")
    for name, on in (("hacpd.service", "hadp.service"), ("ha-charon.service", "hacpd.service"),
                     ("ha-charon.service", "hadp.service")):
        u = units[name]
        bound = [k for k in binding if any(on in v.split() for v in u.get("Unit", k))]
        check(not bound, f"{name} is not bound to {on}: {bound or 'no ' + '/'.join(binding)}")
    for name, on in (("hacpd.service", "hadp.service"), ("ha-charon.service", "hacpd.service")):
        for k in ("Wants", "After"):
            check(any(on in v.split() for v in units[name].get("Unit", k)), f"{name}: {k}={on}")
    hacpd, hadp = units["hacpd.service"], units["hadp.service"]
    check(hacpd.last("Service", "Restart") == "always",
          f"hacpd Restart=always (it exits when hadp goes): {hacpd.last('Service', 'Restart')}")
    check(hacpd.last("Unit", "StartLimitIntervalSec") == "0",
          "hacpd keeps being restarted while hadp is away (StartLimitIntervalSec=0)")
    check(hadp.last("Service", "Restart") == "on-failure",
          f"hadp Restart=on-failure: {hadp.last('Service', 'Restart')}")
    for u in (hadp, hacpd):
        check(u.last("Service", "Type") == "notify", f"{u.name} Type=notify")
        check(u.last("Service", "RuntimeDirectoryPreserve") == "yes",
              f"{u.name}: its runtime directory outlives a restart")
        caps = u.last("Service", "CapabilityBoundingSet", "")
        check(caps and "CAP_SYS_ADMIN" not in caps and "~" not in caps,
              f"{u.name}: a short list of capabilities, not root's: {caps!r}")
    sys.exit(check.summary("units_verify"))


if __name__ == "__main__":
    main()

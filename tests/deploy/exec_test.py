#!/usr/bin/python3
"""Each unit's command lines run as written (docs/deployment.md): deploy/install.sh into a
temporary root, then hadp, hacpd and charon started the way systemd starts them, from their
units' Exec lines with the units' environment, capability bounding set, no-new-privileges,
umask and memlock limit, in their units' order, and stopped with their units' KillSignal.

usage: exec_test.py BUILD WORK

The configuration is configs/lab.yaml with this test's --file-prefix and its files in WORK;
the test points HA_CONFIG at it through the units' EnvironmentFile (/etc/default/dsmip6-ha
under the root). NOTIFY_SOCKET is a datagram socket of the test's, with SO_PASSCRED, so each
READY=1 and STOPPING=1 is known to come from the unit's main process (NotifyAccess=main).
Checked: every ExecStartPre succeeds; hadp, then hacpd, then charon say READY=1; hadp and
hacpd run with exactly their units' capabilities; hactl reaches hacpd; swanctl loads charon's
connections (ExecStartPost); ha-vfio-bind's line binds nothing on virtual devices; a restart
of hadp leaves charon running and hacpd reachable again (restarted as Restart=always would, if
it exited); each stops with exit status 0, hadp and hacpd with STOPPING=1; no hugepage file or
EAL runtime directory is left. The sandboxing options (ProtectSystem=...) need systemd itself: the units'
verify test reads them. ha-hugepages.service is not run: it would change the machine's
hugepage reservation under the other tests.
"""
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from appliance import hugepage_files, remove_dpdk_files, sanitizer_env, wait_until  # noqa: E402
from checks import Checks  # noqa: E402
from unitfile import TOP, install  # noqa: E402

# linux/capability.h: the numbers of the capabilities a unit may name
CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]
EMPTY_PCAP = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # no packet


class Notify:
    """The service manager's end of NOTIFY_SOCKET: messages by sender pid."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.seen = []  # (pid, {KEY: value})

    def poll(self):
        try:
            data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            return
        pid = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", value[:12])[0]
        fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        self.seen.append((pid, fields))

    def has(self, pid, key):
        self.poll()
        return any(p == pid and f.get(key) == "1" for p, f in self.seen)

    def status(self, pid):
        return [f["STATUS"] for p, f in self.seen if p == pid and "STATUS" in f]


class Service:
    """One unit run the way systemd runs it, as far as a process can without systemd."""

    def __init__(self, unit, root, work, notify):
        self.unit, self.root, self.work, self.notify = unit, root, work, notify
        self.proc = None
        self.name = unit.name.removesuffix(".service")

    def env(self):
        # under ASan, DPDK's own leaks in a secondary process are not hacpd's (tests/lib)
        env = {k: v for k, v in sanitizer_env().items() if k != "NOTIFY_SOCKET"}
        for k, v in self.unit.environment(self.root).items():
            # a path the install root holds (the units' runtime directories) is taken there
            mapped = f"{self.root}{v}"
            env[k] = mapped if v.startswith("/") and os.path.isdir(os.path.dirname(mapped)) else v
        env["NOTIFY_SOCKET"] = self.notify.path
        return env

    def argv(self, key, index=0):
        argv = self.unit.command(key, self.env(), self.root, index)
        # a Unix socket named by URI (swanctl --uri unix:///run/...) is under the root too
        return [f"unix://{self.root}{a[7:]}" if a.startswith("unix:///") and
                os.path.isdir(os.path.dirname(f"{self.root}{a[7:]}")) else a for a in argv]

    def caps(self):
        """The unit's CapabilityBoundingSet= as names; None when it sets none."""
        v = self.unit.get("Service", "CapabilityBoundingSet")
        return None if not v else v[-1].split()

    def sandbox(self, argv):
        """argv under the unit's capability bounding set and no-new-privileges (setpriv)."""
        caps, pre = self.caps(), []
        if caps is not None:
            pre += ["--bounding-set=" + ",".join(["-all"] + ["+" + c[4:].lower() for c in caps])]
        if self.unit.last("Service", "NoNewPrivileges") == "yes":
            pre.append("--no-new-privs")
        return ["setpriv", *pre, "--", *argv] if pre else argv

    def limits(self):
        umask = int(self.unit.last("Service", "UMask", "0022"), 8)
        memlock = self.unit.last("Service", "LimitMEMLOCK")

        def apply():
            os.umask(umask)
            if memlock == "infinity":
                try:
                    resource.setrlimit(resource.RLIMIT_MEMLOCK,
                                       (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                except (ValueError, OSError):  # no CAP_SYS_RESOURCE (a container): its most
                    hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]
                    resource.setrlimit(resource.RLIMIT_MEMLOCK, (hard, hard))
        return apply

    def run_lines(self, check, key):
        """Every key= line in turn, each to exit 0; their output, or None at a failure."""
        out = ""
        for i in range(len(self.unit.get("Service", key))):
            argv = self.argv(key, i)
            r = subprocess.run(self.sandbox(argv), env=self.env(), capture_output=True,
                               text=True, timeout=120, preexec_fn=self.limits())
            check(r.returncode == 0, f"{self.unit.name} {key} {' '.join(argv)}: exit "
                  f"{r.returncode} {r.stdout[-1500:]}{r.stderr[-1500:]}")
            if r.returncode:
                return None
            out += r.stdout
        return out

    def start(self, check, unshare_net=False):
        """ExecStartPre lines, then ExecStart in the background; the Popen, or None."""
        for d in self.unit.get("Service", "RuntimeDirectory"):
            os.makedirs(f"{self.root}/run/{d}", exist_ok=True)  # systemd makes them
        if self.run_lines(check, "ExecStartPre") is None:
            return None
        argv = self.sandbox(self.argv("ExecStart"))
        if unshare_net:  # execs in place: the pid stays the unit's main pid
            argv = ["unshare", "--net", "--", *argv]
        self.proc = subprocess.Popen(argv, env=self.env(), preexec_fn=self.limits(),
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(f"{self.work}/{self.name}.log", "w"))
        return self.proc

    def wait_ready(self, check, timeout=180):
        pid = self.proc.pid
        ok = wait_until(lambda: self.notify.has(pid, "READY") or self.proc.poll() is not None,
                        timeout, 0.01) and self.notify.has(pid, "READY")
        check(ok, f"{self.unit.name}: READY=1 from its main process {pid} (exit "
              f"{self.proc.poll()}): {self.log()}")
        return ok

    def log(self):
        try:
            return open(f"{self.work}/{self.name}.log").read()[-2000:]
        except OSError:
            return ""

    def stop(self, check, stopping=True):
        """The unit's KillSignal, then up to its TimeoutStopSec (60 s at least) for the
        exit; exit status 0 and, with stopping, STOPPING=1 checked."""
        if self.proc is None:
            return
        sig = getattr(signal, self.unit.last("Service", "KillSignal", "SIGTERM"))
        timeout = max(60, int(self.unit.last("Service", "TimeoutStopSec", "90").rstrip("s")))
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        check(rc == 0, f"{self.unit.name}: exit status {rc} after {sig.name}: {self.log()}")
        if stopping:
            check(wait_until(lambda: self.notify.has(self.proc.pid, "STOPPING"), 10),
                  f"{self.unit.name}: STOPPING=1 at shutdown")
        self.proc = None


def cap_eff(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return None


def lab_config(work, prefix):
    """configs/lab.yaml with this run's file prefix and its captures, sockets, PKI and
    subscriber file in WORK."""
    text = open(f"{TOP}/configs/lab.yaml").read()
    for old, new in (("--file-prefix=hadp-lab", f"--file-prefix={prefix}"),
                     ("/var/lib/hadp-lab", f"{work}/lab"), ("/run/hacpd-lab", f"{work}/hacpd"),
                     ("/etc/ha/pki", f"{work}/pki")):
        assert old in text, old
        text = text.replace(old, new)
    # named only with ike.aaa local (the lab's is s6b: its AAA peers are not run here, charon's
    # Diameter client keeps trying them)
    text = text.replace("/etc/ha/subscribers.yaml", f"{work}/subscribers.yaml")
    os.makedirs(f"{work}/lab", exist_ok=True)
    for p in ("access-in", "core-in"):
        with open(f"{work}/lab/{p}.pcap", "wb") as f:
            f.write(EMPTY_PCAP)
    with open(f"{work}/lab.yaml", "w") as f:
        f.write(text)
    # charon's credentials: the lab PKI; the subscriber file is only named (lab keys)
    subprocess.run([f"{TOP}/deploy/lab_pki.sh", f"{work}/pki", "ha.lab.example.com",
                    "2001:db8:ffff::1"], check=True, capture_output=True)
    with open(f"{work}/subscribers.yaml", "w") as f:
        f.write("subscribers:\n  - identity: 0001010000000001@nai.epc.mnc001.mcc001."
                "3gppnetwork.org\n    k: 465b5ce8b199b49faa5f0a2ee238a6bc\n"
                "    opc: cd63cb71954a9f4e48a5994e37a02baf\n")
    return f"{work}/lab.yaml"


def restart_hadp(check, hadp, hacpd, charon, work, root):
    """`systemctl restart hadp` under hacpd and charon: hadp stopped and started again by its
    unit's lines. hacpd is not bound to hadp: it either exits when hadp's memory goes, and its
    Restart=always starts it again once the new hadp is ready (After=), or waits for the new
    hadp itself; either way hactl reaches it afterwards. charon is left alone throughout."""
    charon_pid = charon.proc.pid
    hadp.stop(check)
    if wait_until(lambda: hacpd.proc.poll() is not None, 30):
        print(f"  hacpd exited ({hacpd.proc.returncode}) with hadp: Restart=always")
        hacpd.proc = None
    if not hadp.start(check) or not hadp.wait_ready(check):
        return
    if hacpd.proc is None and (not hacpd.start(check) or not hacpd.wait_ready(check)):
        return

    def answers():
        return subprocess.run([f"{root}/usr/local/bin/hactl", "-s", f"{work}/hacpd/hactl.sock",
                               "show", "stats"], capture_output=True, timeout=30).returncode == 0
    check(wait_until(answers, 60, 0.2), "after hadp's restart, hactl reaches hacpd again")
    check(charon.proc.poll() is None and charon.proc.pid == charon_pid,
          "charon kept running through hadp's restart (and hacpd's)")


def run(check, build, work, root, prefix):
    units = install(build, root)
    config = lab_config(work, prefix)
    with open(f"{root}/etc/default/dsmip6-ha", "w") as f:
        f.write(f"# the test's configuration\nHA_CONFIG={config}\n")
    notify = Notify(f"{work}/notify")
    hadp, hacpd, charon = (Service(units[f"{n}.service"], root, work, notify)
                           for n in ("hadp", "hacpd", "ha-charon"))
    running = []
    try:
        # the PCI binding's line: the lab's ports are virtual devices, nothing to bind
        vfio = Service(units["ha-vfio-bind.service"], root, work, notify)
        out = vfio.run_lines(check, "ExecStart")
        check(out and "nothing to bind" in out, f"ha-vfio-bind on the lab's devices: {out}")
        printed = subprocess.run([f"{root}/usr/local/libexec/dsmip6-ha/bind_ports.sh",
                                  "--print", f"{TOP}/configs/baremetal.yaml"],
                                 capture_output=True, text=True)
        check(printed.stdout.split() == ["0000:3b:00.0", "0000:3b:00.1"],
              f"bind_ports.sh --print: baremetal.yaml's two PCI ports: {printed}")

        # After= order: hadp, then hacpd once hadp is ready, then charon
        for svc, net in ((hadp, False), (hacpd, False), (charon, True)):
            if not svc.start(check, unshare_net=net):
                return
            running.append(svc)
            if not svc.wait_ready(check):
                return
            caps = svc.caps()
            if caps is not None:
                want = sum(1 << CAPS.index(c) for c in caps)
                got = cap_eff(svc.proc.pid)
                check(got == want, f"{svc.unit.name}: effective capabilities {got:#x}, "
                      f"the unit's {caps} = {want:#x}")
        check(notify.status(hadp.proc.pid) and notify.status(hacpd.proc.pid),
              f"STATUS= lines: {notify.status(hadp.proc.pid)} {notify.status(hacpd.proc.pid)}")
        r = subprocess.run([f"{root}/usr/local/bin/hactl", "-s", f"{work}/hacpd/hactl.sock",
                            "show", "stats"], capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and "bu-" in r.stdout,
              f"hactl reaches the unit's hacpd: {r.returncode} {r.stdout[:200]}{r.stderr}")
        out = charon.run_lines(check, "ExecStartPost")
        check(out and "loaded connection 'ue'" in out and "successfully loaded 3 connections"
              in out, f"ha-charon's ExecStartPost: swanctl loads the connection of ike.local_id "
              f"and one per PDN, as charon_conf.py wrote them: {out}")
        conf = open(f"{root}/run/ha-charon/strongswan.conf").read()
        check("journal {" in conf and "filelog" not in conf and f"{work}/hacpd/ike.sock" in conf,
              "charon's configuration from the YAML: the journal, hacpd's IKE socket")
        for svc in running:
            print(f"  {svc.unit.name}: pid {svc.proc.pid} READY=1, STATUS="
                  f"{(notify.status(svc.proc.pid) or ['-'])[-1]}")
        restart_hadp(check, hadp, hacpd, charon, work, root)
    finally:
        # stopped in the reverse of the start order, as systemd does with After=
        for svc in reversed(running):
            svc.stop(check, stopping=svc is not charon)
        notify.sock.close()
    check(not hugepage_files(prefix), f"no hugepage file left: {hugepage_files(prefix)}")
    check(not os.path.exists(f"/var/run/dpdk/{prefix}"), "hadp removed its EAL runtime directory")


def main():
    build, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    prefix = f"units-{os.getpid()}"
    subprocess.run(["rm", "-rf", work], check=True)
    os.makedirs(work)
    check = Checks()
    t0 = time.time()
    try:
        run(check, build, work, f"{work}/root", prefix)
    finally:
        remove_dpdk_files(prefix)
    print(f"  {time.time() - t0:.1f} s")
    sys.exit(check.summary("units_exec"))


if __name__ == "__main__":
    main()

"""What the Python tests that run hadp on its own share: a pass/fail tally, the configuration of
two net_pcap ports replaying captures, and one hadp run to its stats file.

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from hadp_harness import Checks, pcap_config, run_hadp
"""
import json
import os
import subprocess

HA6, HA4 = "2001:db8:ffff::1", "192.0.2.1"
MAC_ACCESS_NH, MAC_CORE_NH = "02:00:00:00:0a:01", "02:00:00:00:0c:01"


class Checks:
    """Counts checks; prints each failure as it happens."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what)
        return cond

    def summary(self, label):
        """Prints "label: N passed, M failed"; the exit status to return."""
        print(f"{label}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def pcap_config(work, prefix, dataplane_extra="", tables="{ max_bindings: 64, max_sas: 64 }",
                mbufs=4095, rest=""):
    """hadp's YAML: one worker, the access and core ports replaying WORK/access_in.pcap and
    WORK/core_in.pcap and writing WORK/<port>_out.pcap (workers) and WORK/<port>_ctl.pcap (the
    control thread), the HA's addresses, one PDN (2001:db8:100::/48, 10.45.0.0/16), IKE off;
    dataplane_extra goes inside `dataplane:`, rest (static_sas, static_bindings...) after."""
    return f"""dataplane:
  eal_args: ["--no-pci", "--file-prefix={prefix}-{os.getpid()}", "--log-level=*:warning"]
  lcores: {{ main: 0, workers: [1] }}
  mempool: {{ mbufs: {mbufs}, cache: 64 }}
  ports:
    access:
      device: net_pcap0
      devargs: "rx_pcap={work}/access_in.pcap,tx_pcap={work}/access_out.pcap,tx_pcap={work}/access_ctl.pcap"
      next_hop_mac: "{MAC_ACCESS_NH}"
    core:
      device: net_pcap1
      devargs: "rx_pcap={work}/core_in.pcap,tx_pcap={work}/core_out.pcap,tx_pcap={work}/core_ctl.pcap"
      next_hop_mac: "{MAC_CORE_NH}"
  tables: {tables}
{dataplane_extra}home_agent:
  ipv6_address: {HA6}
  ipv4_address: {HA4}
pdns:
  - name: internet
    home_prefix_pool: 2001:db8:100::/48
    home_prefix_length: 64
    ipv4_pool: 10.45.0.0/16
ike: {{ enabled: false }}
{rest}"""


def run_hadp(hadp, work, config_text, exit_idle_ms=300):
    """Writes WORK/hadp.yaml, runs hadp until its inputs have been idle exit_idle_ms.
    @return (exit status, stderr, the stats file's contents or None)."""
    with open(f"{work}/hadp.yaml", "w") as f:
        f.write(config_text)
    r = subprocess.run([hadp, "-c", f"{work}/hadp.yaml", "--exit-idle", str(exit_idle_ms),
                        "--max-seconds", "30", "--stats-file", f"{work}/stats.json"],
                       capture_output=True, text=True, timeout=90)
    stats = json.load(open(f"{work}/stats.json")) if r.returncode == 0 else None
    return r.returncode, r.stderr, stats

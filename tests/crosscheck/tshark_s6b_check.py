#!/usr/bin/python3
"""tshark, which no one here wrote, decodes the HA's Diameter (S6b, TS 29.273).

Two modes:
  tshark_s6b_check.py gen S6B_CROSSCHECK_GEN WORKDIR
      the generator writes every message the HA sends (DER, AAR, STR, ASA, RAA) and what tshark
      must read in each; every field is compared.
  tshark_s6b_check.py pcap CAPTURE PORT
      a capture of a live exchange (the integration test's): every Diameter message on PORT
      decodes with no malformed-packet mark and no expert error.
"""
import json
import os
import subprocess
import sys


def tshark(pcap, port, fields):
    extra = ["_ws.malformed", "_ws.expert.severity", "diameter.cmd.code"]
    cmd = ["tshark", "-r", pcap, "-d", f"tcp.port=={port},diameter", "-Y", "diameter",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields + extra:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [dict(zip(fields + extra, line.split("\t"))) for line in out.splitlines()]


def norm(value):
    return {"True": "1", "False": "0"}.get(value, value)


def clean(row):
    """No malformed mark; no expert info of error severity (tshark: 8388608 = error)."""
    bad = []
    if row.get("_ws.malformed"):
        bad.append("malformed")
    sev = [s for s in row.get("_ws.expert.severity", "").split(",") if s]
    if any(int(s, 0) >= 0x00800000 for s in sev):
        bad.append(f"expert severity {sev}")
    return bad


def check_gen(gen, work):
    os.makedirs(work, exist_ok=True)
    pcap, exp = os.path.join(work, "s6b.pcap"), os.path.join(work, "s6b.expect.jsonl")
    subprocess.run([gen, pcap, exp], check=True)
    expect = [json.loads(l) for l in open(exp)]
    fields = sorted({f for e in expect for f in e["fields"]})
    rows = tshark(pcap, 3868, fields)
    failed = 0
    if len(rows) != len(expect):
        print(f"FAIL: tshark read {len(rows)} Diameter frames, expected {len(expect)}")
        return 1
    for e, row in zip(expect, rows):
        problems = clean(row)
        for f, v in e["fields"].items():
            got = norm(row.get(f, ""))
            if v not in got.split(","):
                problems.append(f"{f}: tshark read {got!r}, expected {v!r}")
        print(("FAIL " if problems else "ok   ") + e["what"] + ("" if not problems else ": " + "; ".join(problems)))
        failed += bool(problems)
    return failed


def check_pcap(pcap, port):
    rows = tshark(pcap, port, [])
    failed = 0
    for i, row in enumerate(rows):
        problems = clean(row)
        if problems:
            print(f"FAIL Diameter frame {i} (command {row.get('diameter.cmd.code')}): {problems}")
            failed += 1
    print(f"{len(rows)} Diameter messages decoded, {failed} with problems")
    return failed if rows else 1


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "gen":
        failed = check_gen(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "pcap":
        failed = check_pcap(sys.argv[2], int(sys.argv[3]))
    else:
        print(__doc__)
        return 2
    print("PASS" if not failed else f"{failed} FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

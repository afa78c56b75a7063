"""A systemd unit file read as systemd reads the parts the appliance's units use
(systemd.syntax(7), systemd.exec(5), systemd.service(5)), and the appliance installed into a
temporary root with deploy/install.sh, so that a test can check or run what an operator gets.
"""
import os
import re
import shlex
import shutil
import subprocess

TOP = os.path.realpath(f"{os.path.dirname(__file__)}/../..")
UNIT_DIR = "usr/local/lib/systemd/system"  # where install.sh puts the units, under the root


class Unit:
    """unit.get(section, key) -> every value of key in order (systemd accumulates list keys);
    unit.last(section, key, default) -> the one that counts for single-valued keys."""

    def __init__(self, path):
        self.path, self.name = path, os.path.basename(path)
        self.sections = {}
        cur, pending = None, ""
        for raw in open(path):
            line = raw.rstrip("\n")
            if pending:
                line, pending = pending + line, ""
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                continue
            if stripped.endswith("\\"):  # continuation: the next line joins this one
                pending = stripped[:-1] + " "
                continue
            if stripped.startswith("["):
                cur = self.sections.setdefault(stripped.strip("[]"), [])
                continue
            key, _, value = stripped.partition("=")
            cur.append((key.strip(), value.strip()))

    def get(self, section, key):
        return [v for k, v in self.sections.get(section, []) if k == key]

    def last(self, section, key, default=None):
        values = self.get(section, key)
        return values[-1] if values else default

    def environment(self, root):
        """Environment= then EnvironmentFile= (which overrides it, systemd.exec(5)); the
        files are read under root, a missing one with a leading '-' is skipped."""
        env = {}
        for value in self.get("Service", "Environment"):
            for item in shlex.split(value):
                k, _, v = item.partition("=")
                env[k] = v
        for value in self.get("Service", "EnvironmentFile"):
            optional = value.startswith("-")
            path = f"{root}{value.lstrip('-')}"
            if not os.path.exists(path):
                if optional:
                    continue
                raise FileNotFoundError(f"{self.name}: EnvironmentFile {path}")
            for line in open(path):
                line = line.strip()
                if line and line[0] not in "#;" and "=" in line:
                    k, _, v = line.partition("=")
                    env[k.strip()] = " ".join(shlex.split(v))
        return env

    def command(self, key, env, root, index=0):
        """The index-th line of key (ExecStart, ExecStartPre...) as argv, expanded as systemd
        does: ${VAR} into one word, $VAR split on white space, %% a '%' (any other specifier
        is an error here, so a unit that starts using one makes the test say so); an absolute
        path that exists under root is taken from root."""
        line = self.get("Service", key)[index]
        while line and line[0] in "-@:+!":  # the prefixes; none changes what runs here
            line = line[1:]
        if re.search(r"%[^%]", line):
            raise ValueError(f"{self.name}: {key} uses a specifier this test does not expand: {line}")
        argv = []
        for word in shlex.split(line.replace("%%", "%")):
            m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
            if m:
                argv += env.get(m.group(1), "").split()
                continue
            argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                               lambda v: env.get(v.group(1), ""), word))
        return [f"{root}{a}" if a.startswith("/") and os.path.exists(f"{root}{a}") else a
                for a in argv]


def install(build, root):
    """deploy/install.sh --root ROOT --build BUILD; the units it installed, by name."""
    shutil.rmtree(root, ignore_errors=True)
    r = subprocess.run([f"{TOP}/deploy/install.sh", "--root", root, "--build", build],
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"install.sh failed ({r.returncode}): {r.stdout}{r.stderr}")
    d = f"{root}/{UNIT_DIR}"
    return {n: Unit(f"{d}/{n}") for n in sorted(os.listdir(d)) if n.endswith(".service")}

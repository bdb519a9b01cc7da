"""Shared by the scripts that write docs/results/*.json: run a command, time it, read the JSON
lines it prints, and describe the machine and the commit."""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
TORCH_ENV = {
    "LIBTORCH_USE_PYTORCH": "1",
    "LIBTORCH_BYPASS_VERSION_CHECK": "1",
}


def machine():
    """CPU model, cores and memory, e.g. '2-core AMD EPYC, 24 GiB'."""
    model = platform.processor() or "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        kib = int(f.readline().split()[1])
    return f"{os.cpu_count()}-core {model}, {round(kib / 2**20)} GiB"


def commit():
    """The commit the measurement ran at ('-dirty' when code outside docs/ had changes)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    # Results written by these scripts (docs/) do not make the code dirty.
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":(exclude)docs"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.strip()
    return head + ("-dirty" if dirty else "")


def today():
    return time.strftime("%Y-%m-%d", time.gmtime())


def torch_env():
    """The environment for --features tch builds and runs (torch from the venv of the README)."""
    venv = os.path.expanduser("~/.venvs/torch")
    lib = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                          "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    env = dict(os.environ, **TORCH_ENV)
    env["PATH"] = os.path.join(venv, "bin") + ":" + env["PATH"]
    env["LD_LIBRARY_PATH"] = lib
    return env


def build(args, env=None):
    subprocess.run(["cargo", "build", "--release", "--quiet", *args], cwd=ROOT, env=env, check=True)


def run(command, env=None):
    """Runs `command` (a list) from the repository root; returns the JSON objects it printed
    (one a line), its wall seconds and its peak RSS in MB (from /usr/bin/time)."""
    with tempfile.NamedTemporaryFile(mode="r") as timing:
        started = time.monotonic()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", timing.name, *command], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, text=True, check=True)
        wall = time.monotonic() - started
        peak_mb = int(timing.read().strip().splitlines()[-1]) / 1024
    lines = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
    return lines, round(wall, 1), round(peak_mb)


def write(path, document):
    """Writes `document` as JSON atomically."""
    path = os.path.join(ROOT, path)
    with open(path + ".tmp", "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)


def write_text(path, text):
    path = os.path.join(ROOT, path)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def check_page(md, rendered, command):
    """Exits 1, saying which command renders it again, when the page `md` (relative to the
    repository root or absolute) is not `rendered`."""
    with open(os.path.join(ROOT, md)) as f:
        if f.read() != rendered:
            print(f"{md} is not what its JSON renders to: run `{command}`", file=sys.stderr)
            sys.exit(1)
    print(f"{md}: up to date")


def binary(name, example=False):
    return os.path.join(TARGET, "release", "examples" if example else "", name)

"""Replay bad and extreme inputs to the command line, each in its own process with a 1 GB
address-space cap and a 10 s timeout, and say whether each ended cleanly (issue 11).

Clean means: it ended within the time, no traceback, peak memory under 1 GB, and either exit 0
with no nan or inf in the answer, or a non-zero exit with one line of output (a JSON object with
an "error" field under --json).

    python benchmarks/hostile_inputs.py [--only SUBSTRING]

It replays the installed mesacheck (pip install -e . for the working tree).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

MEMORY_CAP = 1 << 30  # bytes of address space per run
TIMEOUT = 10.0  # seconds per run
NON_FINITE = re.compile(r"(?<![\w.])[-+]?(nan|inf)(?![\w])", re.IGNORECASE)

ZERO_ATOMS = '{"points": [[0, 0]], "weights": [1]}'
NESTED = "[" * 50000 + "]" * 50000
BIG_INT = "9" * 5000

# (what, arguments after `mesacheck`): the examples first, then our own
INPUTS = [
    (
        "issue: a0 = -b0 start",
        ["limit", "--x1", "gaussian", "--d", "2", "--T", "20", "--a0", "0.3", "--b0", "-0.3"],
    ),
    (
        "issue: a0 = -b0 start, JSON",
        ["limit", "--d", "2", "--T", "20", "--a0", "0.3", "--b0", "-0.3", "--json"],
    ),
    ("issue: d = 10^6", ["limit", "--d", "1000000"]),
    ("issue: atoms from /dev/zero", ["limit", "--x1", "atoms", "--atoms", "/dev/zero"]),
    ("issue: T = 10^9", ["limit", "--T", "1000000000"]),
    ("issue: conditions at d = 50", ["conditions", "--d", "50"]),
    ("issue: atoms x_1 = 0", ["limit", "--x1", "atoms", "--atoms", ZERO_ATOMS]),
    ("issue: iid moments x_1 = 0", ["limit", "--x1", "iid", "--moments", '{"2": 0, "4": 0, "6": 0}']),
    ("issue: sigma = 1e-300", ["limit", "--sigma", "1e-300"]),
    ("issue: sigma = 1e300", ["limit", "--sigma", "1e300"]),
    ("issue: a0 = 1e300", ["limit", "--a0", "1e300"]),
    ("issue: simulate to a missing folder", ["simulate", "--out", "/no/such/dir/log.csv"]),
    ("issue: simulate m = 10^9", ["simulate", "--m", "1000000000"]),
    ("issue: simulate to /proc", ["simulate", "--out", "/proc/x.csv"]),
    ("issue: heatmap to a missing folder", ["flow", "--full", "--heatmap", "nodir/w.png"]),
    ("issue: full flow d = 30", ["flow", "--full", "--d", "30"]),
    ("issue: error under --json", ["limit", "--d", "0", "--json"]),
    ("issue: atoms file missing", ["limit", "--x1", "atoms", "--atoms", "nosuch.json"]),
    ("issue: recovery full-one (no --clip)", ["recovery", "--x1", "full-one"]),
    ("issue: full flow of full-one, d = 5, T = 100", ["flow", "--full", "--x1", "full-one"]),
    # scales and starts
    ("sigma = 1e-300 from a scaled start", ["limit", "--sigma", "1e-300", "--a0", "1e290", "--b0", "1e290"]),
    ("sigma = 1e-300, JSON", ["limit", "--sigma", "1e-300", "--a0", "1e290", "--b0", "1e290", "--json"]),
    ("recovery sigma = 1e-300", ["recovery", "--sigma", "1e-300", "--d", "3", "--T", "20"]),
    ("recovery sigma = 1e300, JSON", ["recovery", "--sigma", "1e300", "--d", "3", "--T", "20", "--json"]),
    ("sparse c = 1e-200", ["limit", "--x1", "sparse", "--c", "1e-200"]),
    ("simulate sigma = 1e300", ["simulate", "--sigma", "1e300"]),
    ("flow sigma = 1e-300", ["flow", "--full", "--sigma", "1e-300", "--d", "2"]),
    ("a0 = -1e300", ["limit", "--a0", "-1e300", "--json"]),
    ("b0 = 1e-320", ["limit", "--b0", "1e-320", "--a0", "1e-320"]),
    ("origin start", ["limit", "--a0", "0", "--b0", "0"]),
    ("origin start, JSON", ["limit", "--a0", "0", "--b0", "0", "--json"]),
    ("a0 = 0", ["limit", "--d", "2", "--T", "10", "--a0", "0", "--b0", "0.3"]),
    ("negative start", ["limit", "--d", "2", "--T", "10", "--a0", "-0.2", "--b0", "-0.4", "--json"]),
    (
        "atoms of 1e300",
        [
            "limit",
            "--x1",
            "atoms",
            "--atoms",
            '{"points": [[1e300, 0], [0, 1e300]], "weights": ["1/2", "1/2"]}',
        ],
    ),
    # non-finite, negative, zero, wrong types
    ("sigma nan", ["limit", "--sigma", "nan"]),
    ("sigma inf", ["limit", "--sigma", "inf"]),
    ("sigma -1", ["limit", "--sigma", "-1"]),
    ("c 0", ["limit", "--x1", "sparse", "--c", "0"]),
    ("d -3", ["conditions", "--d", "-3"]),
    ("d text", ["limit", "--d", "five"]),
    ("T 2", ["recovery", "--T", "2"]),
    ("T float", ["limit", "--T", "1e3"]),
    ("T-test 0", ["recovery", "--T-test", "0"]),
    ("tau-max inf", ["limit", "--tau-max", "inf"]),
    ("tau-max tiny", ["limit", "--tau-max", "1e-300"]),
    ("eta nan", ["simulate", "--eta", "nan"]),
    ("eta huge", ["simulate", "--d", "2", "--T", "6", "--m", "20", "--m-test", "10", "--eta", "1e300"]),
    ("steps -1", ["simulate", "--steps", "-1"]),
    ("steps 10^12", ["simulate", "--steps", "1000000000000"]),
    ("m 0", ["simulate", "--m", "0"]),
    ("m-test huge", ["simulate", "--m-test", "100000000000"]),
    (
        "seed -1",
        ["simulate", "--d", "2", "--T", "6", "--m", "20", "--m-test", "10", "--steps", "2", "--seed", "-1"],
    ),
    ("log-every 0", ["simulate", "--log-every", "0"]),
    ("log to a .txt", ["simulate", "--out", "log.txt"]),
    ("log to a folder", ["simulate", "--out", "/tmp"]),
    ("plot to /proc", ["simulate", "--plot", "/proc/ab.png"]),
    ("sigma-w nan", ["flow", "--full", "--init", "random", "--sigma-w", "nan"]),
    (
        "sigma-w 1e5 blows up",
        ["flow", "--full", "--d", "1", "--T", "5", "--init", "random", "--sigma-w", "1e5"],
    ),
    ("init unknown", ["flow", "--full", "--init", "sideways"]),
    ("full flow from a0 = 1e300", ["flow", "--full", "--d", "2", "--T", "6", "--a0", "1e300"]),
    ("full flow sigma-w 1e300", ["flow", "--full", "--d", "2", "--init", "random", "--sigma-w", "1e300"]),
    ("tiny start on a0 = -b0", ["limit", "--d", "2", "--T", "10", "--a0", "-1e-6", "--b0", "1e-6"]),
    ("start (1e6, 1e-30)", ["limit", "--d", "2", "--T", "10", "--a0", "1e6", "--b0", "1e-30"]),
    ("flow without --full", ["flow"]),
    ("flow d = 12", ["flow", "--full", "--d", "12", "--json"]),
    ("flow T = 10^7", ["flow", "--full", "--d", "2", "--T", "10000000"]),
    ("recovery d = 10^5", ["recovery", "--d", "100000"]),
    ("simulate d = 10^4", ["simulate", "--d", "10000", "--json"]),
    # laws as JSON
    ("atoms NaN", ["limit", "--x1", "atoms", "--atoms", '{"points": [[NaN, 1]], "weights": [1]}']),
    ("atoms Infinity", ["limit", "--x1", "atoms", "--atoms", '{"points": [[Infinity]], "weights": [1]}']),
    ("atoms 1e400", ["limit", "--x1", "atoms", "--atoms", '{"points": [[1e400]], "weights": [1]}']),
    ("atoms null", ["limit", "--x1", "atoms", "--atoms", '{"points": [[null, 1]], "weights": [1]}']),
    ("atoms bool weight", ["limit", "--x1", "atoms", "--atoms", '{"points": [[1, 1]], "weights": [true]}']),
    (
        "atoms code string",
        ["limit", "--x1", "atoms", "--atoms", '{"points": [["__import__(\\"os\\")"]], "weights": [1]}'],
    ),
    (
        "atoms power tower",
        ["limit", "--x1", "atoms", "--atoms", '{"points": [["9**9**9**9"]], "weights": [1]}'],
    ),
    (
        "atoms 5000-digit integer",
        ["limit", "--x1", "atoms", "--atoms", '{"points": [[' + BIG_INT + ']], "weights": [1]}'],
    ),
    ("atoms nested 50000 deep", ["limit", "--x1", "atoms", "--atoms", NESTED]),
    ("atoms unicode", ["limit", "--x1", "atoms", "--atoms", '{"points": [["①"]], "weights": ["½"]}']),
    ("atoms empty", ["limit", "--x1", "atoms", "--atoms", '{"points": [], "weights": []}']),
    ("atoms extra key", ["limit", "--x1", "atoms", "--atoms", '{"points": [[1]], "weights": [1], "x": 1}']),
    ("atoms a folder", ["limit", "--x1", "atoms", "--atoms", "/tmp"]),
    ("moments NaN", ["conditions", "--x1", "iid", "--moments", '{"2": NaN}']),
    ("moments list", ["conditions", "--x1", "iid", "--moments", "[1, 2]"]),
    ("moments huge", ["limit", "--x1", "iid", "--moments", '{"2": 1e300, "4": 1e600}']),
    ("moments unicode key", ["recovery", "--x1", "iid", "--moments", '{"²": 1}']),
    (
        "moments 1e-300 scale",
        ["limit", "--x1", "iid", "--moments", '{"2": 1e-300, "4": 3e-600, "6": 15e-900}', "--json"],
    ),
    # options and commands
    ("unknown law", ["limit", "--x1", "cauchy"]),
    ("unicode law", ["limit", "--x1", "gaußian"]),
    ("duplicated option", ["limit", "--d", "2", "--d", "3", "--T", "8", "--T", "9"]),
    ("unknown option", ["conditions", "--bogus", "1"]),
    ("unknown command", ["limits"]),
    ("check unknown claim", ["check", "--only", "no_such_claim", "--json"]),
    ("book on a non-book", ["book", "--source", "/tmp"]),
    ("sigma with sparse", ["limit", "--x1", "sparse", "--sigma", "2"]),
    # the setting options (issue 25: every option added since the first replay)
    ("r = 0", ["limit", "--r", "0"]),
    ("r = -1", ["conditions", "--r", "-1"]),
    ("r = nan", ["limit", "--r", "nan"]),
    ("r = inf", ["recovery", "--r", "inf"]),
    ("r = 1e400", ["limit", "--r", "1e400"]),
    ("r = abc", ["flow", "--full", "--r", "abc"]),
    ("r = 1.0000001", ["limit", "--r", "1.0000001"]),
    ("issue: r = 1e-300", ["limit", "--r", "1e-300"]),
    ("issue: r = 0.999999999, T = 1000", ["limit", "--r", "0.999999999", "--T", "1000"]),
    ("r = 0.5, T = 100000", ["limit", "--r", "0.5", "--T", "100000"]),
    ("r with roots", ["limit", "--r", "0.5", "--phases", "roots:3"]),
    ("r = 1e-300, simulate", ["simulate", "--r", "1e-300", "--steps", "20"]),
    ("phases empty", ["limit", "--phases", ""]),
    ("phases roots:", ["limit", "--phases", "roots:"]),
    ("issue: phases roots:10^9", ["limit", "--phases", "roots:1000000000"]),
    ("phases roots:1.5", ["conditions", "--phases", "roots:1.5"]),
    ("phases roots:3:4", ["limit", "--phases", "roots:3:4"]),
    ("phases roots:7, T = 100000", ["limit", "--phases", "roots:7", "--T", "100000"]),
    ("phases uniform:2", ["limit", "--phases", "uniform:2"]),
    ("phases sign:", ["limit", "--phases", "sign:"]),
    ("phases sign:2", ["limit", "--phases", "sign:2"]),
    ("phases sign:nan", ["limit", "--phases", "sign:nan"]),
    ("phases sign:1/3, T = 1000", ["limit", "--phases", "sign:1/3", "--T", "1000"]),
    ("phases unknown law", ["simulate", "--phases", "cauchy:1"]),
    ("phases NUL", ["limit", "--phases", "roots:\x01"]),
    ("noise = 0", ["limit", "--noise", "0", "--d", "2", "--T", "10"]),
    ("noise = -1", ["limit", "--noise", "-1"]),
    ("noise = nan", ["recovery", "--noise", "nan"]),
    ("noise = abc", ["limit", "--noise", "abc"]),
    ("noise = 1e300", ["limit", "--noise", "1e300", "--d", "2", "--T", "10"]),
    ("issue: noise = 1e-300", ["limit", "--noise", "1e-300"]),
    ("noise = 0.5, T = 100000", ["limit", "--noise", "0.5", "--T", "100000"]),
    ("noise real under a contraction", ["limit", "--noise", "0.5", "--noise-kind", "real", "--r", "0.9"]),
    ("noise under a random modulus", ["limit", "--noise", "0.5", "--modulus", '{"moments": "1/(k+1)"}']),
    ("noise kind imaginary", ["limit", "--noise", "0.5", "--noise-kind", "imaginary"]),
    ("noise moments malformed", ["limit", "--noise-moments", "{"]),
    ("noise moments list", ["limit", "--noise-moments", "[1, 2]"]),
    ("noise moments negative", ["limit", "--noise-moments", '{"2": -1, "4": 1, "6": 1}']),
    ("noise moments nan", ["limit", "--noise-moments", '{"2": "nan", "4": 1, "6": 1}']),
    ("noise moments impossible", ["limit", "--noise-moments", '{"2": 1, "4": 0, "6": 1}']),
    ("noise moments expression", ["limit", "--noise-moments", '{"2": "__import__(\'os\')", "4": 1, "6": 1}']),
    ("noise moments 1e400", ["limit", "--noise-moments", '{"2": 1e400, "4": 1, "6": 1}']),
    ("noise moments nested", ["limit", "--noise-moments", NESTED]),
    ("modulus malformed", ["limit", "--modulus", "{"]),
    ("modulus no atoms", ["limit", "--modulus", '{"atoms": {}}']),
    ("modulus radius 2", ["limit", "--modulus", '{"atoms": {"2": 1}}']),
    ("modulus weights 0.3", ["limit", "--modulus", '{"atoms": {"0.9": 0.3}}']),
    ("modulus moments k", ["limit", "--modulus", '{"moments": "k"}']),
    ("modulus moments 2^k", ["conditions", "--modulus", '{"moments": "2**k"}']),
    ("modulus moments nan", ["limit", "--modulus", '{"moments": "nan"}']),
    ("modulus moments code", ["limit", "--modulus", "{\"moments\": \"__import__('os').system('true')\"}"]),
    ("modulus both keys", ["limit", "--modulus", '{"moments": "1/(k+1)", "atoms": {"1": 1}}']),
    ("modulus with r", ["limit", "--modulus", '{"moments": "1/(k+1)"}', "--r", "0.5"]),
    (
        "issue: modulus 30-digit radii",
        ["limit", "--modulus", '{"atoms": {"0.123456789012345678901234567891": 0.5, "1": 0.5}}'],
    ),
    ("modulus 1/(k+1), T = 100000", ["limit", "--modulus", '{"moments": "1/(k+1)"}', "--T", "100000"]),
    ("loss positions first", ["limit", "--loss-positions", "first"]),
    ("loss positions empty", ["recovery", "--loss-positions", ""]),
    ("loss positions last, T = 100000", ["limit", "--loss-positions", "last", "--T", "100000"]),
    # sweep files (written into the working folder first: SWEEP_FILES)
    ("sweep missing file", ["sweep", "no-such.toml"]),
    ("sweep empty file", ["sweep", "empty.toml"]),
    ("sweep binary file", ["sweep", "binary.toml"]),
    ("sweep huge file", ["sweep", "huge.toml"]),
    ("sweep nested tables", ["sweep", "nested.toml"]),
    ("sweep 10^6 points", ["sweep", "million.toml"]),
    ("sweep unknown command", ["sweep", "unknown.toml"]),
    ("sweep a folder", ["sweep", "/tmp"]),
    # the model's options (issue 23) and the certificate (issue 24)
    ("model unknown", ["flow", "--full", "--d", "2", "--T", "6", "--model", "bogus"]),
    ("model empty", ["simulate", "--d", "2", "--T", "6", "--model", ""]),
    ("heads 0", ["flow", "--full", "--d", "2", "--T", "6", "--heads", "0"]),
    ("heads negative", ["simulate", "--d", "2", "--T", "6", "--heads", "-3"]),
    ("heads huge", ["flow", "--full", "--d", "2", "--T", "6", "--heads", "1000000000"]),
    ("heads nan", ["flow", "--full", "--d", "2", "--T", "6", "--heads", "nan"]),
    ("heads fraction", ["flow", "--full", "--d", "2", "--T", "6", "--heads", "1.5"]),
    ("key dim 0", ["flow", "--full", "--d", "2", "--T", "6", "--model", "separate", "--key-dim", "0"]),
    ("key dim huge", ["flow", "--full", "--d", "2", "--T", "6", "--model", "separate", "--key-dim", "99999"]),
    ("key dim inf", ["simulate", "--d", "2", "--T", "6", "--model", "separate", "--key-dim", "inf"]),
    ("key dim with merged", ["flow", "--full", "--d", "2", "--T", "6", "--key-dim", "2"]),
    ("separate with mask", ["flow", "--full", "--d", "2", "--T", "6", "--model", "separate", "--mask"]),
    ("separate on limit", ["limit", "--d", "2", "--T", "6", "--model", "separate"]),
    ("heads on conditions", ["conditions", "--d", "2", "--T", "6", "--heads", "2"]),
    (
        "separate, key dim 1, JSON",
        ["flow", "--full", "--d", "2", "--T", "6", "--model", "separate", "--key-dim", "1", "--json"],
    ),
    ("certify with mask", ["flow", "--full", "--d", "2", "--T", "6", "--certify", "--mask"]),
    ("certify with noise", ["flow", "--full", "--d", "2", "--T", "6", "--certify", "--noise", "0.5"]),
    ("certify d = 6", ["flow", "--full", "--d", "6", "--T", "6", "--certify"]),
    ("certify separate", ["flow", "--full", "--d", "2", "--T", "6", "--certify", "--model", "separate"]),
    (
        "certify roots:2 sparse",
        ["flow", "--full", "--x1", "sparse", "--d", "2", "--T", "6", "--certify", "--phases", "roots:2"],
    ),
    # the theorems in every setting (issue 22)
    (
        "conditions real noise r < 1",
        ["conditions", "--d", "2", "--T", "6", "--noise", "0.5", "--noise-kind", "real", "--r", "0.9"],
    ),
    (
        "recovery random modulus by moments",
        ["recovery", "--d", "2", "--T", "6", "--modulus", '{"moments": "1/(k+1)"}'],
    ),
    ("recovery roots:2", ["recovery", "--d", "2", "--T", "6", "--phases", "roots:2"]),
    ("conditions d = 1000, roots:3", ["conditions", "--d", "1000", "--T", "10", "--phases", "roots:3"]),
]

# sweep files the replay writes into its working folder
SWEEP_FILES = {
    "empty.toml": b"",
    "binary.toml": bytes(range(256)) * 64,
    "huge.toml": b'name = "huge"\ncommand = "limit"\n[axes]\nd = [' + b"1, " * 3_000_000 + b"1]\n",
    "nested.toml": b'name = "n"\ncommand = "limit"\n[axes]\nd = ' + b"[" * 5000 + b"1" + b"]" * 5000 + b"\n",
    "million.toml": b'name = "million"\ncommand = "limit"\n[axes]\nT = {range = [3, 1000003]}\n',
    "unknown.toml": b'name = "unknown"\ncommand = "rm"\n[axes]\nd = [1, 2]\n',
}


def _cap_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def replay(args: list[str], workdir: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, "-c", "from mesacheck.proofs_check.cli import main; main()", *args]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            command, stdout=out, stderr=err, cwd=workdir, env=env, preexec_fn=_cap_memory
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > TIMEOUT:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                timed_out = True
                break
            time.sleep(0.02)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    text = stdout + stderr
    code = child.returncode
    lines = text.strip().splitlines()
    if code == 0:
        plain = not NON_FINITE.search(stdout)
    elif "--json" in args:
        try:
            plain = len(stdout.strip().splitlines()) == 1 and "error" in json.loads(stdout)
        except ValueError:
            plain = False
    else:
        plain = len(lines) == 1 and lines[0].startswith("Error: ")
    result = {
        "exit": code,
        "traceback": "Traceback" in text,
        "non_finite": code == 0 and bool(NON_FINITE.search(stdout)),
        "peak_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "seconds": seconds,
        "timed_out": timed_out,
        "first_line": lines[0][:110] if lines else "",
    }
    result["clean"] = (
        not timed_out
        and not result["traceback"]
        and plain
        and code >= 0
        and result["peak_mb"] < 1024
        and seconds < TIMEOUT
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="Replay only inputs whose label contains this.")
    options = parser.parse_args()
    chosen = [(label, args) for label, args in INPUTS if options.only in label]
    print(f"{'#':>3} {'exit':>4} {'tb':>3} {'nan':>3} {'MB':>5} {'s':>5}  clean  input: first line of output")
    clean = 0
    outcomes = []
    with tempfile.TemporaryDirectory() as workdir:
        for name, content in SWEEP_FILES.items():
            with open(os.path.join(workdir, name), "wb") as handle:
                handle.write(content)
        for n, (label, args) in enumerate(chosen, 1):
            r = replay(args, workdir)
            clean += r["clean"]
            outcomes.append(r["clean"])
            tb, nan = ("yes" if r[key] else "no" for key in ("traceback", "non_finite"))
            print(
                f"{n:>3} {r['exit']:>4} {tb:>3} {nan:>3} {r['peak_mb']:>5.0f} {r['seconds']:>5.1f}  "
                f"{'yes' if r['clean'] else 'NO ':<5}  {label}: {r['first_line']}",
                flush=True,
            )
    print(f"\n{clean} of {len(chosen)} inputs ended cleanly")
    unclean = [label for (label, _), ok in zip(chosen, outcomes) if not ok]
    if unclean:
        print("not clean: " + "; ".join(unclean))
    return 0 if clean == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())

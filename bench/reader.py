#!/usr/bin/env python3
"""Times ocslog's bare line reader, and the reader plus one PCRE2 JIT pattern, beside `rg -c`
and `LC_ALL=C grep -c` with the same pattern on the same generated file, in the same run.

Usage: python3 bench/reader.py [--megabytes 200] [--runs 3]
Prints MB/s and lines/s for each, and the ratio of ocslog's time to the faster peer's
(below 1.0 means ocslog is faster). The machine is shared and noisy: compare ratios.
"""
import argparse, os, re, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATTERN = r"firewall exception|return value 3|error 1[0-9]{3}\."

def timed(command, output_path, env=None):
    with open(output_path, "w") as out:
        start = time.perf_counter()
        subprocess.run(command, stdout=out, stderr=subprocess.DEVNULL, env=env, check=False)
        return time.perf_counter() - start

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    out = os.path.join(ROOT, "bench", "out")
    os.makedirs(out, exist_ok=True)
    subprocess.run(["swift", "build", "-c", "release", "--product", "ocslog-bench"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    bench = os.path.join(ROOT, ".build", "release", "ocslog-bench")
    log = os.path.join(out, f"reader-{args.megabytes}mb.log")
    if not os.path.exists(log) or os.path.getsize(log) < args.megabytes * 1_000_000:
        subprocess.run([bench, "generate", "--megabytes", str(args.megabytes), "--output", log], check=True)
    size = os.path.getsize(log)
    lines = int(subprocess.run(["wc", "-l", log], capture_output=True, text=True).stdout.split()[0])
    c_locale = dict(os.environ, LC_ALL="C")
    commands = {
        "ocslog reader": [bench, "read", log],
        "ocslog reader + PCRE2 JIT": [bench, "read", log, "--pattern", PATTERN],
        "rg -ci": ["rg", "-ci", PATTERN, log],
        "LC_ALL=C grep -ciE": ["grep", "-ciE", PATTERN, log],
    }
    best = {name: float("inf") for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            env = c_locale if name.startswith("LC_ALL") else None
            best[name] = min(best[name], timed(command, os.path.join(out, "peer-output.txt"), env))
    counts = {}
    for name in ("ocslog reader + PCRE2 JIT", "rg -ci", "LC_ALL=C grep -ciE"):
        result = subprocess.run(commands[name], capture_output=True, text=True,
                                env=c_locale if name.startswith("LC_ALL") else None).stdout
        match = re.search(r"matches=(\d+)", result)
        counts[name] = int(match.group(1)) if match else int(result.strip() or 0)
    print(f"input: {log} ({size / 1e6:.0f} MB, {lines} lines); best of {args.runs} runs; pattern: {PATTERN}")
    for name, seconds in best.items():
        print(f"  {name:28s} {size / 1e6 / seconds:8.0f} MB/s {lines / seconds / 1e6:7.2f} M lines/s  ({seconds:.3f} s)")
    peer = min(best["rg -ci"], best["LC_ALL=C grep -ciE"])
    print(f"  ratio ocslog reader + PCRE2 / faster peer: {best['ocslog reader + PCRE2 JIT'] / peer:.2f} (time; < 1 is faster)")
    print(f"  ratio bare reader / faster peer:          {best['ocslog reader'] / peer:.2f}")
    print(f"  matching lines: {counts}")
    if len(set(counts.values())) != 1:
        print("  WARNING: match counts differ", file=sys.stderr)
        sys.exit(1)

if __name__ == "__main__":
    main()

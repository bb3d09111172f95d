#!/usr/bin/env python3
"""Peak memory of `ocslog scan` on many logs in one pipe and on one very large log (issue: a pipe
carries many logs; memory must stay flat). Prints each case's peak resident set size, measured
with wait4(2) on the child, beside the input's size.

usage: bench/memory.py [--binary PATH] [--logs N] [--gigabytes G]"""
import argparse, os, random, subprocess, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument('--binary', default='.build/release/ocslog')
parser.add_argument('--logs', type=int, default=10000, help='corpus logs concatenated in one pipe')
parser.add_argument('--gigabytes', type=float, default=1.0, help='size of the one large MSI log')
args = parser.parse_args()


def peak(command, stdin_path):
    """Runs command with stdin from a file (or a shell pipeline if stdin_path is None); returns (KiB, seconds)."""
    start = time.monotonic()
    with open(stdin_path, 'rb') if stdin_path else open(os.devnull, 'rb') as stdin, open(os.devnull, 'wb') as out:
        child = subprocess.Popen(command, stdin=stdin, stdout=out, stderr=subprocess.DEVNULL,
                                 shell=isinstance(command, str))
        _, status, usage = os.wait4(child.pid, 0)
    return usage.ru_maxrss, time.monotonic() - start


root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'corpus', 'logs')
logs = []
for scenario in sorted(os.listdir(root)):
    for name in sorted(os.listdir(os.path.join(root, scenario))):
        logs.append(open(os.path.join(root, scenario, name), 'rb').read())
random.seed(16)
with tempfile.TemporaryDirectory() as folder:
    many = os.path.join(folder, 'many.log')
    with open(many, 'wb') as out:
        for _ in range(args.logs):
            out.write(random.choice(logs))
    size = os.path.getsize(many) / 2**20
    print(f"{args.logs} corpus logs in one pipe ({size:.0f} MiB):")
    for fmt in ['text', 'json']:
        kib, seconds = peak([args.binary, 'scan', '--format', fmt, '--fail-on', 'never'], many)
        print(f"  --format {fmt}: peak {kib / 1024:.0f} MiB, {seconds:.1f} s")
    os.remove(many)

    # One large MSI log, generated into the pipe (never on disk): its header, then actions that open
    # and close, a firewall entry now and then, an error near the end.
    line = b"MSI (s) (84:34) [12:12:03:393]: Doing action: InstallFiles\n"
    total = int(args.gigabytes * 2**30)
    script = (f"(printf '=== Verbose logging started: 1/1/2010  10:00:00  Build type: SHIP UNICODE 3.01.4000.4042 ===\\n'; "
              f"yes 'MSI (s) (84:34) [12:12:03:393]: Doing action: InstallFiles' | head -c {total}; "
              f"printf 'Error 1920. Service RTCSRV failed to start.\\n') | {args.binary} scan --format json --fail-on never")
    kib, seconds = peak(script, None)
    print(f"one {args.gigabytes:g} GiB MSI log through a pipe: peak {kib / 1024:.0f} MiB, {seconds:.1f} s")

#!/usr/bin/env python3
"""ocslog scan beside ripgrep and GNU grep on the same generated corpus, in the same run.

Usage: python3 bench/scan.py [--megabytes 1000] [--runs 3] [--binary PATH] [--scaling] [--smoke]

Generates (once, under bench/out/) a deterministic mixed corpus from the corpus's own formats
(verbose MSI in UTF-8 and UTF-16LE, deployment HTML, LCSCmd XML, event exports; about 2 % lines
of interest), then times, several runs each, best kept:
  ocslog scan FILE            (file argument)
  cat FILE | ocslog scan      (through a pipe)
  rg -ci -f PATTERNS FILE     (output to a file)
  LC_ALL=C grep -ciE -f PATTERNS FILE
where PATTERNS is written by `ocslog roles --patterns` (the prefilter's words). Prints MB/s of
each, the ratio ocslog time / faster peer time (below 1.0: ocslog is faster), ocslog's peak RSS,
and checks that ocslog's count of candidate lines equals ripgrep's on the UTF-8-only corpus.
--jobs: two copies of a file, --jobs 1 against --jobs 2. --scaling: time and peak RSS for 100 MB,
1 GB and 4 GB (generated on the fly and deleted) and for 1, 10 and 1,000 files.
The machine is shared and noisy: compare ratios, not absolute times.
"""
import argparse, json, os, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")


def run(command, stdin=None, env=None, stdout_path=os.devnull):
    """Runs a command; returns (seconds, peak RSS in KiB, exit status)."""
    with open(stdout_path, "w") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdin=stdin, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    return seconds, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def piped(command, path):
    """`cat path | command`: times the pair, and the RSS of `command`."""
    with open(os.devnull, "w") as out:
        start = time.perf_counter()
        cat = subprocess.Popen(["cat", path], stdout=subprocess.PIPE)
        process = subprocess.Popen(command, stdin=cat.stdout, stdout=out, stderr=subprocess.DEVNULL)
        cat.stdout.close()
        _, status, usage = os.wait4(process.pid, 0)
        cat.wait()
        return time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def generate(bench, path, megabytes, *extra):
    if not os.path.exists(path) or os.path.getsize(path) < megabytes * 1_000_000:
        subprocess.run([bench, "generate", "--megabytes", str(megabytes), "--output", path, *extra], check=True)


def build(binary):
    if binary:
        return binary, os.path.join(os.path.dirname(binary), "ocslog-bench")
    subprocess.run(["swift", "build", "-c", "release", "--product", "ocslog"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["swift", "build", "-c", "release", "--product", "ocslog-bench"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    release = os.path.join(ROOT, ".build", "release")
    return os.path.join(release, "ocslog"), os.path.join(release, "ocslog-bench")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--binary", help="an ocslog binary (default: build release); ocslog-bench beside it")
    parser.add_argument("--jobs", action="store_true", help="also time --jobs 1 against --jobs 2 on two files")
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="check that the benchmark works; exit 1 if not")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    ocslog, bench = build(args.binary)
    patterns = os.path.join(OUT, "patterns.txt")
    with open(patterns, "w") as out:
        subprocess.run([ocslog, "roles", "--patterns"], stdout=out, check=True)
    corpus = os.path.join(OUT, f"mixed-{args.megabytes}mb.log")
    utf8 = os.path.join(OUT, f"mixed-utf8-{args.megabytes}mb.log")
    generate(bench, corpus, args.megabytes)
    generate(bench, utf8, args.megabytes, "--utf8-only")
    size = os.path.getsize(corpus)
    c_locale = dict(os.environ, LC_ALL="C")
    scan = [ocslog, "scan", "-q", "--format", "json", "--fail-on", "never", "--jobs", "1"]
    commands = {
        "ocslog scan FILE": lambda: run(scan + [corpus]),
        "cat FILE | ocslog scan": lambda: piped(scan, corpus),
        "rg -ci -f PATTERNS": lambda: run(["rg", "-ci", "-f", patterns, corpus],
                                          stdout_path=os.path.join(OUT, "peer.txt")),
        "LC_ALL=C grep -ciE -f PATTERNS": lambda: run(["grep", "-ciE", "-f", patterns, corpus], env=c_locale,
                                                      stdout_path=os.path.join(OUT, "peer.txt")),
    }
    best = {name: float("inf") for name in commands}
    rss = {name: 0 for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            seconds, peak, status = command()
            if status > 1:
                sys.exit(f"bench: {name} failed with status {status}")
            best[name] = min(best[name], seconds)
            rss[name] = max(rss[name], peak)
    print(f"input: {corpus} ({size / 1e6:.0f} MB); best of {args.runs} runs; patterns: {patterns}")
    for name, seconds in best.items():
        print(f"  {name:32s} {size / 1e6 / seconds:8.0f} MB/s  ({seconds:.3f} s, peak RSS {rss[name] / 1024:.1f} MiB)")
    peer = min(best["rg -ci -f PATTERNS"], best["LC_ALL=C grep -ciE -f PATTERNS"])
    print(f"  ratio ocslog scan FILE / faster peer:       {best['ocslog scan FILE'] / peer:.2f} (time; <= 1.0 is the goal)")
    print(f"  ratio cat FILE | ocslog scan / faster peer: {best['cat FILE | ocslog scan'] / peer:.2f}")

    # Honesty: the same candidate lines as ripgrep on the UTF-8 part.
    result = subprocess.run(scan + [utf8], capture_output=True, text=True)
    candidates = sum(item["candidateLines"] for item in json.loads(result.stdout)["inputs"])
    rg = int(subprocess.run(["rg", "-ci", "-f", patterns, utf8], capture_output=True, text=True).stdout.strip() or 0)
    same = candidates == rg
    print(f"  candidate lines on the UTF-8 corpus: ocslog {candidates}, rg {rg}: {'equal' if same else 'DIFFERENT'}")

    # (b) UTF-16LE verbose MSI logs: ripgrep transcodes them (it reads the byte-order mark); grep
    # cannot read them, so the peer is ripgrep alone.
    wide = os.path.join(OUT, f"msi-utf16-{max(1, args.megabytes // 4)}mb.log")
    generate(bench, wide, max(1, args.megabytes // 4), "--only", "msi-utf16")
    wide_size = os.path.getsize(wide)
    def timed(command):
        seconds, _, status = run(command, stdout_path=os.path.join(OUT, "peer.txt"))
        if status > 1:
            sys.exit(f"bench: {command[0]} failed with status {status}")
        return seconds
    ocslog_wide = min(timed(scan + [wide]) for _ in range(args.runs))
    rg_wide = min(timed(["rg", "-ci", "-f", patterns, wide]) for _ in range(args.runs))
    print(f"input: {wide} ({wide_size / 1e6:.0f} MB, UTF-16LE MSI)")
    print(f"  ocslog scan FILE {wide_size / 1e6 / ocslog_wide:8.0f} MB/s ({ocslog_wide:.3f} s); "
          f"rg -ci -f PATTERNS {wide_size / 1e6 / rg_wide:8.0f} MB/s ({rg_wide:.3f} s); "
          f"ratio {ocslog_wide / rg_wide:.2f} (grep cannot read UTF-16)")

    # Start-up: a one-file scan of a small log, the median of 30 runs each, against ripgrep.
    small = os.path.join(OUT, "small.log")
    with open(corpus, "rb") as source, open(small, "wb") as out:
        out.write(source.read(4096))
    def median(command):
        times = sorted(timed(command) for _ in range(30))
        return times[len(times) // 2]
    start_ocslog = median([ocslog, "scan", "-q", small])
    start_rg = median(["rg", "-ci", "-f", patterns, small])
    print(f"start-up on a 4 KB log (median of 30): ocslog {start_ocslog * 1000:.1f} ms, rg {start_rg * 1000:.1f} ms "
          f"(ratio {start_ocslog / start_rg:.1f})")

    if args.jobs:
        copy = os.path.join(OUT, "mixed-copy.log")
        shutil.copyfile(corpus, copy)
        one = min(run(scan[:-1] + ["1", corpus, copy])[0] for _ in range(args.runs))
        two = min(run(scan[:-1] + ["2", corpus, copy])[0] for _ in range(args.runs))
        os.remove(copy)
        print(f"  two files: --jobs 1 {one:.2f} s, --jobs 2 {two:.2f} s: {one / two:.2f}x faster")

    if args.scaling:
        print("scaling (one run each; time should grow linearly, memory stay flat):")
        for megabytes in (100, 1000, 4000):
            path = os.path.join(OUT, f"scaling-{megabytes}mb.log")
            generate(bench, path, megabytes)
            seconds, peak, _ = run(scan + [path])
            print(f"  {megabytes:5d} MB in 1 file:  {seconds:8.2f} s  {megabytes / seconds:6.0f} MB/s  peak RSS {peak / 1024:.1f} MiB")
            os.remove(path)
        for files in (1, 10, 1000):
            folder = os.path.join(OUT, f"scaling-{files}-files")
            os.makedirs(folder, exist_ok=True)
            each = max(1, 100 // files) if files <= 100 else 1
            megabytes = each * files if files <= 100 else files // 10
            for index in range(files):
                path = os.path.join(folder, f"log-{index:04d}.log")
                if files > 100:
                    # 1,000 files of 100 kB each (100 MB): cut from one generated log.
                    if index == 0:
                        generate(bench, os.path.join(folder, "source.log"), 100)
                        source = open(os.path.join(folder, "source.log"), "rb")
                    with open(path, "wb") as out:
                        out.write(source.read(100_000))
                else:
                    generate(bench, path, each)
            if files > 100:
                source.close()
                os.remove(os.path.join(folder, "source.log"))
            total = sum(os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder))
            seconds, peak, _ = run(scan[:-2] + ["--jobs", str(os.cpu_count() or 1), folder])
            print(f"  {files:5d} files, {total / 1e6:5.0f} MB: {seconds:8.2f} s  {total / 1e6 / seconds:6.0f} MB/s  peak RSS {peak / 1024:.1f} MiB")
            shutil.rmtree(folder)

    if args.smoke and not same:
        sys.exit("bench: ocslog's candidate lines differ from ripgrep's")


if __name__ == "__main__":
    main()

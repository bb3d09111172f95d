#!/usr/bin/env python3
"""Compares ocslog's reading of a held-out set of firewall records with its author's table
(expected.json: per file, the open rules with protocol, ports, remote scope and whether they are
OCS's, and the rules that are not open). Prints, per file, what matched, what ocslog missed, and —
the one that must stay zero — ports ocslog opened that no open rule states (widened).
Usage: compare_firewall_heldout.py FOLDER [ocslog binary]"""
import json, subprocess, sys, os

folder = sys.argv[1]
binary = sys.argv[2] if len(sys.argv) > 2 else ".build/debug/ocslog"
table = json.load(open(os.path.join(folder, "expected.json")))


def ranges(ports):
    out = []
    for port in ports or []:
        bounds = port.split("-")
        if all(b.isdigit() for b in bounds) and len(bounds) <= 2:
            out.append((int(bounds[0]), int(bounds[-1])))
    return out


def protocols(name):
    name = (name or "").upper()
    return ["tcp"] if name == "TCP" else ["udp"] if name == "UDP" else ["tcp", "udp"] if name == "ANY" else []


totals = {"expected": 0, "found": 0, "widened": 0, "ocs_wrong": 0}
for relative, expected in table["files"].items():
    if relative.endswith(".log"):
        continue
    path = os.path.join(folder, relative)
    run = subprocess.run([binary, "scan", path, "--format", "json"], capture_output=True, text=True)
    if run.returncode not in (0, 1):
        print(f"{relative}: exit {run.returncode}: {run.stderr.strip()[:300]}")
        continue
    result = json.loads(run.stdout)
    got = set()
    for e in result["exceptions"]:
        if e["origin"] == "firewall":
            got.add((e["protocol"], e["portFrom"], e["portTo"], True))
    for e in result.get("otherExceptions") or []:
        got.add((e["protocol"], e["portFrom"], e["portTo"], False))
    want = set()
    unknown = set()
    for rule in expected.get("open", []):
        if rule.get("ports") is None:
            continue
        for transport in protocols(rule.get("protocol")):
            for low, high in ranges(rule.get("ports")):
                item = (transport, low, high, bool(rule.get("ocs")))
                want.add(item)
    allowed = {(p, lo, hi) for p, lo, hi, _ in want}
    widened = sorted(g for g in got if (g[0], g[1], g[2]) not in allowed)
    missed = sorted(w for w in want if (w[0], w[1], w[2]) not in {(g[0], g[1], g[2]) for g in got})
    ocs_wrong = sorted(g for g in got if (g[0], g[1], g[2]) in allowed and g not in want)
    totals["expected"] += len(want)
    totals["found"] += len(want) - len(missed)
    totals["widened"] += len(widened)
    totals["ocs_wrong"] += len(ocs_wrong)
    print(f"{relative}: {len(want) - len(missed)}/{len(want)} open ports read; widened {len(widened)}; "
          f"OCS-or-not wrong {len(ocs_wrong)}")
    for item in missed:
        print(f"   missed  {item}")
    for item in widened:
        print(f"   WIDENED {item}")
    for item in ocs_wrong:
        print(f"   owner   {item} (expected ocs={not item[3]})")
    notes = result.get("firewallRules") or []
    problems = [n for n in notes if n["status"] == "not-read"]
    for n in problems:
        print(f"   not read: {n['rule']}: {n['reason']} (line {n['evidence']['line']})")
print("total", totals)

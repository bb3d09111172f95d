#!/usr/bin/env python3
"""Compares ocslog's scan of each held-out log with its expected.yaml."""
import json, os, subprocess, sys, yaml
root = sys.argv[1] if len(sys.argv) > 1 else '/work/heldout'
binary = os.environ.get('OCSLOG', os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../.build/debug/ocslog'))
ok = 0; total = 0
for scenario in sorted(os.listdir(root)):
    folder = os.path.join(root, scenario)
    exp_path = os.path.join(folder, 'expected.yaml')
    if not os.path.isfile(exp_path): continue
    exp = yaml.safe_load(open(exp_path))
    log = os.path.join(folder, exp['log'])
    out = subprocess.run([binary, 'scan', log, '--format', 'json'], capture_output=True, text=True)
    try:
        doc = json.loads(out.stdout)
    except Exception:
        print(f"{scenario}: no JSON ({out.returncode}) {out.stderr[:300]}"); total += 1; continue
    got = set()
    for e in doc['exceptions']:
        if e.get('origin') != 'log': continue
        ports = str(e['portFrom']) if e['portFrom'] == e['portTo'] else f"{e['portFrom']}-{e['portTo']}"
        parts = [e['role'], e['protocol'], ports] + ([e['interface']] if e.get('interface') else [])
        got.add(' '.join(parts))
    want = set(exp.get('exceptions') or [])
    # interface inferred by documentation is fine when the expectation omits it? compare strictly on role proto ports, then interface
    problems = []
    if doc['inputs'][0]['role'] != exp['role']:
        problems.append(f"role {doc['inputs'][0]['role']} != {exp['role']}")
    if got != want:
        problems.append(f"missing {sorted(want - got)} extra {sorted(got - want)}")
    nu_lines = sorted({f['evidence'][0]['line'] for f in doc['findings'] if 'not understood' in f.get('title', '')})
    for f in doc['findings']:
        if 'not understood' in f.get('title', '') and f.get('count', 1) > 1:
            nu_lines = sorted(set(nu_lines) | {ev['line'] for ev in f['evidence']})
    if nu_lines != sorted(exp.get('not_understood_lines') or []):
        problems.append(f"not understood {nu_lines} != {exp.get('not_understood_lines')}")
    root_exp = exp.get('root')
    findings = [f for f in doc['findings'] if f['severity'] in ('error', 'warning') and 'not understood' not in f.get('title', '')]
    if root_exp:
        if not findings:
            problems.append(f"root missing, want {root_exp}")
        else:
            r = findings[0]
            if r['severity'] != root_exp['severity'] or (root_exp.get('code') and r.get('code') != str(root_exp['code'])) or r['evidence'][0]['line'] != root_exp['line']:
                problems.append(f"root {r['severity']} {r.get('code')} line {r['evidence'][0]['line']} ({r['title']}) != {root_exp}")
    stopped = any(f.get('knownIssue') == 'KI-01' for f in doc['findings'])
    if stopped != bool(exp.get('firewall_stopped')):
        problems.append(f"firewall_stopped {stopped} != {exp.get('firewall_stopped')}")
    total += 1
    if problems:
        print(f"FAIL {scenario}:"); [print("   ", p) for p in problems]
    else:
        ok += 1; print(f"ok   {scenario}")
print(f"{ok}/{total} scenarios pass")

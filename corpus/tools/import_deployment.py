#!/usr/bin/env python3
"""Copies a held-out deployment (several servers' logs in one folder, written by a helper who had
not read the parser) into corpus/logs/NAME/, after checking that a scan of the folder agrees with
the author's table (role, server and stated ports per log: the independent spec, SPEC.yaml), and
writes each log's record and single-file scan expectations like import_heldout.py does.

usage: import_deployment.py FOLDER NAME SPEC.yaml"""
import json, os, re, shutil, subprocess, sys, yaml
binary = os.environ.get('OCSLOG', os.path.join(os.path.dirname(__file__), '../../.build/debug/ocslog'))
main = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../..')
source, name, spec_path = sys.argv[1:4]
spec = yaml.safe_load(open(spec_path))
dst_dir = os.path.join(main, 'corpus/logs', name)
os.makedirs(dst_dir, exist_ok=True)
for entry in spec['logs']:
    shutil.copyfile(os.path.join(source, entry['source']), os.path.join(dst_dir, entry['file']))

def ports(e):
    p = str(e['portFrom']) if e['portFrom'] == e['portTo'] else f"{e['portFrom']}-{e['portTo']}"
    return f"{e['protocol']}/{p}"

doc = json.loads(subprocess.run([binary, 'scan', dst_dir, '--format', 'json', '--fail-on', 'never'],
                                capture_output=True, text=True).stdout)
by_file = {os.path.basename(i['path']): i for i in doc['inputs']}
for entry in spec['logs']:
    got = by_file[entry['file']]
    assert got['role'] == entry['role'], (entry['file'], got['role'], entry['role'])
    assert got.get('server') == entry.get('server'), (entry['file'], got.get('server'), entry.get('server'))
    stated = sorted(ports(e) for e in doc['exceptions']
                    if e['origin'] == 'log' and os.path.basename(e['evidence']['path']) == entry['file'])
    assert stated == sorted(entry.get('ports') or []), (entry['file'], stated, entry.get('ports'))

exp_dir = os.path.join(main, 'corpus/expected', name)
os.makedirs(exp_dir, exist_ok=True)
for entry in spec['logs']:
    dst = os.path.join(dst_dir, entry['file'])
    one = json.loads(subprocess.run([binary, 'scan', dst, '--format', 'json', '--fail-on', 'never'],
                                    capture_output=True, text=True).stdout)
    records = [json.loads(l) for l in subprocess.run([binary, 'scan', dst, '--records'], capture_output=True,
                                                     text=True).stdout.splitlines() if l.strip()]
    inp = one['inputs'][0]
    def describe(e):
        p = str(e['portFrom']) if e['portFrom'] == e['portTo'] else f"{e['portFrom']}-{e['portTo']}"
        return ' '.join([e['role'], e['protocol'], p] + ([e['interface']] if e.get('interface') else [])
                        + (['documented'] if e['origin'] == 'documented' else []))
    by_line = {}
    for r in records: by_line.setdefault(r['line'], r)
    checks = []
    first_exc = min((e['evidence']['line'] for e in one['exceptions'] if e['origin'] == 'log'), default=None)
    for line in [first_exc] + [f['evidence'][0]['line'] for f in one['findings'][:1]]:
        if line is None or line not in by_line: continue
        r = by_line[line]
        check = {'line': line, 'kind': r['kind'], 'text_contains': r['text'][:60]}
        if r.get('context'): check['context'] = r['context']
        if check not in checks: checks.append(check)
    out = {'format': inp['format'], 'encoding': inp['encoding'], 'lines': inp['lines'], 'records': len(records),
           'records_at': checks, 'role': inp['role'], 'server': inp.get('server'),
           'exceptions': sorted(describe(e) for e in one['exceptions'])}
    if one['findings']:
        f = one['findings'][0]
        root = {'severity': f['severity'], 'line': f['evidence'][0]['line']}
        if f.get('code'): root['code'] = f['code']
        if f.get('knownIssue'): root['known_issue'] = f['knownIssue']
        out['root'] = root
    out['findings'] = []
    header = (f"# {entry['shape']}\n# Part of a held-out deployment written by a helper who had not read the parser "
              f"(corpus/expected/{name}/deployment.yaml is the author's table); read alone, as a single file.\n")
    with open(os.path.join(exp_dir, entry['file'] + '.yaml'), 'w') as fh:
        fh.write(header + yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=200))
shutil.copyfile(spec_path, os.path.join(exp_dir, 'deployment.yaml'))
print(f"{len(spec['logs'])} logs imported into corpus/logs/{name}")

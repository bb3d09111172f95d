#!/usr/bin/env python3
"""Copies a held-out deployment (several servers' logs in one folder, written by a helper who had
not read the parser) into corpus/logs/NAME/, after checking that a scan of the folder agrees with
the author's table (role, server and stated ports per log: the independent spec, SPEC.yaml), and
writes each log's record and single-file scan expectations like import_heldout.py does.

usage: import_deployment.py FOLDER NAME SPEC.yaml"""
import json, os, shutil, subprocess, sys, yaml
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expectations
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
    out = expectations.expectation(*expectations.scan(binary, dst))
    out['findings'] = []
    header = (f"# {entry['shape']}\n# Part of a held-out deployment written by a helper who had not read the parser "
              f"(corpus/expected/{name}/deployment.yaml is the author's table); read alone, as a single file.\n")
    with open(os.path.join(exp_dir, entry['file'] + '.yaml'), 'w') as fh:
        fh.write(header + yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=200))
table = os.path.join(exp_dir, 'deployment.yaml')
if os.path.abspath(spec_path) != os.path.abspath(table): shutil.copyfile(spec_path, table)
print(f"{len(spec['logs'])} logs imported into corpus/logs/{name}")

"""What an expectation file records of one corpus log, read alone as a single file: its records
(format, encoding, lines, count, the records at the first exception and the first-ranked finding)
and its scan (role, server, exceptions, first-ranked finding). Shared by the import scripts."""
import json, subprocess


def describe(exception):
    """`edge tcp 443 external`, `front-end tcp 5072 documented`."""
    e = exception
    ports = str(e['portFrom']) if e['portFrom'] == e['portTo'] else f"{e['portFrom']}-{e['portTo']}"
    return ' '.join([e['role'], e['protocol'], ports] + ([e['interface']] if e.get('interface') else [])
                    + (['documented'] if e['origin'] == 'documented' else []))


def scan(binary, path):
    """The scan document and the records of one log."""
    doc = json.loads(subprocess.run([binary, 'scan', path, '--format', 'json', '--fail-on', 'never'],
                                    capture_output=True, text=True).stdout)
    records = [json.loads(l) for l in subprocess.run([binary, 'scan', path, '--records'], capture_output=True,
                                                     text=True).stdout.splitlines() if l.strip()]
    return doc, records


def expectation(doc, records):
    """The expectation of a single-file scan, without its findings list (callers add theirs)."""
    inp = doc['inputs'][0]
    by_line = {}
    for r in records: by_line.setdefault(r['line'], r)
    checks = []
    first_exc = min((e['evidence']['line'] for e in doc['exceptions'] if e['origin'] == 'log'), default=None)
    for line in [first_exc] + [f['evidence'][0]['line'] for f in doc['findings'][:1]]:
        if line is None or line not in by_line: continue
        r = by_line[line]
        check = {'line': line, 'kind': r['kind']}
        if r.get('context'): check['context'] = r['context']
        check['text_contains'] = r['text'][:60]
        if check not in checks: checks.append(check)
    out = {'format': inp['format'], 'encoding': inp['encoding'], 'lines': inp['lines'], 'records': len(records),
           'records_at': checks, 'role': inp['role'], 'server': inp.get('server'),
           'exceptions': sorted(describe(e) for e in doc['exceptions'])}
    if doc['findings']:
        f = doc['findings'][0]
        root = {'severity': f['severity'], 'line': f['evidence'][0]['line']}
        if f.get('code'): root['code'] = f['code']
        if f.get('knownIssue'): root['known_issue'] = f['knownIssue']
        out['root'] = root
    return out

"""Run library notebooks and keep the small outputs that teach (results, tables, printed summaries) so a reader on
GitHub sees them; progress bars, warnings and other stderr are dropped, and so is any output over 20 kB.

Usage (from the project root): python tools/save_outputs.py nbs/08_mining.ipynb [...]   (what `make outputs` runs)
"""
import json, subprocess, sys
from pathlib import Path

LIMIT = 20_000

def keep(o:dict)->bool:
    if o.get('output_type') == 'stream' and o.get('name') == 'stderr': return False
    if o.get('output_type') == 'error': return False
    return len(json.dumps(o)) <= LIMIT

def main(paths)->int:
    for p in map(Path, paths):
        r = subprocess.run(['nbdev-test', '--save', str(p)], capture_output=True, text=True)
        if r.returncode != 0: print(r.stdout[-2000:], r.stderr[-2000:], file=sys.stderr); return r.returncode
        nb = json.loads(p.read_text())
        for c in nb['cells']:
            if c['cell_type'] != 'code': continue
            outs = [o for o in c.get('outputs', []) if keep(o)]
            for o in outs:   # a printed line that a carriage return overwrote: keep what was left on screen
                if o.get('output_type') == 'stream': o['text'] = [t.split('\r')[-1] for t in ''.join(o['text']).splitlines(keepends=True)]
            c['outputs'] = outs
        p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
        subprocess.run(['nbdev-clean', '--fname', str(p)], check=True)
        print(f'{p}: {p.stat().st_size / 1024:.0f} kB')
    return 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))

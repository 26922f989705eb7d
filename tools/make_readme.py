"""Render nbs/index.ipynb to README.md (nbdev-readme needs Quarto, which is not available here).

Markdown cells are copied; code cells become ```python blocks with their text outputs; cells whose directives include
`hide` (or `#| include: false`) are skipped, `#| echo: false` shows only the output, and directive lines (`#| ...`) are dropped.
Usage: python tools/make_readme.py nbs/index.ipynb README.md [--check | --strip]
(--strip first drops every output but those of `#| echo: false` cells from the notebook.)
"""
import json, sys
from pathlib import Path

HEADER = "<!-- generated from nbs/index.ipynb by `make readme`; edit the notebook, not this file -->\n\n"

def _src(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def render(nb_path) -> str:
    nb = json.loads(Path(nb_path).read_text())
    out = []
    for c in nb['cells']:
        src = _src(c)
        if c['cell_type'] == 'markdown':
            out.append(src.strip()); continue
        if c['cell_type'] != 'code': continue
        lines = src.splitlines()
        directives = [l[3:].strip() for l in lines if l.startswith('#|')]
        if any(d == 'hide' or d.replace(' ', '') == 'include:false' for d in directives): continue
        echo = not any(d.replace(' ', '') == 'echo:false' for d in directives)
        code = '\n'.join(l for l in lines if not l.startswith('#|')).strip() if echo else ''
        if code: out.append(f"```python\n{code}\n```")
        texts = []
        for o in c.get('outputs', []):
            if o.get('output_type') == 'stream': texts.append(''.join(o['text']))
            elif 'text/markdown' in o.get('data', {}): out.append(''.join(o['data']['text/markdown']).strip()); continue
            elif 'text/plain' in o.get('data', {}): texts.append(''.join(o['data']['text/plain']))
        if texts: out.append("```\n" + ''.join(texts).rstrip() + "\n```")
    return HEADER + '\n\n'.join(out) + '\n'

def keep_result_outputs(nb_path):
    "Drop outputs of every code cell except `#| echo: false` ones (the tables the README shows)."
    p = Path(nb_path); nb = json.loads(p.read_text())
    for c in nb['cells']:
        if c['cell_type'] == 'code' and not any(l.replace(' ', '').startswith('#|echo:false') for l in _src(c).splitlines()):
            c['outputs'] = []; c['execution_count'] = None
    p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')

if __name__ == '__main__':
    src, dst = sys.argv[1], sys.argv[2]
    if '--strip' in sys.argv: keep_result_outputs(src)
    text = render(src)
    if '--check' in sys.argv:
        if not Path(dst).exists() or Path(dst).read_text() != text:
            sys.exit(f"{dst} is out of date with {src}: run `make readme` and commit README.md")
        print(f"{dst} is up to date with {src}")
    else:
        Path(dst).write_text(text); print(f"wrote {dst}")

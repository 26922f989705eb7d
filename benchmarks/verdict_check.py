"""Does the verdict predict? `embedtune analyze`'s advice against what was measured on the same data.

Reads (nothing is trained here):
- results/diagnostics_scifact.json (the verdict on SciFact) and results/scifact_seeds.json (five recipes x 3 seeds, test
  nDCG@10, paired bootstrap between recipes): hardest hard negatives (demo) vs in-batch, guard vs no guard, LoRA vs full;
- the false-negative risk that `embedtune tune` measured on WikiQA-as-retrieval (results/transfer/wikiqa_tune_s*.json),
  turned into advice by the same `recommend`, against the dev gains of the ladder's rungs in those runs;
- results/test_matched_wikiqa.json (when present) against the 'test-matched pairs' advice of results/diagnostics_wikiqa.json.

A measured difference counts as 'helps' / 'hurts' only when its 95% CI excludes 0, else 'within noise'. Advice 'likely'
agrees with 'helps', 'unlikely' with 'hurts' or 'within noise', 'try' with anything. Rules that were written from a
measurement listed here are marked `circular` (they are not predictions).

Usage: python benchmarks/verdict_check.py      # writes results/verdict_check.json and prints the table
"""
import json, statistics, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
R = ROOT/'results'

def _load(name):
    p = R/name
    return json.loads(p.read_text()) if p.exists() else None

def _advice(verdict:dict, remedy:str):
    return next((x for x in verdict['remedies'] if x['remedy'] == remedy), None)

def _says(diff, low, high):
    return 'helps' if low > 0 else 'hurts' if high < 0 else 'within noise'

def _agrees(advice, says):
    return True if advice == 'try' else (says == 'helps') if advice == 'likely' else says in ('hurts', 'within noise')

def scifact_rows():
    diag, seeds = _load('diagnostics_scifact.json'), _load('scifact_seeds.json')
    if not diag or not seeds: return []
    pw = seeds['pairwise']
    def flip(key):       # the seeds study reports 'other - demo'; here: remedy minus its alternative
        d = pw[key]; return -d['diff'], -d['ci'][1], -d['ci'][0]
    def same(key):
        d = pw[key]; return d['diff'], d['ci'][0], d['ci'][1]
    checks = [('hard negatives, hardest (ranks 0-20)', 'demo (hardest mined negative, no guard) - in-batch only', flip('inbatch - demo'), False),
              ('false-negative guard', 'strict guard - demo (same hard negatives, no guard)', same('strict_guard - demo'), False),
              ('false-negative guard', 'guard + fill - demo', same('guard_fill - demo'), False),
              ('LoRA instead of full', 'LoRA - full (demo)', same('lora - demo'), True)]
    rows = []
    for remedy, what, (d, lo, hi), circ in checks:
        adv = _advice(diag['verdict'], remedy)
        says = _says(d, lo, hi)
        rows.append(dict(dataset='scifact', remedy=remedy, advice=adv['advice'] if adv else None, why=adv['why'] if adv else None,
                         measured=what, diff=round(d, 4), ci=[round(lo, 4), round(hi, 4)], says=says,
                         agrees=_agrees(adv['advice'], says) if adv else None, circular=circ,
                         source='results/scifact_seeds.json (test nDCG@10, 3 seeds, paired bootstrap)'))
    return rows

def wikiqa_rows():
    from embedtune.analysis import recommend
    runs = [json.loads(p.read_text()) for p in sorted((R/'transfer').glob('wikiqa_tune_s*.json'))]
    rows = []
    if runs:
        risk = runs[0]['tuning']['risk']
        rec = recommend(dict(auc=0.5, overlap=1.0, separability=0.0), risk)   # only the risk-driven advice is read here
        gains = {}
        for r in runs:
            for x in r['tuning']['rungs']:
                if x.get('change') is not None: gains.setdefault(x['rung'], []).append(x['change'])
        best = [max(r['tuning']['rungs'], key=lambda x: x.get('change') if x.get('change') is not None else -9)['rung'] for r in runs]
        for remedy, rung, alt in (('hard negatives, hardest (ranks 0-20)', 'hardest', 'inbatch'), ('false-negative guard', 'guarded', 'hardest')):
            diffs = [a - b for a, b in zip(gains.get(rung, []), gains.get(alt, []))]
            m = statistics.fmean(diffs); s = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
            lo, hi = m - 2 * s, m + 2 * s      # over seeds (3): a rough band, said so in 'source'
            adv = _advice(rec, remedy); says = _says(m, lo, hi)
            rows.append(dict(dataset='wikiqa', remedy=remedy, advice=adv['advice'], why=adv['why'],
                             measured=f'dev nDCG@10 gain of rung {rung} - rung {alt} (same seed)', diff=round(m, 4), ci=[round(lo, 4), round(hi, 4)],
                             says=says, agrees=_agrees(adv['advice'], says), circular=False, best_rung_per_seed=best,
                             source=f'results/transfer/wikiqa_tune_s*.json ({len(diffs)} seeds; band = mean ± 2 std over seeds; risks '
                                    f"{[round(r['tuning']['risk']['risk'], 3) for r in runs]})"))
    tm, diag = _load('test_matched_wikiqa.json'), _load('diagnostics_wikiqa.json')
    if tm and diag and tm.get('matched_minus_plain'):
        c = tm['matched_minus_plain']['trained']; adv = _advice(diag['verdict'], 'test-matched pairs'); says = _says(c['diff'], c['low'], c['high'])
        before = tm['diagnostics']['remedy']['advice']   # what the verdict said when the experiment ran (before the rule was revised)
        rows.append(dict(dataset='wikiqa', remedy='test-matched pairs', advice=adv['advice'], why=adv['why'],
                         measured='test nDCG@10 of the trained models: matched - plain negatives (same budget, 3 seeds)', diff=round(c['diff'], 4),
                         ci=[round(c['low'], 4), round(c['high'], 4)], says=says, agrees=_agrees(adv['advice'], says), circular=True,
                         advice_before_revision=before, agreed_before_revision=_agrees(before, says),
                         source='results/test_matched_wikiqa.json; the rule was revised after this result (in-batch negatives view), so it is circular now; '
                                f'the verdict before the revision said {before!r}'))
    return rows

def main():
    from embedtune.core import make_manifest, write_json
    from embedtune.evaluate import table
    rows = scifact_rows() + wikiqa_rows()
    preds = [r for r in rows if not r['circular'] and r['agrees'] is not None]
    late = [r for r in rows if 'advice_before_revision' in r]
    out = dict(task='verdict_check', rows=rows, agreed=sum(r['agrees'] for r in preds), predictions=len(preds),
               before_revision=dict(agreed=sum(r['agreed_before_revision'] for r in late) + sum(r['agrees'] for r in preds),
                                    predictions=len(late) + len(preds)),
               manifest=make_manifest(dict(inputs=['diagnostics_scifact.json', 'scifact_seeds.json', 'transfer/wikiqa_tune_s*.json',
                                                   'diagnostics_wikiqa.json', 'test_matched_wikiqa.json']), 0, []))
    write_json(out, R/'verdict_check.json')
    print(table([[r['dataset'], r['remedy'], r['advice'], r['measured'], f"{r['diff']:+.4f} [{r['ci'][0]:+.4f}, {r['ci'][1]:+.4f}]", r['says'],
                  ('yes' if r['agrees'] else 'NO') + (' (circular)' if r['circular'] else '')] for r in rows],
                ['data', 'remedy', 'advice', 'measured', 'diff [CI]', 'says', 'agrees'], 'markdown'))
    print(f"\n{out['agreed']} of {out['predictions']} non-circular predictions agree with the measurement")
    for r in rows:
        if 'advice_before_revision' in r: print(f"{r['dataset']} {r['remedy']}: before its rule was revised the verdict said {r['advice_before_revision']!r}: "
                                                f"{'agreed' if r['agreed_before_revision'] else 'WRONG'}")

if __name__ == '__main__': main()

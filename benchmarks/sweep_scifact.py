"""A small sweep over SciFact fine-tuning settings, each variant a full `train` run, chosen on a dev split.

Every variant holds out 20% of the train queries as a dev split (`test_size: 0.2`) and the summary sorts by dev
nDCG@10 (scored against the whole corpus by the same code as test); test is reported beside it, not used to choose.
None of the variants below has been run yet (no files under results/sweep/); the committed configs' own results
(single seed, no dev split, compared on test) are listed for reference.

Variants are overrides of a base config. Every run writes its own result JSON (the shared schema) under
results/sweep/, and a summary table goes to results/sweep_scifact.json. A variant whose result file already exists
is not run again (delete the file to re-run it), so the sweep can be continued across sessions. The summary also
lists the committed configs' own results (configs/scifact_*.yaml, run with `embedtune train`), so one table shows
everything that was tried.

Usage:
  python benchmarks/sweep_scifact.py                       # every variant below
  python benchmarks/sweep_scifact.py --only full_lr1e-4_ep3 lora_r32
  python benchmarks/sweep_scifact.py --list
  python benchmarks/sweep_scifact.py --summary            # only rebuild the summary table from existing result files
"""
import argparse, json, sys, time
from pathlib import Path

BASE = 'configs/scifact_inbatch.yaml'   # MNRL, in-batch negatives, lr 5e-5, 2 epochs, batch 32, seed 42
HARDNEG = dict(source='dense', num_negatives=1, range_max=20, dup_threshold=0.95, relative_margin=0.05, vote='bm25')
VARIANTS = {
    # full fine-tuning (the base itself is configs/scifact_inbatch.yaml; with one hard negative: configs/scifact_hardneg.yaml)
    'full_lr5e-5_ep4':  dict(epochs=4),
    'full_lr1e-4_ep3':  dict(lr=1e-4, epochs=3),
    'full_scale30_ep3': dict(epochs=3, scale=30.0),
    'full_2stage':      dict(stages=[dict(epochs=2), dict(epochs=1, lr=2e-5, mining=HARDNEG)]),
    # LoRA (r=32, alpha=64, dropout=0.05 by default)
    'lora_r32_lr1e-4_ep3': dict(lora={}, lr=1e-4, epochs=3),
    'lora_r32_lr3e-4_ep3': dict(lora={}, lr=3e-4, epochs=3),
}

# committed configs, run with `embedtune train CONFIG` (their result files are listed in the summary too)
CONFIG_RUNS = {
    'inbatch_ep2 (configs/scifact_inbatch.yaml)':              'results/scifact_inbatch.json',
    'hardneg_strict_guard_ep2 (configs/scifact_hardneg.yaml)': 'results/scifact_hardneg.json',
    'hardneg_strict_guard_fill_ep2 (scifact_hardneg_fill.yaml)': 'results/scifact_hardneg_fill.json',
    'hardneg_noguard_ep2 (scifact_hardneg_noguard.yaml)':      'results/scifact_hardneg_noguard.json',
    'hardneg_noguard_ep2 again (configs/scifact_full.yaml)':   'results/scifact_full.json',
    'hardneg_light_guard_ep2 (configs/demo_scifact.yaml)':     'results/demo_scifact.json',
    'lora_hardneg_noguard_lr3e-4_ep2 (scifact_lora.yaml)':     'results/scifact_lora.json',
}

def _row(name, overrides, f):
    r = json.loads(Path(f).read_text())
    return dict(variant=name, overrides=overrides, method=r.get('method'), ndcg10=(r.get('trained') or r['result'])['ndcg@10'],
                dev_ndcg10=(r.get('dev') or {}).get('result', {}).get('ndcg@10'),
                baseline_ndcg10=r['baseline']['ndcg@10'], stsb_before=(r.get('stsb') or {}).get('before'),
                stsb_after=(r.get('stsb') or {}).get('after'), minutes=round(r['seconds'] / 60, 1), result_file=str(f))

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--only', nargs='*', help='variant names to run'); p.add_argument('--list', action='store_true')
    p.add_argument('--summary', action='store_true', help='run nothing; rebuild the summary table')
    p.add_argument('--base', default=BASE); p.add_argument('--out', default='results/sweep_scifact.json')
    a = p.parse_args()
    if a.list:
        for k, v in VARIANTS.items(): print(f'{k:<22} {v}')
        return
    from embedtune.core import read_config
    from _common import save
    from embedtune.train import TrainConfig, train
    names = [] if a.summary else a.only if a.only is not None else list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown: sys.exit(f'unknown variant(s) {unknown}; see --list')
    for n in names:
        res_path = Path('results/sweep')/f'{n}.json'
        if res_path.exists(): print(f'{n}: done already ({res_path})'); continue
        cfg = TrainConfig.from_dict({**read_config(a.base), 'test_size': 0.2, 'load_best_model_at_end': False, **VARIANTS[n],
                                     'task': f'sweep_{n}', 'output_dir': f'runs/sweep/{n}',
                                     'result': str(res_path)}, f'{a.base} + {n}')
        print(f'=== {n}: {VARIANTS[n]}', flush=True)
        train(cfg)
    rows = [_row(n, VARIANTS[n], Path('results/sweep')/f'{n}.json') for n in VARIANTS if (Path('results/sweep')/f'{n}.json').exists()]
    rows += [_row(n, f, f) for n, f in CONFIG_RUNS.items() if Path(f).exists()]
    files = [Path(r['result_file']) for r in rows]   # each run's own manifest (config, seed, versions, data sha256) is in its file
    save(dict(task='sweep_scifact', base=a.base, runs=rows), a.out, dict(base=a.base, variants=VARIANTS, config_runs=CONFIG_RUNS), 42, files)
    from embedtune.evaluate import table
    rows = sorted(rows, key=lambda r: (r['dev_ndcg10'] is None, -(r['dev_ndcg10'] or 0)))   # chosen on dev; runs without a dev split last
    print(table([[r['variant'], r['dev_ndcg10'], r['ndcg10'], r['stsb_after'], f"{r['minutes']:.1f}"] for r in rows],
                ['variant', 'dev nDCG@10', 'test nDCG@10', 'STS-B after', 'minutes']))

if __name__ == '__main__': main()

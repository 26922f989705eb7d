"""SciFact recipes over several seeds, chosen on a dev split carved from the train queries, reported on test.

Every run is a full `train` of one committed config with these overrides: `test_size` (default 0.2) of the train
queries are held out as a dev split (a different random split per seed, the same one for every recipe of that seed),
the model trains on the rest, and both dev and test are scored against the whole corpus by the same metric code.
The recipe is **chosen by its mean dev nDCG@10**; test is only reported. Each run writes its own result JSON under
results/seeds/ (the shared schema, with its manifest: config, seed, git commit, versions, data sha256), and a run
whose file exists is not run again, so the study can be continued across sessions. Runs go round-robin by seed, so
an interrupted study still has every recipe at the first seeds.

The summary (results/scifact_seeds.json) has, per recipe: seeds, test and dev nDCG@10 per seed, mean and std (n-1),
the test mean without the two test queries that are word-for-word train queries (870, 1292), and for every pair of
recipes the paired bootstrap of the test nDCG@10 difference over queries (per-query values averaged over the seeds
both have), with a verdict: a difference whose CI contains 0, or that is smaller than the seeds' spread, is noise.

Usage:
  python benchmarks/scifact_seeds.py                          # every recipe x seed not run yet
  python benchmarks/scifact_seeds.py --only inbatch --seeds 42 7
  python benchmarks/scifact_seeds.py --summary                # only rebuild the summary from existing result files
"""
import argparse, itertools, json, statistics, sys
from pathlib import Path

RECIPES = {   # name -> committed config (each trains 2 epochs, batch 32, lr 5e-5 (LoRA 3e-4), MNRL scale 20)
    'demo':         'configs/demo_scifact.yaml',        # 1 mined hard negative (top of ranks 0-20), light guard (near-copies)
    'inbatch':      'configs/scifact_inbatch.yaml',     # in-batch negatives only
    'strict_guard': 'configs/scifact_hardneg.yaml',     # + relative margin 5% and BM25 vote
    'guard_fill':   'configs/scifact_hardneg_fill.yaml', # strict guard, short queries filled with random negatives
    'lora':         'configs/scifact_lora.yaml',        # LoRA r=32 on the no-guard hard negatives
}
SEEDS = (42, 7, 1)
OVERLAP_QUERIES = ('870', '1292')   # SciFact test queries identical to train queries 871 / 1291 (same positives)

def result_path(out_dir, name, seed): return Path(out_dir)/f'{name}_s{seed}.json'

def run(name, seed, test_size, out_dir):
    from embedtune.core import read_config
    from embedtune.train import TrainConfig, train
    cfg = RECIPES[name]
    over = dict(seed=seed, test_size=test_size, load_best_model_at_end=False, save_model=False, task=f'seeds_{name}',
                output_dir=f'runs/seeds/{name}_s{seed}', result=str(result_path(out_dir, name, seed)))
    print(f'=== {name} seed {seed} ({cfg})', flush=True)
    train(TrainConfig.from_dict({**read_config(cfg), **over}, f'{cfg} + seeds'))

def trained(r:dict)->dict:
    "Test metrics of the trained model (runs since the keep-base decision also hold `trained`; their `result` is the model handed back)."
    return r.get('trained') or r['result']

def _mean_std(xs): return (statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else None)

def summarise(out_dir, out):
    import numpy as np
    from _common import save
    from embedtune.evaluate import paired_bootstrap
    runs = {}
    for name in RECIPES:
        for seed in SEEDS:
            p = result_path(out_dir, name, seed)
            if p.exists(): runs.setdefault(name, {})[seed] = json.loads(p.read_text())
    table = {}
    for name, by_seed in runs.items():
        seeds = sorted(by_seed)
        test = [trained(by_seed[s])['ndcg@10'] for s in seeds]
        dev = [by_seed[s]['dev']['result']['ndcg@10'] for s in seeds]
        wo = [float(np.mean([v[1] for q, v in by_seed[s]['per_query_ndcg10'].items() if q not in OVERLAP_QUERIES])) for s in seeds]
        (m, sd), (dm, dsd), (wm, wsd) = _mean_std(test), _mean_std(dev), _mean_std(wo)
        table[name] = dict(config=RECIPES[name], seeds=seeds, **{'ndcg@10': test}, mean=m, std=sd,
                           dev_ndcg10=dev, dev_mean=dm, dev_std=dsd, dev_baseline=statistics.fmean(by_seed[s]['dev']['baseline']['ndcg@10'] for s in seeds),
                           baseline=by_seed[seeds[0]]['baseline']['ndcg@10'],
                           ndcg10_without_overlap=wo, mean_without_overlap=wm, std_without_overlap=wsd,
                           stsb_after=[by_seed[s]['stsb']['after'] for s in seeds if by_seed[s].get('stsb')],
                           minutes=[round(by_seed[s]['seconds'] / 60, 1) for s in seeds],
                           commits=sorted({(by_seed[s]['manifest'].get('code') or {}).get('commit') or '?' for s in seeds}),
                           files=[str(result_path(out_dir, name, s)) for s in seeds])
    # choose only among recipes run on the same >= 2 seeds (the same dev splits), and only when every recipe has them
    same = len({tuple(r['seeds']) for r in table.values()}) == 1 and len(table) == len(RECIPES)
    chosen = max(table, key=lambda n: table[n]['dev_mean']) if same and len(next(iter(table.values()))['seeds']) >= 2 else None
    pairs = {}
    for a, b in itertools.combinations(sorted(table), 2):
        common = sorted(set(runs[a]) & set(runs[b]))
        if not common: continue
        pq = lambda n: {q: float(np.mean([runs[n][s]['per_query_ndcg10'][q][1] for s in common])) for q in runs[n][common[0]]['per_query_ndcg10']}
        pb = paired_bootstrap(pq(a), pq(b), seed=0)   # b - a
        spread = max(statistics.stdev([trained(runs[n][s])['ndcg@10'] for s in common]) if len(common) > 1 else 0 for n in (a, b))
        noise = pb['low'] <= 0 <= pb['high'] or abs(pb['diff']) <= spread
        verdict = 'within noise' if noise else ('better' if pb['diff'] > 0 else 'worse')
        if len(common) < 2: verdict += ' over queries (one seed: seed noise not measured yet)'
        pairs[f'{b} - {a}'] = dict(seeds=common, diff=pb['diff'], ci=[pb['low'], pb['high']], p_value=pb['p_value'],
                                   seed_std=spread, verdict=verdict)
    files = [f for r in table.values() for f in r['files']]
    save(dict(task='scifact_seeds', selection='recipe with the best mean dev nDCG@10 (dev = held-out train queries, whole corpus)',
              chosen=chosen, recipes=table, pairwise=pairs, overlap_queries=list(OVERLAP_QUERIES)), out, dict(recipes=RECIPES, seeds=list(SEEDS)), None, files)
    from embedtune.evaluate import table as grid
    f = lambda m, s: f"{m:.4f}" + (f" ± {s:.4f}" if s is not None else '')
    print(grid([[n, len(r['seeds']), f(r['dev_mean'], r['dev_std']), f(r['mean'], r['std']), f(r['mean_without_overlap'], r['std_without_overlap'])]
                for n, r in sorted(table.items(), key=lambda x: -x[1]['dev_mean'])],
               ['recipe', 'seeds', 'dev nDCG@10', 'test nDCG@10', 'test w/o overlap']))
    print(f'chosen on dev: {chosen}')
    print(grid([[k, f"{v['diff']:+.4f}", f"[{v['ci'][0]:+.4f}, {v['ci'][1]:+.4f}]", len(v['seeds']), v['verdict']] for k, v in pairs.items()],
               ['test difference', 'mean', '95% CI', 'seeds', 'verdict']))

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--only', nargs='*', help='recipe names (default: all)'); p.add_argument('--seeds', nargs='*', type=int, default=list(SEEDS))
    p.add_argument('--test-size', type=float, default=0.2); p.add_argument('--summary', action='store_true')
    p.add_argument('--runs', default='results/seeds'); p.add_argument('--out', default='results/scifact_seeds.json')
    a = p.parse_args()
    names = a.only or list(RECIPES)
    bad = [n for n in names if n not in RECIPES] + [s for s in a.seeds if s not in SEEDS]
    if bad: sys.exit(f'unknown recipe or seed {bad}; recipes {list(RECIPES)}, seeds {list(SEEDS)}')
    if not a.summary:
        for seed in a.seeds:          # round-robin: every recipe at one seed before the next seed
            for n in names:
                if result_path(a.runs, n, seed).exists(): print(f'{n} seed {seed}: done ({result_path(a.runs, n, seed)})'); continue
                run(n, seed, a.test_size, a.runs)
                summarise(a.runs, a.out)
    summarise(a.runs, a.out)

if __name__ == '__main__': main()

"""Does fine-tuning transfer? The base model, the default `embedtune train`, and `embedtune tune` on every BEIR-format
set with a train split we have — SciFact, and WikiQA as retrieval — over three seeds, reported on test with CIs.

- **default**: `configs/default.yaml` with the data set swapped in: in-batch MNRL, 1 epoch, a 20% dev split and the
  keep-base decision. Its `result` is the model it hands back (the base model when it kept it).
- **tune**: `configs/tune.yaml` (the same plus `tune: {budget_minutes: 45}`): the risk estimate, the ladder on the dev
  split, the keep-base decision, test once. The budget is counted on the CPU clock (`budget_clock: cpu`: the
  process's CPU time / torch threads), because this machine's two cores are shared with other jobs and a wall-clock
  budget would cut rungs for time spent waiting.
- **base**: the base model on test (the same in every run: test does not depend on the seed).

A seed changes the dev split (which train queries are held out), the sampling and the training order. Each run writes
its own result JSON under results/transfer/ (with its manifest: config, seed, git commit, versions, data sha256), and a
run whose file exists is not run again, so the study continues across sessions; runs go round-robin by seed, cheapest
data set first.

WikiQA as retrieval: `embedtune.data.qa_to_beir('wikiqa/train.jsonl', test_size=0.3, seed=0)` — the 873 questions with
an answer are the queries, their 1,040 answer sentences and the wrong candidate sentences of the file are one corpus of
1,863 sentences, and the questions are split 611 train / 262 test by a seeded shuffle (seed 0, fixed for every run).

The summary (results/transfer.json): per data set, `base` (test nDCG@10), `default` and `tune` with per seed the test
nDCG@10 of the handed-back model and of the trained one, the verdicts, mean ± std, and the paired bootstrap over test
queries of handed-back minus base (per-query values averaged over the seeds), and `verdict`: whether the bars hold
(default never significantly worse than base; tune gains wherever a rung gained on dev).

Usage:
  python benchmarks/transfer.py                         # every data set x method x seed not run yet
  python benchmarks/transfer.py --only wikiqa --methods default --seeds 42
  python benchmarks/transfer.py --summary               # only rebuild results/transfer.json
"""
import argparse, json, statistics, sys
from pathlib import Path

SEEDS = (42, 7, 1)
METHODS = {'default': 'configs/default.yaml', 'tune': 'configs/tune.yaml'}
DATASETS = ('wikiqa', 'scifact')          # cheapest first
OUT = Path('results/transfer')
CLOCK = 'cpu'   # tune's budget clock in this study (the WikiQA ladders, run before it existed, finished in ~6 of their 45 minutes: no rung was skipped)

def dataset_path(name:str)->str:
    "The BEIR folder of a data set of the study (WikiQA is built from its QA pairs once, into runs/data/)."
    if name != 'wikiqa': return name
    from embedtune.data import qa_to_beir, save_beir
    d = Path('runs/data/wikiqa_retrieval').resolve()
    if not (d/'corpus.jsonl').exists(): save_beir(qa_to_beir('wikiqa/train.jsonl', test_size=0.3, seed=0), d)
    return str(d)

def result_path(ds, method, seed): return OUT/f'{ds}_{method}_s{seed}.json'

def run(ds:str, method:str, seed:int):
    from embedtune.core import read_config
    from embedtune.train import TrainConfig, train
    from embedtune.tune import tune
    over = dict(dataset=dataset_path(ds), seed=seed, task=f'transfer_{ds}_{method}', save_model=method == 'tune',
                output_dir=f'runs/transfer/{ds}_{method}_s{seed}', result=str(result_path(ds, method, seed)))
    if method == 'tune':   # the 2-core machine is shared with other jobs: count the 45-minute budget in CPU work, not waiting
        over['tune'] = {**(read_config(METHODS[method]).get('tune') or {}), 'budget_clock': CLOCK}
    print(f'=== {ds} {method} seed {seed}', flush=True)
    cfg = TrainConfig.from_dict({**read_config(METHODS[method]), **over}, f'{METHODS[method]} + transfer')
    (tune if method == 'tune' else train)(cfg)

def _ms(xs): return (statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else None)

def summarise(out:Path):
    import numpy as np
    from _common import save
    from embedtune.evaluate import paired_bootstrap
    table = {}
    for ds in DATASETS:
        entry = {}
        for method in METHODS:
            runs = {s: json.loads(result_path(ds, method, s).read_text()) for s in SEEDS if result_path(ds, method, s).exists()}
            if not runs: continue
            seeds = sorted(runs); r0 = runs[seeds[0]]
            entry['base'] = r0['baseline']['ndcg@10']
            handed = [runs[s]['result']['ndcg@10'] for s in seeds]
            trained = [(runs[s].get('trained') or {}).get('ndcg@10') for s in seeds]
            # per query: the handed-back model's value averaged over seeds (the base model's where it was kept) vs the base
            base_q, pq = {}, {}
            for s in seeds:
                r = runs[s]
                for q, (b, t) in (r.get('per_query_ndcg10') or {}).items():
                    pq.setdefault(q, []).append(b if r['verdict'] == 'kept_base' or t is None else t); base_q.setdefault(q, b)
            sig = paired_bootstrap(base_q, {q: float(np.mean(v)) for q, v in pq.items()}, seed=0) if pq else None
            m, sd = _ms(handed)
            entry[method] = dict(config=METHODS[method], seeds=seeds, **{'ndcg@10': handed}, mean=m, std=sd, trained_ndcg10=trained,
                                 verdicts=[runs[s]['verdict'] for s in seeds], change_vs_base=sig,
                                 chosen=[runs[s].get('chosen') for s in seeds] if method == 'tune' else None,
                                 rung_gained_on_dev=[any(x.get('change', 0) > 0 for x in runs[s]['tuning']['rungs']) for s in seeds] if method == 'tune' else None,
                                 minutes=[round(runs[s]['seconds'] / 60, 1) for s in seeds],
                                 commits=sorted({(runs[s]['manifest'].get('code') or {}).get('commit') or '?' for s in seeds}),
                                 files=[str(result_path(ds, method, s)) for s in seeds])
        if not entry: continue
        bars = {}
        if 'default' in entry and entry['default']['change_vs_base']:
            bars['default_not_significantly_worse'] = entry['default']['change_vs_base']['high'] >= 0
        if 'tune' in entry and entry['tune']['change_vs_base']:
            gained = any(entry['tune']['rung_gained_on_dev'])
            bars['tune_gains_where_a_rung_gained_on_dev'] = (entry['tune']['mean'] > entry['base']) if gained else None
        entry['verdict'] = bars
        table[ds] = entry
    save(dict(task='transfer', seeds=list(SEEDS), datasets=table,
              note='ndcg@10 = test nDCG@10 of the model each run hands back (the base model when it kept it); change_vs_base = paired '
                   'bootstrap over test queries of that model (per-query values averaged over the seeds) minus the base model'),
         out, dict(seeds=list(SEEDS), methods=METHODS, datasets=list(DATASETS)))

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--only', nargs='*', default=list(DATASETS), choices=DATASETS)
    p.add_argument('--methods', nargs='*', default=list(METHODS), choices=list(METHODS))
    p.add_argument('--seeds', nargs='*', type=int, default=list(SEEDS))
    p.add_argument('--summary', action='store_true', help='only rebuild results/transfer.json from the result files')
    a = p.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    if not a.summary:
        for seed in a.seeds:
            for ds in a.only:
                for method in a.methods:
                    if result_path(ds, method, seed).exists(): print(f'{ds} {method} seed {seed}: done ({result_path(ds, method, seed)})'); continue
                    run(ds, method, seed)
    summarise(Path('results/transfer.json'))

if __name__ == '__main__': main()

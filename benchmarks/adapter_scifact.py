"""Issue #16: the cached adapter on SciFact — the configured recipe over seeds, and the ablation it was chosen by.

Every run is one `embedtune.adapter.adapt` of configs/adapter_scifact.yaml with overrides: 20% of the train queries
are the dev split (a different random split per seed, the same one for every variant of that seed), the adapter
trains on the rest from the cached base embeddings, the best epoch and the keep-base decision are taken on dev, and
test is read once afterwards. Each run writes its own result JSON (shared schema, with its manifest: config, seed,
git commit, package versions, data sha256); a run whose file exists is not run again.

  ablation  linear vs residual MLP, query side vs shared, InfoNCE alone vs the combined loss (1.0 / 0.5 / 0.3), each
            over seeds 42, 7, 1, scored on SciFact dev and on STS-B *dev* (the forgetting check used to choose);
            the variant with the best mean SciFact dev nDCG@10 whose mean STS-B dev Spearman stays within 0.5 point
            of the base is the chosen one (it is what configs/adapter_scifact.yaml holds). Per-run files go to
            runs/adapter_ablation/ (not committed); the table (mean ± std of dev and test nDCG@10, their gains, STS-B
            dev change, training seconds) goes to results/adapter_ablation.json.
  seeds     the configured recipe over seeds 42, 7, 1 with the STS-B *test* check: results/adapter_scifact_s{seed}.json
            (one full result each, model folders in runs/adapter_scifact_s{seed}/) and results/scifact_adapter.json =
            the seed-42 result plus a `seeds` block (per seed and mean ± std of every headline figure, the paired
            bootstrap of the seed-averaged per-query change over the base) and `vs_full_finetune` (training-time ratio
            against the full fine-tunes in results/seeds/demo_s{seed}.json, measured earlier on this machine on the
            same train queries and dev split per seed).

  wikiqa    the same configured recipe (chosen on SciFact dev, not re-tuned) over seeds 42, 7, 1 on WikiQA as retrieval
            (benchmarks/transfer.py's folder: `qa_to_beir('wikiqa/train.jsonl', test_size=0.3, seed=0)`, 611 train / 262
            test questions over one corpus of 1,863 sentences): a set where no test positive is a training positive,
            so the gain cannot come from memorised documents. results/adapter_wikiqa_s{seed}.json and
            results/wikiqa_adapter.json; the full fine-tune compared is the default `embedtune train` of
            results/transfer/wikiqa_default_s{seed}.json (in-batch MNRL, 1 epoch, the same dev split per seed).

Usage:
  python benchmarks/adapter_scifact.py                    # ablation, then seeds (~15 min on the 2-core CPU with a warm cache)
  python benchmarks/adapter_scifact.py --only wikiqa      # the recipe on WikiQA retrieval (~3 min)
  python benchmarks/adapter_scifact.py --only ablation
  python benchmarks/adapter_scifact.py --only seeds
  python benchmarks/adapter_scifact.py --summary          # rebuild both summaries from existing run files
"""
import argparse, json, os, statistics, sys
from pathlib import Path

CONFIG = 'configs/adapter_scifact.yaml'
SEEDS = (42, 7, 1)
VARIANTS = {   # name -> overrides of CONFIG
    'linear_query':          dict(kind='linear', side='query'),
    'linear_shared':         dict(kind='linear', side='shared'),
    'mlp_query':             dict(kind='mlp', side='query'),
    'mlp_shared':            dict(kind='mlp', side='shared'),
    'linear_query_infonce':  dict(kind='linear', side='query', triplet_weight=0.0, align_weight=0.0),
    'mlp_query_infonce':     dict(kind='mlp', side='query', triplet_weight=0.0, align_weight=0.0),
}
STS_LIMIT = 0.005   # the forgetting check: STS-B Spearman within 0.5 point of the base

def _ms(xs):
    xs = [x for x in xs if x is not None]
    return (statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else None) if xs else (None, None)

def ablation_path(name, seed): return Path('runs/adapter_ablation')/f'{name}_s{seed}.json'
def seed_path(seed, ds='scifact'): return Path('results')/f'adapter_{ds}_s{seed}.json'

def full_path(seed, ds='scifact'):
    "The full fine-tune compared on that data set and seed (same train queries, same dev split)."
    return Path(f'results/seeds/demo_s{seed}.json') if ds == 'scifact' else Path(f'results/transfer/{ds}_default_s{seed}.json')

def dataset(ds):
    "The data set's folder (WikiQA retrieval is built once, as benchmarks/transfer.py builds it)."
    if ds == 'scifact': return 'scifact'
    from transfer import dataset_path
    return dataset_path(ds)

def run(overrides:dict, result:Path):
    from embedtune.adapter import AdapterConfig, adapt
    from embedtune.core import read_config
    if result.exists(): print(f'--- {result} exists, kept'); return
    print(f'=== {result}: {overrides}', flush=True)
    adapt(AdapterConfig.from_dict({**read_config(CONFIG), **overrides, 'result': str(result)}, f'{CONFIG} + benchmark'))

def ablation():
    for seed in SEEDS:                           # round-robin by seed: an interrupted study has every variant at the first seeds
        for name, over in VARIANTS.items():
            run(dict(over, seed=seed, stsb='stsb/dev.tsv', save_model=False, task=f'adapter_ablation_{name}',
                     output_dir=f'runs/adapter_ablation/{name}_s{seed}'), ablation_path(name, seed))

def seeds(ds='scifact'):
    for seed in SEEDS:
        run(dict(seed=seed, dataset=dataset(ds), task=f'adapter_{ds}', output_dir=f'runs/adapter_{ds}_s{seed}'), seed_path(seed, ds))

def summarise_ablation():
    from _common import save
    table, files = {}, []
    for name, over in VARIANTS.items():
        rs = {s: json.loads(ablation_path(name, s).read_text()) for s in SEEDS if ablation_path(name, s).exists()}
        if not rs: continue
        col = lambda f: [f(r) for r in rs.values()]
        row = dict(overrides=over, seeds=sorted(rs))
        for key, f in (('dev', lambda r: r['dev']['result']['ndcg@10']), ('dev_gain', lambda r: r['dev']['result']['ndcg@10'] - r['dev']['baseline']['ndcg@10']),
                       ('test', lambda r: r['trained']['ndcg@10']), ('test_gain', lambda r: r['trained']['ndcg@10'] - r['baseline']['ndcg@10']),
                       ('stsb_dev_change', lambda r: r['stsb']['after'] - r['stsb']['before']),
                       ('test_gain_unseen_positive', lambda r: r['overlap']['without_train_positive']['change']),
                       ('test_gain_seen_positive', lambda r: r['overlap']['with_train_positive']['change']),
                       ('seconds', lambda r: r['seconds']), ('best_epoch', lambda r: r['fit']['best_epoch'])):
            vals = col(f); m, sd = _ms(vals); row[key] = dict(values=vals, mean=m, std=sd)
        row['verdicts'] = col(lambda r: r['verdict']); row['parameters'] = next(iter(rs.values()))['adapter']['parameters']
        table[name] = row; files += [str(ablation_path(name, s)) for s in rs]
    complete = len(table) == len(VARIANTS) and all(r['seeds'] == list(sorted(SEEDS)) for r in table.values())
    ok = {n: r for n, r in table.items() if abs(r['stsb_dev_change']['mean']) <= STS_LIMIT}
    chosen = max(ok, key=lambda n: ok[n]['dev']['mean']) if complete and ok else None
    base = json.loads(ablation_path('linear_query', SEEDS[0]).read_text()) if ablation_path('linear_query', SEEDS[0]).exists() else None
    res = dict(task='adapter_ablation', dataset='scifact', rule=f'chosen: the best mean SciFact dev nDCG@10 among the variants whose mean STS-B dev '
               f'Spearman change is within {STS_LIMIT}; test is reported, never used to choose', chosen=chosen, complete=complete,
               baseline_test=base and base['baseline']['ndcg@10'], variants=table, runs=files)
    save(res, 'results/adapter_ablation.json', dict(config=CONFIG, variants=VARIANTS, seeds=list(SEEDS), sts=f'stsb/dev.tsv within {STS_LIMIT}'))
    print(markdown_ablation(res))
    if chosen: print(f'chosen on dev: {chosen} ({VARIANTS[chosen]}); {CONFIG} holds kind/side = '
                     f"{json.dumps({k: v for k, v in _config().items() if k in ('kind', 'side')})}")

def _config():
    from embedtune.core import read_config
    return read_config(CONFIG)

def markdown_ablation(res):
    f = lambda d, p=1: '–' if d['mean'] is None else f"{100 * d['mean']:+.{p}f} ± {100 * (d['std'] or 0):.{p}f}"
    g = lambda d: '–' if d['mean'] is None else f"{d['mean']:.4f} ± {d['std'] or 0:.4f}"
    rows = ['| variant | params | dev nDCG@10 | test nDCG@10 | test gain (pts) | gain, unseen-positive queries | STS-B dev change | train s |',
            '|---|---|---|---|---|---|---|---|']
    for n, r in res['variants'].items():
        rows.append(f"| {n}{' (chosen)' if n == res['chosen'] else ''} | {r['parameters']:,} | {g(r['dev'])} | {g(r['test'])} | {f(r['test_gain'])} | "
                    f"{f(r['test_gain_unseen_positive'])} | {f(r['stsb_dev_change'], 2)} | {r['seconds']['mean']:.1f} |")
    return '\n'.join(rows)

def overlap_by_seed(rs:dict, ds='scifact')->dict:
    """The test change split by whether a query's relevant document is also a training positive of that seed (the
    train queries minus its dev split), per seed with its paired-bootstrap CI over the group's queries, and for the
    full fine-tunes of results/seeds/demo_s{seed}.json on the same groups (same train queries, same dev split)."""
    from embedtune.data import load_beir, holdout
    from embedtune.evaluate import paired_bootstrap
    data = load_beir(dataset(ds))
    out = {}
    for s, r in rs.items():
        h = holdout(data, 'train', r['manifest']['config']['test_size'], s)
        seen = {d for q in h.qrels['train'].values() for d, v in q.items() if v >= 1}
        ft = full_path(s, ds); ftq = json.loads(ft.read_text())['per_query_ndcg10'] if ft.exists() else None
        for name, keep in (('with_train_positive', True), ('without_train_positive', False)):
            qs = [q for q in r['per_query_ndcg10'] if any(v >= 1 and d in seen for d, v in data.qrels['test'][q].items()) == keep]
            pq = r['per_query_ndcg10']
            row = dict(seed=s, n_queries=len(qs), adapter=paired_bootstrap({q: pq[q][0] for q in qs}, {q: pq[q][1] for q in qs}, seed=s))
            if ftq: row['full_finetune'] = paired_bootstrap({q: ftq[q][0] for q in qs}, {q: ftq[q][1] for q in qs}, seed=s)
            out.setdefault(name, dict(per_seed=[]))['per_seed'].append(row)
    for g in out.values():
        for who in ('adapter', 'full_finetune'):
            vals = [row[who]['diff'] for row in g['per_seed'] if who in row]
            if vals: g[who] = dict(zip(('mean', 'std'), _ms(vals)))
    return out

def summarise_seeds(ds='scifact'):
    import numpy as np
    from _common import save
    from embedtune.evaluate import paired_bootstrap
    rs = {s: json.loads(seed_path(s, ds).read_text()) for s in SEEDS if seed_path(s, ds).exists()}
    if not rs: print('no seed runs yet'); return
    per = [dict(seed=s, dev_base=r['dev']['baseline']['ndcg@10'], dev=r['dev']['result']['ndcg@10'], test_base=r['baseline']['ndcg@10'],
                test=r['trained']['ndcg@10'], change=r['significance']['diff'], ci=[r['significance']['low'], r['significance']['high']],
                verdict=r['verdict'], stsb_before=r['stsb']['before'], stsb_after=r['stsb']['after'], seconds=r['seconds'],
                cache_seconds=r['cache_seconds'], best_epoch=r['fit']['best_epoch'], epochs_run=r['fit']['epochs_run'],
                positive_cosine=[r['geometry']['test']['before']['positive_cosine'], r['geometry']['test']['after']['positive_cosine']],
                margin=[r['geometry']['test']['before']['margin'], r['geometry']['test']['after']['margin']],
                unseen_positive_change=r['overlap']['without_train_positive']['change'], seen_positive_change=r['overlap']['with_train_positive']['change'],
                parity=max(r['parity']['query'], r['parity']['document']) if r.get('parity') else None) for s, r in rs.items()]
    stats = {k: dict(zip(('mean', 'std'), _ms([p[k] for p in per]))) for k in
             ('dev', 'test', 'change', 'stsb_after', 'seconds', 'cache_seconds', 'unseen_positive_change', 'seen_positive_change')}
    stats['stsb_change'] = dict(zip(('mean', 'std'), _ms([p['stsb_after'] - p['stsb_before'] for p in per])))
    qs = sorted(set.intersection(*(set(r['per_query_ndcg10']) for r in rs.values())))
    avg = {q: float(np.mean([r['per_query_ndcg10'][q][1] for r in rs.values()])) for q in qs}
    sig = paired_bootstrap({q: next(iter(rs.values()))['per_query_ndcg10'][q][0] for q in qs}, avg, seed=0)
    full = [json.loads(full_path(s, ds).read_text()) for s in SEEDS if full_path(s, ds).exists()]
    how = ('configs/demo_scifact.yaml: 2 epochs, 1 mined hard negative, batch 32, by benchmarks/scifact_seeds.py' if ds == 'scifact' else
           'configs/default.yaml: in-batch MNRL, 1 epoch, by benchmarks/transfer.py')
    ft = dict(source=[str(full_path(s, ds)) for s in SEEDS], note=f'full fine-tune ({how}) measured earlier on this machine '
              'on the same train queries and the same 20% dev split per seed; '
              'its train_seconds exclude encoding and evaluation, as the adapter\'s seconds do',
              train_seconds=[f['train_seconds'] for f in full], test=[(f.get('trained') or f['result'])['ndcg@10'] for f in full]) if full else None
    if ft:
        ft['train_seconds_mean'] = statistics.fmean(ft['train_seconds']); ft['test_mean'] = statistics.fmean(ft['test'])
        ft['ratio'] = ft['train_seconds_mean'] / stats['seconds']['mean']
        ft['ratio_with_cache'] = ft['train_seconds_mean'] / (stats['seconds']['mean'] + stats['cache_seconds']['mean'])
    head = rs.get(42) or next(iter(rs.values()))
    out = dict(head, seeds=dict(seeds=sorted(rs), per_seed=per, **stats, significance_mean=sig, overlap=overlap_by_seed(rs, ds), files=[str(seed_path(s, ds)) for s in rs]),
               vs_full_finetune=ft)
    from embedtune.core import write_json
    write_json(out, f'results/{ds}_adapter.json'); print(f'-> results/{ds}_adapter.json')
    m = lambda d, p=4: f"{d['mean']:.{p}f} ± {d['std'] or 0:.{p}f}"
    print(f"test nDCG@10 {per[0]['test_base']:.4f} -> {m(stats['test'])} (change {m(stats['change'])}; seed-averaged "
          f"{sig['diff']:+.4f} [{sig['low']:+.4f}, {sig['high']:+.4f}]); dev {m(stats['dev'])}; STS-B {per[0]['stsb_before']:.4f} -> {m(stats['stsb_after'])}; "
          f"train {m(stats['seconds'], 1)} s, cache {m(stats['cache_seconds'], 1)} s" + (f"; full fine-tune {ft['train_seconds_mean']:.0f} s = {ft['ratio']:.0f}x" if ft else ''))

if __name__ == '__main__':
    os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1'); os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--only', choices=['ablation', 'seeds', 'wikiqa'], default=None)
    p.add_argument('--summary', action='store_true', help='only rebuild the summaries from existing run files')
    a = p.parse_args()
    if a.only == 'wikiqa':
        if not a.summary: seeds('wikiqa')
        summarise_seeds('wikiqa'); sys.exit()
    if not a.summary and a.only != 'seeds': ablation()
    if a.only != 'seeds': summarise_ablation()
    if not a.summary and a.only != 'ablation': seeds()
    if a.only != 'ablation': summarise_seeds()

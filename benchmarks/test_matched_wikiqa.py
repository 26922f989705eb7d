"""Do test-matched negatives help? WikiQA as retrieval, random vs test-matched negatives, the same budget, seeds 42, 7, 1.

The diagnostics (`embedtune analyze wikiqa/train.jsonl`) compare WikiQA's training pairs with its test pairs and give a
verdict on the remedy 'test-matched pairs'. This study tests it. WikiQA as retrieval is what `benchmarks/transfer.py`
builds (`dataset_path('wikiqa')`, imported from there): `qa_to_beir('wikiqa/train.jsonl', test_size=0.3, seed=0)`, the 873
questions with an answer as queries, their answers and the wrong candidate sentences as one corpus of 1,863 sentences,
split 611 train / 262 test questions by a seeded shuffle (seed 0, the same for every run).

Two arms, one row per (train question, correct answer), one negative per row, trained alike (loss mnrl with the negative
column beside the in-batch negatives, 1 epoch, batch 32, lr 2e-5, the package defaults otherwise):

- **plain**: a uniformly random negative from the train-side pool (`embedtune.pairs.plain_triplets`);
- **matched**: a negative from the same pool, drawn so that the TF-IDF band mix of (question, negative) over all rows
  matches the band mix of the *test* negatives, the (test question, incorrect answer) pairs
  (`embedtune.pairs.matched_triplets`). The target is read from `analysis.jsonl_pairs` + `analysis.split_groups(ps, 0.3, 0)`
  (the same questions as `qa_to_beir`'s test split) as one aggregate band histogram of five numbers; no test label of any
  one query is read, and no test text enters the training rows. TF-IDF is fitted on the texts of the whole file, as
  `analyze` fits it, so the target is the diagnostics' own `test_neg` band mix (checked).

The pool holds only train-side texts: the answers and incorrect answers of the training questions, never a text that also
occurs with a test question; a row's negative is never a correct answer of its question.

Dev split and keep-base: each run keeps the default dev split (`test_size: 0.2` of the train questions, drawn with the run's
seed by `data.holdout`, exactly as `train` draws it) and the keep-base rule, so each arm is the default `embedtune train`
with only the negative column added. `train` carves the dev split from the train *qrels*, not from a `train_file`, so the
script drops those dev questions from the arm's rows and pool itself (otherwise the dev split would be trained on and the
keep-base decision would read a leaked split). Both arms of a seed share the dev split and the row count; the comparison is
made on the *trained* models (`trained` in each result) so that a keep-base decision does not hide what the negatives did;
the handed-back models (`result`) are reported too.

Each run writes `results/test_matched/<arm>_s<seed>.json` (the train result with its manifest, plus the arm's rows
statistics); a run whose file exists is not run again. `--summary` writes `results/test_matched_wikiqa.json`: per arm and
seed the test nDCG@10 of the trained and of the handed-back model, mean ± std, the paired bootstrap over test queries of
matched − plain (per-query nDCG@10 averaged over the seeds), the diagnostics' mismatch verdict and 'test-matched pairs'
advice (from `results/diagnostics_wikiqa.json` if it exists, else `analyze` is run once and its verdict kept in
`results/test_matched/diagnostics_wikiqa.json`), and a plain sentence on the outcome.

Usage:
  python benchmarks/test_matched_wikiqa.py                        # every arm x seed not run yet, then the summary
  python benchmarks/test_matched_wikiqa.py --arms plain --seeds 42
  python benchmarks/test_matched_wikiqa.py --summary              # only rebuild results/test_matched_wikiqa.json
"""
import argparse, json, statistics, sys, time
from pathlib import Path

SEEDS = (42, 7, 1)
ARMS = ('plain', 'matched')
QA = 'wikiqa/train.jsonl'
OUT = Path('results/test_matched')
WORK = Path('runs/test_matched')
SUMMARY = Path('results/test_matched_wikiqa.json')
# the training settings both arms share (the rest: TrainConfig's defaults, e.g. test_size 0.2, keep_base, improve_if ci)
TRAIN = dict(loss='mnrl', epochs=1, batch_size=32, lr=2e-5, test_size=0.2, stsb=None, save_model=False, eval_split='test')

def result_path(arm, seed): return OUT/f'{arm}_s{seed}.json'

def _train_side(seed:int)->dict:
    "The rows, pool, TF-IDF and test-negative target of one seed (the dev questions of that seed left out)."
    from transfer import dataset_path
    from embedtune.analysis import Tfidf, jsonl_pairs, split_groups
    from embedtune.data import holdout, load_beir
    from embedtune.pairs import pairset_target
    data = load_beir(dataset_path('wikiqa'), splits=['test', 'train'])
    ps = jsonl_pairs(QA); tr, te = split_groups(ps, 0.3, 0)
    train_q, test_q = {data.queries[q] for q in data.qrels['train']}, {data.queries[q] for q in data.qrels['test']}
    assert set(tr.group) == train_q and set(te.group) == test_q, 'split_groups and qa_to_beir split different questions'
    dev_q = {data.queries[q] for q in holdout(data, 'train', TRAIN['test_size'], seed).qrels['dev']}   # what train() holds out
    test_texts = set(te.b)
    rows = [(a, b) for a, b, l, g in zip(tr.a, tr.b, tr.label, tr.group) if l == 1 and g not in dev_q]
    pool = [t for t in dict.fromkeys(b for b, g in zip(tr.b, tr.group) if g not in dev_q) if t not in test_texts]
    tf = Tfidf(ps.a + ps.b)   # as `analyze` fits it: the texts of the whole file (no labels)
    target = pairset_target(te, tf)['neg']
    return dict(rows=rows, pool=pool, tf=tf, target=target, dev_questions=len(dev_q), train_questions=len(train_q) - len(dev_q),
                test_questions=len(test_q), shared_with_test=len({b for b in tr.b} & test_texts))

def arm_file(arm:str, seed:int)->tuple[Path, dict]:
    "The arm's triplet JSONL for `seed` (written once, atomically) and its statistics."
    from embedtune.pairs import matched_triplets, plain_triplets, write_triplets
    path, info_path = WORK/'data'/f'{arm}_s{seed}.jsonl', WORK/'data'/f'{arm}_s{seed}.json'
    if path.exists() and info_path.exists(): return path, json.loads(info_path.read_text())
    s = _train_side(seed); a, p = [r[0] for r in s['rows']], [r[1] for r in s['rows']]
    t = (matched_triplets(a, p, s['pool'], s['target'], s['tf'], seed=seed) if arm == 'matched' else
         plain_triplets(a, p, s['pool'], seed=seed, tf=s['tf']))
    c = s['tf'].cosine(a, [r['negative'] for r in t])
    from embedtune.analysis import band_histogram
    from embedtune.pairs import band_gap
    own = {(x, y) for x, y in zip(a, p)}
    assert not any((r['anchor'], r['negative']) in own for r in t), 'a negative is a correct answer of its question'
    assert not set(r['negative'] for r in t) - set(s['pool']), 'a negative outside the train-side pool'
    info = dict(arm=arm, seed=seed, rows=len(t), pool=len(s['pool']), train_questions=s['train_questions'], dev_questions=s['dev_questions'],
                test_questions=s['test_questions'], train_texts_shared_with_test_and_dropped=s['shared_with_test'],
                target_test_neg=s['target'].round(4).tolist(), band_mix=band_histogram(c).round(4).tolist(), gap=band_gap(c, s['target']),
                shortfall=t.stats.get('shortfall'), distinct_negatives=len({r['negative'] for r in t}))
    write_triplets(t, path)
    from embedtune.core import write_json
    write_json(info, info_path)
    return path, info

def run(arm:str, seed:int):
    from embedtune.core import write_json
    from embedtune.train import TrainConfig, stage_data, train
    from transfer import dataset_path
    path, info = arm_file(arm, seed)
    print(f'=== {arm} seed {seed}: {info["rows"]} rows, band mix {info["band_mix"]} (test negatives {info["target_test_neg"]})', flush=True)
    cfg = TrainConfig.from_dict({**TRAIN, 'dataset': dataset_path('wikiqa'), 'train_file': str(path.resolve()), 'seed': seed,
                                 'task': f'test_matched_{arm}', 'output_dir': str(WORK/f'{arm}_s{seed}'),
                                 'result': str(WORK/f'{arm}_s{seed}'/'result.json')}, f'test_matched {arm}')
    rows, _ = stage_data(cfg, None, None, log=None)                       # what train() will train on: the file, negative column included
    assert rows.column_names == ['anchor', 'positive', 'negative'], rows.column_names
    t = time.time(); res = train(cfg)
    assert res['stages'][0]['columns'] == ['anchor', 'positive', 'negative'], res['stages'][0]['columns']
    write_json({**res, 'arm': {**info, 'minutes': round((time.time() - t) / 60, 2)}}, result_path(arm, seed))
    print(f'-> {result_path(arm, seed)}', flush=True)

def diagnostics()->dict:
    "The diagnostics' mismatch verdict and 'test-matched pairs' advice for WikiQA (read if saved, else `analyze` once)."
    from embedtune.core import write_json
    for p in (Path('results/diagnostics_wikiqa.json'), OUT/'diagnostics_wikiqa.json'):
        if p.exists(): d = json.loads(p.read_text()); src = str(p); break
    else:
        from embedtune.analysis import analyze
        d = analyze(QA, output=None, log=None); src = 'embedtune.analysis.analyze(wikiqa/train.jsonl) run by this script'
        write_json(dict(mismatch=d['mismatch'], verdict=d['verdict'], auc=d['auc'], model=d['model'], pairs=d['pairs']), OUT/'diagnostics_wikiqa.json')
    remedy = next(r for r in d['verdict']['remedies'] if r['remedy'] == 'test-matched pairs')
    m = d['mismatch']
    return dict(source=src, mismatch_verdict=m['verdict'], band_distance=m['views']['bands']['distance'],
                score_distance=m['views']['scores']['distance'], test_neg=m['views']['bands']['test_neg'], train_neg=m['views']['bands']['train_neg'],
                remedy=remedy)

def _ms(xs): return (statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else None)

def _per_query(runs:dict, handed:bool)->dict:
    "qid -> per-query test nDCG@10 averaged over the seeds: of the trained model, or of the handed-back one (the base where kept)."
    import numpy as np
    pq = {}
    for r in runs.values():
        for q, (b, t) in r['per_query_ndcg10'].items(): pq.setdefault(q, []).append(b if handed and r['verdict'] == 'kept_base' else t)
    return {q: float(np.mean(v)) for q, v in pq.items()}

def summarise():
    from _common import save
    from embedtune.core import data_path
    from embedtune.evaluate import paired_bootstrap
    runs = {arm: {s: json.loads(result_path(arm, s).read_text()) for s in SEEDS if result_path(arm, s).exists()} for arm in ARMS}
    arms = {}
    for arm, rs in runs.items():
        if not rs: continue
        seeds = sorted(rs, key=SEEDS.index)
        tr, hb = [rs[s]['trained']['ndcg@10'] for s in seeds], [rs[s]['result']['ndcg@10'] for s in seeds]
        arms[arm] = dict(seeds=seeds, trained_ndcg10=tr, trained_mean=_ms(tr)[0], trained_std=_ms(tr)[1],
                         handed_back_ndcg10=hb, handed_back_mean=_ms(hb)[0], handed_back_std=_ms(hb)[1],
                         verdicts=[rs[s]['verdict'] for s in seeds], dev_change=[rs[s]['decision']['diff'] for s in seeds],
                         band_mix=[rs[s]['arm']['band_mix'] for s in seeds], gap_to_test_neg=[rs[s]['arm']['gap'] for s in seeds],
                         rows=[rs[s]['arm']['rows'] for s in seeds], steps=[rs[s]['stages'][0]['steps'] for s in seeds],
                         columns=rs[seeds[0]]['stages'][0]['columns'], minutes=[round(rs[s]['seconds'] / 60, 1) for s in seeds],
                         dev_leakage_exact=[rs[s]['leakage'].get('dev', {}).get('exact') for s in seeds],
                         files=[str(result_path(arm, s)) for s in seeds])
    base = next((rs[s]['baseline']['ndcg@10'] for rs in runs.values() for s in rs), None)
    both = [s for s in SEEDS if all(s in runs[a] for a in ARMS)]
    comp = outcome = None
    if both:
        sub = {a: {s: runs[a][s] for s in both} for a in ARMS}
        comp = {k: paired_bootstrap(_per_query(sub['plain'], h), _per_query(sub['matched'], h), seed=0)
                for k, h in (('trained', False), ('handed_back', True))}
        comp['seeds'] = both
        comp['per_seed_trained_diff'] = [sub['matched'][s]['trained']['ndcg@10'] - sub['plain'][s]['trained']['ndcg@10'] for s in both]
        c = comp['trained']
        outcome = 'helped' if c['low'] > 0 else 'hurt' if c['high'] < 0 else 'no significant difference'
    diag = diagnostics()
    targets = {tuple(r['arm']['target_test_neg']) for rs in runs.values() for r in rs.values()}
    diag['target_equals_test_neg'] = targets == {tuple(round(x, 4) for x in diag['test_neg'])} if targets else None   # the arms matched the diagnostics' own mix
    advice = diag['remedy']['advice']
    predicted = {'likely': 'help', 'try': 'might help', 'unlikely': 'not help'}[advice]
    sentence = None
    if comp:
        c = comp['trained']
        did = {'helped': 'did help', 'hurt': 'did not help (they hurt)', 'no significant difference': 'did not help'}[outcome]
        sentence = (f"test-matched pairs {did}: on WikiQA test nDCG@10 the matched arm's trained models scored {arms['matched']['trained_mean']:.4f} "
                    f"vs {arms['plain']['trained_mean']:.4f} for random negatives ({len(both)} seeds), matched − plain {c['diff']:+.4f}, "
                    f"95% CI [{c['low']:+.4f}, {c['high']:+.4f}] over {c['n_queries']} test queries; the diagnostics said '{advice}' "
                    f"({diag['remedy']['why']}), i.e. predicted they would {predicted}"
                    + (', which the outcome bears out.' if (advice == 'likely') == (outcome == 'helped') and advice != 'try' else
                       '; the outcome is not decisive either way for a "try".' if advice == 'try' else ', which the outcome does not bear out.'))
    ref = {}
    for s in SEEDS:   # the transfer study's default run: in-batch negatives only, the same dev split and seed (context, not an arm)
        p = Path(f'results/transfer/wikiqa_default_s{s}.json')
        if p.exists(): r = json.loads(p.read_text()); ref[s] = dict(trained=r['trained']['ndcg@10'], handed_back=r['result']['ndcg@10'], verdict=r['verdict'])
    save(dict(task='test_matched_wikiqa', question='do negatives matched to the test band mix help over random negatives, at the same budget?',
              dataset='WikiQA as retrieval (qa_to_beir(wikiqa/train.jsonl, test_size=0.3, seed=0): 611 train / 262 test questions, 1,863 sentences)',
              seeds=list(SEEDS), config=TRAIN, base_ndcg10=base, arms=arms, matched_minus_plain=comp, outcome=outcome,
              diagnostics=dict(**diag, predicted=predicted), sentence=sentence,
              reference_inbatch_only=dict(source='results/transfer/wikiqa_default_s*.json', runs=ref) if ref else None,
              note='ndcg@10 on the 262 test queries; trained = the model after training (compared), handed_back = what train returns '
                   '(the base model when the keep-base rule kept it); matched − plain = paired bootstrap over test queries of the '
                   'per-query nDCG@10 averaged over the seeds (embedtune.evaluate.paired_bootstrap, seed 0). The matched arm reads only '
                   'the aggregate band histogram of the test negatives (five numbers).'),
         SUMMARY, dict(seeds=list(SEEDS), arms=list(ARMS), train=TRAIN, qa=QA), data_files=[data_path(QA)])
    if sentence: print(sentence)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--arms', nargs='*', default=list(ARMS), choices=ARMS)
    p.add_argument('--seeds', nargs='*', type=int, default=list(SEEDS))
    p.add_argument('--summary', action='store_true', help=f'only rebuild {SUMMARY} from the result files')
    a = p.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    if not a.summary:
        for seed in a.seeds:
            for arm in a.arms:
                if result_path(arm, seed).exists(): print(f'{arm} seed {seed}: done ({result_path(arm, seed)})'); continue
                run(arm, seed)
    summarise()

if __name__ == '__main__': main()

"""embedtune's evaluation vs sentence-transformers' `InformationRetrievalEvaluator` on SciFact (test, 300 queries,
5,183 documents), same model (the packaged all-MiniLM-L6-v2), same texts (title + ' ' + text).

An independent cross-check of the metrics (SciFact's qrels are binary, so nDCG must agree up to the tie order and the
one convention that differs: embedtune drops a hit whose doc id equals the query id, BEIR's convention; the evaluator
does not, so embedtune is also run with `ignore_identical_ids=False`) and of the wall time: both cold (empty embedding
cache, each in a fresh process) and warm (embedtune's cache filled; the evaluator has no cache).

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false python benchmarks/eval_vs_st.py [--output results/eval_vs_st.json]
"""
import argparse, json, os, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from _common import fresh, save

ST = r'''
import json, sys, time, warnings
warnings.filterwarnings('ignore')
t0 = time.time()
from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator
from embedtune.data import load_beir
from embedtune.models import load_model
d = load_beir(sys.argv[1], splits=['test']); model = load_model(); q = d.qrels['test']
ev = InformationRetrievalEvaluator({k: d.queries[k] for k in q}, {i: d.doc_text(i) for i in d.corpus},
        {k: {x for x, r in v.items() if r >= 1} for k, v in q.items()}, mrr_at_k=[10], ndcg_at_k=[1, 3, 5, 10, 100],
        accuracy_at_k=[1, 5, 10], precision_recall_at_k=[10, 100], map_at_k=[100], batch_size=64, write_csv=False)
t1 = time.time(); m = ev(model); t2 = time.time()
print(json.dumps(dict(seconds=t2 - t0, seconds_evaluate=t2 - t1, metrics={k.split('cosine_')[-1]: float(v) for k, v in m.items() if 'cosine_' in k})))
'''
ET = r'''
import json, sys, time
t0 = time.time()
from embedtune.data import load_beir
from embedtune.evaluate import evaluate_beir
from embedtune.models import load_model
d = load_beir(sys.argv[1], splits=['test']); model = load_model()
t1 = time.time(); m = evaluate_beir(model, d, 'test', ignore_identical_ids=sys.argv[2] == '1'); t2 = time.time()
print(json.dumps(dict(seconds=t2 - t0, seconds_evaluate=t2 - t1, metrics={k: v for k, v in m.items() if isinstance(v, float)})))
'''
# the evaluator's key -> embedtune's key (accuracy@k is hit@k; precision@k has no embedtune twin)
PAIRS = {'ndcg@1': 'ndcg@1', 'ndcg@3': 'ndcg@3', 'ndcg@5': 'ndcg@5', 'ndcg@10': 'ndcg@10', 'ndcg@100': 'ndcg@100',
         'mrr@10': 'mrr@10', 'map@100': 'map@100', 'recall@10': 'recall@10', 'recall@100': 'recall@100',
         'accuracy@1': 'hit@1', 'accuracy@5': 'hit@5', 'accuracy@10': 'hit@10'}

def main():
    p = argparse.ArgumentParser(); p.add_argument('--dataset', default='scifact'); p.add_argument('--output', default='results/eval_vs_st.json')
    a = p.parse_args()
    env = dict(os.environ, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', TOKENIZERS_PARALLELISM='false')
    with tempfile.TemporaryDirectory() as cache:
        env['EMBEDTUNE_CACHE'] = cache
        raw = {}; keep = Path(a.output).with_suffix('.raw.tmp.json')   # each answer kept as it arrives: a crash later loses no measurement
        for key, args in (('st', (ST, a.dataset)),              # no cache: always cold
                          ('cold', (ET, a.dataset, '1')),       # empty cache: encodes and fills it
                          ('warm', (ET, a.dataset, '1')),       # cache filled
                          ('same_ids', (ET, a.dataset, '0'))):  # the evaluator's convention (warm)
            raw[key] = fresh('-c', *args, env=env); keep.write_text(json.dumps(raw))
    res = summarise(raw, a)
    keep.unlink()
    from embedtune.core import data_path
    f = data_path(a.dataset)
    save(res, a.output, vars(a), data_files=[f/'corpus.jsonl', f/'queries.jsonl', f/'qrels'/'test.tsv'])
    print(json.dumps({k: res[k] for k in ('max_abs_diff', 'time_ratio_cold', 'time_ratio_warm', 'seconds')}, indent=1))

def summarise(raw:dict, a)->dict:
    "The side-by-side metrics and the time ratios from the four answers."
    st, cold, warm, same_ids = raw['st'], raw['cold'], raw['warm'], raw['same_ids']
    rows = {e: dict(st_key=s, st=st['metrics'].get(s), embedtune=cold['metrics'][e], embedtune_keep_identical=same_ids['metrics'][e])
            for s, e in PAIRS.items()}
    for r in rows.values(): r['abs_diff'] = abs(r['st'] - r['embedtune_keep_identical']) if r['st'] is not None else None
    res = dict(task='eval_vs_st', dataset=a.dataset, model='all-MiniLM-L6-v2', metrics=rows,
               max_abs_diff=max(r['abs_diff'] for r in rows.values() if r['abs_diff'] is not None),
               seconds=dict(st=st['seconds'], embedtune_cold=cold['seconds'], embedtune_warm=warm['seconds'],
                            st_evaluate=st['seconds_evaluate'], embedtune_cold_evaluate=cold['seconds_evaluate'],
                            embedtune_warm_evaluate=warm['seconds_evaluate']),
               time_ratio_cold=cold['seconds'] / st['seconds'], time_ratio_warm=warm['seconds'] / st['seconds'],
               note='ratios are embedtune / sentence-transformers wall time of a fresh process (import, load, encode, score); '
                    'embedtune_keep_identical is embedtune with ignore_identical_ids=False, the evaluator\'s convention')
    return res

if __name__ == '__main__': main()

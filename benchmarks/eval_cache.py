"""SciFact test evaluation, cold vs warm embedding cache, in one run.

Cold: a fresh, empty cache folder (the corpus is encoded). Warm: the same folder again (embeddings are read back).
Prints the speed-up and checks that both runs give identical metrics; writes results/eval_cache.json.
Usage: python benchmarks/eval_cache.py [--dataset scifact] [--out results/eval_cache.json]
"""
import argparse, os, tempfile, time
from pathlib import Path

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--dataset', default='scifact'); p.add_argument('--split', default='test')
    p.add_argument('--out', default='results/eval_cache.json')
    a = p.parse_args()
    os.environ['EMBEDTUNE_CACHE'] = tempfile.mkdtemp(prefix='embedtune-bench-')
    from _common import save
    from embedtune.data import load_beir
    from embedtune.evaluate import evaluate_beir
    from embedtune.models import load_model
    data = load_beir(a.dataset, splits=[a.split]); model = load_model()
    times, metrics = {}, {}
    for run in ('cold', 'warm'):
        t = time.perf_counter(); metrics[run] = evaluate_beir(model, data, a.split); times[run] = time.perf_counter() - t
    assert metrics['cold']['ndcg@10'] == metrics['warm']['ndcg@10'], 'cache changed the result'
    res = dict(task='eval_cache', dataset=a.dataset, seconds_cold=round(times['cold'], 2), seconds_warm=round(times['warm'], 2),
               speedup_warm=round(times['cold'] / times['warm'], 1), ndcg10=metrics['cold']['ndcg@10'])
    save(res, a.out, vars(a), None, data.files)
    print(f"cold {times['cold']:.1f} s, warm {times['warm']:.2f} s: warm is {res['speedup_warm']}x faster "
          f"(nDCG@10 {res['ndcg10']:.4f} both) -> {a.out}")

if __name__ == '__main__': main()

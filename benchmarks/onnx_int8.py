"""Issue 18: the packaged model exported to ONNX (fp32 and int8) vs PyTorch on SciFact, everything on one thread.

Throughput: SciFact test queries (short) and a seeded sample of corpus documents (passages), each system through
`embedtune.encode.encode` (same token-budget batches, no cache), in interleaved rounds (median seconds per system);
the speed-ups are ratios to torch measured in the same run. Vectors: cosine of each ONNX vector to the torch one.
Quality: nDCG@10 on the test split with the whole corpus through each system (`evaluate_beir`, the shared encode
cache: the ONNX fingerprints differ from the torch model's), the delta in points with a paired-bootstrap interval.
Bar (issue 18): int8 >= 2x torch on queries, >= 1.3x on passages, nDCG@10 loss <= 0.5 point.
Usage: python benchmarks/onnx_int8.py [--passages 500] [--rounds 3] [--quick]  (~25 min on the 2-core CPU; --quick: a smoke test)
"""
import os
for k, v in dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', TOKENIZERS_PARALLELISM='false', HF_HUB_OFFLINE='1').items(): os.environ.setdefault(k, v)
import argparse, random, statistics, sys, tempfile, time
from pathlib import Path
import numpy as np

BAR = dict(speedup_queries=2.0, speedup_passages=1.3, ndcg_loss_points=0.5)

def timed(fn):
    t = time.perf_counter(); out = fn(); return out, time.perf_counter() - t

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--dataset', default='scifact'); p.add_argument('--split', default='test')
    p.add_argument('--passages', type=int, default=500, help='corpus documents sampled for the passage throughput')
    p.add_argument('--rounds', type=int, default=3, help='interleaved timing rounds (median)')
    p.add_argument('--seed', type=int, default=0, help='seed of the passage sample')
    p.add_argument('--quick', action='store_true', help='smoke test: 50 queries, 50 passages, 1 round, no nDCG')
    p.add_argument('--out', default='results/onnx_int8.json')
    a = p.parse_args()
    if a.quick: a.passages, a.rounds = 50, 1
    import torch
    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import save
    from embedtune.core import data_path
    from embedtune.data import load_beir
    from embedtune.encode import encode
    from embedtune.evaluate import evaluate_beir, paired_bootstrap
    from embedtune.export import OnnxEncoder, export_onnx
    from embedtune.models import load_model
    data = load_beir(data_path(a.dataset), splits=[a.split]); model = load_model(None, device='cpu')
    tmp = Path(tempfile.mkdtemp(prefix='embedtune-onnx-bench-'))
    (fp, s_fp), (q8, s_q8) = timed(lambda: export_onnx(model, tmp/'fp32', quantize=None)), timed(lambda: export_onnx(model, tmp/'int8', quantize='int8'))
    systems = {'torch': model, 'onnx_fp32': OnnxEncoder(fp, threads=1), 'onnx_int8': OnnxEncoder(q8, threads=1)}
    mib = lambda f: round(f.stat().st_size / 2**20, 1)
    print(f"exported fp32 in {s_fp:.1f} s ({mib(fp/'model.onnx')} MiB), int8 in {s_q8:.1f} s ({mib(q8/'model_int8.onnx')} MiB)", flush=True)

    queries = [data.queries[q] for q in data.qrels[a.split]][:50 if a.quick else None]
    ids = sorted(data.corpus); passages = [data.doc_text(d) for d in random.Random(a.seed).sample(ids, min(a.passages, len(ids)))]
    texts = dict(queries=queries, passages=passages)
    secs = {s: {k: [] for k in texts} for s in systems}; vecs = {s: {} for s in systems}
    for s, m in systems.items(): encode(m, queries[:8], cache=False, show_progress_bar=False)   # warm-up: thread pools, allocations
    for r in range(a.rounds):
        order = list(systems)[r % 3:] + list(systems)[:r % 3]                # rotate who goes first
        for k, tx in texts.items():
            for s in order:
                vecs[s][k], dt = timed(lambda: encode(systems[s], tx, cache=False, show_progress_bar=False))
                secs[s][k].append(dt)
        print(f"round {r + 1}/{a.rounds}: " + ', '.join(f"{s} {secs[s]['queries'][-1]:.1f} / {secs[s]['passages'][-1]:.1f} s" for s in systems), flush=True)
    med = {s: {k: statistics.median(v) for k, v in d.items()} for s, d in secs.items()}
    tps = {s: {k: round(len(texts[k]) / med[s][k], 2) for k in texts} for s in systems}
    speed = {s: {k: round(med['torch'][k] / med[s][k], 3) for k in texts} for s in systems if s != 'torch'}
    cosine = {s: {k: dict(min=round(float(c.min()), 5), mean=round(float(c.mean()), 5))
                  for k in texts for c in [(np.asarray(vecs[s][k]) * np.asarray(vecs['torch'][k])).sum(1)]} for s in systems if s != 'torch'}

    ndcg, seconds_eval, delta, ci = {}, {}, {}, {}
    if not a.quick:
        per_q = {}
        for s, m in systems.items():
            r, seconds_eval[s] = timed(lambda: evaluate_beir(m, data, a.split, per_query=True))
            ndcg[s], per_q[s] = r['ndcg@10'], {q: v['ndcg@10'] for q, v in r['per_query'].items()}
            print(f"{s}: nDCG@10 {ndcg[s]:.4f} ({seconds_eval[s]:.0f} s)", flush=True)
        for s in ('onnx_fp32', 'onnx_int8'):
            delta[s] = round(100 * (ndcg[s] - ndcg['torch']), 3)
            b = paired_bootstrap(per_q['torch'], per_q[s], seed=0); ci[s] = [round(100 * b['low'], 3), round(100 * b['high'], 3)]
    i8 = 'onnx_int8'
    res = dict(task='onnx_int8', dataset=a.dataset, split=a.split, model='all-MiniLM-L6-v2', threads=1, rounds=a.rounds,
               n_queries=len(queries), n_passages=len(passages), n_docs=len(data.corpus),
               speedup_queries=speed[i8]['queries'], speedup_passages=speed[i8]['passages'],
               **{'ndcg@10_delta': delta.get(i8), 'ndcg@10_delta_ci95': ci.get(i8)},
               cosine_min=min(cosine[i8]['queries']['min'], cosine[i8]['passages']['min']),
               bar=BAR, bar_met=None if a.quick else bool(speed[i8]['queries'] >= BAR['speedup_queries'] and speed[i8]['passages'] >= BAR['speedup_passages']
                                                            and delta[i8] >= -BAR['ndcg_loss_points']),
               speedup=speed, texts_per_second=tps, seconds_median=med, seconds=secs, cosine=cosine,
               **{'ndcg@10': ndcg, 'ndcg@10_delta_points': delta, 'ndcg@10_delta_ci95_points': ci}, seconds_eval=seconds_eval,
               export=dict(seconds_fp32=round(s_fp, 1), seconds_int8=round(s_q8, 1), mib_fp32=mib(fp/'model.onnx'), mib_int8=mib(q8/'model_int8.onnx'),
                           quantization=systems[i8].manifest['quantization'], opset=systems[i8].manifest['opset']),
               openvino='not measured: no openvino wheel among the installed packages (only onnxruntime)')
    if not a.quick: save(res, a.out, vars(a), a.seed, data.files)
    else: print('quick run: nothing written')
    print(f"int8 vs torch: queries {res['speedup_queries']}x, passages {res['speedup_passages']}x, nDCG@10 delta {res['ndcg@10_delta']} points, "
          f"lowest cosine {res['cosine_min']}; fp32: {speed['onnx_fp32']}, delta {delta.get('onnx_fp32')}; bar met: {res['bar_met']}")
    import shutil; shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()

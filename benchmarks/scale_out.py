"""Issue #18, beyond one machine: the measured ceiling of this machine and the arithmetic for 10M / 100M documents.

1. Encoding rate (docs/s) of `--n-docs` SciFact abstracts with the packaged all-MiniLM-L6-v2, each configuration in a
   fresh process, nothing cached, best of `--rounds` rounds (the configurations alternate within a round):
     one_2threads  one process, torch on 2 threads (embedtune's default path on this 2-core machine)
     one_1thread   one process, 1 thread (what one worker gets)
     two_procs     `encode(..., devices=['cpu', 'cpu'])`: sentence-transformers' multi-process pool, 2 workers x 1 thread
   For the pool, the start-up of the two workers (spawn, import, share the model) is timed on its own (an `encode` of
   2 texts) and reported apart from the steady rate; the vectors of one_2threads and two_procs are compared.
2. Index sizes and IVF-PQ recall on `--copies`+1 x 5,183 vectors built as in `index_sweep.py` (SciFact's real document
   vectors + noisy copies, renormalised; the 300 test queries): bytes per vector and vectors per GB per kind from
   `faiss.serialize_index`, `estimate_index`'s error against them, recall@10 of IVF-PQ (pq_m 24 / 48 / 96, nprobe 16 /
   64 / 256) against the exact top-10, ms per query (1 thread, one query at a time); the same IVF-PQ split over
   `--shards` shards (`Retriever(shards=...)`'s layout) and with on-disk inverted lists, to show both return the same hits;
   and IVF-PQ's top 50 / 100 / 200 re-ranked by exact inner products with the full vectors.
3. Arithmetic for 10M and 100M documents: encode hours on this CPU at the measured rates, per GPU at a documented rate
   (see `GPU_DOC`), RAM per index kind (`estimate_index`, validated in 2.), and machines needed at `--ram-gb` per machine.
Writes results/scale_out.json with a manifest.
Usage: python benchmarks/scale_out.py [--n-docs 300] [--rounds 2] [--copies 19] (~25 min on the busy 2-core CPU with the corpus vectors
cached; `--keep-encode` re-measures only the indexes, `--arithmetic-only` only recomputes the arithmetic)
"""
import argparse, json, math, os, sys, tempfile, time
from pathlib import Path

import numpy as np

# sentence-transformers' documentation, pretrained-models table ("Speed": sentences/s encoded, measured on a V100 GPU;
# CPU column for comparison): https://www.sbert.net/docs/sentence_transformer/pretrained_models.html
GPU_DOC = dict(source='sbert.net pretrained models table (Speed column, sentences/s on a V100 GPU)', model='all-MiniLM-L6-v2',
               sentences_per_second_gpu=14200, sentences_per_second_cpu=750)

CHILD = r'''
import json, os, sys, time
import numpy as np
from embedtune.core import data_path
from embedtune.data import load_beir
from embedtune.encode import encode
from embedtune.models import load_model
n, devices, out = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
import torch
if os.environ.get('SCALE_THREADS'): torch.set_num_threads(int(os.environ['SCALE_THREADS']))
data = load_beir(data_path('scifact'), splits=['test'])
texts = [data.doc_text(i) for i in list(data.corpus)[:n]]
model = load_model()
encode(model, texts[:8], cache=False)                                # warm-up: thread pools, first allocations
start = None
if devices:
    t = time.perf_counter(); encode(model, texts[:2], cache=False, devices=devices); start = time.perf_counter() - t
t = time.perf_counter(); E = encode(model, texts, cache=False, devices=devices); sec = time.perf_counter() - t
np.save(out, E)
print(json.dumps(dict(seconds=sec, pool_start_seconds=start, threads=torch.get_num_threads(), n=len(texts),
                      tokens=int(sum(min(256, len(model.tokenizer(t)['input_ids'])) for t in texts)))))
'''

def encode_rates(a, tmp:Path)->dict:
    from _common import fresh
    base = {k: v for k, v in os.environ.items() if k not in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')}
    base.update(HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', TOKENIZERS_PARALLELISM='false')
    configs = dict(one_2threads=(None, dict(SCALE_THREADS='2')), one_1thread=(None, dict(SCALE_THREADS='1', OMP_NUM_THREADS='1')),
                   two_procs=(['cpu', 'cpu'], {}))
    runs = {k: [] for k in configs}
    for r in range(a.rounds):
        for name, (devices, env) in configs.items():
            res = fresh('-c', CHILD, a.n_docs, json.dumps(devices), tmp/f'{name}.npy', env={**base, **env}, timeout=1800)
            runs[name].append(res); print(f"round {r + 1} {name}: {res['seconds']:.1f} s" + (f" (pool start {res['pool_start_seconds']:.1f} s)" if res['pool_start_seconds'] else ''))
    diff = float(np.abs(np.load(tmp/'two_procs.npy') - np.load(tmp/'one_2threads.npy')).max())
    out = {}
    for name, rs in runs.items():
        best = min(rs, key=lambda r: r['seconds'])
        steady = best['seconds'] - (best['pool_start_seconds'] or 0)
        out[name] = dict(seconds=[round(r['seconds'], 2) for r in rs], pool_start_seconds=[None if r['pool_start_seconds'] is None else round(r['pool_start_seconds'], 2) for r in rs],
                         docs_per_second=round(a.n_docs / best['seconds'], 2), docs_per_second_steady=round(a.n_docs / steady, 2), tokens=best['tokens'])
    ref = out['one_2threads']['docs_per_second']
    return dict(n_docs=a.n_docs, rounds=a.rounds, configs=out, max_abs_diff_two_procs_vs_one=diff,
                speedup_two_procs_vs_one_2threads=round(out['two_procs']['docs_per_second'] / ref, 3),
                speedup_two_procs_steady_vs_one_2threads=round(out['two_procs']['docs_per_second_steady'] / ref, 3),
                speedup_one_2threads_vs_1thread=round(ref / out['one_1thread']['docs_per_second'], 3))

def recall_at(I, T)->float:
    return float(sum(len(set(x.tolist()) & set(y.tolist())) for x, y in zip(I, T)) / T.size)

def per_query_ms(index, Q, k:int, repeats:int=2):
    best, res = float('inf'), None
    for _ in range(repeats):
        out = []; t = time.perf_counter()
        for i in range(len(Q)): out.append(index.search(Q[i:i+1], k)[1][0])
        best = min(best, (time.perf_counter() - t) * 1000 / len(Q)); res = np.array(out)
    return best, res

def index_part(a, tmp:Path)->dict:
    import faiss
    from embedtune.data import load_beir
    from embedtune.core import data_path
    from embedtune.encode import encode
    from embedtune.models import load_model
    from embedtune.retriever import (INDEX_KINDS, _lists_to_disk, estimate_index, index_bytes, index_parts, make_index,
                                     set_search_params)
    faiss.omp_set_num_threads(1)
    data = load_beir(data_path('scifact'), splits=['test']); model = load_model()
    ids = list(data.corpus); qids = sorted(data.qrels['test'])
    R = np.asarray(encode(model, [data.doc_text(i) for i in ids], role='document'), np.float32)
    Q = np.ascontiguousarray(encode(model, [data.queries[q] for q in qids], role='query', cache=False), np.float32)
    rng = np.random.default_rng(a.seed); sigma = a.noise / np.sqrt(R.shape[1])
    X = np.concatenate([R] + [R + rng.normal(0, sigma, R.shape).astype(np.float32) for _ in range(a.copies)])
    X /= np.linalg.norm(X, axis=1, keepdims=True); X = np.ascontiguousarray(X, np.float32); N, dim = X.shape
    print(f'{N:,} vectors ({dim}-d), {len(Q)} queries')
    est = estimate_index(N, dim)['bytes']
    sizes, built = {}, {}
    for kind in INDEX_KINDS:
        t = time.perf_counter(); ix = make_index(X, kind, seed=a.seed); ix.add(X); b = index_bytes(ix)
        built[kind] = ix
        sizes[kind] = dict(bytes=b, bytes_per_vector=round(b / N, 1), vectors_per_gb=int(N * 1e9 / b), build_seconds=round(time.perf_counter() - t, 1),
                           estimate_bytes=est[kind], estimate_error=round((est[kind] - b) / b, 5))
        print(f"{kind}: {b / N:.1f} bytes/vector, {sizes[kind]['vectors_per_gb']:,} vectors/GB, estimate error {sizes[kind]['estimate_error']:+.3%}")
    T = built['flat'].search(Q, a.k)[1]
    flat_ms, _ = per_query_ms(built['flat'], Q, a.k)
    hnsw_ms, Ih = per_query_ms(set_search_params(built['hnsw'], ef_search=128), Q, a.k)
    sweep = [dict(index='flat', recall=1.0, ms_per_query=round(flat_ms, 3)), dict(index='hnsw', ef_search=128, recall=round(recall_at(Ih, T), 4), ms_per_query=round(hnsw_ms, 3))]
    for m in a.pq_m:
        ix = built['ivfpq'] if m == 48 else make_index(X, 'ivfpq', m=m, seed=a.seed)
        if m != 48: ix.add(X)
        b = index_bytes(ix)
        for nprobe in (16, 64, 256):
            ms, I = per_query_ms(set_search_params(ix, nprobe=nprobe), Q, a.k)
            sweep.append(dict(index='ivfpq', pq_m=m, nprobe=nprobe, recall=round(recall_at(I, T), 4), ms_per_query=round(ms, 3), bytes_per_vector=round(b / N, 1)))
            print(f"ivfpq m={m} nprobe={nprobe}: recall@{a.k} {sweep[-1]['recall']:.4f}, {ms:.3f} ms/query, {b / N:.1f} bytes/vector")
    # IVF-PQ candidates re-ranked by exact inner products with the full vectors (which can stay on disk, e.g. the
    # memory-mapped embedding cache: k' rows of 1.5 kB read per query); measured here with the vectors in RAM
    ix = set_search_params(built['ivfpq'], nprobe=64)
    for kk in (50, 100, 200):
        best = float('inf')
        for _ in range(2):
            out = []; t = time.perf_counter()
            for i in range(len(Q)):
                c = ix.search(Q[i:i+1], kk)[1][0]; c = c[c >= 0]
                out.append(c[np.argsort(-(X[c] @ Q[i]))[:a.k]])
            best = min(best, (time.perf_counter() - t) * 1000 / len(Q))
        sweep.append(dict(index='ivfpq+rerank', pq_m=48, nprobe=64, candidates=kk, recall=round(recall_at(np.array(out), T), 4), ms_per_query=round(best, 3)))
        print(f"ivfpq m=48 nprobe=64 + exact re-rank of {kk}: recall@{a.k} {sweep[-1]['recall']:.4f}, {best:.3f} ms/query")
    for nprobe in (16, 64):
        ms, I = per_query_ms(set_search_params(built['ivf'], nprobe=nprobe), Q, a.k)
        sweep.append(dict(index='ivf', nprobe=nprobe, recall=round(recall_at(I, T), 4), ms_per_query=round(ms, 3)))
    # the same IVF-PQ, split over shards (one trained index cloned, as Retriever(shards=...) does) and with on-disk lists
    base = make_index(X, 'ivfpq', seed=a.seed)
    sh = faiss.IndexShards(dim, False, False)
    for _ in range(a.shards): sh.add_shard(faiss.IndexIDMap(faiss.clone_index(base)))
    sh.add_with_ids(X, np.arange(N, dtype=np.int64))
    ref = set_search_params(built['ivfpq'], nprobe=64).search(Q, a.k)[1]
    Is = set_search_params(sh, nprobe=64).search(Q, a.k)[1]
    od = faiss.clone_index(base); _lists_to_disk(od, tmp/'index.ivfdata'); od.add(X)
    od_ms, Io = per_query_ms(set_search_params(od, nprobe=64), Q, a.k)
    mem_ms, _ = per_query_ms(built['ivfpq'], Q, a.k)
    faiss.write_index(od, str(tmp/'index.faiss'))
    scale = dict(shards=a.shards, shard_bytes=[index_bytes(faiss.downcast_index(sh.at(i))) for i in range(a.shards)],
                 sharded_same_top10_share=round(float((np.sort(Is, 1) == np.sort(ref, 1)).mean()), 4),
                 sharded_recall=round(recall_at(Is, T), 4),
                 on_disk=dict(index_file_bytes=(tmp/'index.faiss').stat().st_size, ivfdata_file_bytes=(tmp/'index.ivfdata').stat().st_size,
                              same_top10_share=round(float((np.sort(Io, 1) == np.sort(ref, 1)).mean()), 4),
                              ms_per_query=round(od_ms, 3), in_memory_ms_per_query=round(mem_ms, 3),
                              note='page cache warm (the file was just written): a cold disk adds a read per probed list'))
    print(f"{a.shards} shards: same top-10 as one index {scale['sharded_same_top10_share']:.3f}; on disk: same {scale['on_disk']['same_top10_share']:.3f}, "
          f"{od_ms:.3f} vs {mem_ms:.3f} ms/query in memory")
    return dict(n_vectors=N, dim=dim, n_queries=len(Q), k=a.k, how=f'{len(R):,} real SciFact vectors + {a.copies} noisy copies each (noise {a.noise}), renormalised',
                sizes=sizes, sweep=sweep, shards_and_on_disk=scale, max_abs_estimate_error=max(abs(s['estimate_error']) for s in sizes.values()))

def arithmetic(a, rates:dict)->dict:
    from embedtune.retriever import estimate_index
    cpu = {k: rates['configs'][k]['docs_per_second_steady'] for k in ('one_2threads', 'two_procs')}
    tok = rates['configs']['one_2threads']['tokens'] / rates['n_docs']
    # this run shares the 2 cores with other jobs; the quiet-machine rate of results/encode_cpu.json (tokens/s of embedtune's
    # default path, 2 threads) converted to abstracts of this run's mean length is the reference ceiling
    ref = json.loads(Path('results/encode_cpu.json').read_text())
    quiet = ref['tokens'] / ref['times']['embedtune_tok2048'] / tok
    cpu['quiet_machine_reference'] = round(quiet, 1)
    # a GPU rate for abstracts: the documented sentences/s scaled by the ratio measured here would be guesswork, so two figures:
    # the documented rate as-is (an upper bound: short sentences) and scaled by tokens (~20 tokens a sentence vs ~tok an abstract)
    gpu_sent = GPU_DOC['sentences_per_second_gpu']; gpu_abs = gpu_sent * 20 / tok
    out = {}
    for n in (10_000_000, 100_000_000):
        e = estimate_index(n, 384, memory_gb=a.ram_gb)
        out[f'{n:,}'] = dict(
            encode_hours_this_cpu={k: round(n / v / 3600, 1) for k, v in cpu.items()},
            encode_hours_one_gpu_documented_sentences=round(n / gpu_sent / 3600, 2),
            encode_hours_one_gpu_token_scaled_abstracts=round(n / gpu_abs / 3600, 1),
            ram_gb={k: round(v / 1e9, 1) for k, v in e['bytes'].items()},
            machines_at_ram_gb={k: v for k, v in e['shards'].items()}, ram_gb_per_machine=a.ram_gb, headroom=0.8,
            recommend=e['recommend'], recommend_shards=e['recommend_shards'], reason=e['reason'])
    return dict(cpu_docs_per_second=cpu, cpu_reference=f"results/encode_cpu.json: {ref['tokens']:,} tokens in {ref['times']['embedtune_tok2048']} s (2 threads, quiet machine) = {quiet:.1f} abstracts/s at {tok:.0f} tokens each",
                gpu_documented=GPU_DOC, tokens_per_abstract=round(tok, 1), gpu_abstracts_per_second_token_scaled=round(gpu_abs),
                assumption='~20 tokens per sentence in the documented figure; GPU time grows ~linearly in tokens at these lengths (an estimate, not measured here)',
                per_corpus=out)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n-docs', type=int, default=300); p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--copies', type=int, default=19); p.add_argument('--noise', type=float, default=0.6)
    p.add_argument('--pq-m', type=int, nargs='+', default=[24, 48, 96]); p.add_argument('--shards', type=int, default=4)
    p.add_argument('--k', type=int, default=10); p.add_argument('--ram-gb', type=float, default=64)
    p.add_argument('--seed', type=int, default=0); p.add_argument('--skip-encode', action='store_true')
    p.add_argument('--keep-encode', action='store_true', help='keep the encoding measurements already in --out; measure the rest again')
    p.add_argument('--arithmetic-only', action='store_true', help='recompute only the arithmetic from the measurements already in --out')
    p.add_argument('--out', default='results/scale_out.json')
    a = p.parse_args()
    if a.arithmetic_only:
        from embedtune.core import write_json
        res = json.loads(Path(a.out).read_text()); res['arithmetic'] = arithmetic(a, res['encode'])
        write_json(res, a.out); print(json.dumps(res['arithmetic'], indent=1)); return
    sys.path.insert(0, str(Path(__file__).parent))
    from _common import save
    from embedtune.core import data_path
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as d:
        rates = json.loads(Path(a.out).read_text())['encode'] if a.keep_encode else encode_rates(a, Path(d)) if not a.skip_encode else None
        idx = index_part(a, Path(d))
    res = dict(task='scale_out', model='all-MiniLM-L6-v2', dataset='scifact', machine=f'{os.cpu_count()} CPU cores',
               load_average_start_end=[round(load0[0], 2), round(os.getloadavg()[0], 2)], encode=rates, index=idx,
               arithmetic=arithmetic(a, rates) if rates else None)
    save(res, a.out, vars(a), a.seed, [data_path('scifact')/'corpus.jsonl'])
    if rates: print(json.dumps({k: v['docs_per_second_steady'] for k, v in rates['configs'].items()}), f"max |diff| {rates['max_abs_diff_two_procs_vs_one']:.2e}")

if __name__ == '__main__': main()

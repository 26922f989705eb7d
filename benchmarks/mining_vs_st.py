"""Hard-negative mining: embedtune vs sentence_transformers.util.mine_hard_negatives, in one run.

Same model (packaged all-MiniLM-L6-v2), same SciFact train queries and corpus, equivalent settings (top strategy,
same range_min/range_max/num_negatives, no extra filters; embedtune's near-duplicate guard off so both apply the same
rules). Measures:
  * cold: nothing cached. Each cold run is a fresh process (what a user's first run is: nothing left in memory
    by an earlier run) that loads the model (not timed) and mines once into an empty cache folder. A round runs
    every tool once, in an order rotated from round to round; `--repeats` rounds (default 5). On this shared
    2-core machine identical runs vary by up to ~15 %, so the cold speedup is the *median over rounds of the
    paired ratio* (sentence-transformers' faster variant in that round / ours in that round), which cancels slow
    drift of the machine's speed; the ratio of the fastest runs (`speedup_cold_best_of`) is reported too. Both
    tools run at their default encode batching (sentence-transformers: batch_size 32; embedtune: batch_size 64
    capped at 2048 tokens on a CPU). As a check that the cold gain is not only a batch-size choice a user could
    make, sentence-transformers also runs with batch_size 8 (`st_bs8`, its best fixed batch size on this CPU in
    benchmarks/encode_cpu.py), and at its defaults with glibc's allocator tuned as embedtune's `encode` tunes it
    (`st_malloc`: `evaluate.tune_malloc()` before mining), so the part of the gain that any PyTorch program could
    get from the allocator is visible;
  * warm: embeddings cached (embedtune: its embedding cache; sentence-transformers: `cache_folder`); best of 5;
  * overlap: mean over anchors of |ours ∩ theirs| / |theirs| of the mined negatives;
  * peak memory (resident memory sampled every 2 ms during the mining call, minus the resident memory just before
    it) on a corpus of 200k synthetic embeddings fed to both through their caches, each in a fresh subprocess.
Writes results/mining_vs_st.json (speedup_warm, speedup_cold, overlap, raw times, manifest).
Usage: python benchmarks/mining_vs_st.py [--quick] [--skip-memory] [--repeats 5]
"""
import argparse, json, os, subprocess, sys, tempfile, time
from _common import fresh
import numpy as np
from pathlib import Path

SETTINGS = dict(num_negatives=3, range_min=0, range_max=10)

def run_ours(data, model, cache):
    os.environ['EMBEDTUNE_CACHE'] = cache
    from embedtune.mining import mine_beir
    t = time.perf_counter()
    res = mine_beir(data, model, 'train', dup_threshold=None, sampling_strategy='top', show_progress=False, **SETTINGS)
    return time.perf_counter() - t, res.dataset

def run_st(ds, corpus, model, cache, use_faiss, batch_size=None):
    from sentence_transformers.util import mine_hard_negatives
    kw = {} if batch_size is None else dict(batch_size=batch_size)
    t = time.perf_counter()
    out = mine_hard_negatives(ds, model, corpus=corpus, sampling_strategy='top', output_format='triplet', cache_folder=cache,
                              use_faiss=use_faiss, verbose=False, **kw, **SETTINGS)
    return time.perf_counter() - t, out

def negatives(ds):
    out = {}
    for a, n in zip(ds['anchor'], ds['negative']): out.setdefault(a, set()).add(n)
    return out

MEM = r'''
import hashlib, json, os, sys, numpy as np
tool, n_docs, n_q, folder = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
os.environ['EMBEDTUNE_CACHE'] = folder
from datasets import Dataset
from embedtune.models import load_model
from embedtune.encode import cache_path
from embedtune.encode import measure_peak
from embedtune.mining import mine_hard_negatives as ours_mine
model = load_model(); dim = 384
corpus = [f'synthetic document {i}' for i in range(n_docs)]
queries = [f'synthetic query {i}' for i in range(n_q)]
positives = [corpus[(i * 97) % n_docs] for i in range(n_q)]
ctext = list(dict.fromkeys(corpus + positives))
rng = np.random.default_rng(0)
def emb(n):
    x = rng.standard_normal((n, dim), dtype=np.float32); return x / np.linalg.norm(x, axis=1, keepdims=True)
if sys.argv[5] == 'prepare':
  C, Q = emb(len(ctext)), emb(len(queries))
  if tool == 'embedtune':
    np.save(cache_path(model, ctext), C); np.save(cache_path(model, queries), Q)
  else:
    name = model.model_card_data.base_model or ''
    qh = hashlib.sha256(repr((name, None, None, queries)).encode()).hexdigest()
    ch = hashlib.sha256(repr((name, None, None, ctext)).encode()).hexdigest()
    np.save(os.path.join(folder, f'query_embeddings_{qh}.npy'), Q); np.save(os.path.join(folder, f'corpus_embeddings_{ch}.npy'), C)
  sys.exit(0)
import time
from sentence_transformers.util import mine_hard_negatives as st_mine
def run():
    if tool == 'embedtune':
        return ours_mine(queries, positives, corpus, model, dup_threshold=None, show_progress=False, num_negatives=3, range_max=10).dataset
    return st_mine(Dataset.from_dict({'anchor': queries, 'positive': positives}), model, corpus=corpus, cache_folder=folder,
                   use_faiss=(tool == 'st_faiss'), verbose=False, num_negatives=3, range_max=10)
base = int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
t = time.perf_counter(); out, extra = measure_peak(run); sec = time.perf_counter() - t
print(json.dumps(dict(tool=tool, extra_bytes=extra, rss_before=base, rss_peak=base + extra, seconds=sec, rows=len(out))))
'''

def memory(n_docs, n_q):
    out = {}
    for tool in ('embedtune', 'st', 'st_faiss'):
        with tempfile.TemporaryDirectory() as d:
            # the cache files are written by one process; a fresh process loads the model and mines, so its peak RSS
            # counts only what mining needs (extra_bytes = peak - RSS after loading the model and the inputs)
            try:
                subprocess.run([sys.executable, '-c', MEM, tool, str(n_docs), str(n_q), d, 'prepare'], check=True, capture_output=True, text=True)
                out[tool] = fresh('-c', MEM, tool, n_docs, n_q, d, 'measure')
            except (RuntimeError, subprocess.CalledProcessError) as e: out[tool] = dict(error=str(getattr(e, 'stderr', None) or e)[-500:]); continue
        print(f"  memory {tool}: {out[tool]}", flush=True)
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='500-document slice (smoke test of the script)')
    p.add_argument('--skip-memory', action='store_true'); p.add_argument('--mem-docs', type=int, default=200_000)
    p.add_argument('--repeats', type=int, default=5, help='cold rounds (each tool once per round, in a fresh process)')
    p.add_argument('--mem-queries', type=int, default=2000); p.add_argument('--out', default='results/mining_vs_st.json')
    p.add_argument('--cold-worker', nargs=2, metavar=('TOOL', 'CACHE'), help=argparse.SUPPRESS)
    a = p.parse_args()
    from _common import save
    from embedtune.data import beir_pairs, load_beir, slice_beir
    from embedtune.models import load_model
    data = load_beir('scifact', splits=['train'])
    if a.quick: data = slice_beir(data, n_queries=100, n_docs=500)
    model = load_model()
    ds = beir_pairs(data, 'train')   # the (query, positive) pairs mine_beir mines for
    corpus = [data.doc_text(d) for d in data.corpus]
    if a.cold_worker and a.cold_worker[0] == 'st_malloc':
        from embedtune.encode import tune_malloc; tune_malloc()
    run = lambda tool, cache: run_ours(data, model, cache) if tool == 'embedtune' else run_st(
        ds, corpus, model, cache, use_faiss=(tool == 'st_faiss'), batch_size=8 if tool == 'st_bs8' else None)
    if a.cold_worker:   # one cold run in this fresh process: print its seconds
        print(json.dumps(dict(seconds=run(*a.cold_worker)[0]))); return
    times, outs, raw = {}, {}, {}
    tools, cold_tools = ('embedtune', 'st', 'st_faiss'), ('embedtune', 'st', 'st_faiss', 'st_bs8', 'st_malloc')
    rounds = []
    with tempfile.TemporaryDirectory() as root:
        for rep in range(a.repeats):
            order = cold_tools[rep % len(cold_tools):] + cold_tools[:rep % len(cold_tools)]   # rotated each round
            rnd = {}
            for tool in order:
                rnd[tool] = round(fresh(__file__, '--cold-worker', tool, os.path.join(root, f'{tool}-{rep}'), *(['--quick'] if a.quick else []))['seconds'], 3)
                raw.setdefault(f'{tool}_cold', []).append(rnd[tool]); print(f"{tool:<10} cold #{rep+1}: {rnd[tool]:8.2f} s", flush=True)
            rounds.append(rnd)
        # warm (in this process): the last round's cache is in place; best of 5
        for tool in tools:
            for _ in range(5):
                sec, outs[tool] = run(tool, os.path.join(root, f'{tool}-{a.repeats - 1}'))
                raw.setdefault(f'{tool}_warm', []).append(round(sec, 4))
            print(f"{tool:<10} warm: {min(raw[f'{tool}_warm']):8.3f} s (best of 5)", flush=True)
    times = {k: min(v) for k, v in raw.items()}
    ours, theirs = negatives(outs['embedtune']), negatives(outs['st'])
    overlap = sum(len(ours.get(a, set()) & n) / len(n) for a, n in theirs.items()) / len(theirs)
    best_st = lambda ph: min(times[f'st_{ph}'], times[f'st_faiss_{ph}'])
    paired = [min(r_['st'], r_['st_faiss']) / r_['embedtune'] for r_ in rounds]   # ST's faster variant in each round
    paired_bs8 = [r_['st_bs8'] / r_['embedtune'] for r_ in rounds]
    paired_malloc = [r_['st_malloc'] / r_['embedtune'] for r_ in rounds]
    res = dict(task='mining_vs_st', dataset='scifact' + (' (quick slice)' if a.quick else ''), settings=SETTINGS,
               n_anchors=len(theirs), n_corpus=len(corpus), times=times, times_all_runs=raw, repeats_cold=a.repeats,
               cold_rounds=rounds, cold_ratio_per_round=[round(x, 3) for x in paired],
               speedup_cold=round(float(np.median(paired)), 2), speedup_cold_best_of=round(best_st('cold') / times['embedtune_cold'], 2),
               speedup_cold_range=[round(min(paired), 2), round(max(paired), 2)],
               speedup_warm=round(best_st('warm') / times['embedtune_warm'], 2),
               speedup_warm_vs_st_torch=round(times['st_warm'] / times['embedtune_warm'], 2),
               speedup_warm_vs_st_faiss=round(times['st_faiss_warm'] / times['embedtune_warm'], 2),
               speedup_cold_vs_st_bs8=round(float(np.median(paired_bs8)), 2),
               speedup_cold_vs_st_malloc=round(float(np.median(paired_malloc)), 2),
               overlap=round(overlap, 4))
    if not a.skip_memory:
        mem = memory(a.mem_docs, a.mem_queries)
        res['memory'] = dict(n_docs=a.mem_docs, n_queries=a.mem_queries, **mem)
        if all('extra_bytes' in mem[t] for t in mem):
            res['memory_ratio_st'] = round(mem['st']['extra_bytes'] / mem['embedtune']['extra_bytes'], 2)
            res['memory_ratio_st_faiss'] = round(mem['st_faiss']['extra_bytes'] / mem['embedtune']['extra_bytes'], 2)
    save(res, a.out, dict(vars(a), **SETTINGS), None, data.files)
    print(f"cold ratio per round (ST's faster variant / ours): {res['cold_ratio_per_round']}")
    print(f"speedup cold {res['speedup_cold']}x (median of rounds; bar 1.0; fastest runs: {res['speedup_cold_best_of']}x), warm {res['speedup_warm']}x (bar 1.5) vs the faster sentence-transformers "
          f"variant (cold vs its hand-tuned batch 8: {res['speedup_cold_vs_st_bs8']}x, vs it with the tuned allocator: {res['speedup_cold_vs_st_malloc']}x); overlap {res['overlap']} (bar 0.9)" + (f"; extra peak memory: ST {res.get('memory_ratio_st')}x, ST+faiss "
          f"{res.get('memory_ratio_st_faiss')}x ours" if 'memory_ratio_st' in res else '') + f" -> {a.out}")

if __name__ == '__main__': main()

"""Memory of the strict false-negative guard on an NFCorpus-like set (issue #14): this checkout vs the code before the fix.

NFCorpus has a few thousand documents, >100k train pairs and queries with hundreds of labelled positives; mining it
with the strict guard (`num_negatives=1, range_min=0, range_max=20, dup_threshold=0.95, relative_margin=0.05,
vote='bm25', fill='random'`) was killed at 20 GB. The same shape, synthetic (`embedtune.data.synthetic_beir`: topics of
10-400 documents of 200 words, every train query's whole topic labelled), is written once as a BEIR folder; each
version of the code then mines 1,500 sampled train pairs of it with `HashEncoder(384)` in its own fresh process
(torch imported first, as a real encoder's process has it) and saves the audit as train.py does. Reported per version:
the extra peak resident memory of `mine_beir` and of `save_audit` (sampled every 2 ms), the process's peak RSS, seconds,
audit rows kept and counted, the audit file's size, and a hash of the mined rows (the fix must not change them).
For this checkout also `estimate_mining`'s prediction for the run, against the measured extra peak.

Usage: python benchmarks/guard_memory.py [--code git:REV | --code PATH ...] [--topics 32 --queries 78] [--out results/guard_memory.json]
  --code git:REV exports that commit's `embedtune/` to a temp folder (nothing in the repo changes); --code PATH imports
  the package from another checkout (read only: no bytecode is written there).
"""
import argparse, hashlib, json, os, random, subprocess, sys, tempfile, time
from pathlib import Path

STRICT = dict(num_negatives=1, range_min=0, range_max=20, dup_threshold=0.95, relative_margin=0.05, vote='bm25', fill='random')
ROOT = Path(__file__).resolve().parents[1]

def _sample(data, n:int, seed:int=0)->list:
    "`n` train pairs drawn with `seed`, as `TrainConfig.sample_size` draws them (the same in every version)."
    from embedtune.data import beir_pair_rows
    pairs = beir_pair_rows(data, 'train')
    return [pairs[i] for i in sorted(random.Random(seed).sample(range(len(pairs)), min(n, len(pairs))))]

def worker(folder:str, code:str|None, n_pairs:int, out_dir:str):
    "One fresh process: mine with the code at `code` (None: this checkout), save the audit; print the figures as JSON."
    if code: sys.path.insert(0, code)
    import resource, torch   # noqa: F401  (a real encoder's process has torch loaded before mining)
    import embedtune
    from embedtune.data import load_beir
    from embedtune.models import HashEncoder
    from embedtune.mining import mine_beir
    try: from embedtune.encode import measure_peak
    except ImportError: from embedtune.mining import measure_peak        # older checkouts
    data = load_beir(folder, splits=['train']); sample = _sample(data, n_pairs); he = HashEncoder(384)
    rss0 = int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')   # loaded: torch, data, sampled pairs
    t = time.perf_counter()
    m, extra = measure_peak(lambda: mine_beir(data, he, 'train', pairs=sample, cache=False, show_progress=False, **STRICT))
    sec = time.perf_counter() - t
    path = Path(out_dir)/'mining_audit.jsonl'; t = time.perf_counter()
    _, extra_save = measure_peak(lambda: m.save_audit(path))
    ds = m.dataset; rows = sorted(zip(ds['anchor'], ds['positive'], ds['negative']))
    print(json.dumps(dict(package=str(Path(embedtune.__file__).parent), extra_bytes_mine=extra, seconds_mine=round(sec, 1),
                          extra_bytes_save=extra_save, seconds_save=round(time.perf_counter() - t, 1),
                          rss_before_bytes=rss0, peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                          audit_rows_kept=len(m.audit), audit_rows_counted=sum(m.stats['dropped'].values()),
                          audit_file_bytes=path.stat().st_size, dropped=m.stats['dropped'], n_rows=m.stats['n_rows'],
                          n_anchors=m.stats['n_anchors'], n_corpus=m.stats['n_corpus'],
                          rows_sha256=hashlib.sha256(json.dumps(rows).encode()).hexdigest())))

def _checkout(code:str, tmp:str)->str:
    "A folder holding the `embedtune` package of `code`: a path, or `git:REV` exported from this repo."
    if not code.startswith('git:'): return code
    d = Path(tmp)/code[4:]; d.mkdir(parents=True)
    tar = subprocess.run(['git', '-C', str(ROOT), 'archive', code[4:], 'embedtune'], capture_output=True, check=True).stdout
    subprocess.run(['tar', '-x', '-C', str(d)], input=tar, check=True)
    return str(d)

def _estimate(folder:str, n_pairs:int)->dict:
    "`estimate_mining` for the run, from what it mines with (as `estimate_run` passes it)."
    from embedtune.data import load_beir
    from embedtune.encode import encode_probe
    from embedtune.mining import _split_positives, estimate_mining, index_pairs, mining_window
    from embedtune.models import HashEncoder
    data = load_beir(folder, splits=['train']); sample = _sample(data, n_pairs)
    idx = index_pairs([a for a, _ in sample], [p for _, p in sample], [data.doc_text(d) for d in data.corpus], _split_positives(data, 'train'))
    pos = list(map(len, idx.positives))
    _, k = mining_window(1, 0, 20, 'top', True, max(pos), len(idx.texts), True)
    probe = encode_probe(HashEncoder(384), idx.texts + idx.anchors)
    from embedtune.mining import MineConfig, _output_size
    kw = dict(k=k, docs_per_second=probe['texts_per_second'], cached=False, bytes_encode=probe['bytes_working'] or 0, max_pos=max(pos), n_positives=sum(pos), reasons=4,  # + copies, relative margin, vote
              **_output_size(MineConfig(num_negatives=1), idx))
    return dict(estimate_mining(len(idx.texts), len(idx.anchors), 384, audit_per_query=10, **kw), k=k, max_pos=max(pos), n_positives=sum(pos),
                bytes_audit_uncapped=estimate_mining(len(idx.texts), len(idx.anchors), 384, audit_per_query=None, **kw)['bytes_audit'])

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--code', action='append', default=[], help='code to compare with: git:REV or a checkout path (repeatable)')
    p.add_argument('--topics', type=int, default=32); p.add_argument('--queries', type=int, default=78, help='queries per topic')
    p.add_argument('--pairs', type=int, default=1500, help='train pairs sampled and mined'); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', default='results/guard_memory.json')
    p.add_argument('--worker', nargs=4, metavar=('FOLDER', 'CODE', 'PAIRS', 'OUT_DIR'), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker: return worker(a.worker[0], a.worker[1] or None, int(a.worker[2]), a.worker[3])
    import numpy as np
    from _common import fresh, save
    from embedtune.data import save_beir, synthetic_beir
    rng = np.random.default_rng(a.seed); sizes = [int(10 + 390 * u ** 3) for u in rng.random(a.topics)]   # many small topics, a few large
    data, _ = synthetic_beir(a.topics, sizes, a.queries, doc_words=200, seed=a.seed)
    train = data.qrels['train']
    shape = dict(docs=len(data.corpus), train_queries=len(train), train_pairs=sum(map(len, train.values())),
                 most_positives=max(map(len, train.values())), sampled_pairs=a.pairs)
    print(shape, flush=True)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1', HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false')
    res = dict(task='guard_memory', settings=STRICT, shape=shape, runs={})
    with tempfile.TemporaryDirectory() as tmp:
        folder = str(save_beir(data, Path(tmp)/'nfcorpus_like'))
        res['estimate'] = _estimate(folder, a.pairs)
        for label in ['this checkout', *a.code]:
            code = '' if label == 'this checkout' else _checkout(label, tmp)
            out = Path(tmp)/f'out{len(res["runs"])}'; out.mkdir()
            r = res['runs'][label] = fresh(__file__, '--worker', folder, code, a.pairs, out, env=env)
            print(f"{label}: mine +{r['extra_bytes_mine'] / 2**20:.0f} MiB in {r['seconds_mine']} s, save_audit +{r['extra_bytes_save'] / 2**20:.0f} MiB, "
                  f"process peak {r['peak_rss_bytes'] / 2**20:.0f} MiB ({r['rss_before_bytes'] / 2**20:.0f} before mining); audit {r['audit_rows_kept']} rows kept of {r['audit_rows_counted']} "
                  f"counted, file {r['audit_file_bytes'] / 2**20:.1f} MiB", flush=True)
    now, est = res['runs']['this checkout'], res['estimate']
    res['estimate_vs_measured'] = round(est['bytes_peak'] / now['extra_bytes_mine'], 2)
    print(f"estimate {est['bytes_peak'] / 2**20:.0f} MiB vs measured {now['extra_bytes_mine'] / 2**20:.0f} MiB ({res['estimate_vs_measured']}x)")
    for label in a.code:
        old = res['runs'][label]
        res.setdefault('before_over_after', {})[label] = dict(
            extra_mine=round(old['extra_bytes_mine'] / now['extra_bytes_mine'], 1), peak_rss=round(old['peak_rss_bytes'] / now['peak_rss_bytes'], 1),
            audit_file=round(old['audit_file_bytes'] / now['audit_file_bytes'], 1), same_rows=old['rows_sha256'] == now['rows_sha256'])
        print(label, 'before/after:', res['before_over_after'][label])
    save(res, a.out, dict(vars(a), worker=None), a.seed)

if __name__ == '__main__': main()

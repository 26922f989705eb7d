"""Mining estimate vs the real run: `estimate_run` (what `embedtune mine CONFIG --estimate` prints) against `mine` itself.

With an empty embedding cache, in one process: load the model, run `estimate_run(config)` (it times encoding on a
sample), then `mine(config)` with its outputs in a temp folder, timing it and sampling resident memory every 2 ms
(extra = peak minus the resident memory just before `mine`). Then, with the embeddings now cached, both again (warm).
Prints estimated vs measured seconds and extra bytes; writes results/estimate_check.json (both, their ratios, manifest).
Usage: python benchmarks/estimate_check.py [--config configs/mine_scifact.yaml]
"""
import argparse, dataclasses, os, tempfile, threading, time

def rss(): return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

def measured(fn):
    "Seconds and extra peak resident bytes of `fn()` (RSS sampled every 2 ms)."
    base, peak, done = rss(), [0], threading.Event()
    def poll():
        while not done.is_set(): peak[0] = max(peak[0], rss()); time.sleep(0.002)
    th = threading.Thread(target=poll, daemon=True); th.start()
    t = time.perf_counter(); fn(); sec = time.perf_counter() - t
    done.set(); th.join()
    return sec, max(peak[0], rss()) - base

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default='configs/mine_scifact.yaml'); p.add_argument('--out', default='results/estimate_check.json')
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as root:
        os.environ['EMBEDTUNE_CACHE'] = os.path.join(root, 'cache')   # empty: the first pass is cold
        from embedtune.core import make_manifest, write_json
        from embedtune.mining import MineConfig, estimate_run, mine
        from embedtune.models import load_model
        cfg = MineConfig.from_yaml(a.config, output=os.path.join(root, 'neg.jsonl'), audit=os.path.join(root, 'audit.csv'))
        model = load_model(cfg.model) if cfg.needs_model() else None
        res = {}
        for phase in ('cold', 'warm'):
            t = time.perf_counter(); est = estimate_run(cfg, model=model); est_sec = time.perf_counter() - t
            sec, extra = measured(lambda: mine(cfg, model=model, log=None))
            res[phase] = dict(estimate=est, estimate_call_seconds=round(est_sec, 2), seconds=round(sec, 1), extra_bytes=extra,
                              seconds_ratio=round(est['seconds'] / sec, 2), bytes_ratio=round(est['bytes_peak'] / extra, 2))
            print(f"{phase}: estimated {est['seconds']:.0f} s / measured {sec:.0f} s ({res[phase]['seconds_ratio']}x); "
                  f"estimated peak extra {est['bytes_peak'] / 2**20:.0f} MiB / measured {extra / 2**20:.0f} MiB "
                  f"({res[phase]['bytes_ratio']}x); the estimate itself took {est_sec:.1f} s", flush=True)
        files = cfg.inputs()[3]
    out = dict(task='estimate_check', config=a.config, **res, manifest=make_manifest(dataclasses.asdict(cfg), cfg.seed, files))
    write_json(out, a.out); print(f'-> {a.out}')

if __name__ == '__main__': main()

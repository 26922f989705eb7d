"""Mining estimate vs the real run: `estimate_run` (what `embedtune mine CONFIG --estimate` prints) against `mine` itself.

As a user would run them, each in its own fresh process and with the same embedding cache: first `estimate_run(config)`
(it times encoding on a sample), then `mine(config)` with its outputs in a temp folder, timed, its resident memory
sampled every 2 ms (extra = peak minus the resident memory after loading the model, just before `mine`). Cold: the
cache starts empty; warm: both again, with the embeddings the cold run cached.
Prints estimated vs measured seconds and extra bytes; writes results/estimate_check.json (both, their ratios, manifest).
Usage: python benchmarks/estimate_check.py [--config configs/mine_scifact.yaml]
                                           [--set source=dense --set vote=null --out results/estimate_check_dense.json]
"""
import argparse, dataclasses, json, os, sys, tempfile, time

def worker(what, config, over):
    "One fresh process: `estimate` prints estimate_run's dict; `mine` prints mine's seconds and extra peak bytes."
    from embedtune.encode import measure_peak
    from embedtune.mining import MineConfig, estimate_run, mine
    from embedtune.models import load_model
    cfg = MineConfig.from_yaml(config, **over)
    model = load_model(cfg.model) if cfg.needs_model() else None
    if what == 'estimate':
        t = time.perf_counter(); est = estimate_run(cfg, model=model); print(json.dumps(dict(est, call_seconds=time.perf_counter() - t)))
    else:
        def run(): t = time.perf_counter(); mine(cfg, model=model, log=None); return time.perf_counter() - t
        sec, extra = measure_peak(run); print(json.dumps(dict(seconds=sec, extra_bytes=extra)))

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default='configs/mine_scifact.yaml'); p.add_argument('--out', default='results/estimate_check.json')
    p.add_argument('--set', action='append', default=[], metavar='KEY=VALUE', help='override a config key (repeatable), e.g. source=dense')
    p.add_argument('--worker', choices=['estimate', 'mine'], help=argparse.SUPPRESS)
    a = p.parse_args()
    import yaml
    over = {k: yaml.safe_load(v) for k, v in (x.split('=', 1) for x in a.set)}
    if a.worker: return worker(a.worker, a.config, over)
    from _common import fresh, save
    from embedtune.mining import MineConfig
    res = {}
    with tempfile.TemporaryDirectory() as root:
        env = dict(os.environ, EMBEDTUNE_CACHE=os.path.join(root, 'cache'))   # empty: the first pass is cold
        sets = [f'--set={k}={json.dumps(v)}' for k, v in over.items()] + [f"--set=output={os.path.join(root, 'neg.jsonl')}",
                                                                           f"--set=audit={os.path.join(root, 'audit.csv')}"]
        run = lambda what: fresh(__file__, '--worker', what, '--config', a.config, *sets, env=env)
        for phase in ('cold', 'warm'):
            est, real = run('estimate'), run('mine')
            res[phase] = dict(estimate=est, seconds=round(real['seconds'], 1), extra_bytes=real['extra_bytes'],
                              seconds_ratio=round(est['seconds'] / real['seconds'], 2), bytes_ratio=round(est['bytes_peak'] / real['extra_bytes'], 2))
            print(f"{phase}: estimated {est['seconds']:.0f} s / measured {real['seconds']:.0f} s ({res[phase]['seconds_ratio']}x); "
                  f"estimated peak extra {est['bytes_peak'] / 2**20:.0f} MiB / measured {real['extra_bytes'] / 2**20:.0f} MiB "
                  f"({res[phase]['bytes_ratio']}x); the estimate itself took {est['call_seconds']:.1f} s", flush=True)
    cfg = MineConfig.from_yaml(a.config, **over)
    save(dict(task='estimate_check', config=a.config, overrides=over, **res), a.out, dataclasses.asdict(cfg), cfg.seed, cfg.inputs()[3])

if __name__ == '__main__': main()

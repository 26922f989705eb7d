"""Encoding levers on this CPU: what else could make a cold (nothing cached) encode faster, measured in one run.

Cold mining and cold evaluation are > 98 % model encoding, so this script checks the levers beyond batching
(benchmarks/encode_cpu.py covers batching) on the same model (packaged all-MiniLM-L6-v2) and the same texts
(a SciFact slice: the first `--docs` corpus documents as `title + " " + text` and the first `--queries` train queries,
shuffled together), each variant in a fresh subprocess so no setting leaks into the next:
  * `fp32`: embedtune's default path (`evaluate.encode(cache=False)`: PyTorch fp32, SDPA attention, all threads,
    batches of at most 2048 padded tokens, glibc's allocator tuned by `evaluate.tune_malloc`) — the reference;
  * `fp32_glibc_default`: the same with glibc's default allocator settings (`EMBEDTUNE_MALLOC_TUNE=0`);
  * `fp32_1thread`: the same on one thread (how well PyTorch's intra-op threads scale);
  * `fp32_2proc`: two processes of one thread, each encoding half the texts at once (data parallel instead of
    intra-op threads; wall time of both);
  * `fp32_2threads`: the same inside one process: embedtune's batches (same plan) shared by two Python threads that
    each run `SentenceTransformer.encode` on one torch thread;
  * `eager_attention`: transformers' eager attention instead of SDPA;
  * `bf16_autocast`: `torch.autocast('cpu', bfloat16)` around the encode;
  * `bf16_weights`: the model cast to bfloat16;
  * `fp16_autocast`: `torch.autocast('cpu', float16)` (this CPU reports avx512_fp16);
  * `int8_dynamic`: `torch.ao.quantization.quantize_dynamic` of every `nn.Linear` to int8 (avx512_vnni);
  * `jit_freeze`: the transformer traced with `torch.jit.trace`, frozen and `optimize_for_inference` (oneDNN
    fusions), fed the same token-sorted batches, mean pooling and normalisation done by hand;
  * `compile`: `torch.compile(dynamic=True)` of the transformer, with an empty inductor cache (the first run a
    user would see); `compile_cached`: the same with the cache the `compile` run just filled.
For each: setup seconds (model load excluded; includes compiling and a 16-text warm-up), encode seconds, the ratio
of the reference's encode time to the variant's encode (and to setup + encode), and the largest absolute difference
of its vectors from the reference's, and a projection of a cold SciFact mining encode (corpus + train queries) at
its rate (setup + encode time scaled by the text count), and for variants that change the vectors the lowest and
mean cosine of a text's vector to its reference vector. Variants alternate over `--repeats` rounds; the fastest run counts. Writes
results/encode_levers.json (raw times, ratios, differences, manifest).
Usage: python benchmarks/encode_levers.py [--docs 500] [--queries 100] [--repeats 2]
"""
import argparse, json, os, random, sys, tempfile, time
from _common import fresh_many
import numpy as np

VARIANTS = ('fp32', 'fp32_glibc_default', 'fp32_1thread', 'fp32_2proc', 'fp32_2threads', 'eager_attention', 'bf16_autocast', 'bf16_weights',
            'fp16_autocast', 'int8_dynamic', 'jit_freeze', 'compile', 'compile_cached')

WORKER = r'''
import contextlib, json, os, sys, time
import numpy as np, torch
variant, texts_path, out_path, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.set_num_threads(threads)
from embedtune.encode import encode
from embedtune.models import load_model
texts = json.load(open(texts_path)); model = load_model()
t = time.perf_counter()
if variant == 'eager_attention': model[0].auto_model.set_attn_implementation('eager')
if variant == 'bf16_weights': model.to(torch.bfloat16)
if variant.startswith('compile'): model[0].model = torch.compile(model[0].model, dynamic=True)
if variant == 'int8_dynamic':
    from torch.ao.quantization import quantize_dynamic
    quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
ctx = {'bf16_autocast': lambda: torch.autocast('cpu', dtype=torch.bfloat16),
       'fp16_autocast': lambda: torch.autocast('cpu', dtype=torch.float16)}.get(variant, contextlib.nullcontext)
if variant == 'jit_freeze':
    from embedtune.encode import batch_plan, token_lengths
    tok, msl = model.tokenizer, model.max_seq_length
    class Body(torch.nn.Module):
        def __init__(self, m): super().__init__(); self.m = m
        def forward(self, ids, mask): return self.m(input_ids=ids, attention_mask=mask).last_hidden_state
    ex = tok(texts[:4], padding=True, truncation=True, max_length=msl, return_tensors='pt')
    with torch.inference_mode():
        body = torch.jit.trace(Body(model[0].auto_model).eval(), (ex['input_ids'], ex['attention_mask']), strict=False, check_trace=False)
        body = torch.jit.optimize_for_inference(torch.jit.freeze(body.eval()))
def run_jit(x):
    out = None
    with torch.inference_mode():
        for b in batch_plan(token_lengths(model, x), 64, 2048):
            f = tok([x[i] for i in b], padding=True, truncation=True, max_length=msl, return_tensors='pt')
            h, m = body(f['input_ids'], f['attention_mask']), f['attention_mask'].unsqueeze(-1).to(torch.float32)
            e = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1).numpy()
            if out is None: out = np.empty((len(x), e.shape[1]), np.float32)
            out[b] = e
    return out
def run(x):
    if variant == 'jit_freeze': return run_jit(x)
    if variant != 'fp32_2threads': return np.asarray(encode(model, x, cache=False, show_progress_bar=False), np.float32)
    from concurrent.futures import ThreadPoolExecutor
    from embedtune.encode import batch_plan, token_lengths
    plan = batch_plan(token_lengths(model, x), 64, 2048)
    one = lambda b: model.encode([x[i] for i in b], batch_size=len(b), normalize_embeddings=True, convert_to_numpy=True)
    first = one(plan[0])   # alone first: it sets the tokenizer's truncation/padding, so the threads only read them
    out = np.empty((len(x), first.shape[1]), np.float32); out[plan[0]] = first
    with ThreadPoolExecutor(2) as ex:
        for b, e in zip(plan[1:], ex.map(one, plan[1:])): out[b] = e
    return out
with ctx(): run(texts[:16])
setup = time.perf_counter() - t; t = time.perf_counter()
with ctx(): e = run(texts)
sec = time.perf_counter() - t
np.save(out_path, e); print(json.dumps(dict(setup=setup, encode=sec)))
'''

def run_variant(variant, texts, root, rnd):
    "Setup and encode seconds of one variant in fresh subprocess(es), and its vectors."
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=os.path.join(root, f'inductor-{rnd}'))
    if variant == 'fp32_glibc_default': env['EMBEDTUNE_MALLOC_TUNE'] = '0'
    if variant == 'compile':   # an empty inductor cache: what the first run on a machine pays
        import shutil; shutil.rmtree(env['TORCHINDUCTOR_CACHE_DIR'], ignore_errors=True)
    parts = [texts[:len(texts) // 2], texts[len(texts) // 2:]] if variant == 'fp32_2proc' else [texts]
    threads = 1 if variant in ('fp32_1thread', 'fp32_2proc', 'fp32_2threads') else 0
    argss, outs = [], []
    for i, part in enumerate(parts):
        tp, op = os.path.join(root, f'texts-{i}.json'), os.path.join(root, f'out-{i}.npy')
        json.dump(part, open(tp, 'w')); outs.append(op)
        argss.append(['-c', WORKER, variant, tp, op, str(threads or os.cpu_count())])
    res = fresh_many(argss, env)
    # parallel processes: wall time is the slower one's (they start together; setups overlap too)
    return max(r['setup'] for r in res), max(r['encode'] for r in res), np.concatenate([np.load(o) for o in outs])

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--docs', type=int, default=500); p.add_argument('--queries', type=int, default=100)
    p.add_argument('--repeats', type=int, default=2); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--only', nargs='*', choices=VARIANTS, help='variants to run (fp32 always runs)')
    p.add_argument('--out', default='results/encode_levers.json')
    a = p.parse_args()
    import torch
    from _common import save
    from embedtune.data import load_beir
    data = load_beir('scifact', splits=['train'])
    texts = [data.doc_text(d) for d in list(data.corpus)[:a.docs]] + [data.queries[q] for q in list(data.qrels['train'])[:a.queries]]
    random.Random(a.seed).shuffle(texts)
    variants = ['fp32'] + [v for v in (a.only or VARIANTS) if v != 'fp32']
    if 'compile_cached' in variants and 'compile' not in variants: variants.insert(variants.index('compile_cached'), 'compile')
    raw, diff, cosine, ref = {}, {}, {}, None
    with tempfile.TemporaryDirectory() as root:
        for rnd in range(a.repeats):
            for v in variants:
                setup, sec, e = run_variant(v, texts, root, rnd)
                if ref is None: ref = e
                raw.setdefault(v, []).append(dict(setup=round(setup, 3), encode=round(sec, 3)))
                diff[v] = max(diff.get(v, 0.), float(np.abs(e - ref).max()))
                cos = (e * ref).sum(1); cosine[v] = dict(min=round(float(cos.min()), 5), mean=round(float(cos.mean()), 5))
                print(f"{v:<16} #{rnd+1}: setup {setup:6.2f} s  encode {sec:7.2f} s  max |diff| {diff[v]:.2e}", flush=True)
    best = {v: min(raw[v], key=lambda r: r['encode']) for v in variants}
    ratio = {v: round(best['fp32']['encode'] / best[v]['encode'], 2) for v in variants}
    ratio_total = {v: round((best['fp32']['setup'] + best['fp32']['encode']) / (best[v]['setup'] + best[v]['encode']), 2) for v in variants}
    # time a cold mining of SciFact train (corpus + train queries) would take at each variant's rate: setup + encode scaled
    n_full = len(data.corpus) + len(data.qrels['train'])
    projected = {v: round(best[v]['setup'] + best[v]['encode'] * n_full / len(texts), 1) for v in variants}
    res = dict(task='encode_levers', dataset='scifact (slice)', n_texts=len(texts), n_docs=a.docs, n_queries=a.queries,
               cpu_count=os.cpu_count(), torch_threads=torch.get_num_threads(), times=best, times_all_runs=raw,
               speedup_encode_vs_fp32=ratio, speedup_setup_and_encode_vs_fp32=ratio_total,
               n_texts_scifact_mining=n_full, projected_scifact_mining_encode_seconds=projected, max_abs_diff_vs_fp32=diff,
               cosine_vs_fp32=cosine)
    save(res, a.out, vars(a), a.seed, data.files)
    for v in variants:
        print(f"  {v:<16} encode {best[v]['encode']:7.2f} s ({ratio[v]:.2f}x fp32), with setup {ratio_total[v]:.2f}x; max |diff| {diff[v]:.1e}; "
              f"cosine min {cosine[v]['min']:.4f}; SciFact mining projection {projected[v]:.0f} s")
    print(f'-> {a.out}')

if __name__ == '__main__': main()

"""Encoding speed: embedtune's token-budget batches vs sentence-transformers' fixed batches, in one run.

Same model (packaged all-MiniLM-L6-v2), same texts (a SciFact slice: the first `--docs` corpus documents as
`title + " " + text` and the first `--queries` train queries, shuffled together), nothing cached. Variants:
  * `SentenceTransformer.encode` with batch_size 64, 32 (its default), 16 and 8 (sorted by characters, as it does);
  * `embedtune.encode.encode(cache=False)` with max_batch_tokens 1024, 2048 (the CPU default), 4096 and None
    (batch_size 64, sorted by tokens).
The variants alternate, each runs `--repeats` times and its fastest run counts. Checks that every variant's vectors
agree with the reference to 1e-5. Prints each variant's time relative to sentence-transformers' default; writes
results/encode_cpu.json (raw times, ratios, max difference, manifest).
Usage: python benchmarks/encode_cpu.py [--docs 800] [--queries 200] [--repeats 2]
"""
import argparse, random, time
import numpy as np

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--docs', type=int, default=800); p.add_argument('--queries', type=int, default=200)
    p.add_argument('--repeats', type=int, default=2); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', default='results/encode_cpu.json')
    a = p.parse_args()
    import torch
    from _common import save
    from embedtune.data import load_beir
    from embedtune.encode import encode, token_lengths
    from embedtune.models import load_model
    data = load_beir('scifact', splits=['train']); model = load_model()
    texts = [data.doc_text(d) for d in list(data.corpus)[:a.docs]] + [data.queries[q] for q in list(data.qrels['train'])[:a.queries]]
    random.Random(a.seed).shuffle(texts)
    lens = token_lengths(model, texts)
    variants = {f'st_bs{b}': (lambda b=b: model.encode(texts, batch_size=b, normalize_embeddings=True, convert_to_numpy=True))
                for b in (64, 32, 16, 8)}
    variants.update({f'embedtune_tok{t}': (lambda t=t: encode(model, texts, batch_size=64, cache=False, show_progress_bar=False,
                                                              max_batch_tokens=t)) for t in (1024, 2048, 4096, None)})
    raw, diff, ref = {}, {}, None
    for rep in range(a.repeats):
        for name, f in variants.items():
            t = time.perf_counter(); e = np.asarray(f()); sec = time.perf_counter() - t
            raw.setdefault(name, []).append(round(sec, 3))
            if ref is None: ref = e
            diff[name] = max(diff.get(name, 0.), float(np.abs(e - ref).max()))
            print(f"{name:<20} #{rep+1}: {sec:7.2f} s", flush=True)
    best = {k: min(v) for k, v in raw.items()}
    assert max(diff.values()) < 1e-5, f'vectors differ between variants: {diff}'
    speed = {k: round(best['st_bs32'] / v, 2) for k, v in best.items()}
    res = dict(task='encode_cpu', dataset='scifact (slice)', n_texts=len(texts), n_docs=a.docs, n_queries=a.queries,
               tokens=int(lens.sum()), share_at_max_len=round(float((lens >= model.max_seq_length).mean()), 3),
               torch_threads=torch.get_num_threads(), times=best, times_all_runs=raw, speedup_vs_st_default=speed,
               speedup_default_vs_st_default=speed['embedtune_tok2048'],
               speedup_default_vs_best_st=round(min(v for k, v in best.items() if k.startswith('st_')) / best['embedtune_tok2048'], 2),
               max_abs_diff=diff)
    save(res, a.out, vars(a), a.seed, data.files)
    for k in best: print(f"  {k:<20} {best[k]:7.2f} s  {speed[k]:.2f}x of st_bs32")
    print(f"embedtune default (2048 tokens) is {res['speedup_default_vs_st_default']}x sentence-transformers' default (batch 32) "
          f"and {res['speedup_default_vs_best_st']}x its best fixed batch size -> {a.out}")

if __name__ == '__main__': main()

"""Issue #16: embedtune's cached adapter vs LlamaIndex's `EmbeddingAdapterFinetuneEngine`, same data, same machine, one run.

Both adapt the same frozen base model (the packaged all-MiniLM-L6-v2; for LlamaIndex wrapped as its
`HuggingFaceEmbedding`), train on the same SciFact pairs (the train qrels minus the 20% dev split of the seed), and are
scored on SciFact test by embedtune's metrics (`evaluate_embeddings`: exact search over the whole corpus, the code
behind `embedtune eval`). Documents keep their base vectors on both sides (LlamaIndex's adapters transform queries
only); the LlamaIndex query vectors come from its own `AdapterEmbeddingModel.get_query_embedding`.

Runs, in this order, in one process:
  ours (cold)   `adapt(configs/adapter_scifact.yaml)` with an empty embedding cache: `cache_seconds` is encoding SciFact
  ours (warm)   the same run again: the cache is read, not encoded (the case of a hosted index whose vectors exist)
  LlamaIndex    `EmbeddingAdapterFinetuneEngine` with its defaults (batch 10, AdamW lr 2e-5, linear warm-up, in-batch
                MultipleNegativesRankingLoss, the first relevant document of each query) for
                  linear, engine default epochs=1
                  linear, epochs=4                         (its example notebook)
                  TwoLayerNN(384, 1024, 384, bias=True, add_residual=True), epochs=25 (its example notebook)
                each timed around `finetune()`, which embeds every training query and document through the model on
                every batch of every epoch.
The ratios are LlamaIndex's training time over ours (adapter training only, and with our cold cache added).

torch runs on one thread in this process (`torch.set_num_threads(1)`): on this busy 2-core machine a second thread makes
LlamaIndex's one-text-at-a-time encoding ~20x slower (measured 16 ms vs 350 ms per query); embedtune's adapter
training uses one thread anyway. Both sides get the same setting.

LlamaIndex is an optional extra (`pip install -e ".[bench]"`), kept out of the main environment: this run used
  python -m venv --system-site-packages /tmp/embedtune-bench
  /tmp/embedtune-bench/bin/pip install "llama-index-finetuning>=0.4.2,<0.5" "llama-index-embeddings-huggingface>=0.8,<0.9" "mistralai>=1.7,<2"
  /tmp/embedtune-bench/bin/python benchmarks/adapter_vs_llamaindex.py
(`mistralai<2`: llama-index-finetuning 0.4.2 imports `from mistralai import Mistral` at import time, which mistralai 3
no longer has; it pulls no other change to torch, transformers, sentence-transformers or datasets.) Everything runs
offline (HF_HUB_OFFLINE=1): LlamaIndex loads the model from its local folder.

Usage: python benchmarks/adapter_vs_llamaindex.py [--seed 42] [--skip-2layer] [--out results/adapter_vs_llamaindex.json]
"""
import argparse, json, os, sys, tempfile, time
from pathlib import Path

CONFIG = 'configs/adapter_scifact.yaml'

def llama():
    "LlamaIndex's pieces, or a one-line error naming the extra to install."
    from embedtune.core import require
    what = 'benchmarks/adapter_vs_llamaindex.py (the bench extra: pip install -e ".[bench]")'
    ft = require('llama_index.finetuning', what, 'llama-index-finetuning')
    hf = require('llama_index.embeddings.huggingface', what, 'llama-index-embeddings-huggingface')
    ad = require('llama_index.embeddings.adapter.utils', what, 'llama-index-embeddings-adapter')
    return ft, hf, ad

def ours(seed:int, cold:bool)->dict:
    from embedtune.adapter import AdapterConfig, adapt
    from embedtune.core import read_config
    cfg = AdapterConfig.from_dict({**read_config(CONFIG), 'seed': seed, 'stsb': None, 'save_model': False, 'task': f"adapter_vs_llamaindex_{'cold' if cold else 'warm'}",
                                   'output_dir': f'runs/adapter_vs_llamaindex/ours_s{seed}', 'result': f"runs/adapter_vs_llamaindex/ours_{'cold' if cold else 'warm'}_s{seed}.json"})
    r = adapt(cfg, log=None)
    return dict(test=r['trained'], base=r['baseline'], dev=r['dev']['result']['ndcg@10'], verdict=r['verdict'], seconds=r['seconds'],
                cache_seconds=r['cache_seconds'], total_seconds=r['total_seconds'], significance=r['significance'], per_query=r['per_query_ndcg10'])

def run_llama(name:str, data, pairs:list, cache, test:dict, seed:int, out:Path, epochs:int, two_layer:bool)->dict:
    import numpy as np, torch
    from embedtune.adapter import evaluate_embeddings
    from embedtune.models import resolve_model
    ft, hf, ad = llama()
    torch.manual_seed(seed)
    first = {}
    for q, d in pairs: first.setdefault(q, d)                       # the engine trains on relevant_docs[q][0]
    ds = ft.EmbeddingQAFinetuneDataset(queries={q: data.queries[q] for q in first}, corpus={d: data.doc_text(d) for d in set(first.values())},
                                       relevant_docs={q: [d for qq, d in pairs if qq == q] for q in first})
    base = hf.HuggingFaceEmbedding(model_name=resolve_model(None), device='cpu')
    kw = dict(adapter_model=ad.TwoLayerNN(384, 1024, 384, bias=True, add_residual=True)) if two_layer else {}
    engine = ft.EmbeddingAdapterFinetuneEngine(ds, base, model_output_path=str(out/name), epochs=epochs, device='cpu', **kw)
    t = time.time(); engine.finetune(); seconds = time.time() - t
    tuned = engine.get_finetuned_model(adapter_cls=ad.TwoLayerNN) if two_layer else engine.get_finetuned_model()
    qids = list(test)
    t = time.time(); Q = np.array([tuned.get_query_embedding(data.queries[q]) for q in qids], np.float32); embed_seconds = time.time() - t
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)                  # LlamaIndex ranks by cosine similarity
    m = evaluate_embeddings(Q, cache.D, qids, cache.doc_ids, test, per_query=True)
    return dict(name=name, epochs=epochs, adapter='TwoLayerNN(384, 1024, 384, bias=True, add_residual=True)' if two_layer else 'LinearLayer(384, 384, bias=False)',
                train_pairs=len(first), seconds=round(seconds, 1), test_query_embed_seconds=round(embed_seconds, 1),
                test={k: v for k, v in m.items() if k != 'per_query'}, per_query={q: v['ndcg@10'] for q, v in m['per_query'].items()})

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seed', type=int, default=42)
    p.add_argument('--skip-2layer', action='store_true', help="skip the 25-epoch 2-layer run (~20 min)")
    p.add_argument('--out', default='results/adapter_vs_llamaindex.json')
    a = p.parse_args()
    import numpy as np, torch
    torch.set_num_threads(1)
    llama()                                                         # fail in one line before anything runs
    from _common import save
    from embedtune.adapter import AdapterConfig, _prepare_adapt, cache_embeddings
    from embedtune.evaluate import paired_bootstrap
    from embedtune.models import load_model, resolve_model
    # ours, cold then warm; EMBEDTUNE_CACHE points at an empty folder for the whole run
    os.environ['EMBEDTUNE_CACHE'] = tempfile.mkdtemp(prefix='embedtune-bench-cache-')
    cold = ours(a.seed, cold=True); warm = ours(a.seed, cold=False)
    print(f"ours: test nDCG@10 {cold['base']['ndcg@10']:.4f} -> {cold['test']['ndcg@10']:.4f}, train {cold['seconds']:.1f} s / {warm['seconds']:.1f} s, "
          f"cache {cold['cache_seconds']:.1f} s cold / {warm['cache_seconds']:.1f} s warm", flush=True)
    cfg = AdapterConfig.from_yaml(CONFIG, seed=a.seed, stsb=None)
    data, ev, _, pairs = _prepare_adapt(cfg)
    cache = cache_embeddings(load_model(), data)                    # warm now: the base vectors of the documents
    test = ev.qrels['test']
    # the LlamaIndex wrapper embeds exactly like the cache: check on a sample of documents
    _, hf, _ = llama()
    wrap = hf.HuggingFaceEmbedding(model_name=resolve_model(None), device='cpu')
    sample = cache.doc_ids[:20]
    same = float(np.abs(np.array([wrap.get_text_embedding(data.doc_text(d)) for d in sample]) - cache.D[:20]).max())
    out = Path(tempfile.mkdtemp(prefix='llama-adapters-'))
    runs = [('linear_default', 1, False), ('linear_example', 4, False)] + ([] if a.skip_2layer else [('two_layer_example', 25, True)])
    li = {}
    for name, epochs, two in runs:
        print(f'=== LlamaIndex {name}: {epochs} epoch(s)', flush=True)
        li[name] = run_llama(name, data, pairs, cache, test, a.seed, out, epochs, two)
        li[name]['vs_base'] = paired_bootstrap({q: v[0] for q, v in cold['per_query'].items()}, li[name].pop('per_query'), seed=a.seed)
        li[name]['ratio_train'] = li[name]['seconds'] / cold['seconds']
        li[name]['ratio_train_with_our_cold_cache'] = li[name]['seconds'] / (cold['seconds'] + cold['cache_seconds'])
        print(f"    test nDCG@10 {li[name]['test']['ndcg@10']:.4f} in {li[name]['seconds']:.0f} s ({li[name]['ratio_train']:.0f}x ours)", flush=True)
    res = dict(task='adapter_vs_llamaindex', dataset='scifact', seed=a.seed, split='test', base_model='all-MiniLM-L6-v2 (packaged)',
               train_pairs=len(pairs), baseline=cold['base'],
               ours=dict(config=CONFIG, test={k: v for k, v in cold['test'].items()}, dev_ndcg10=cold['dev'], verdict=cold['verdict'],
                         significance=cold['significance'], seconds=cold['seconds'], seconds_warm=warm['seconds'],
                         cache_seconds_cold=cold['cache_seconds'], cache_seconds_warm=warm['cache_seconds'],
                         total_seconds_cold=cold['total_seconds'], total_seconds_warm=warm['total_seconds']),
               llamaindex=li, wrapper_max_abs_diff_to_cache=same, torch_threads=1,
               packages={n: _version(n) for n in ('llama-index-core', 'llama-index-finetuning', 'llama-index-embeddings-adapter',
                                                   'llama-index-embeddings-huggingface', 'mistralai')})
    save(res, a.out, dict(config=CONFIG, seed=a.seed, runs=runs, torch_threads=1), a.seed, data.files)
    print(json.dumps({n: dict(ndcg10=v['test']['ndcg@10'], seconds=v['seconds'], ratio=round(v['ratio_train'], 1)) for n, v in li.items()}, indent=1))

def _version(name):
    from importlib import metadata
    try: return metadata.version(name)
    except metadata.PackageNotFoundError: return None

if __name__ == '__main__':
    os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1'); os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()

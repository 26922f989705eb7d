"""Issue 18, the QA-pairs flow: `embedtune.qa.train_retriever` (= `embedtune train-retriever`) on two real sets of
question–answer pairs, at its defaults (the packaged all-MiniLM-L6-v2, BM25-mined negatives, MNRL at scale 20,
1 epoch, batch 32, lr 2e-5; 20% of the questions held out for test, 20% of the rest for the keep-base decision; seed 42).

- **wikiqa**: `wikiqa/train.jsonl` as it is (question, answer sentence, a wrong candidate sentence): the 873
  questions with an answer; the documents are the answer sentences plus the wrong candidates (the file's negatives).
- **scifact**: QA pairs built from SciFact's *train* queries and their relevant abstracts (title + text; one line per
  relevant pair), written to runs/qa_scifact/scifact_train_qa.jsonl; the document pool is SciFact's **whole corpus**
  (5,183 abstracts, `--documents scifact`), so the ~900 answer abstracts are found among ~4,300 distractors, as in
  the real task. SciFact's own test queries are not used: the test questions are the held-out 20% of the train
  queries of that file.

Each run writes its output folder under runs/ (model, index, result.json, report.html) and a summary here:
results/qa_<name>.json with test metrics before (base) and after (the handed-back model) and of the trained model,
the paired-bootstrap 95% CI of the test nDCG@10 change (trained − base), the dev decision, the split, mining
statistics, the index check, timings and the manifest (config, seed, versions, data sha256).

Usage:
  python benchmarks/qa_retriever.py                 # both
  python benchmarks/qa_retriever.py --only wikiqa
"""
import argparse, json, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
SEED = 42
KEEP = ('verdict', 'message', 'split', 'summary', 'significance', 'change', 'decision', 'dev', 'leakage', 'mining', 'stages', 'index',
        'config', 'seconds', 'train_seconds', 'per_query_ndcg10')

def scifact_qa(path:Path)->list:
    "Write SciFact's train queries and their relevant abstracts as QA pairs (one line per relevant pair); the files read."
    from embedtune.core import data_path
    from embedtune.data import load_beir
    data = load_beir('scifact', splits=['train'])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        for q, docs in data.qrels['train'].items():
            for d, r in docs.items():
                if r >= 1: f.write(json.dumps({'question': data.queries[q], 'answer': data.doc_text(d)}, ensure_ascii=False) + '\n')
    return [str(p) for p in data.files]

def run(name:str):
    from _common import save
    from embedtune.core import data_path
    from embedtune.qa import train_retriever
    out = Path(f'runs/qa_{name}')
    if name == 'wikiqa':
        qa, docs, files = data_path('wikiqa/train.jsonl'), None, []
    else:
        qa = Path('runs/qa_scifact_data/scifact_train_qa.jsonl'); files = scifact_qa(qa); docs = 'scifact'
    print(f'=== {name}: train_retriever({qa}) -> {out}', flush=True)
    t = time.time()
    res = train_retriever(qa, out, seed=SEED, documents=docs)
    summary = dict(task=f'qa_{name}', dataset=name, qa_file=str(qa), output_dir=str(out), wall_seconds=round(time.time() - t, 1),
                   **{k: res[k] for k in KEEP},
                   note=('before = the base model, after = the model train_retriever hands back (the base model when the dev decision '
                         'kept it), trained = the fine-tuned model; significance = paired bootstrap over the test questions of the '
                         'trained model minus the base (test nDCG@10); change = the same for the handed-back model'))
    s = res['summary']
    print(f"{name}: {res['verdict']}; test nDCG@10 {s['ndcg@10']['before']:.4f} -> {s['ndcg@10']['after']:.4f} (trained {s['ndcg@10']['trained']:.4f}, "
          f"{res['significance']['diff']:+.4f} [{res['significance']['low']:+.4f}, {res['significance']['high']:+.4f}]), "
          f"{summary['wall_seconds']:.0f} s", flush=True)
    save(summary, f'results/qa_{name}.json', config=dict(script='benchmarks/qa_retriever.py', name=name, **res['config']), seed=SEED,
         data_files=[qa, *files])

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--only', choices=['wikiqa', 'scifact'], default=None)
    a = ap.parse_args()
    for n in ([a.only] if a.only else ['wikiqa', 'scifact']): run(n)

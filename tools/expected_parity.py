"""Write tests/expected/scifact_slice_st.json: metrics of the packaged all-MiniLM-L6-v2 on a fixed SciFact test slice,
computed by an implementation independent of embedtune's: sentence-transformers' `InformationRetrievalEvaluator`
(its own encoding, search and metrics). `tests/test_parity.py` checks embedtune's evaluation against these committed
values on every `make test`. SciFact's qrels are binary, so sentence-transformers' binary nDCG is comparable.

Run from the project root: python tools/expected_parity.py
"""
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'tests'))
from parity_slice import SLICE, build_slice   # the slice's definition, shared with the test

def main():
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator
    from embedtune.core import make_manifest, write_json
    from embedtune.models import load_model
    data = build_slice()
    rel = {q: {d for d, r in ds.items() if r >= 1} for q, ds in data.qrels['test'].items()}
    ev = InformationRetrievalEvaluator(queries={q: data.queries[q] for q in rel}, corpus={d: data.doc_text(d) for d in data.corpus},
                                       relevant_docs=rel, name='slice', show_progress_bar=False, ndcg_at_k=[10], mrr_at_k=[10],
                                       accuracy_at_k=[10], precision_recall_at_k=[100], map_at_k=[100], main_score_function='cosine')
    m = ev(load_model())
    out = {k: m[f'slice_cosine_{k}'] for k in ('ndcg@10', 'mrr@10', 'recall@100', 'accuracy@10', 'map@100')}
    path = Path(__file__).resolve().parents[1]/'tests'/'expected'/'scifact_slice_st.json'
    write_json(dict(implementation='sentence_transformers.InformationRetrievalEvaluator (cosine)', slice=SLICE, metrics=out,
                    manifest=make_manifest(dict(slice=SLICE), SLICE['seed'], data.files)), path)
    print(out, '->', path)

if __name__ == '__main__': main()

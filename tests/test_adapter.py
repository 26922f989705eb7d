"""The cached adapter (issue #16): `embedtune adapt` end to end on the tiny fixture (in-process and once through a
subprocess), the saved folder reloaded with plain `SentenceTransformer(path)` (each kind and side, to 1e-5), the cache
file round trip, and bad input — a cache of another dimension, a cache written by another model, an empty training
set — each one line naming the file and what was expected, nothing written."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from embedtune.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT/'nbs'/'fixtures'/'tiny_beir'
TINY_STS = ROOT/'nbs'/'fixtures'/'tiny_sts.tsv'

def config(path:Path, **keys)->Path:
    "A YAML adapter config for the tiny fixture (no dev split: 5 train queries), written to `path`."
    d = {**dict(dataset=str(TINY), stsb=None, test_size=None, output_dir=str(path.parent/'run'), epochs=2, batch_size=4, num_negatives=2,
                range_max=6, hidden=16), **keys}
    path.write_text(''.join(f'{k}: {json.dumps(v)}\n' for k, v in d.items())); return path

@pytest.fixture(scope='module')
def base():
    from embedtune.models import load_model
    return load_model()

def test_cli_adapt_end_to_end(tmp_path, capsys):
    from sentence_transformers import SentenceTransformer
    cfg = config(tmp_path/'a.yaml', stsb=str(TINY_STS), kind='mlp')
    assert main(['adapt', str(cfg)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path/'run'/'result.json'}" in out and 'ndcg@10' in out
    r = json.loads((tmp_path/'run'/'result.json').read_text())
    for k in ('baseline', 'trained', 'result', 'verdict', 'significance', 'stsb', 'seconds', 'cache_seconds', 'geometry', 'parity', 'manifest'): assert k in r
    assert r['verdict'] == 'unchecked' and r['method'] == 'adapter' and r['adapter']['kind'] == 'mlp' and r['adapter']['side'] == 'query'
    assert r['manifest']['seed'] == 42 and r['manifest']['packages']['sentence-transformers'] and len(r['manifest']['data_sha256']) == 5
    assert max(r['parity']['query'], r['parity']['document']) < 1e-5
    m = SentenceTransformer(str(tmp_path/'run'/'final'), local_files_only=True)     # an ordinary folder: no trust_remote_code
    assert m.get_embedding_dimension() == 384 and type(m[0]).__name__ == 'Router'

def test_cli_adapt_subprocess(tmp_path):
    cfg = config(tmp_path/'a.yaml', save_model=False)
    r = subprocess.run([sys.executable, '-c', 'import sys; from embedtune.cli import main; sys.exit(main())', 'adapt', str(cfg), '--output', str(tmp_path/'r.json')],
                       capture_output=True, text=True, env={**os.environ, 'HF_HUB_OFFLINE': '1'}, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((tmp_path/'r.json').read_text())['trained']['n_queries'] == 5 and not (tmp_path/'run'/'final').exists()

def test_check_writes_nothing(tmp_path, capsys):
    cfg = config(tmp_path/'a.yaml', cache_file=str(tmp_path/'c.npz'))
    assert main(['adapt', str(cfg), '--check']) == 0
    plan = json.loads(capsys.readouterr().out.rsplit('}', 1)[0] + '}')
    assert plan['train_pairs'] == 6 and plan['docs'] == 12 and 'write' in plan['cache']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a.yaml']

@pytest.mark.parametrize('kind,side', [('linear', 'query'), ('linear', 'shared'), ('mlp', 'query'), ('mlp', 'shared')])
def test_reload_parity(base, tmp_path, kind, side):
    "The saved folder, loaded with plain SentenceTransformer, embeds like the adapter in memory (to 1e-5) on both sides."
    from sentence_transformers import SentenceTransformer
    from embedtune.adapter import AdapterConfig, adapter_model, cache_embeddings, fit_adapter
    from embedtune.data import load_beir
    from embedtune.models import save_model
    data = load_beir(TINY); cache = cache_embeddings(base, data)
    pairs = [(q, d) for q, r in data.qrels['train'].items() for d in r]
    ad, _ = fit_adapter(cache, pairs, AdapterConfig(kind=kind, side=side, hidden=16, epochs=3, lr=0.05, num_negatives=2, range_max=6), log=None)
    Q = ad.transform(cache.Q); D = ad.transform(cache.D) if side == 'shared' else cache.D
    assert not np.allclose(Q, cache.Q, atol=1e-3)                                 # it learned something
    save_model(adapter_model(base, ad, side), tmp_path/'m')
    m = SentenceTransformer(str(tmp_path/'m'), local_files_only=True)
    q = m.encode_query([data.queries[i] for i in cache.query_ids], convert_to_numpy=True)
    d = m.encode_document([data.doc_text(i) for i in cache.doc_ids], convert_to_numpy=True)
    assert np.abs(q - Q).max() < 1e-5 and np.abs(d - D).max() < 1e-5
    assert np.abs(m.encode([data.queries[i] for i in cache.query_ids]) - Q).max() < 1e-5          # plain encode: the query side
    assert not list((tmp_path/'m').rglob('*.bin')) and list((tmp_path/'m').rglob('*.safetensors'))

def test_cache_file_round_trip(tmp_path):
    from embedtune.adapter import adapt
    cfg = dict(dataset=str(TINY), stsb=str(TINY_STS), test_size=None, epochs=1, num_negatives=2, range_max=6, save_model=False, cache_file=str(tmp_path/'c.npz'))
    r1 = adapt(dict(cfg, output_dir=str(tmp_path/'r1')), log=None)
    r2 = adapt(dict(cfg, output_dir=str(tmp_path/'r2')), log=None)
    assert (tmp_path/'c.npz').exists() and r1['trained'] == r2['trained'] and r1['stsb'] == r2['stsb']
    assert str(tmp_path/'c.npz') in r2['manifest']['data_sha256']

def bad(capsys, args, *contains):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith('embedtune: error:') and err.count('\n') == 1, err
    for c in contains: assert c in err, err

def test_cache_of_another_dimension(tmp_path, capsys):
    from embedtune.adapter import cache_embeddings
    from embedtune.data import load_beir
    from embedtune.models import HashEncoder
    cache_embeddings(HashEncoder(16), load_beir(TINY)).save(tmp_path/'c16.npz')
    before = (tmp_path/'c16.npz').read_bytes()
    bad(capsys, ['adapt', str(config(tmp_path/'a.yaml', cache_file=str(tmp_path/'c16.npz')))],
        'c16.npz: holds 16-dimensional embeddings but the model', 'makes 384-dimensional ones; expected a cache written by this model')
    assert not (tmp_path/'run').exists() and (tmp_path/'c16.npz').read_bytes() == before

def test_cache_written_by_another_model(tmp_path, capsys):
    from embedtune.adapter import cache_embeddings
    from embedtune.data import load_beir
    from embedtune.models import HashEncoder
    cache_embeddings(HashEncoder(384), load_beir(TINY)).save(tmp_path/'other.npz')
    bad(capsys, ['adapt', str(config(tmp_path/'a.yaml', cache_file=str(tmp_path/'other.npz')))],
        "other.npz: written by the model 'HashEncoder(384)'", "not by 'all-MiniLM-L6-v2'")
    assert not (tmp_path/'run').exists()
    bad(capsys, ['adapt', str(config(tmp_path/'a.yaml', cache_file=str(tmp_path/'other.npz'))), '--check'], 'other.npz: written by the model')

def test_not_a_cache_file(tmp_path, capsys):
    (tmp_path/'junk.npz').write_bytes(b'not a numpy archive')
    bad(capsys, ['adapt', str(config(tmp_path/'a.yaml', cache_file=str(tmp_path/'junk.npz')))], 'junk.npz: not an embedtune embedding cache')

@pytest.mark.parametrize('rows,msg', [('', 'qrels/train.tsv: no judged queries; expected at least one'),
                                      ('q1\td1\t0\nq2\td2\t0\n', 'qrels/train.tsv: no training pair with relevance >= 1; expected at least one')])
def test_empty_training_set(tmp_path, capsys, rows, msg):
    data = tmp_path/'data'; shutil.copytree(TINY, data)
    (data/'qrels'/'train.tsv').write_text('query-id\tcorpus-id\tscore\n' + rows)
    bad(capsys, ['adapt', str(config(tmp_path/'a.yaml', dataset=str(data)))], msg)
    assert not (tmp_path/'run').exists()

def test_bad_config_values(tmp_path, capsys):
    bad(capsys, ['adapt', str(config(tmp_path/'a.yaml', side='documents'))], "key 'side' must be one of ['query', 'shared'], got 'documents'")
    bad(capsys, ['adapt', str(config(tmp_path/'a.yaml')), '--set', 'hiden=8'], "unknown key 'hiden'; did you mean 'hidden'?")
    bad(capsys, ['adapt', str(config(tmp_path/'a.yaml', test_size=2))], "the dev split has 2 queries, fewer than the 20 (min_dev_queries)")
    assert not (tmp_path/'run').exists()

def test_core_never_imports_llamaindex():
    r = subprocess.run([sys.executable, '-c', 'import sys, embedtune.adapter, embedtune.cli; print(any(m.startswith("llama_index") for m in sys.modules))'],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == 'False'

def test_eval_of_a_query_only_folder(base, tmp_path):
    "`evaluate_beir` on a saved query-only adapter: queries through the adapter, documents through the base model (`encode(role=...)`)."
    from embedtune.adapter import AdapterConfig, adapter_model, cache_embeddings, fit_adapter
    from embedtune.data import load_beir
    from embedtune.evaluate import evaluate_beir
    from embedtune.models import load_model, save_model
    data = load_beir(TINY); cache = cache_embeddings(base, data)
    pairs = [(q, d) for q, r in data.qrels['train'].items() for d in r]
    ad, _ = fit_adapter(cache, pairs, AdapterConfig(kind='linear', side='query', epochs=3, lr=0.05, num_negatives=2, range_max=6), log=None)
    save_model(adapter_model(base, ad, 'query'), tmp_path/'m')
    m = load_model(str(tmp_path/'m'))
    Q = np.asarray(ad.transform(cache.Q)); D = np.asarray(cache.D)
    from embedtune.encode import encode
    assert np.abs(encode(m, [data.doc_text(i) for i in cache.doc_ids], role='document') - D).max() < 1e-5
    assert np.abs(encode(m, [data.queries[i] for i in cache.query_ids], role='query') - Q).max() < 1e-5
    assert evaluate_beir(m, data, 'test')['n_queries'] == len(data.qrels['test'])
    # the evaluation suite encodes each side by its role too: the same run as `evaluate_beir`, documents left alone
    from embedtune.report import evaluate_suite, system_run
    run, _ = system_run(m, data, 'test', cache=False)
    ref = evaluate_beir(m, data, 'test', per_query=True)
    suite = evaluate_suite([TINY], [m], ['adapter'], n_boot=50)
    assert abs(suite['results'][Path(TINY).name]['adapter']['ndcg@10'] - ref['ndcg@10']) < 1e-9, (suite['results'], ref['ndcg@10'])

"""Beyond one machine (issue #18): corpus encoding over sentence-transformers' multi-process pool gives the
one-process vectors (two CPU worker processes, the default model, to 1e-6), in input order, under the same cache
key; the devices reach `encode` from `Retriever(devices=...)`, `embedtune index --devices` and `MineConfig.devices`;
bad device lists fail before anything is encoded."""
import json
from pathlib import Path
import numpy as np
import pytest
from embedtune.core import ConfigError
from embedtune.encode import cache_path, encode
from embedtune.models import HashEncoder

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT/'nbs'/'fixtures'/'tiny_beir'
WORDS = 'cells protein tumour growth signal receptor binding response immune therapy gene expression'.split()
# 50 short texts of 1 to ~120 words, so the token budget cuts them into several runs of different batch sizes
TEXTS = [' '.join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(1 + (i * 37) % 120)) for i in range(50)]

@pytest.fixture(scope='module')
def model():
    from embedtune.models import load_model
    return load_model()

def test_two_processes_same_vectors_and_cache(model):
    one = encode(model, TEXTS, cache=False)
    two = encode(model, TEXTS, devices=['cpu', 'cpu'])                 # written to the cache ...
    assert two.shape == one.shape and np.abs(two - one).max() < 1e-6    # ... same vectors, in input order
    assert cache_path(model, TEXTS).exists()                             # under the one-process key
    assert np.array_equal(encode(model, TEXTS), two)                     # a one-process run reads them back
    assert str(model.device) == 'cpu'                                    # the model is usable afterwards

def test_bad_devices():
    for devices, msg in (([], 'non-empty list of device names'), (['cpu', 7], 'non-empty list of device names'),
                         (['cpu', 'gpu0'], "'gpu0' is not a torch device name")):
        with pytest.raises(ConfigError, match=msg): encode(HashEncoder(8), ['a', 'b'], devices=devices)
    with pytest.raises(ConfigError, match='several devices need a SentenceTransformer'):
        encode(HashEncoder(8), ['a', 'b'], devices=['cpu', 'cpu'])
    np.testing.assert_array_equal(encode(HashEncoder(8), ['a b', 'c'], cache=False, devices=['cpu']),   # one device: today's path
                                  encode(HashEncoder(8), ['a b', 'c'], cache=False))

def test_retriever_and_cli_devices(model, tmp_path, capsys, monkeypatch):
    "The devices reach `encode` from `Retriever(devices=...)` and `embedtune index --devices` (recorded, then encoded in this process: the pool itself is tested above)."
    import embedtune.retriever as er
    from embedtune.cli import main
    seen, real = [], er.encode
    def spy(m, texts, **kw): seen.append(kw.get('devices')); return real(m, texts, **{**kw, 'devices': None})
    monkeypatch.setattr(er, 'encode', spy)
    r = er.Retriever(model, cache=False, devices=['cpu', 'cpu']).index_documents(er.read_corpus(TINY))
    assert r.retrieve('what do mice eat', 1)[0].id == 'd7' and seen == [['cpu', 'cpu'], None]   # documents pooled, the query not
    seen.clear()
    assert main(['index', str(TINY), '--output', str(tmp_path/'ix'), '--devices', 'cpu', 'cpu', '--no-cache']) == 0
    assert capsys.readouterr().out.startswith('indexed 12 documents (flat, 384-d') and seen == [['cpu', 'cpu']]
    assert 'devices' not in json.loads((tmp_path/'ix'/'retriever.json').read_text())['config']   # where it was encoded is not part of the index

def test_mine_config_devices(tmp_path):
    from embedtune.mining import MineConfig
    cfg = tmp_path/'m.yaml'; cfg.write_text('devices: [cpu, cpu]\n')
    assert MineConfig.from_yaml(cfg).mining_kwargs()['devices'] == ['cpu', 'cpu']
    cfg.write_text('devices: [cpu, gpu0]\n')
    with pytest.raises(ConfigError, match="m.yaml: key 'devices': devices: 'gpu0' is not a torch device name"): MineConfig.from_yaml(cfg)

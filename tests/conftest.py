import json, os, random, shutil
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT/'nbs'/'fixtures'
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')

@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    "Every test gets its own embedding cache."
    monkeypatch.setenv('EMBEDTUNE_CACHE', str(tmp_path_factory.mktemp('cache')))

@pytest.fixture
def tiny_beir(): return FIXTURES/'tiny_beir'

@pytest.fixture
def tiny_sts(tmp_path):
    d = tmp_path/'sts'; d.mkdir(); shutil.copy(FIXTURES/'tiny_sts.tsv', d/'test.tsv'); return d

@pytest.fixture(scope='session')
def scifact_slice(tmp_path_factory):
    "A real SciFact slice written as a BEIR folder: 10 test queries, their positives and distractors (60 docs)."
    from embedtune.data import load_beir, slice_beir
    s = slice_beir(load_beir('scifact', splits=['test']), n_queries=10, n_docs=60, seed=0)
    d = tmp_path_factory.mktemp('scifact_slice'); (d/'qrels').mkdir()
    with open(d/'corpus.jsonl', 'w') as f:
        for i, doc in s.corpus.items(): f.write(json.dumps({'_id': i, **doc})+'\n')
    with open(d/'queries.jsonl', 'w') as f:
        for i, t in s.queries.items(): f.write(json.dumps({'_id': i, 'text': t})+'\n')
    with open(d/'qrels'/'test.tsv', 'w') as f:
        f.write('query-id\tcorpus-id\tscore\n')
        for q, docs in s.qrels['test'].items():
            for doc, r in docs.items(): f.write(f'{q}\t{doc}\t{r}\n')
    return d

def write_beir(d:Path, corpus:str, queries:str, qrels:str, split='test')->Path:
    "Write a BEIR folder from raw file contents (for bad-input tests)."
    (d/'qrels').mkdir(parents=True, exist_ok=True)
    (d/'corpus.jsonl').write_bytes(corpus.encode() if isinstance(corpus, str) else corpus)
    (d/'queries.jsonl').write_text(queries); (d/'qrels'/f'{split}.tsv').write_text(qrels)
    return d

"""The retriever (issue #18): save/load round trips give identical hits, every index kind finds the exact top hit,
ids and metadata survive, a query-only adapter encodes queries through the adapter and documents without it (also
after a reload from its folder), bad input is one line naming the file with nothing half-written, and
`embedtune index` / `embedtune search` end to end on the tiny fixture (in-process and through a subprocess)."""
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from embedtune.cli import main
from embedtune.core import ConfigError
from embedtune.data import DataError
from embedtune.models import HashEncoder
from embedtune.retriever import INDEX_KINDS, RETRIEVER_FILES, Retriever, read_corpus

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT/'nbs'/'fixtures'/'tiny_beir'
QUERIES = [json.loads(l)['text'] for l in (TINY/'queries.jsonl').read_text().splitlines() if l.strip()]

def run_cli(*args):
    return subprocess.run([sys.executable, '-c', 'import sys; from embedtune.cli import main; sys.exit(main())', *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, 'HF_HUB_OFFLINE': '1'}, timeout=600)

def hashed(kind='flat', **kw)->Retriever:
    return Retriever(HashEncoder(64), index=kind, **kw).index_documents(read_corpus(TINY))

@pytest.fixture(scope='module')
def base():
    from embedtune.models import load_model
    return load_model()

@pytest.mark.parametrize('kind', INDEX_KINDS)
def test_round_trip_identical(tmp_path, kind):
    r = hashed(kind, keep_text=True)
    r.save(tmp_path/'ix')
    assert sorted(p.name for p in (tmp_path/'ix').iterdir()) == sorted(RETRIEVER_FILES)
    assert [p.name for p in tmp_path.iterdir()] == ['ix']                                     # no temp folder left
    r2 = Retriever.load(tmp_path/'ix', HashEncoder(64))
    assert r2.kind == kind and r2.get_config_dict() == r.get_config_dict() and r2.ids == r.ids
    assert r2.batch_retrieve(QUERIES, k=5) == r.batch_retrieve(QUERIES, k=5)               # ids, scores and metadata
    r.save(tmp_path/'ix')                                                                      # saving again replaces it
    assert Retriever.load(tmp_path/'ix', HashEncoder(64)).retrieve(QUERIES[0], 3) == r.retrieve(QUERIES[0], 3)

@pytest.mark.parametrize('kind', ['ivf', 'hnsw'])
def test_each_kind_finds_flat_top1(kind):
    flat = [h[0].id for h in hashed('flat').batch_retrieve(QUERIES, k=1)]
    assert [h[0].id for h in hashed(kind).batch_retrieve(QUERIES, k=1)] == flat

@pytest.mark.parametrize('kind', ['ivf', 'hnsw'])
def test_each_kind_finds_flat_top1_at_scale(kind):
    "2,000 random unit vectors: the approximate indexes at their default settings agree with exact search on the top hit."
    from embedtune.retriever import make_index, set_search_params
    rng = np.random.default_rng(0); X = rng.normal(size=(2000, 64)).astype(np.float32); X /= np.linalg.norm(X, axis=1, keepdims=True)
    Q = X[:100] + rng.normal(0, 0.05, (100, 64)).astype(np.float32); Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    exact = make_index(X, 'flat'); exact.add(X)
    ix = set_search_params(make_index(X, kind), nprobe=16, ef_search=128); ix.add(X)
    assert (ix.search(Q, 1)[1] == exact.search(Q, 1)[1]).mean() >= 0.99

def test_ids_and_metadata():
    r = Retriever(HashEncoder(64), keep_text=True).index_documents({'a': 'cats purr', 'b': {'title': 'Dogs', 'text': 'dogs bark', 'year': 2020}})
    h = r.retrieve('dogs', k=1)[0]
    assert (h.id, h.metadata) == ('b', {'title': 'Dogs', 'year': 2020, 'text': 'Dogs dogs bark'}) and 0 < h.score <= 1 + 1e-6
    r.index_documents(['mice eat cheese'])                                                     # more documents later: positions as ids
    assert r.ids == ['a', 'b', '0'] and r.retrieve('cheese', 1)[0].id == '0'
    assert Retriever(HashEncoder(64)).index_documents([{'id': 3, 'text': 'x', 'lang': 'en'}]).metadata == [{'lang': 'en'}]
    with pytest.raises(DataError, match="document id 'a' is already indexed"): r.index_documents({'a': 'again'})
    assert len(r) == 3

def test_query_only_adapter_routes(base, tmp_path):
    "A Router model (query-side adapter): documents are the base model's vectors, queries go through the adapter, also after save/load."
    import torch
    from embedtune.adapter import EmbeddingAdapter, adapter_model
    from embedtune.encode import encode
    from embedtune.models import load_model, save_model
    ad = EmbeddingAdapter(384, kind='linear')
    with torch.no_grad(): ad.linear.weight.copy_(torch.randn(384, 384, generator=torch.Generator().manual_seed(0)) * 0.05)
    save_model(adapter_model(base, ad, 'query'), tmp_path/'adapted')
    routed = load_model(tmp_path/'adapted')
    docs = read_corpus(TINY); texts = [f"{d['title']} {d['text']}" for d in docs.values()]
    r = Retriever(routed).index_documents(docs)
    D = encode(base, texts, cache=False); q = ad.transform(encode(base, ['what do mice eat'], cache=False))
    assert np.abs(r.index.reconstruct_n(0, len(texts)) - D).max() < 1e-5
    expected = np.sort(q @ D.T)[0, ::-1]
    assert np.abs(np.array([h.score for h in r.retrieve('what do mice eat', k=12)]) - expected).max() < 1e-4
    plain = Retriever(base).index_documents(docs).retrieve('what do mice eat', k=12)
    assert max(abs(a.score - b.score) for a, b in zip(plain, r.retrieve('what do mice eat', k=12))) > 1e-3   # the adapter matters
    r.save(tmp_path/'ix')
    assert json.loads((tmp_path/'ix'/'retriever.json').read_text())['model'] == str((tmp_path/'adapted').resolve())
    assert Retriever.load(tmp_path/'ix').retrieve('what do mice eat', 12) == r.retrieve('what do mice eat', 12)   # the model reloaded from the manifest

def one_line(e)->str:
    msg = str(e.value); assert '\n' not in msg, msg; return msg

def test_bad_input_load(tmp_path):
    r = hashed(); d = tmp_path/'ix'
    with pytest.raises(DataError) as e: Retriever.load(tmp_path/'missing', HashEncoder(64))
    assert 'missing: no such retriever folder' in one_line(e)
    for name, content, expect in [('ids.json', '{"ids": [', 'ids.json: corrupt'), ('ids.json', '{"ids": ["d1"], "metadata": [{}]}', 'ids.json: 1 ids for 12 vectors'),
                                  ('ids.json', '[1, 2]', 'ids.json: corrupt'), ('retriever.json', 'nope', 'retriever.json: corrupt'),
                                  ('index.faiss', b'\x00garbage', 'index.faiss: corrupt FAISS index'), ('index.faiss', None, 'index.faiss: missing'),
                                  ('retriever.json', None, 'retriever.json: missing')]:
        r.save(d)
        if content is None: (d/name).unlink()
        elif isinstance(content, bytes): (d/name).write_bytes(content)
        else: (d/name).write_text(content)
        with pytest.raises(DataError) as e: Retriever.load(d, HashEncoder(64))
        assert expect in one_line(e) and str(d/name) in str(e.value), (name, str(e.value))
    r.save(d)
    with pytest.raises(ConfigError) as e: Retriever.load(d, HashEncoder(32))
    assert 'embeds in 32 dimensions' in one_line(e)

def test_bad_input_arguments():
    r = hashed()
    for call, expect in [(lambda: Retriever(HashEncoder(64)).index_documents([]), 'no documents to index'),
                         (lambda: Retriever(HashEncoder(64)).index_documents({}), 'no documents to index'),
                         (lambda: r.retrieve('cats', k=0), 'k must be a positive integer, got 0'),
                         (lambda: r.batch_retrieve(['cats'], k=-1), 'k must be a positive integer, got -1'),
                         (lambda: Retriever(HashEncoder(64)).retrieve('cats'), 'holds no documents'),
                         (lambda: Retriever(HashEncoder(64), index='pq'), 'index must be one of'),
                         (lambda: Retriever(HashEncoder(64), ef_search=0), 'ef_search must be a positive integer')]:
        with pytest.raises((DataError, ConfigError)) as e: call()
        assert expect in one_line(e)

def test_save_leaves_nothing_half_written(tmp_path, monkeypatch):
    import faiss
    r = hashed(); r.save(tmp_path/'ix'); before = {p.name: p.read_bytes() for p in (tmp_path/'ix').iterdir()}
    def boom(*a): raise OSError('disk full')
    monkeypatch.setattr(faiss, 'write_index', boom)
    with pytest.raises(OSError): hashed('hnsw').save(tmp_path/'ix')                           # fails mid-save: the old folder stays as it was
    with pytest.raises(OSError): r.save(tmp_path/'new')                                        # ... and a new one is not created
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ix']
    assert {p.name: p.read_bytes() for p in (tmp_path/'ix').iterdir()} == before
    monkeypatch.undo()
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'notes.txt').write_text('keep me')
    with pytest.raises(ConfigError, match='exists and holds files that are not a saved retriever'): r.save(tmp_path/'mine')
    assert [p.name for p in (tmp_path/'mine').iterdir()] == ['notes.txt']
    with pytest.raises(DataError, match='nothing to save'): Retriever(HashEncoder(8)).save(tmp_path/'empty')
    assert not (tmp_path/'empty').exists()

def test_cli_index_search(tmp_path, capsys):
    out = tmp_path/'ix'
    assert main(['index', str(TINY), '--output', str(out), '--index', 'ivf', '--keep-text']) == 0
    assert capsys.readouterr().out.startswith(f'indexed 12 documents (ivf, 384-d, all-MiniLM-L6-v2) -> {out}')
    assert sorted(p.name for p in out.iterdir()) == sorted(RETRIEVER_FILES)
    assert main(['search', str(out), 'what do mice eat', '-k', '3']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].split()[:3] == ['1', lines[0].split()[1], 'd7'] and 'Mice' in lines[0]
    assert main(['search', str(out), 'what do mice eat', '-k', '2', '--json']) == 0
    res = json.loads(capsys.readouterr().out)
    assert res['query'] == 'what do mice eat' and [h['id'] for h in res['hits']][0] == 'd7' and res['hits'][0]['metadata']['text'].startswith('Mice')
    jl = tmp_path/'docs.jsonl'; jl.write_text('{"id": "a", "text": "Cheese is made from milk."}\n{"text": "Trains run on rails."}\n')
    assert main(['index', str(jl), '--output', str(tmp_path/'ix2'), '--index', 'hnsw']) == 0
    assert main(['search', str(tmp_path/'ix2'), 'railway', '-k', '1', '--json']) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])['hits'][0]['id'] == '1'

def test_cli_subprocess_and_help(tmp_path):
    r = run_cli('index', TINY, '--output', tmp_path/'ix', '--index', 'hnsw')
    assert r.returncode == 0, r.stderr[-2000:]
    r = run_cli('search', tmp_path/'ix', 'what sails on the sea', '-k', '1', '--json')
    assert r.returncode == 0 and json.loads(r.stdout)['hits'][0]['id'] == 'd6', r.stderr[-2000:]
    for cmd, flags in (('index', ['--output', '--index', '--nprobe', '--ef-search']), ('search', ['-k', '--json'])):
        h = run_cli(cmd, '--help')
        assert h.returncode == 0 and 'example' in h.stdout and f'embedtune {cmd} ' in h.stdout and all(f in h.stdout for f in flags)
    h = run_cli('--help'); assert 'index' in h.stdout and 'search' in h.stdout

@pytest.mark.parametrize('args,expect', [
    (['index', 'NOPE/corpus.jsonl'], 'corpus.jsonl: file not found'),
    (['index', '{tiny}', '--nprobe', '0'], '--nprobe must be a positive integer, got 0'),
    (['index', '{tiny}', '--output', '{mine}'], 'exists and holds files that are not a saved retriever'),
    (['search', '{tmp}/no_index', 'cats'], 'no_index: no such retriever folder'),
    (['search', '{ix}', 'cats', '-k', '0'], '-k must be a positive integer, got 0'),
    (['search', '{ix}', 'cats', '--model', '{tmp}/no_model'], 'no such model folder'),
])
def test_cli_errors(tmp_path, capsys, args, expect):
    mine = tmp_path/'mine'; mine.mkdir(); (mine/'notes.txt').write_text('x')
    ix = tmp_path/'ix'; hashed().save(ix)
    args = [a.format(tiny=TINY, mine=mine, tmp=tmp_path, ix=ix).replace('NOPE', str(tmp_path/'nope')) for a in args]
    if args[0] == 'index' and '--output' not in args: args += ['--output', str(tmp_path/'out')]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith('embedtune: error:') and err.count('\n') == 1 and expect in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before and [p.name for p in mine.iterdir()] == ['notes.txt']

# ---- beyond one machine (issue #18): compressed vectors, shards, on-disk lists, the size estimate

@pytest.mark.parametrize('kind,shards,on_disk', [('flat', 3, False), ('hnsw', 2, False), ('ivf', 2, True), ('ivfpq', 1, True), ('ivfpq', 3, True)])
def test_sharded_and_on_disk_round_trip(tmp_path, kind, shards, on_disk):
    import shutil
    from embedtune.retriever import shard_list
    r = hashed(kind, shards=shards, on_disk=on_disk)
    r.index_documents({'new': 'mice chase cheese'})                                            # a second add spreads over the shards too
    r.save(tmp_path/'ix')
    names = {'ids.json', 'retriever.json'} | {f'index{"" if shards == 1 else f".{n}"}.{e}' for n in range(shards)
                                              for e in (('faiss', 'ivfdata') if on_disk else ('faiss',))}
    assert {p.name for p in (tmp_path/'ix').iterdir()} == names
    shutil.move(tmp_path/'ix', tmp_path/'moved')                                               # on-disk lists are found beside the index
    r2 = Retriever.load(tmp_path/'moved', HashEncoder(64))
    assert r2.get_config_dict() == r.get_config_dict() and len(r2) == 13
    assert [s.ntotal for s in shard_list(r2.index)] == [s.ntotal for s in shard_list(r.index)] and sum(s.ntotal for s in shard_list(r2.index)) == 13
    assert r2.batch_retrieve(QUERIES, k=5) == r.batch_retrieve(QUERIES, k=5)
    assert r2.retrieve('mice chase cheese', k=1)[0].id == 'new'
    r2.save(tmp_path/'moved')                                                                  # saving a loaded (memory-mapped) index over its own folder
    assert Retriever.load(tmp_path/'moved', HashEncoder(64)).batch_retrieve(QUERIES, k=5) == r.batch_retrieve(QUERIES, k=5)

def test_ivfpq_finds_top1_at_scale():
    "2,000 random unit vectors (64-d, 8 sub-quantisers of 8 bits): IVF-PQ's top hit is the exact one for a query near a vector."
    from embedtune.retriever import make_index, set_search_params
    rng = np.random.default_rng(0); X = rng.normal(size=(2000, 64)).astype(np.float32); X /= np.linalg.norm(X, axis=1, keepdims=True)
    Q = X[:100] + rng.normal(0, 0.05, (100, 64)).astype(np.float32); Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    ix = set_search_params(make_index(X, 'ivfpq'), nprobe=16); ix.add(X)
    assert ix.pq.M == 8 and ix.pq.nbits == 8 and (ix.search(Q, 1)[1][:, 0] == np.arange(100)).mean() >= 0.95

def test_estimate_index_matches_measured():
    "The estimate against faiss.serialize_index on 5,000 x 128-d vectors, every kind, and a 3-shard index (measured error < 0.2%; bound 2%)."
    from embedtune.retriever import estimate_index, index_bytes, make_index
    import faiss
    rng = np.random.default_rng(0); X = rng.normal(size=(5000, 128)).astype(np.float32); X /= np.linalg.norm(X, axis=1, keepdims=True)
    est = estimate_index(5000, 128)['bytes']
    for kind in INDEX_KINDS:
        ix = make_index(X, kind); ix.add(X); got = index_bytes(ix)
        assert abs(est[kind] - got) / got < 0.02, (kind, est[kind], got)
    sh = faiss.IndexShards(128, False, False)
    for _ in range(3): sh.add_shard(faiss.IndexIDMap(faiss.IndexFlatIP(128)))
    sh.add_with_ids(X, np.arange(5000, dtype=np.int64))
    assert abs(index_bytes(sh) - est['flat']) / est['flat'] < 0.02                            # shards add only their id maps (8 bytes a vector)

def test_estimate_index_recommends():
    from embedtune.retriever import estimate_index
    assert estimate_index(50_000)['recommend'] == 'flat'
    assert estimate_index(10_000_000)['recommend'] == 'hnsw'                                  # no memory limit: the best recall for the time
    e = estimate_index(10_000_000, memory_gb=64); assert e['recommend'] == 'hnsw' and e['recommend_shards'] == 1
    e = estimate_index(10_000_000, memory_gb=16); assert e['recommend'] == 'ivfpq' and e['shards']['hnsw'] == 2
    e = estimate_index(10_000_000_000, memory_gb=64); assert e['recommend'] == 'ivfpq' and e['recommend_shards'] > 1
    assert e['vectors_per_gb']['ivfpq'] > 20 * e['vectors_per_gb']['flat']
    with pytest.raises(ConfigError, match='n_docs must be a positive integer'): estimate_index(0)

def test_cli_index_ivfpq_shards_on_disk(tmp_path, capsys):
    out = tmp_path/'ix'
    assert main(['index', str(TINY), '--output', str(out), '--index', 'ivfpq', '--shards', '2', '--on-disk']) == 0
    assert capsys.readouterr().out.startswith('indexed 12 documents (ivfpq, 2 shards, 384-d, all-MiniLM-L6-v2)')
    assert {p.name for p in out.iterdir()} == {'ids.json', 'retriever.json', 'index.0.faiss', 'index.1.faiss', 'index.0.ivfdata', 'index.1.ivfdata'}
    assert main(['search', str(out), 'what do mice eat', '-k', '1', '--json']) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])['hits'][0]['id'] == 'd7'

@pytest.mark.parametrize('args,expect', [
    (['--index', 'hnsw', '--on-disk'], "--on-disk needs --index ivf or ivfpq, got 'hnsw'"),
    (['--shards', '0'], '--shards must be a positive integer, got 0'),
    (['--index', 'ivfpq', '--pq-m', '0'], '--pq-m must be a positive integer, got 0'),
    (['--devices', 'cpu', 'gpu0'], "devices: 'gpu0' is not a torch device name"),
])
def test_cli_scale_errors(tmp_path, capsys, args, expect):
    assert main(['index', str(TINY), '--output', str(tmp_path/'out'), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith('embedtune: error:') and err.count('\n') == 1 and expect in err, err
    assert not (tmp_path/'out').exists()

@pytest.mark.parametrize('shards', [1, 2])
def test_adding_to_loaded_on_disk_index_leaves_folder(tmp_path, shards):
    hashed('ivfpq', shards=shards, on_disk=True).save(tmp_path/'ix')
    saved = {p.name: p.read_bytes() for p in (tmp_path/'ix').iterdir()}
    r = Retriever.load(tmp_path/'ix', HashEncoder(64)).index_documents({'more': 'mice chase cheese'})
    assert len(r) == 13 and r.retrieve('mice chase cheese', k=1)[0].id == 'more'
    assert {p.name: p.read_bytes() for p in (tmp_path/'ix').iterdir()} == saved                   # the saved folder as it was
    r.save(tmp_path/'ix2')
    assert Retriever.load(tmp_path/'ix2', HashEncoder(64)).retrieve('mice chase cheese', k=1)[0].id == 'more'

# ---- exact re-ranking of compressed scores (`rerank`): the full vectors in index.vectors, memory-mapped

class Lookup:
    "A stand-in model: the texts 'd<i>' / 'q<i>' embed as row i of `D` / `Q`."
    def __init__(self, D, Q): self.D, self.Q, self.embedtune_name = D, Q, 'Lookup'
    def get_sentence_embedding_dimension(self): return self.D.shape[1]
    def encode(self, texts, **kw): return np.stack([(self.D if t[0] == 'd' else self.Q)[int(t[1:])] for t in texts])

@pytest.fixture(scope='module')
def vecs():
    "2,000 random unit vectors (32-d) as documents 'x<i>' and 100 queries near the first 100 of them."
    rng = np.random.default_rng(0); X = rng.normal(size=(2000, 32)).astype(np.float32); X /= np.linalg.norm(X, axis=1, keepdims=True)
    Q = X[:100] + rng.normal(0, 0.05, (100, 32)).astype(np.float32); Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    return Lookup(X, Q), {f'x{i}': f'd{i}' for i in range(len(X))}, [f'q{i}' for i in range(len(Q))]

def top10(r, qs): return [{h.id for h in hs} for hs in r.batch_retrieve(qs, k=10)]

def test_rerank_gives_flat_top10(vecs):
    "IVF-PQ with 16 sub-quantisers (2 dimensions each) misses most exact top-10s; re-scoring its top 100 with the full vectors finds every one."
    lk, docs, qs = vecs
    flat = top10(Retriever(lk, cache=False).index_documents(docs), qs)
    plain = top10(Retriever(lk, index='ivfpq', pq_m=16, cache=False).index_documents(docs), qs)
    rr = Retriever(lk, index='ivfpq', pq_m=16, rerank=100, cache=False).index_documents(docs)
    assert sum(p == f for p, f in zip(plain, flat)) < len(flat) / 2                             # plain ivfpq: not the flat top-10
    assert top10(rr, qs) == flat                                                                # re-ranked: the flat top-10, every query
    h = rr.retrieve('q3', k=3)
    assert h[0].id == 'x3' and abs(h[0].score - float(lk.D[3] @ lk.Q[3])) < 1e-5 and h[0].score >= h[1].score >= h[2].score   # exact scores
    assert len(rr.retrieve('q3', k=5000)) == 2000                                               # k beyond the corpus: capped, as without rerank
    S, I = Retriever(lk, index='ivf', nprobe=1, rerank=20, cache=False).index_documents(docs)._search(['q0'], 2000)
    assert (I[0] == -1).any() and np.isneginf(S[0][I[0] == -1]).all()                           # fewer candidates than k: -1 / -inf, as FAISS pads

@pytest.mark.parametrize('kind,shards', [('ivfpq', 1), ('ivfpq', 2), ('flat', 1), ('hnsw', 1)])
def test_rerank_round_trip_and_additions(tmp_path, vecs, kind, shards):
    import shutil
    lk, docs, qs = vecs
    r = Retriever(lk, index=kind, pq_m=8, shards=shards, rerank=50, cache=False).index_documents(docs)
    r.save(tmp_path/'ix')
    assert (tmp_path/'ix'/'index.vectors').stat().st_size == 2000 * 32 * 4
    assert json.loads((tmp_path/'ix'/'retriever.json').read_text())['config']['rerank'] == 50
    shutil.move(tmp_path/'ix', tmp_path/'moved')
    r2 = Retriever.load(tmp_path/'moved', lk)
    assert r2.get_config_dict() == r.get_config_dict() and r2.batch_retrieve(qs, k=10) == r.batch_retrieve(qs, k=10)
    saved = {p.name: p.read_bytes() for p in (tmp_path/'moved').iterdir()}
    r2.index_documents({'new': 'q7'})                                                           # a document equal to query 7
    assert len(r2) == 2001 and r2.retrieve('q7', k=1)[0].id == 'new'
    assert {p.name: p.read_bytes() for p in (tmp_path/'moved').iterdir()} == saved             # the saved folder as it was
    r2.save(tmp_path/'ix2')
    r3 = Retriever.load(tmp_path/'ix2', lk)
    assert (tmp_path/'ix2'/'index.vectors').stat().st_size == 2001 * 32 * 4 and r3.retrieve('q7', k=1)[0].id == 'new'
    assert r3.batch_retrieve(qs, k=10) == r2.batch_retrieve(qs, k=10)
    r2.save(tmp_path/'ix2')                                                                     # saving over the folder it was loaded from
    assert Retriever.load(tmp_path/'ix2', lk).batch_retrieve(qs, k=10) == r2.batch_retrieve(qs, k=10)

def test_rerank_bad_input(tmp_path):
    r = hashed('ivfpq', rerank=8); d = tmp_path/'ix'
    r.save(d); vp = d/'index.vectors'; vp.write_bytes(vp.read_bytes()[:-4])                    # truncated
    with pytest.raises(DataError) as e: Retriever.load(d, HashEncoder(64))
    assert str(vp) in one_line(e) and 'expected 12 vectors × 64 × 4' in str(e.value)
    r.save(d); (d/'index.vectors').unlink()                                                     # missing, the manifest says rerank
    with pytest.raises(DataError) as e: Retriever.load(d, HashEncoder(64))
    assert f'{d/"index.vectors"}: missing' in one_line(e) and 'rerank=8' in str(e.value)
    hashed('ivfpq').save(tmp_path/'plain')                                                      # saved without vectors: no rerank at load
    with pytest.raises(ConfigError) as e: Retriever.load(tmp_path/'plain', HashEncoder(64), rerank=10)
    assert 're-index with rerank' in one_line(e)
    assert Retriever.load(tmp_path/'plain', HashEncoder(64), rerank=0).rerank == 0
    r.save(d)
    for call in (lambda: Retriever(HashEncoder(64), rerank=-1), lambda: Retriever.load(d, HashEncoder(64), rerank=-1)):
        with pytest.raises(ConfigError) as e: call()
        assert 'rerank must be a non-negative integer, got -1' in one_line(e)
    assert Retriever.load(d, HashEncoder(64), rerank=4).retrieve(QUERIES[0], 3) == Retriever.load(d, HashEncoder(64)).retrieve(QUERIES[0], 3)

def test_cli_index_search_rerank(tmp_path, capsys):
    out = tmp_path/'ix'
    assert main(['index', str(TINY), '--output', str(out), '--index', 'ivfpq', '--rerank', '20']) == 0
    assert capsys.readouterr().out.startswith('indexed 12 documents (ivfpq, rerank 20, 384-d, all-MiniLM-L6-v2)')
    assert {p.name for p in out.iterdir()} == {'ids.json', 'retriever.json', 'index.faiss', 'index.vectors'}
    assert (out/'index.vectors').stat().st_size == 12 * 384 * 4
    for extra in ([], ['--rerank', '5'], ['--rerank', '0']):
        assert main(['search', str(out), 'what do mice eat', '-k', '1', '--json', *extra]) == 0
        assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])['hits'][0]['id'] == 'd7'
    assert main(['index', str(TINY), '--output', str(tmp_path/'plain'), '--index', 'ivfpq']) == 0; capsys.readouterr()
    assert main(['search', str(tmp_path/'plain'), 'cats', '--rerank', '5']) == 2
    err = capsys.readouterr().err
    assert err.startswith('embedtune: error:') and err.count('\n') == 1 and 're-index with rerank' in err, err
    assert main(['index', str(TINY), '--output', str(tmp_path/'bad'), '--rerank', '-1']) == 2
    assert '--rerank must be a non-negative integer, got -1' in capsys.readouterr().err and not (tmp_path/'bad').exists()
    assert '--rerank N' in run_cli('index', '--help').stdout

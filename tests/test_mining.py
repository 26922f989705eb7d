"Mining: bad input through the CLI (one line, nothing written), agreement with sentence-transformers, bounded memory."
import json, os, subprocess, sys, textwrap
from pathlib import Path
import numpy as np
import pytest
from conftest import write_beir
from embedtune.cli import main

C = ''.join(json.dumps({'_id': f'd{i}', 'title': '', 'text': f'document number {i} about topic {i % 3}'}) + '\n' for i in range(8))
Q = '{"_id": "q1", "text": "topic 1"}\n{"_id": "q2", "text": "topic 2"}\n'

def _mine(tmp_path, capsys, qrels, *flags, yaml_extra=''):
    d = write_beir(tmp_path/'data', C, Q, qrels, split='train')
    cfg = tmp_path/'m.yaml'; cfg.write_text(f'dataset: {d}\nsource: bm25\ndup_threshold: null\n{yaml_extra}')
    out = tmp_path/'out'/'neg.jsonl'
    rc = main(['mine', str(cfg), '--output', str(out), '--audit', str(tmp_path/'out'/'audit.jsonl'), *flags])
    return rc, capsys.readouterr(), out

QR = 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n'

def test_mine_ok(tmp_path, capsys):
    rc, io, out = _mine(tmp_path, capsys, QR, '--num-negatives', '2', '--range-max', '5')
    assert rc == 0, io.err
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(rows) == 4 and all(r['negative'] != r['positive'] for r in rows)
    assert (tmp_path/'out'/'neg.summary.json').exists()

@pytest.mark.parametrize('qrels,flags,msg', [
    ('query-id\tcorpus-id\tscore\nq1\td1\t0\n', [], "split 'train' has no query with a positive"),
    (QR, ['--num-negatives', '20'], 'num_negatives=20 is larger than the 7 candidates'),
    (QR, ['--num-negatives', '5', '--range-max', '3'], 'num_negatives=5 is larger than the 3 candidates in the window'),
    (QR, ['--range-min', '5', '--range-max', '5'], 'range_min must be smaller than range_max'),
    (QR, ['--sampling-strategy', 'hardest'], "key 'sampling_strategy' must be one of"),
    (QR, ['--source', 'sparse'], "key 'source' must be one of"),
    (QR, ['--fill', 'hard'], "key 'fill' must be one of"),
    ('query-id\tcorpus-id\tscore\nq1\td1\t0\n', ['--estimate'], "split 'train' has no query with a positive"),
    (QR, ['--estimate', '--num-negatives', '20'], 'num_negatives=20 is larger than the 7 candidates'),
])
def test_mine_bad_input(tmp_path, capsys, qrels, flags, msg):
    rc, io, out = _mine(tmp_path, capsys, qrels, *flags)
    assert rc == 2 and msg in io.err and io.err.count('\n') == 1, io.err
    assert not out.parent.exists()

def test_mine_estimate(tmp_path, capsys):
    "--estimate with the packaged model: counts, measured rate, memory and time; mines and writes nothing."
    rc, io, out = _mine(tmp_path, capsys, QR, '--estimate', '--source', 'dense')
    assert rc == 0, io.err
    first, rest = io.out.split('\n', 1)
    assert first.startswith('8 documents, 2 queries (') and 'texts/s measured' in first, first
    est = json.loads(rest)
    assert est['cached'] is False and est['texts_per_second'] > 0 and est['dim'] == 384 and est['bytes_peak'] > est['bytes_embeddings'] > 0
    assert not out.parent.exists() and not list((Path(os.environ['EMBEDTUNE_CACHE'])/'embeddings').glob('*.npy'))

def test_mine_empty_corpus(tmp_path, capsys):
    d = write_beir(tmp_path/'data', '', Q, QR, split='train')
    cfg = tmp_path/'m.yaml'; cfg.write_text(f'dataset: {d}\n')
    assert main(['mine', str(cfg), '--output', str(tmp_path/'neg.jsonl')]) == 2
    assert 'corpus.jsonl: file is empty' in capsys.readouterr().err and not (tmp_path/'neg.jsonl').exists()

def test_same_negatives_as_sentence_transformers(tiny_beir):
    "At equivalent settings (top strategy, same range, no extra filters) we mine what sentence-transformers mines."
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives as st_mine
    from embedtune.data import load_beir
    from embedtune.mining import mine_beir
    from embedtune.models import load_model
    data, model = load_beir(tiny_beir), load_model()
    pairs = [(data.queries[q], data.doc_text(d)) for q, ds in data.qrels['train'].items() for d in ds]
    corpus = [data.doc_text(d) for d in data.corpus]
    ours = mine_beir(data, model, 'train', num_negatives=3, range_min=1, range_max=6, dup_threshold=None, show_progress=False)
    ref = st_mine(Dataset.from_dict({'anchor': [a for a, _ in pairs], 'positive': [p for _, p in pairs]}), model, corpus=corpus,
                  num_negatives=3, range_min=1, range_max=6, sampling_strategy='top', output_format='triplet', verbose=False)
    key = lambda ds: sorted(zip(ds['anchor'], ds['positive'], ds['negative']))
    assert key(ours.dataset) == key(ref)

PEAK = textwrap.dedent('''
    import json, sys, numpy as np
    from embedtune.encode import measure_peak
    from embedtune.mining import estimate_mining
    from embedtune.search import search
    n_docs, n_q, dim, k, path, mode = int(sys.argv[1]), int(sys.argv[2]), 384, 50, sys.argv[3], sys.argv[4]
    rng = np.random.default_rng(0)
    if mode == 'prepare':        # written by its own process, so the measuring process starts with none of it resident
        D = np.lib.format.open_memmap(path, mode='w+', dtype=np.float32, shape=(n_docs, dim))
        for i in range(0, n_docs, 20000):
            x = rng.standard_normal((min(20000, n_docs - i), dim), dtype=np.float32); D[i:i+len(x)] = x / np.linalg.norm(x, axis=1, keepdims=True)
        D.flush(); sys.exit(0)
    Q = rng.standard_normal((n_q, dim), dtype=np.float32); Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    def run():                   # the baseline is taken before the corpus is touched: its pages count in the peak
        D = np.load(path, mmap_mode='r')                 # as the embedding cache hands it over
        if mode == 'wasteful': D = np.array(D) * 1.0     # a regression that copies the matrix (twice over)
        return search(Q, D, k, batch=256)
    (S, I), extra = measure_peak(run)
    est = estimate_mining(n_docs, n_q, dim, k, batch=256, cached=True)['bytes_peak']
    print(json.dumps(dict(extra=extra, estimate=est, shape=list(I.shape))))
''')

def _peak(mode, n_docs, n_q, path):
    r = subprocess.run([sys.executable, '-c', PEAK, str(n_docs), str(n_q), str(path), mode], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1]) if mode != 'prepare' else None

def test_peak_memory_within_estimate_200k(tmp_path):
    "A 200k-document corpus of synthetic embeddings: the extra peak memory of the search (corpus pages included) stays within the estimate; a variant that copies the matrix does not."
    path = tmp_path/'emb.npy'; _peak('prepare', 200000, 2000, path)
    m = _peak('ours', 200000, 2000, path)
    assert m['shape'] == [2000, 50]
    assert 200000 * 384 * 4 <= m['extra'] <= m['estimate'], m   # the corpus itself was counted, and the whole stays within the estimate
    assert m["estimate"] < 2.5 * 200000 * 384 * 4, m            # the estimate is not vacuous (< 2.5x the embeddings)
    w = _peak('wasteful', 200000, 2000, path)                    # the check can fail: a copy of the matrix exceeds the estimate
    assert w['extra'] > w['estimate'], w

def test_mining_encodes_by_role(tiny_beir):
    """A model that encodes the two sides differently (a prompt per side, or a query-only adapter's Router) is mined with
    its queries through `encode_query` and its documents through `encode_document`, as it will be used at search time."""
    from embedtune.data import load_beir
    from embedtune.mining import mine_beir
    from embedtune.models import HashEncoder
    class Sided(HashEncoder):
        prompts = {'query': 'query: ', 'passage': 'passage: '}
        def __init__(self, *a, **k): super().__init__(*a, **k); self.calls = []
        def encode_query(self, texts, **kw): self.calls.append('query'); return self.encode(texts, **kw)
        def encode_document(self, texts, **kw): self.calls.append('document'); return self.encode(texts, **kw)
    m = Sided(64)
    mine_beir(load_beir(tiny_beir), m, 'train', num_negatives=2, show_progress=False, cache=False)
    assert sorted(set(m.calls)) == ['document', 'query']

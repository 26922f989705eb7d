"`embedtune analyze`: bad input ends in one line naming file/line/field, exit code 2, nothing written; leakage found where it is known to be."
import json
import numpy as np
import pytest
from embedtune.cli import main

def _jsonl(path, rows):
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows)); return path

CASES = {   # name -> (records, expected message part)
    'single_class': ([dict(sentence1=f'a{i}', sentence2=f'b{i}', label=1) for i in range(4)], 'only positives'),
    'nan_score':    ([dict(sentence1='a', sentence2='b', score=4.5), dict(sentence1='c', sentence2='d', score=float('nan'))],
                     "pairs.jsonl:2: field 'score': expected a number"),
    'empty_text':   ([dict(query='q', positive='p', negative='n'), dict(query='q2', positive='  ', negative='n')],
                     "pairs.jsonl:2: field 'positive': expected a non-empty string"),
    'bad_label':    ([dict(sentence1='a', sentence2='b', label=2), dict(sentence1='c', sentence2='d', label=0)],
                     "pairs.jsonl:1: field 'label': expected 0 or 1"),
    'mixed_kinds':  ([dict(sentence1='a', sentence2='b', label=1), dict(query='q', positive='p')], 'pairs.jsonl:2: mixes qa records'),
}

@pytest.mark.parametrize('case', sorted(CASES))
def test_analyze_bad_input(case, tmp_path, capsys):
    rows, msg = CASES[case]
    f = _jsonl(tmp_path/'pairs.jsonl', rows)
    out = tmp_path/'out'/'diag.json'
    assert main(['analyze', str(f), '--output', str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith('embedtune: error: ') and err.count('\n') == 1 and msg in err, err
    assert not out.exists() and not list(tmp_path.glob('out/*'))      # nothing written, not even a plot

def _qa(tmp_path, n=20):
    rows = []
    for i in range(n):
        rows += [dict(query=f'how do plants of kind {i} grow', positive=f'plants of kind {i} grow towards light number {i}',
                      negative=f'a photograph of kind {i} plants in a garden')]
    return _jsonl(tmp_path/'qa.jsonl', rows)

def test_analyze_embeddings_dimension(tmp_path, capsys):
    "Precomputed embeddings of another dimension than the model's: one line, nothing written."
    from embedtune.analysis import jsonl_pairs, split_groups
    f = _qa(tmp_path); _, test = split_groups(jsonl_pairs(f))
    emb = tmp_path/'emb.npz'; np.savez(emb, a=np.ones((len(test), 768)), b=np.ones((len(test), 768)))
    out = tmp_path/'out'/'diag.json'
    assert main(['analyze', str(f), '--embeddings', str(emb), '--output', str(out)]) == 2
    err = capsys.readouterr().err
    assert 'emb.npz: embeddings of dimension 768, but all-MiniLM-L6-v2 gives 384' in err and err.count('\n') == 1, err
    assert not out.parent.exists() or not list(out.parent.iterdir())

def test_analyze_missing_dataset(tmp_path, capsys):
    assert main(['analyze', str(tmp_path/'nope.jsonl')]) == 2
    assert 'nope.jsonl: not found' in capsys.readouterr().err

def test_analyze_qa_roundtrip(tmp_path, capsys):
    "A QA file: JSON with the required keys, three PNGs beside it, the verdict's remedies, figures that can be recomputed."
    from embedtune.analysis import jsonl_pairs, pair_scores, separation, split_groups
    from embedtune.models import load_model
    f = _qa(tmp_path); out = tmp_path/'diag.json'
    assert main(['analyze', str(f), '--output', str(out)]) == 0
    r = json.loads(out.read_text())
    assert {'separability', 'overlap', 'auc', 'ks', 'mismatch', 'leakage', 'verdict', 'manifest', 'plots'} <= set(r)
    assert sorted(p.name for p in tmp_path.glob('diag*')) == ['diag.json', 'diag_bands.png', 'diag_scores.png', 'diag_tfidf.png']
    _, test = split_groups(jsonl_pairs(f))
    assert r['auc'] == pytest.approx(separation(pair_scores(load_model(), test), test)['auc'])
    assert r['leakage']['exact'] == 0 and r['leakage']['eval_queries'] == 6     # 30% of 20 questions
    assert list(r['manifest']['data_sha256'].values())[0]

def test_scifact_leakage_known_duplicates():
    "SciFact: test queries 870 and 1292 are train queries 871 and 1291 (normalised text equality)."
    from embedtune.analysis import split_leakage
    from embedtune.data import load_beir
    lk = split_leakage(load_beir('scifact', splits=['train', 'test']), 'train', 'test')
    pairs = {(d['eval'], d['train']) for d in lk['duplicates'] if d['kind'] == 'exact'}
    assert {('870', '871'), ('1292', '1291')} <= pairs and lk['exact'] == 2, lk['summary']
    assert lk['shared_positives'] > 0 and lk['leaked_pairs'] >= 2

def test_analyze_two_models(tmp_path):
    "Two models on the same pairs: one row each, one score panel each (before/after), the first model's figures at the top level."
    from embedtune.analysis import analyze
    from embedtune.models import HashEncoder, load_model
    f = _qa(tmp_path)
    r = analyze(f, [load_model(), HashEncoder(64)], tmp_path/'two.json', log=None)
    assert list(r['models']) == ['all-MiniLM-L6-v2', 'HashEncoder(64)'] and r['auc'] == r['models']['all-MiniLM-L6-v2']['auc']
    assert any(x['remedy'] == 'an ensemble' for x in r['verdict']['remedies'])
    import matplotlib.image as mpimg
    h, w = mpimg.imread(tmp_path/'two_scores.png').shape[:2]
    assert w > 1.6 * h        # two panels side by side

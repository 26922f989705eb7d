"Test-matched pairs: curriculum files round-trip into a training config, bad input stops with one line, a seed fixes the result."
import functools, json, warnings
from pathlib import Path
import numpy as np
import pytest

from embedtune.analysis import PairSet, Tfidf, band_histogram
from embedtune.data import DataError, load_pairs
from embedtune.models import HashEncoder
from embedtune.pairs import (ShortfallWarning, band_gap, band_target, curriculum, generate_pairs, matched_triplets, pairset_target,
                             plain_triplets, quota)

def _corpus(seed=0, n_topics=5, per_topic=12):
    "Topic texts (5 of 12 topic words + 4 of 20 common words), their topics, questions (3 topic words) and one answer each."
    rng = np.random.default_rng(seed)
    topics = [[f't{t}w{k}' for k in range(12)] for t in range(n_topics)]; common = [f'c{k}' for k in range(20)]
    texts = [' '.join(list(rng.choice(topics[t], 5, replace=False)) + list(rng.choice(common, 4, replace=False)))
             for t in range(n_topics) for _ in range(per_topic)]
    cats = [f'topic{t}' for t in range(n_topics) for _ in range(per_topic)]
    questions = [' '.join(rng.choice(topics[t], 3, replace=False)) for t in range(n_topics) for _ in range(4)]
    answers = [texts[per_topic * t + i] for t in range(n_topics) for i in range(4)]
    return texts, cats, questions, answers

@pytest.fixture(scope='module')
def corpus(): return _corpus()

TARGET = np.array([0.4, 0.3, 0.2, 0.1, 0.0])

# --- the curriculum round trip -------------------------------------------------------------------------------------------

@pytest.fixture
def phases(tmp_path, corpus):
    from embedtune.mining import mine_hard_negatives
    texts, _, questions, answers = corpus
    tf = Tfidf(texts + questions)
    mine = functools.partial(mine_hard_negatives, model=HashEncoder(), dup_threshold=None, show_progress=False)
    stages = curriculum(questions, answers, texts, tmp_path/'cur', target_neg=TARGET, tf=tf, mine=mine, epochs=[1, 1, 2], seed=0)
    return stages, tf, tmp_path/'cur'

def test_curriculum_files_and_stages(phases, corpus):
    stages, tf, folder = phases
    texts, _, questions, answers = corpus
    assert [Path(s['train_file']).name for s in stages] == ['phase1_easy.jsonl', 'phase2_matched.jsonl', 'phase3_hard.jsonl']
    assert [s['epochs'] for s in stages] == [1, 1, 2]
    assert sorted(p.name for p in folder.iterdir()) == ['curriculum.json', 'phase1_easy.jsonl', 'phase2_matched.jsonl', 'phase3_hard.jsonl']
    pos = dict(zip(questions, answers))
    for s in stages:
        ds = load_pairs(s['train_file'], require_negative=True)
        assert ds.column_names == ['anchor', 'positive', 'negative'] and len(ds) == len(questions)
        assert all(n != pos[a] for a, n in zip(ds['anchor'], ds['negative']))          # never the anchor's positive
    matched = load_pairs(stages[1]['train_file'])
    assert band_gap(tf.cosine(matched['anchor'], matched['negative']), TARGET) <= 0.05
    report = json.loads((folder/'curriculum.json').read_text())
    assert [p['phase'] for p in report['phases']] == ['easy', 'matched', 'hard'] and report['phases'][1]['gap'] <= 0.05

def test_curriculum_stages_train_config(phases, tiny_beir):
    "TrainConfig accepts the stages, and each stage's training rows carry the negative column."
    from embedtune.train import TrainConfig, stage_data
    stages, _, _ = phases
    cfg = TrainConfig.from_dict(dict(dataset=str(tiny_beir), stages=stages, stsb=None, test_size=None), 'test')
    for i, s in enumerate(stages):
        st = cfg.stage(i)
        assert st.train_file == s['train_file'] and st.epochs == s['epochs']
        rows, mining = stage_data(st, None, None, log=None)
        assert rows.column_names == ['anchor', 'positive', 'negative'] and mining is None

def test_curriculum_writes_nothing_on_bad_input(tmp_path, corpus):
    texts, _, questions, answers = corpus
    for kw, msg in ((dict(phases=['hard']), "mine: the 'hard' phase needs a miner"), (dict(phases=['matched']), 'target_neg'),
                    (dict(phases=['easy', 'hardest']), 'phases must be'), (dict(phases=['easy'], epochs=0), 'epochs must be')):
        with pytest.raises(ValueError, match=msg.replace('[', r'\[')): curriculum(questions, answers, texts, tmp_path/'x', **kw)
    with pytest.raises(DataError, match='positives: 19 texts for 20 anchors'): curriculum(questions, answers[:-1], texts, tmp_path/'x', phases=['easy'])
    assert not (tmp_path/'x').exists()

# --- bad input ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('kw, err, msg', [
    (dict(texts=[]), DataError, 'texts: 0 texts; expected at least 2'),
    (dict(categories=['a']), DataError, 'categories: 1 values for 60 texts'),
    (dict(pos_band=(0.5, 0.3)), ValueError, 'pos_band must satisfy 0 <= lo < hi <= 1'),
    (dict(pos_band=(0.3, 0.3)), ValueError, 'pos_band must satisfy'),
    (dict(neg_band=(-0.1, 0.3)), ValueError, 'neg_band must satisfy'),
    (dict(neg_band=(0.1, 1.5)), ValueError, 'neg_band must satisfy'),
    (dict(neg_band='wide'), ValueError, 'neg_band must be two numbers'),
    (dict(same_category=1.2), ValueError, 'same_category must be in [0, 1]'),
    (dict(same_category=-0.1), ValueError, 'same_category must be in [0, 1]'),
    (dict(categories=None), ValueError, 'categories: none given and no model'),
    (dict(n=0), ValueError, 'n must be a positive whole number'),
    (dict(texts=['a', '']), DataError, r'texts\[1\]: expected a non-empty string'),
])
def test_generate_pairs_bad_input(corpus, kw, err, msg):
    texts, cats, _, _ = corpus
    args = dict(texts=texts, categories=cats, n=10); args.update(kw)
    if 'texts' in kw and 'categories' not in kw: args['categories'] = None if not kw['texts'] else ['x'] * len(kw['texts'])
    with pytest.raises(err) as e: generate_pairs(**args)
    assert e.match(msg.replace('[0, 1]', r'\[0, 1\]')) and '\n' not in str(e.value)

def test_triplets_bad_input(corpus):
    texts, _, questions, answers = corpus
    tf = Tfidf(texts + questions)
    with pytest.raises(ValueError, match='target_neg must have 5 shares'): matched_triplets(questions, answers, texts, [1, 0], tf)
    with pytest.raises(ValueError, match='target_neg must be non-negative'): matched_triplets(questions, answers, texts, [1, -1, 0, 0, 1], tf)
    with pytest.raises(DataError, match='pool: 1 distinct text'): plain_triplets(questions, answers, [texts[0]] * 3)
    with pytest.raises(DataError, match='every text is a positive or excluded'):
        plain_triplets(questions[:1], answers[:1], [answers[0], texts[5]], exclude={questions[0]: [texts[5]]})
    with pytest.raises(ValueError, match='values: no TF-IDF cosines'): band_target([])

def test_pairset_target_needs_both_classes():
    ps = PairSet(['a b', 'c d'], ['a b c', 'c d e'], np.array([1, 1]), name='only-pos')
    with pytest.raises(DataError, match='only-pos: 2 positives and 0 negatives'): pairset_target(ps)

# --- determinism and matching --------------------------------------------------------------------------------------------

def test_generate_pairs_same_seed_same_pairs(corpus):
    texts, cats, _, _ = corpus
    a, b = generate_pairs(texts, cats, n=30, seed=3), generate_pairs(texts, cats, n=30, seed=3)
    assert (a.a, a.b, a.label.tolist(), a.group) == (b.a, b.b, b.label.tolist(), b.group)
    assert generate_pairs(texts, cats, n=30, seed=4).a != a.a
    c = np.asarray(a.stats['tfidf'])
    assert np.all((c[a.label == 1] >= 0.30) & (c[a.label == 1] < 0.50)) and np.all((c[a.label == 0] >= 0.15) & (c[a.label == 0] < 0.45))

def test_generate_pairs_clusters_without_categories(corpus):
    texts, _, _, _ = corpus
    a = generate_pairs(texts, model=HashEncoder(), n_clusters=5, n=20, seed=0)
    b = generate_pairs(texts, model=HashEncoder(), n_clusters=5, n=20, seed=0)
    assert a.a == b.a and len(set(a.group)) > 1

def test_generate_pairs_matches_a_test_set(corpus):
    texts, cats, _, _ = corpus
    rng = np.random.default_rng(1)
    same = [(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts)) if cats[i] == cats[j]]
    cross = [(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts)) if cats[i] != cats[j]]
    tp = [same[k] for k in rng.choice(len(same), 35, replace=False)] + [cross[k] for k in rng.choice(len(cross), 15, replace=False)]
    test = PairSet([texts[i] for i, _ in tp], [texts[j] for _, j in tp], np.array([1] * 25 + [0] * 25), name='t')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); gp = generate_pairs(texts, cats, n=50, seed=0, match=test)
    assert not [x for x in w if ' found (' in str(x.message)]     # no class left short (the same-category share may move: the mix comes first)
    assert gp.stats['shortfall'] == {} and gp.stats['gap']['pos'] <= 0.05 and gp.stats['gap']['neg'] <= 0.05

def test_matched_triplets_match_and_repeat(corpus):
    texts, _, questions, answers = corpus
    tf = Tfidf(texts + questions)
    m = matched_triplets(questions, answers, texts, TARGET, tf, seed=0)
    assert m == matched_triplets(questions, answers, texts, TARGET, tf, seed=0) and m != matched_triplets(questions, answers, texts, TARGET, tf, seed=1)
    assert m.stats['shortfall'] == {} and band_gap(tf.cosine(questions, [r['negative'] for r in m]), TARGET) <= 0.05
    assert np.allclose(m.cosine(), tf.cosine(questions, [r['negative'] for r in m]), atol=1e-5)
    p = plain_triplets(questions, answers, texts, seed=0, tf=tf)
    assert len(p) == len(m) and p == plain_triplets(questions, answers, texts, seed=0) and p.stats['hist'][0] > 0.7

def test_matched_triplets_shortfall_is_reported(corpus):
    texts, _, questions, answers = corpus
    with pytest.warns(ShortfallWarning, match='too few candidates'):
        m = matched_triplets(questions, answers, texts, [0, 0, 0, 0, 1], Tfidf(texts + questions), seed=0)
    assert len(m) == len(questions) and sum(m.stats['shortfall'].values()) == len(questions) - m.stats['found_per_band'][4]

def test_quota_adds_up():
    for t in ([1/3] * 3 + [0, 0], [0.397, 0.35, 0.167, 0.07, 0.016], [0, 0, 0, 0, 1]):
        for n in (1, 7, 611): assert quota(t, n).sum() == n

"""Every error a run can know before it starts is raised before it starts: one line `embedtune: error: ...`, exit 2,
nothing written and nothing encoded (the test's own embedding cache stays empty)."""
import json, os, sys
from pathlib import Path
import pytest
from embedtune.cli import main

TINY = Path(__file__).resolve().parents[1]/'nbs'/'fixtures'/'tiny_beir'

def nothing_encoded():
    d = Path(os.environ['EMBEDTUNE_CACHE'])/'embeddings'
    return not d.exists() or not any(d.iterdir())

def assert_one_line(capsys, msg):
    err = capsys.readouterr().err
    assert err.startswith('embedtune: error: ') and err.count('\n') == 1, err
    assert msg in err, err
    return err

def _pairs(tmp_path, lines):
    p = tmp_path/'pairs.jsonl'; p.write_text('\n'.join(json.dumps(l) for l in lines) + '\n'); return p

TRAIN_CASES = {   # extra config lines -> expected message
    'test_size_all_queries':   ('test_size: 5\n', "key 'test_size': test_size=5 leaves no queries on one side of 5 train queries"),
    'test_size_not_share':     ('test_size: 1.5\n', "key 'test_size' must be a share in (0, 1) or a whole number of queries"),
    'negatives_beyond_corpus': ('mining: {num_negatives: 20}\n', 'num_negatives=20 is larger than the 10 candidates the corpus of 12 documents'),
    'contrastive_on_triplets': ('loss: contrastive\nmining: {num_negatives: 1, range_max: 4}\n',
                                "loss 'contrastive' cannot train on mined rows of output_format 'triplet'"),
    'triplet_without_negs':    ('loss: triplet\nstages: [{epochs: 1}]\n', "stage 1: loss 'triplet' needs negatives"),
    'grad_accum_zero':         ('gradient_accumulation_steps: 0\n', "key 'gradient_accumulation_steps' must be > 0, got 0"),
    'batch_size_zero':         ('batch_size: 0\n', "key 'batch_size' must be > 0, got 0"),
    'seq_length_huge':         ('max_seq_length: 100000\n', "key 'max_seq_length' must be at most 8192"),
    'seq_length_over_model':   ('max_seq_length: 1024\n', 'max_seq_length=1024: expected 1 to 512 tokens'),
    'eval_steps_zero':         ('eval_steps: 0\ntest_size: 2\n', "key 'eval_steps' must be a positive integer or null, got 0"),
    'missing_eval_split':      ('eval_split: dev\n', 'qrels/dev.tsv: file not found'),
    'output_dir_is_file':      ('output_dir: {tmp}/afile\n', "key 'output_dir' '{tmp}/afile' exists and is a file"),
    'result_under_file':       ('result: {tmp}/afile/r.json\n', "key 'result' '{tmp}/afile/r.json' cannot be created"),
    'model_missing':           ('model: {tmp}/no_model_here\n', 'no_model_here: no such model folder'),
    # the keep-base check needs a dev split big enough to decide; a too small one stops the run, it does not pass silently
    'dev_too_small':           ('test_size: 2\n', "the dev split has 2 queries, fewer than the 20 (min_dev_queries) needed to decide"),
    'dev_default_too_small':   ('test_size: 0.2\n', "the dev split has 1 queries, fewer than the 20 (min_dev_queries)"),
    'improve_if_unknown':      ('improve_if: maybe\n', "key 'improve_if' must be 'ci' or 'mean', got 'maybe'"),
    'early_stop_without_dev':  ('early_stopping_patience: 2\n', "key 'early_stopping_patience' needs a dev split"),
}

@pytest.mark.parametrize('case', sorted(TRAIN_CASES))
def test_train_fails_before_encoding(case, tmp_path, capsys):
    extra, msg = TRAIN_CASES[case]
    (tmp_path/'afile').write_text('x')
    cfg = tmp_path/'c.yaml'
    cfg.write_text(f"dataset: {TINY}\nstsb: null\nepochs: 1\nbatch_size: 2\noutput_dir: {tmp_path}/run\n" + ("" if "test_size" in extra else "test_size: null\n") + extra.replace('{tmp}', str(tmp_path)))
    assert main(['train', str(cfg)]) == 2
    assert_one_line(capsys, msg.replace('{tmp}', str(tmp_path)))
    assert not (tmp_path/'run').exists() and nothing_encoded()

def test_train_file_with_some_negatives(tmp_path, capsys):
    p = _pairs(tmp_path, [dict(anchor='a', positive='b', negative='c'), dict(anchor='d', positive='e')])
    cfg = tmp_path/'c.yaml'; cfg.write_text(f"dataset: {TINY}\nstsb: null\ntest_size: null\ntrain_file: {p}\noutput_dir: {tmp_path}/run\n")
    assert main(['train', str(cfg)]) == 2
    assert_one_line(capsys, "pairs.jsonl:2: field 'negative' is missing while 1 of 2 lines have one")
    assert not (tmp_path/'run').exists() and nothing_encoded()

def test_train_missing_optional_library(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, 'tensorboard', None)     # as if it were not installed
    cfg = tmp_path/'c.yaml'; cfg.write_text(f"dataset: {TINY}\nstsb: null\ntest_size: null\ntensorboard: true\noutput_dir: {tmp_path}/run\n")
    assert main(['train', str(cfg)]) == 2
    assert_one_line(capsys, "key 'tensorboard: true' needs the package tensorboard, which is not installed: pip install tensorboard")
    assert not (tmp_path/'run').exists() and nothing_encoded()

def test_train_empty_split(tmp_path, capsys):
    import shutil
    d = tmp_path/'data'; shutil.copytree(TINY, d); (d/'qrels'/'train.tsv').write_text('query-id\tcorpus-id\tscore\n')
    cfg = tmp_path/'c.yaml'; cfg.write_text(f"dataset: {d}\nstsb: null\ntest_size: null\noutput_dir: {tmp_path}/run\n")
    assert main(['train', str(cfg)]) == 2
    assert_one_line(capsys, 'qrels/train.tsv: no judged queries')
    assert nothing_encoded()

def test_train_check_mode(tmp_path, capsys):
    cfg = tmp_path/'c.yaml'
    cfg.write_text(f"dataset: {TINY}\nstsb: null\ntest_size: 2\nmin_dev_queries: 2\nmining: {{num_negatives: 1, range_max: 4}}\noutput_dir: {tmp_path}/run\n")
    assert main(['train', str(cfg), '--check']) == 0
    out = capsys.readouterr().out
    plan = json.loads(out[:out.rindex('}') + 1])
    assert (plan['train_queries'], plan['dev_queries'], plan['eval_queries']) == (3, 2, 5)
    assert plan['stages'][0]['mining'] and 'nothing was encoded or written' in out
    assert not (tmp_path/'run').exists() and nothing_encoded()

def test_train_oom_is_one_line(tmp_path, capsys, monkeypatch):
    import torch
    from sentence_transformers import SentenceTransformerTrainer
    def oom(self, *a, **k): raise torch.cuda.OutOfMemoryError('CUDA out of memory. Tried to allocate 2.00 GiB')
    monkeypatch.setattr(SentenceTransformerTrainer, 'train', oom)
    cfg = tmp_path/'c.yaml'; cfg.write_text(f"dataset: {TINY}\nstsb: null\ntest_size: null\nbatch_size: 64\noutput_dir: {tmp_path}/run\n")
    assert main(['train', str(cfg)]) == 2
    last = capsys.readouterr().err.replace('\r', '\n').rstrip('\n').split('\n')[-1]   # after the training's own progress output
    assert last.startswith('embedtune: error: CUDA ran out of memory at batch_size=64. Lower batch_size and raise gradient_accumulation_steps'), last
    assert not (tmp_path/'run'/'final').exists() and not (tmp_path/'run'/'result.json').exists()

EVAL_CASES = {
    'output_under_file': (['--output', '{tmp}/afile/m.json'], "--output '{tmp}/afile/m.json' cannot be created"),
    'output_is_folder':  (['--output', '{tmp}'], "--output '{tmp}' exists and is a folder; expected a file"),
    'batch_size_zero':   (['--batch-size', '0'], '--batch-size must be a positive integer, got 0'),
    'seq_length_zero':   (['--max-seq-length', '0'], '--max-seq-length must be a positive integer, got 0'),
    'seq_length_huge':   (['--max-seq-length', '4096'], 'max_seq_length=4096: expected 1 to 512 tokens'),
}

@pytest.mark.parametrize('case', sorted(EVAL_CASES))
def test_eval_fails_before_encoding(case, tmp_path, capsys):
    args, msg = EVAL_CASES[case]
    (tmp_path/'afile').write_text('x')
    assert main(['eval', str(TINY), *[a.replace('{tmp}', str(tmp_path)) for a in args]]) == 2
    assert_one_line(capsys, msg.replace('{tmp}', str(tmp_path)))
    assert nothing_encoded() and sorted(p.name for p in tmp_path.iterdir()) == ['afile']

MINE_CASES = {
    'negatives_beyond_corpus': (['--num-negatives', '20'], 'num_negatives=20 is larger than the 10 candidates'),
    'output_under_file':       (['--output', '{tmp}/afile/n.jsonl'], "key 'output' '{tmp}/afile/n.jsonl' cannot be created"),
    'audit_under_file':        (['--audit', '{tmp}/afile/a.csv'], "key 'audit' '{tmp}/afile/a.csv' cannot be created"),
    'pairs_file_missing':      (['--set', 'pairs={tmp}/none.jsonl'], 'none.jsonl: file not found'),
}

@pytest.mark.parametrize('case', sorted(MINE_CASES))
def test_mine_fails_before_encoding(case, tmp_path, capsys):
    args, msg = MINE_CASES[case]
    (tmp_path/'afile').write_text('x')
    cfg = tmp_path/'m.yaml'; cfg.write_text(f"dataset: {TINY}\nnum_negatives: 1\noutput: {tmp_path}/out/neg.jsonl\n")
    assert main(['mine', str(cfg), *[a.replace('{tmp}', str(tmp_path)) for a in args]]) == 2
    assert_one_line(capsys, msg.replace('{tmp}', str(tmp_path)))
    assert nothing_encoded() and not (tmp_path/'out').exists()

def test_mine_check_mode(tmp_path, capsys):
    cfg = tmp_path/'m.yaml'; cfg.write_text(f"dataset: {TINY}\nnum_negatives: 1\noutput: {tmp_path}/out/neg.jsonl\n")
    assert main(['mine', str(cfg), '--check']) == 0
    plan = json.loads(capsys.readouterr().out)
    assert (plan['pairs'], plan['anchors'], plan['corpus']) == (6, 5, 12)
    assert nothing_encoded() and not (tmp_path/'out').exists()

TUNE_CASES = {   # `embedtune tune`: its own preconditions, checked before any encoding
    'no_dev_split':   ('test_size: null\n', 'tune chooses on a dev split: set test_size'),
    'unknown_rung':   ('test_size: 2\nmin_dev_queries: 2\ntune: {rungs: [inbatch, fastest]}\n', "unknown rung 'fastest'"),
    'unknown_key':    ('test_size: 2\nmin_dev_queries: 2\ntune: {budget: 5}\n', "tune: unknown key 'budget'"),
    'zero_budget':    ('test_size: 2\nmin_dev_queries: 2\ntune: {budget_minutes: 0}\n', "key 'tune.budget_minutes' must be > 0"),
    'pair_loss':      ('test_size: 2\nmin_dev_queries: 2\nloss: contrastive\nmining: {num_negatives: 1, output_format: labeled-pair}\n', "tune: loss 'contrastive'"),
    'dev_too_small':  ('test_size: 2\n', 'fewer than the 20 (min_dev_queries)'),
}

@pytest.mark.parametrize('case', sorted(TUNE_CASES))
def test_tune_fails_before_encoding(case, tmp_path, capsys):
    extra, msg = TUNE_CASES[case]
    cfg = tmp_path/'c.yaml'; cfg.write_text(f"dataset: {TINY}\nstsb: null\noutput_dir: {tmp_path}/run\n" + extra)
    assert main(['tune', str(cfg)]) == 2
    assert_one_line(capsys, msg)
    assert not (tmp_path/'run').exists() and nothing_encoded()

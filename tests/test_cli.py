"The CLI contract: help, eval on a real SciFact slice and on STS, train, bad arguments."
import json, os, subprocess, sys
from pathlib import Path
import pytest
from embedtune.cli import main

def run_cli(*args, env=None):
    return subprocess.run([sys.executable, '-c', 'import sys; from embedtune.cli import main; sys.exit(main())', *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)

def test_help_subprocess():
    r = run_cli('--help')
    assert r.returncode == 0 and 'eval' in r.stdout and 'train' in r.stdout
    r = run_cli('eval', '--help')
    assert r.returncode == 0 and '--model' in r.stdout and '--split' in r.stdout and '--output' in r.stdout

def test_console_script_installed():
    exe = Path(sys.executable).parent/'embedtune'   # where pip puts console scripts of this interpreter
    assert exe.exists(), f'the embedtune console script is missing: {exe}'
    r = subprocess.run([str(exe), '--version'], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith('embedtune ')

def test_bad_arguments(capsys):
    with pytest.raises(SystemExit) as e: main([])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e: main(['eval'])
    assert e.value.code == 2 and 'dataset' in capsys.readouterr().err
    with pytest.raises(SystemExit) as e: main(['frobnicate'])
    assert e.value.code == 2

def test_eval_scifact_slice(scifact_slice, tmp_path, capsys):
    out = tmp_path/'m.json'
    assert main(['eval', str(scifact_slice), '--output', str(out)]) == 0
    table = capsys.readouterr().out
    assert 'all-MiniLM-L6-v2' in table and 'ndcg@10' in table
    r = json.loads(out.read_text())
    for k in ('ndcg@10', 'mrr@10', 'recall@100', 'map@100', 'manifest'): assert k in r
    assert r['n_queries'] == 10 and r['n_docs'] == 60
    assert 0.5 < r['ndcg@10'] <= 1 and r['recall@100'] == 1.0   # every doc is within the top 100 of a 60-doc slice
    assert set(r['manifest']['data_sha256']) == {str(scifact_slice/f) for f in ('corpus.jsonl', 'queries.jsonl', 'qrels/test.tsv')}

def test_eval_subprocess_matches_in_process(scifact_slice, tmp_path):
    out = tmp_path/'sub.json'
    r = run_cli('eval', str(scifact_slice), '--output', str(out), env={'EMBEDTUNE_CACHE': str(tmp_path/'c')})
    assert r.returncode == 0, r.stderr
    assert main(['eval', str(scifact_slice), '--output', str(tmp_path/'in.json')]) == 0
    a, b = json.loads(out.read_text()), json.loads((tmp_path/'in.json').read_text())
    assert abs(a['ndcg@10'] - b['ndcg@10']) < 1e-6

def test_eval_sts(tiny_sts, tmp_path):
    out = tmp_path/'sts.json'
    assert main(['eval', str(tiny_sts), '--output', str(out)]) == 0
    r = json.loads(out.read_text())
    assert r['format'] == 'sts' and r['n_pairs'] == 39 and 0.5 < r['spearman'] <= 1 and 'pearson' in r and 'manifest' in r

def test_eval_other_local_model(tiny_beir, tmp_path):
    "Any local model folder works (here: a saved copy of the default with a shorter max_seq_length)."
    from embedtune.models import load_model
    m = load_model(max_seq_length=64); m.save(str(tmp_path/'my_model'))
    out = tmp_path/'m.json'
    assert main(['eval', str(tiny_beir), '--model', str(tmp_path/'my_model'), '--output', str(out)]) == 0
    r = json.loads(out.read_text())
    assert r['model'] == str(tmp_path/'my_model') and r['manifest']['config']['max_seq_length'] == 64

def test_train_subprocess(tiny_beir, tmp_path):
    cfg = tmp_path/'c.yaml'
    cfg.write_text(f"dataset: {tiny_beir}\ntest_size: null\nstsb: {tiny_beir.parent/'tiny_sts.tsv'}\nepochs: 1\nbatch_size: 4\n"
                   f"output_dir: {tmp_path/'run'}\ntask: cli_smoke\n")
    out = tmp_path/'res.json'
    r = run_cli('train', str(cfg), '--set', 'lr=1e-5', '--output', str(out), env={'EMBEDTUNE_CACHE': str(tmp_path/'c')})
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res['task'] == 'cli_smoke' and res['manifest']['config']['lr'] == 1e-5
    for k in ('baseline', 'result', 'stsb', 'seconds', 'manifest'): assert k in res
    assert set(res['stsb']) == {'before', 'after'}
    assert 'base' in r.stdout and 'trained' in r.stdout   # the base/trained table
    assert res['verdict'] == 'unchecked' and 'verdict: unchecked (no dev split)' in r.stdout
    assert (tmp_path/'run'/'final'/'model.safetensors').exists()

def test_data_root_flag_and_env(tiny_beir, tmp_path, monkeypatch):
    "Relative dataset paths resolve against --data-root, else $EMBEDTUNE_DATA."
    out = tmp_path/'m.json'
    assert main(['eval', 'tiny_beir', '--data-root', str(tiny_beir.parent), '--output', str(out)]) == 0
    a = json.loads(out.read_text())['ndcg@10']
    monkeypatch.setenv('EMBEDTUNE_DATA', str(tiny_beir.parent))
    assert main(['eval', 'tiny_beir', '--output', str(out)]) == 0
    assert json.loads(out.read_text())['ndcg@10'] == a
    monkeypatch.setenv('EMBEDTUNE_DATA', str(tmp_path/'nowhere'))
    assert main(['eval', 'tiny_beir']) == 2

"""The CLI contract over every subcommand: help with examples, `--quiet`, options from a YAML file (`--config`) with
flags winning, exit codes (0 done, 2 bad input or usage), one-line errors, nothing written on bad input, and a tiny
end-to-end run of the subcommands that other test files do not run through `main` (tune)."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
from embedtune.cli import build_parser, main

SUBCOMMANDS = sorted(next(a for a in build_parser()._actions if a.__class__.__name__ == '_SubParsersAction').choices)

def run_cli(*args):
    return subprocess.run([sys.executable, '-c', 'import sys; from embedtune.cli import main; sys.exit(main())', *args],
                          capture_output=True, text=True, env={**os.environ, 'HF_HUB_OFFLINE': '1'}, timeout=600)

def test_every_flow_has_a_subcommand():
    assert set(SUBCOMMANDS) == {'eval', 'train', 'tune', 'mine', 'analyze', 'adapt', 'index', 'search', 'report', 'export', 'train-retriever'}

@pytest.mark.parametrize('cmd', SUBCOMMANDS)
def test_help_has_examples_and_quiet(cmd, capsys):
    with pytest.raises(SystemExit) as e: main([cmd, '--help'])
    out = capsys.readouterr().out
    assert e.value.code == 0 and 'example' in out and f'embedtune {cmd} ' in out and '--quiet' in out

def test_unknown_subcommand_and_missing_argument(capsys):
    with pytest.raises(SystemExit) as e: main(['frobnicate'])
    assert e.value.code == 2 and 'invalid choice' in capsys.readouterr().err
    with pytest.raises(SystemExit) as e: main(['index'])
    assert e.value.code == 2

@pytest.mark.parametrize('argv', [['train', '/no/such.yaml'], ['tune', '/no/such.yaml'], ['adapt', '/no/such.yaml'], ['mine', '/no/such.yaml'],
                                  ['eval', '/no/such/folder'], ['analyze', '/no/such/folder'], ['search', '/no/such/index', 'q'],
                                  ['report', '/no/such.json', '--output', 'never.html']])
def test_missing_file_is_one_line_exit_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('embedtune: error:') and len(err.splitlines()) == 1 and '/no/such' in err, err
    assert list(tmp_path.iterdir()) == []                                  # nothing written

def test_bad_yaml_and_bad_values(tmp_path, capsys):
    bad = tmp_path/'bad.yaml'; bad.write_text('epochs: [1\n')
    assert main(['train', str(bad)]) == 2 and 'invalid YAML' in capsys.readouterr().err
    cfg = tmp_path/'c.yaml'; cfg.write_text('dataset: scifact\nepochs: -1\n')
    assert main(['train', str(cfg)]) == 2 and "key 'epochs' must be > 0" in capsys.readouterr().err
    assert main(['train', str(cfg), '--set', 'epochs']) == 2 and 'expected key=value' in capsys.readouterr().err
    with pytest.raises(SystemExit) as e: main(['search', 'x', 'q', '-k', 'many'])
    assert e.value.code == 2 and 'invalid int value' in capsys.readouterr().err

def test_options_from_yaml_flags_win(tiny_beir, tmp_path, capsys):
    opts = tmp_path/'eval.yaml'; out_yaml, out_flag = tmp_path/'from_yaml.json', tmp_path/'from_flag.json'
    opts.write_text(f'output: {out_yaml}\nsplit: test\nno-cache: true\n')
    assert main(['eval', str(tiny_beir), '--config', str(opts)]) == 0 and out_yaml.exists()
    assert main(['eval', str(tiny_beir), '--config', str(opts), '--output', str(out_flag)]) == 0 and out_flag.exists()
    assert json.loads(out_flag.read_text())['ndcg@10'] == json.loads(out_yaml.read_text())['ndcg@10']
    capsys.readouterr()
    opts.write_text('outptu: x.json\n')
    assert main(['eval', str(tiny_beir), '--config', str(opts)]) == 2 and "did you mean 'output'" in capsys.readouterr().err
    opts.write_text('dataset: scifact\n')
    assert main(['eval', str(tiny_beir), '--config', str(opts)]) == 2 and 'positional argument' in capsys.readouterr().err
    opts.write_text('n_boot: lots\n')
    assert main(['eval', str(tiny_beir), '--config', str(opts)]) == 2 and "key 'n_boot'" in capsys.readouterr().err

def test_quiet_drops_progress_but_keeps_results(tiny_beir, tmp_path):
    cfg = tmp_path/'t.yaml'; cfg.write_text(f"dataset: {tiny_beir}\nstsb: null\ntest_size: null\nmax_steps: 2\nbatch_size: 4\nsave_model: false\n")
    loud = run_cli('train', str(cfg), '--set', f"output_dir={tmp_path/'loud'}")
    quiet = run_cli('train', str(cfg), '--set', f"output_dir={tmp_path/'quiet'}", '--quiet')
    assert loud.returncode == quiet.returncode == 0, quiet.stderr[-2000:]
    assert '[embedtune]' in loud.stdout and '[embedtune]' not in quiet.stdout          # progress lines
    assert '%|' in loud.stderr and '%|' not in quiet.stderr                             # tqdm bars
    for out in (loud.stdout, quiet.stdout): assert 'ndcg@10' in out and 'wrote ' in out  # the result table and where it went

def test_tune_end_to_end_tiny(tmp_path, capsys):
    from embedtune.data import save_beir, synthetic_beir
    syn = save_beir(synthetic_beir(n_topics=10, docs_per_topic=10, queries_per_topic=10, doc_words=30, seed=1)[0], tmp_path/'syn')
    cfg = tmp_path/'tune.yaml'
    cfg.write_text(f"dataset: {syn}\nstsb: null\ntest_size: 0.25\nbatch_size: 16\nlr: 5.0e-5\nsample_size: 80\noutput_dir: {tmp_path/'run'}\n"
                   "tune:\n  rungs: [inbatch]\n  risk_queries: 10\n")
    assert main(['tune', str(cfg), '--check']) == 0 and 'check passed' in capsys.readouterr().out
    assert main(['tune', str(cfg), '--output', str(tmp_path/'r.json'), '--quiet']) == 0
    r = json.loads((tmp_path/'r.json').read_text())
    assert r['verdict'] in ('improved', 'kept_base', 'not_better') and [x['rung'] for x in r['tuning']['rungs']] == ['inbatch']

"""A run killed halfway (SIGKILL: no cleanup code runs) leaves the previous outputs exactly as they were; the next run
completes and replaces them. The kill lands at a known point: a wrapper makes one step of the run block and prints a
marker, and the test kills the process when the marker appears."""
import json, os, signal, subprocess, sys, time
from pathlib import Path

TINY = Path(__file__).resolve().parents[1]/'nbs'/'fixtures'/'tiny_beir'

# runs the CLI after patching `target` (module.attr) to print KILL-ME and block on its `block`-th call
WRAP = '''
import importlib, sys, time
mod, attr, block = sys.argv[1].rsplit('.', 1)[0], sys.argv[1].rsplit('.', 1)[1], int(sys.argv[2])
m = importlib.import_module(mod); orig = getattr(m, attr); calls = [0]
def slow(*a, **k):
    calls[0] += 1
    if calls[0] == block: print('KILL-ME', flush=True); time.sleep(600)
    return orig(*a, **k)
setattr(m, attr, slow)
from embedtune.cli import main
sys.exit(main(sys.argv[3:]))
'''

def run_and_kill(target, block, args, env):
    p = subprocess.Popen([sys.executable, '-c', WRAP, target, str(block), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, env={**os.environ, **env})
    t0 = time.time()
    for line in p.stdout:
        if 'KILL-ME' in line: break
        assert time.time() - t0 < 300, 'the run never reached the kill point'
    else: raise AssertionError(f'the run ended (rc {p.wait()}) before the kill point')
    p.send_signal(signal.SIGKILL); p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL

def snapshot(d:Path)->dict:
    "Every visible file under `d` and its bytes (temp files are hidden: their names start with a dot)."
    return {str(f.relative_to(d)): f.read_bytes() for f in sorted(d.rglob('*')) if f.is_file() and not any(p.startswith('.') for p in f.relative_to(d).parts)}

def test_train_killed_during_final_evaluation_keeps_previous_outputs(tmp_path):
    run = tmp_path/'run'
    cfg = tmp_path/'c.yaml'
    cfg.write_text(f"dataset: {TINY}\nstsb: null\ntest_size: null\nepochs: 1\nbatch_size: 2\nsave_model: true\noutput_dir: {run}\n")
    env = {'EMBEDTUNE_CACHE': str(tmp_path/'cache'), 'HF_HUB_OFFLINE': '1'}
    r = subprocess.run([sys.executable, '-c', 'import sys; from embedtune.cli import main; sys.exit(main())', 'train', str(cfg)],
                       capture_output=True, text=True, env={**os.environ, **env}, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    before = snapshot(run)
    assert 'final/model.safetensors' in before and 'result.json' in before
    # second run, killed while it evaluates the trained model (evaluate_beir's 2nd call): the new model folder is complete
    # by then, but not yet in place
    run_and_kill('embedtune.train.evaluate_beir', 2, ['train', str(cfg), '--set', 'lr=1e-3', '--set', 'seed=3'], env)
    assert snapshot(run) == before
    assert any(p.name.startswith('.final.') for p in run.iterdir())      # the killed run's temp folder, never renamed in
    # a third run completes: it clears the stale temp folder and replaces the outputs
    r = subprocess.run([sys.executable, '-c', 'import sys; from embedtune.cli import main; sys.exit(main())', 'train', str(cfg),
                        '--set', 'lr=1e-3', '--set', 'seed=3'], capture_output=True, text=True, env={**os.environ, **env}, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    after = snapshot(run)
    assert after['final/model.safetensors'] != before['final/model.safetensors'] and after['result.json'] != before['result.json']
    assert json.loads(after['result.json'])['manifest']['config']['lr'] == 1e-3
    assert not any(p.name.startswith('.final') for p in run.iterdir())

def test_mine_killed_while_writing_keeps_previous_outputs(tmp_path):
    out = tmp_path/'out'
    cfg = tmp_path/'m.yaml'
    cfg.write_text(f"dataset: {TINY}\nsource: bm25\ndup_threshold: null\nnum_negatives: 1\nrange_max: 4\n"
                   f"output: {out}/neg.jsonl\naudit: {out}/audit.csv\n")
    env = {'EMBEDTUNE_CACHE': str(tmp_path/'cache'), 'HF_HUB_OFFLINE': '1'}
    r = subprocess.run([sys.executable, '-c', 'import sys; from embedtune.cli import main; sys.exit(main())', 'mine', str(cfg)],
                       capture_output=True, text=True, env={**os.environ, **env}, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    before = snapshot(out)
    assert set(before) == {'neg.jsonl', 'audit.csv', 'neg.summary.json'}
    # killed after the dataset is written (to its temp file) and while the summary is being written
    run_and_kill('embedtune.mining.write_json', 1, ['mine', str(cfg), '--num-negatives', '2'], env)
    assert snapshot(out) == before

"The same config under torchrun: 2 CPU processes (gloo), a tiny slice, one saved model, one result."
import json, os, socket, subprocess, sys
from pathlib import Path

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def test_torchrun_two_processes(tiny_beir, tmp_path):
    pairs = tmp_path/'pairs.jsonl'     # 8 distinct pairs: 4 batches of 2
    pairs.write_text(''.join(json.dumps({'anchor': f'question number {i}', 'positive': f'answer text {i}'}) + '\n' for i in range(8)))
    cfg = tmp_path/'ddp.yaml'
    cfg.write_text(f"dataset: {tiny_beir}\nstsb: null\ntest_size: null\nepochs: 1\nbatch_size: 2\nlr: 2.0e-5\ntrain_file: {pairs}\n"
                   f"output_dir: {tmp_path/'run'}\ntask: ddp_smoke\n")
    script = Path(sys.executable).parent/'embedtune'
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'EMBEDTUNE_CACHE': str(tmp_path/'cache'), 'HF_HUB_OFFLINE': '1'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_addr', '127.0.0.1',
                        '--master_port', str(_free_port()), str(script), 'train', str(cfg)],
                       capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    res = json.loads((tmp_path/'run'/'result.json').read_text())
    assert res['world_size'] == 2 and res['task'] == 'ddp_smoke'
    # the data was sharded: 8 pairs in batches of 2 are 4 steps for one process; each of the 2 ranks ran half of them,
    # in lockstep (DDP all-reduces every step, so rank 1 ran as many as rank 0 reports). Before `use_cpu` was set on a
    # CPU, transformers did not enter DDP under torchrun and each process trained on everything: 4 steps here.
    st = res['stages'][0]
    assert (st['rows'], st['batch_size'], st['steps']) == (8, 2, 2), st
    models = sorted(p.relative_to(tmp_path/'run') for p in (tmp_path/'run').rglob('model.safetensors'))
    assert models == [Path('final/model.safetensors')], models   # exactly one model saved, by rank 0
    assert not [p for p in (tmp_path/'run').iterdir() if p.name.startswith('.')]   # no temp folder left by either rank
    assert r.stdout.count('wrote ') == 1          # only rank 0 reports and writes

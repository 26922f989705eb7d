"""The evaluation suite on real data: every BEIR-format set of the study (SciFact; WikiQA as BEIR, built by
`transfer.dataset_path`) plus STS-B × {base all-MiniLM-L6-v2, the fine-tuned models on disk (the WikiQA `tune` winner;
the SciFact `tune` winner once benchmarks/transfer.py has written it), a LoRA model (WikiQA, trained here when missing:
`embedtune train configs/default.yaml` with a LoRA block), the query-side adapters of benchmarks/adapter_scifact.py
(SciFact; WikiQA, whose adapter lost on dev and is shown as such), and the concat and z-normalised mean ensembles of the
base and the WikiQA model}, with bootstrap intervals and paired tests vs the base; the MTEB-layout files; the HTML
report (with the LoRA seed runs of results/seeds/ read back, and the training curves of the default-recipe WikiQA runs);
its screenshot in headless Chromium.

Each model was trained on one data set and is scored on all of them: the diagonal (a model on its own data set's test
split) is the in-domain result, the rest shows what the training did elsewhere.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false python benchmarks/eval_suite.py [--report-only]

Writes results/eval_suite.json, results/mteb/, results/report.html, results/report.png.
"""
import argparse, glob, shutil, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from transfer import dataset_path

BEST = 'runs/transfer/wikiqa_tune_s7/final'   # best fine-tuned model on disk (results/transfer.json: tune, seed 7, WikiQA nDCG@10 0.852)
LORA = 'runs/lora_wikiqa_s42'
# name -> model folder (first existing); a folder ending in final-not-better holds a model that lost on dev: its name says so
# ft-scifact: the SciFact `tune` winner of whichever seed is on disk (every seed improved on dev: results/transfer.json)
MODELS = {'ft-wikiqa': [BEST], 'ft-scifact': [f'runs/transfer/scifact_tune_s{s}/final' for s in (42, 7, 1)],
          'lora-wikiqa': [f'{LORA}/final', f'{LORA}/final-not-better'],
          'adapter-scifact': ['runs/adapter_scifact_s42/final', 'runs/adapter_scifact_s42/final-not-better'],
          'adapter-wikiqa': ['runs/adapter_wikiqa_s42/final', 'runs/adapter_wikiqa_s42/final-not-better']}

def ensure_lora():
    "Train the LoRA model on WikiQA retrieval (configs/default.yaml + a LoRA block, seed 42) unless it is on disk (~3 min)."
    if any(Path(f).exists() for f in MODELS['lora-wikiqa']): return
    from embedtune.cli import main as cli
    rc = cli(['train', 'configs/default.yaml', '--set', f'dataset={dataset_path("wikiqa")}', '--set', 'lora={r: 32, alpha: 64, dropout: 0.05}',
              '--set', 'lr=3.0e-4', '--set', 'seed=42', '--set', 'task=lora_wikiqa', '--set', f'output_dir={LORA}', '--output', f'{LORA}/result.json'])
    if rc: sys.exit(rc)

def systems(best:str)->tuple[list, list]:
    "(specs, names) of the suite: base, every model on disk, the two ensembles of base and `best`."
    specs, names = ['base'], ['base']
    for name, folders in MODELS.items():
        f = next((f for f in folders if Path(f).exists()), None)
        if f is None: print(f'{name}: no model on disk ({folders[0]}), left out'); continue
        specs.append(f); names.append(name + ('-lost-on-dev' if f.endswith('not-better') else ''))
    return specs + [f'concat:base+{best}', f'zmean:base+{best}'], names + ['concat', 'zmean']

def main():
    p = argparse.ArgumentParser(); p.add_argument('--model', default=BEST); p.add_argument('--n-boot', type=int, default=2000)
    p.add_argument('--datasets', nargs='+', default=['scifact', 'wikiqa', 'stsb'], help='data sets (wikiqa: built as BEIR by transfer.dataset_path)')
    p.add_argument('--report-only', action='store_true', help='reuse results/eval_suite.json: only the report and its screenshot')
    a = p.parse_args()
    from embedtune.report import main as et
    out = Path('results'); mteb = out/'mteb'
    rc = 0
    if not a.report_only:
        if mteb.exists(): shutil.rmtree(mteb)
        ensure_lora(); specs, names = systems(a.model)
        rc = et(['eval', *map(dataset_path, a.datasets), '--model', *specs, '--name', *names,
                 '--n-boot', str(a.n_boot), '--output', str(out/'eval_suite.json'), '--mteb-dir', str(mteb)])
    if rc: sys.exit(rc)
    seeds = sorted(glob.glob('results/seeds/lora_s*.json'))
    rc = et(['report', str(out/'eval_suite.json'), *seeds, '--output', str(out/'report.html'), '--runs', *sorted(glob.glob('runs/transfer/wikiqa_default_s*')),
             '--title', 'embedtune: base vs fine-tuned, LoRA, adapters and ensembles (SciFact, WikiQA, STS-B) + LoRA seeds on SciFact'])
    if rc: sys.exit(rc)
    from embedtune.report import check_in_browser, find_browser
    if find_browser() is None: print('no browser: results/report.png not updated'); return
    chk = check_in_browser(out/'report.html', out/'report.png', full_page=False)
    print(f"browser: {chk}")
    if chk['console_errors'] or chk['page_errors'] or chk['images_decoded'] != chk['images']: sys.exit(f'the report does not render cleanly: {chk}')

if __name__ == '__main__': main()

"""The evaluation suite on real data: every BEIR-format set of the study (SciFact; WikiQA as BEIR, built by
`transfer.dataset_path`) plus STS-B × {base all-MiniLM-L6-v2, the best fine-tuned model on disk, their concat and
z-normalised mean ensembles}, with bootstrap intervals and paired tests vs the base; the MTEB-layout files; the HTML
report (with the LoRA seed runs of results/seeds/ read back, and the training curves of the default-recipe WikiQA runs);
its screenshot in headless Chromium.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false python benchmarks/eval_suite.py [--report-only]

Writes results/eval_suite.json, results/mteb/, results/report.html, results/report.png. LoRA and adapter *models* are
not in the suite: no such model folder exists under runs/ (the LoRA runs of results/seeds/ kept only their results).
"""
import argparse, glob, shutil, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from transfer import dataset_path

BEST = 'runs/transfer/wikiqa_tune_s7/final'   # best fine-tuned model on disk (results/transfer.json: tune, seed 7, WikiQA nDCG@10 0.852)

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
        rc = et(['eval', *map(dataset_path, a.datasets), '--model', 'base', a.model, f'concat:base+{a.model}', f'zmean:base+{a.model}',
                 '--name', 'base', 'fine-tuned', 'concat', 'zmean', '--n-boot', str(a.n_boot), '--output', str(out/'eval_suite.json'), '--mteb-dir', str(mteb)])
    if rc: sys.exit(rc)
    seeds = sorted(glob.glob('results/seeds/lora_s*.json'))
    rc = et(['report', str(out/'eval_suite.json'), *seeds, '--output', str(out/'report.html'), '--runs', *sorted(glob.glob('runs/transfer/wikiqa_default_s*')),
             '--title', 'embedtune: base vs fine-tuned vs ensembles (SciFact, WikiQA, STS-B) + LoRA seeds on SciFact'])
    if rc: sys.exit(rc)
    from embedtune.report import check_in_browser, find_browser
    if find_browser() is None: print('no browser: results/report.png not updated'); return
    chk = check_in_browser(out/'report.html', out/'report.png', full_page=False)
    print(f"browser: {chk}")
    if chk['console_errors'] or chk['page_errors'] or chk['images_decoded'] != chk['images']: sys.exit(f'the report does not render cleanly: {chk}')

if __name__ == '__main__': main()

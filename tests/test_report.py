"`embedtune eval DIR... --model M...` (suite, MTEB files) and `embedtune report` (HTML, checked in a real browser): round trips and bad input."
import json, subprocess, sys
from pathlib import Path
import pytest
from embedtune.report import check_in_browser, find_browser, load_results, main

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope='module')
def suite_file(tmp_path_factory):
    "A suite of base and a concat ensemble on the tiny BEIR and STS fixtures, with its MTEB files."
    import shutil
    d = tmp_path_factory.mktemp('suite'); sts = d/'sts'; sts.mkdir(); shutil.copy(ROOT/'nbs'/'fixtures'/'tiny_sts.tsv', sts/'test.tsv')
    rc = main(['eval', str(ROOT/'nbs'/'fixtures'/'tiny_beir'), str(sts), '--model', 'base', 'concat:base+base', '--name', 'base', 'ens',
               '--n-boot', '200', '--output', str(d/'suite.json'), '--mteb-dir', str(d/'mteb')])
    assert rc == 0
    return d/'suite.json'

def test_suite_keys(suite_file):
    s = json.loads(suite_file.read_text())
    assert s['task'] == 'eval_suite' and [m['name'] for m in s['models']] == ['base', 'ens'] and 'manifest' in s
    r = s['results']['tiny_beir']['base']
    for k in ('ndcg@1', 'ndcg@3', 'ndcg@5', 'ndcg@10', 'ndcg@100', 'mrr@10', 'recall@10', 'recall@100', 'map@100', 'hit@1', 'hit@5', 'hit@10',
              'triplet_accuracy', 'cos_pos'):
        assert k in r and k in r['ci'] and r['ci'][k][0] <= r['ci'][k][1], k
    assert {'spearman', 'pearson'} <= set(s['results']['sts']['ens']['ci'])
    c = s['comparisons']['tiny_beir'][0]
    assert (c['a'], c['b']) == ('base', 'ens') and abs(c['diff']) < 1e-6 and {'low', 'high', 'p_value', 'p_perm', 'wins', 'ties', 'losses'} <= set(c)

def test_mteb_layout(suite_file):
    files = sorted((suite_file.parent/'mteb').rglob('*.json'))
    base = [f for f in files if f.parts[-3] == 'sentence-transformers__all-MiniLM-L6-v2']
    assert {f.name for f in base} == {'tiny_beir.json', 'sts.json', 'model_meta.json'}
    obj = json.loads(next(f for f in base if f.name == 'tiny_beir.json').read_text())
    assert {'task_name', 'scores', 'evaluation_time', 'mteb_version', 'dataset_revision'} <= set(obj)
    row = obj['scores']['test'][0]
    assert row['hf_subset'] == 'default' and row['languages'] == ['eng-Latn'] and row['main_score'] == row['ndcg_at_10']
    assert all(0 <= row[k] <= 1 for k in ('ndcg_at_10', 'recall_at_100', 'map_at_100', 'mrr_at_10'))   # fractions, not percents
    assert json.loads(next(f for f in base if f.name == 'sts.json').read_text())['scores']['test'][0]['main_score'] <= 1
    meta = json.loads(next(f for f in base if f.name == 'model_meta.json').read_text())
    assert meta['name'] == 'sentence-transformers/all-MiniLM-L6-v2' and meta['revision'] == base[0].parts[-2]

def test_single_eval_keeps_its_json(tmp_path, tiny_beir):
    out = tmp_path/'r.json'
    assert main(['eval', str(tiny_beir), '--output', str(out)]) == 0
    r = json.loads(out.read_text())
    assert r['format'] == 'beir' and {'ndcg@10', 'recall@100', 'n_queries', 'n_docs', 'model', 'split', 'seconds', 'manifest'} <= set(r)

def test_report_reads_old_results(tmp_path):
    seeds = sorted(str(p) for p in (ROOT/'results'/'seeds').glob('lora_s*.json'))
    L = load_results([str(ROOT/'results'/'baseline_scifact.json'), *seeds])
    assert {e['dataset'] for e in L['entries']} == {'scifact'} and len(L['entries']) == 1 + 2 * len(seeds)
    assert main(['report', str(ROOT/'results'/'baseline_scifact.json'), *seeds, '--output', str(tmp_path/'r.html')]) == 0
    page = (tmp_path/'r.html').read_text()
    assert 'Several seeds' in page and 'Comparisons' in page and page.count('<img') >= 2

def _bad(capsys, argv, contains, out):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and contains in err, err
    assert not Path(out).exists()

def test_bad_input(tmp_path, capsys, tiny_beir, suite_file):
    out = str(tmp_path/'x.html'); other = tmp_path/'other.json'
    other.write_text(json.dumps(dict(dataset='wikiqa', baseline={'ndcg@10': .5}, result={'ndcg@10': .6}, per_query_ndcg10={})))
    nometric = tmp_path/'nometric.json'; nometric.write_text(json.dumps({'format': 'beir', 'mrr@10': .5}))
    _bad(capsys, ['report', str(ROOT/'results'/'seeds'/'lora_s1.json'), str(other), '--output', out], 'different data sets', out)
    _bad(capsys, ['report', str(nometric), '--output', out], 'no metrics', out)
    _bad(capsys, ['report', str(suite_file), '--metric', 'ndcg@7', '--output', out], "missing metric 'ndcg@7'", out)
    _bad(capsys, ['report', str(suite_file), str(other), '--name', 'a', '--output', out], '1 names for 2 result files', out)
    j = str(tmp_path/'x.json')
    _bad(capsys, ['eval', str(tiny_beir), '--model', 'base', 'base', '--name', 'a', '--output', j], '--name given 1 times for 2 models', j)
    _bad(capsys, ['eval', str(tiny_beir), str(tmp_path), '--model', 'base', 'base', '--name', 'a', 'b', '--output', j], str(tmp_path), j)

def test_bad_input_subprocess(tmp_path):
    "Once through a fresh process: exit 2, one line on stderr, nothing written."
    code = "import sys; from embedtune.report import main; sys.exit(main(sys.argv[1:]))"
    r = subprocess.run([sys.executable, '-c', code, 'report', str(tmp_path/'missing.json'), '--output', str(tmp_path/'r.html')], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [f"embedtune: error: {tmp_path/'missing.json'}: result file not found"]
    assert not (tmp_path/'r.html').exists()

def test_report_in_browser(tmp_path, suite_file):
    "The report loads in headless Chromium without console errors, every image decodes, the tables are there; screenshot saved."
    exe = find_browser()
    if exe is None: pytest.skip('no browser: pip install playwright && playwright install chromium (or apt-get install chromium)')
    page = tmp_path/'report.html'
    assert main(['report', str(suite_file), '--output', str(page)]) == 0
    chk = check_in_browser(page, tmp_path/'report.png', exe)
    assert chk['console_errors'] == [] and chk['page_errors'] == []
    assert chk['images'] >= 4 and chk['images_decoded'] == chk['images'] and chk['tables'] >= 4
    assert (tmp_path/'report.png').stat().st_size > 10_000

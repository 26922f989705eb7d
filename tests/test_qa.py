"""`train_retriever` / `embedtune train-retriever` (issue 18, QA-pairs flow) end to end on a tiny QA file: the output
folder (model, index that loads and answers, result.json with before/after, report.html), each negative strategy, bad
input (message asserted, nothing written), nothing half-written when a run fails, the command line."""
import argparse, json, subprocess, sys
from pathlib import Path
import pytest
from embedtune.core import ConfigError
from embedtune.data import DataError
from embedtune.qa import HELP, STRATEGIES, add_train_retriever_args, cmd_train_retriever, train_retriever

ROOT = Path(__file__).resolve().parents[1]
TINY_QA = ROOT/'nbs'/'fixtures'/'tiny_qa.jsonl'
FAST = dict(batch_size=8, max_steps=2, min_dev_queries=5, index='flat', log=None)   # 30 questions: 19 train, 5 dev, 6 test

def parser():
    return add_train_retriever_args(argparse.ArgumentParser(prog='embedtune train-retriever'))

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp('qa')/'out'
    return out, train_retriever(TINY_QA, out, **FAST)

def test_output_folder(run):
    out, res = run
    assert sorted(p.name for p in out.iterdir()) == ['data', 'index', 'model', 'report.html', 'result.json', 'train']
    assert (out/'model'/'config.json').exists() and (out/'model'/'model.safetensors').exists()
    assert not (out/'train'/'checkpoints').exists()                                  # checkpoints removed, not shipped
    assert not list(out.parent.glob('.out*'))                                        # no temp folder left
    saved = json.loads((out/'result.json').read_text())
    assert saved['task'] == 'train_retriever' and saved['verdict'] in ('improved', 'kept_base') and saved['summary'] == res['summary']
    assert {k: saved['split'][k] for k in ('questions', 'train', 'dev', 'test', 'documents')} == dict(questions=30, train=19, dev=5, test=6, documents=30)
    for m in ('hit@1', 'hit@5', 'hit@10', 'mrr@10', 'ndcg@10'):
        s = saved['summary'][m]; assert 0 <= s['before'] <= 1 and 0 <= s['after'] <= 1 and s['before'] == saved['baseline'][m]
    sig = saved['significance']; assert sig['low'] <= sig['diff'] <= sig['high'] and sig['n_queries'] == 6
    assert saved['manifest']['seed'] == 42 and str(TINY_QA) in saved['manifest']['data_sha256']
    assert saved['config']['strategy'] == 'bm25' and saved['mining']['source'] == 'bm25'
    assert saved['model_dir'] == 'model' and saved['index']['path'] == 'index'
    page = (out/'report.html').read_text()
    assert page.startswith('<!DOCTYPE html>') and 'train_retriever: tiny_qa.jsonl' in page and saved['verdict'] in page

def test_index_loads_and_answers(run):
    from embedtune.retriever import Retriever
    out, res = run
    r = Retriever.load(out/'index')
    assert len(r) == 30 and r.model.embedtune_name == str(out.resolve()/'model')
    hit = r.retrieve('what do koalas eat', k=3)[0]
    assert hit.metadata['text'] == 'Koalas feed on eucalyptus leaves.'
    assert res['index']['test']['hit@10'] == res['result']['hit@10']                  # flat index = exact evaluation

def test_split_is_by_question_and_test_held_out(run):
    out, res = run
    from embedtune.data import load_beir
    d = load_beir(out/'data'/'beir')
    assert not set(d.qrels['train']) & set(d.qrels['test'])
    test_q = {d.queries[q] for q in d.qrels['test']}
    mined = [json.loads(l) for l in (out/'train'/'mining_audit.jsonl').read_text().splitlines()]
    assert not {r['anchor'] for r in mined} & test_q                                 # nothing mined for a test question

@pytest.mark.parametrize('strategy', list(STRATEGIES))
def test_each_strategy_runs(tmp_path, strategy):
    res = train_retriever(TINY_QA, tmp_path/'o', strategy=strategy, **FAST)
    assert res['config']['strategy'] == strategy and res['stages'][0]['rows'] >= 19 and res['stages'][0]['columns'] == ['anchor', 'positive', 'negative']
    assert res['mining']['source'] == STRATEGIES[strategy]['source'] and res['mining']['dropped'].get('known_positive', 0) >= 0
    if strategy == 'random': assert res['mining']['filled'] == res['mining']['n_rows']   # every negative drawn at random

def test_contrastive_loss(tmp_path):
    res = train_retriever(TINY_QA, tmp_path/'o', loss='contrastive', strategy='semi-hard', **FAST)
    assert res['stages'][0]['loss'] == 'contrastive' and res['stages'][0]['columns'] == ['anchor', 'positive', 'label']

def test_contexts_are_the_documents(tmp_path):
    recs = [{'question': f'question {i} about topic {i % 6}', 'answer': f'answer {i}', 'context': f'context passage on topic {i % 6}'} for i in range(36)]
    f = tmp_path/'ctx.jsonl'; f.write_text(''.join(json.dumps(r) + '\n' for r in recs))
    res = train_retriever(f, tmp_path/'o', **FAST)
    assert res['split']['documents'] == 6 and res['split']['records_with_context'] == 36

@pytest.mark.parametrize('content, kw, expect', [
    (None, {}, 'missing.jsonl: file not found'),
    ('', {}, 'file is empty'),
    ('{"question": "q", "answer": "a"}\n{"answer": "no question"}\n', {}, ":2: field 'question' is missing"),
    ('{"question": "q"}\n', {}, ":1: field 'answer' is missing"),
    ('{"question": "q", "answer": 7}\n', {}, ":1: field 'answer': expected a non-empty string, got 7"),
    ('{"question": "q", "answer": "a"\n', {}, ':1: malformed JSON'),
    ('ok', dict(strategy='hardest'), "strategy must be one of ['bm25', 'semi-hard', 'random'], got 'hardest'"),
    ('ok', dict(loss='magic'), "loss must be one of"),
    ('ok', dict(index='annoy'), "index must be one of"),
    ('ok', dict(test_size=0), 'test_size must be a share in (0, 1)'),
    ('ok', dict(dev_size=1.2), 'dev_size must be a share in (0, 1)'),
    ('ok', dict(max_stepz=2), "unknown key 'max_stepz'; did you mean 'max_steps'?"),
    ('ok', dict(dataset='scifact'), "key 'dataset' is set by train_retriever"),
    ('ok', dict(learning_rate=1e-3), "key 'learning_rate': give it as the argument 'lr'"),
    ('ok', dict(model_name='/no/such/model'), '/no/such/model: no such model folder'),
])
def test_bad_input_writes_nothing(tmp_path, content, kw, expect):
    f = tmp_path/'missing.jsonl' if content is None else tmp_path/'qa.jsonl'
    if content == 'ok': f = TINY_QA
    elif content is not None: f.write_text(content)
    with pytest.raises((DataError, ConfigError, FileNotFoundError), match=None) as e: train_retriever(f, tmp_path/'out', **{**FAST, **kw})
    assert expect in str(e.value) and '\n' not in str(e.value)
    assert not (tmp_path/'out').exists() and not list(tmp_path.glob('.out*'))

def test_failure_inside_the_run_leaves_nothing(tmp_path, run):
    "The dev split (5 questions) is below min_dev_queries: `train` stops after the data were built in the temp folder."
    with pytest.raises(ConfigError, match='the dev split has 5 queries'): train_retriever(TINY_QA, tmp_path/'out', log=None)
    assert not (tmp_path/'out').exists() and not list(tmp_path.glob('.out*'))
    out, res = run                                                                   # an earlier output survives a failed re-run
    before = (out/'result.json').read_text()
    with pytest.raises(ConfigError): train_retriever(TINY_QA, out, log=None)
    assert (out/'result.json').read_text() == before and (out/'index').is_dir()

def test_refuses_a_foreign_folder(tmp_path):
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'notes.txt').write_text('keep me')
    with pytest.raises(ConfigError, match='is not a train_retriever output'): train_retriever(TINY_QA, tmp_path/'mine', **FAST)
    assert (tmp_path/'mine'/'notes.txt').read_text() == 'keep me'

def test_cli_help():
    h = parser().format_help()
    assert HELP in h and 'example:' in h and 'embedtune train-retriever qa_pairs.jsonl --output-dir' in h
    for flag in ('--output-dir', '--model-name', '--epochs', '--batch-size', '--strategy', '--loss', '--seed', '--config', '--set'): assert flag in h

def test_cli_run_config_flags_set(tmp_path, capsys):
    cfg = tmp_path/'qa.yaml'; cfg.write_text('strategy: semi-hard\nmax_steps: 1\nmin_dev_queries: 5\nbatch_size: 4\nmodel: null\n')
    a = parser().parse_args([str(TINY_QA), '--output-dir', str(tmp_path/'o'), '--config', str(cfg), '--batch-size', '8', '--index', 'flat',
                             '--set', 'strategy=random'])
    assert cmd_train_retriever(a) == 0
    assert f"wrote {tmp_path/'o'}: model/, index/, result.json, report.html" in capsys.readouterr().out
    c = json.loads((tmp_path/'o'/'result.json').read_text())['config']
    assert (c['strategy'], c['batch_size'], c['max_steps'], c['index']) == ('random', 8, 1, 'flat')   # --set > flags > --config
    with pytest.raises(ConfigError, match="--set 'x': expected key=value"): cmd_train_retriever(parser().parse_args([str(TINY_QA), '--output-dir', str(tmp_path/'p'), '--set', 'x']))
    with pytest.raises(ConfigError, match="setting 'output_dir' cannot come from --config or --set"):
        cmd_train_retriever(parser().parse_args([str(TINY_QA), '--output-dir', str(tmp_path/'p'), '--set', 'output_dir=x']))
    assert not (tmp_path/'p').exists()

def _wired()->bool:
    from embedtune.cli import build_parser
    return 'train-retriever' in build_parser().format_help()

def test_cli_subprocess(tmp_path):
    "Through `embedtune.cli.main` in a fresh process, once the command is wired into the CLI (nbs/15_cli)."
    if not _wired(): pytest.skip('train-retriever is not wired into embedtune.cli yet')
    code = 'import sys; from embedtune.cli import main; sys.exit(main())'
    r = subprocess.run([sys.executable, '-c', code, 'train-retriever', '--help'], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and 'example' in r.stdout and '--strategy' in r.stdout
    r = subprocess.run([sys.executable, '-c', code, 'train-retriever', str(tmp_path/'none.jsonl'), '--output-dir', str(tmp_path/'o')], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.strip().count('\n') == 0 and 'none.jsonl: file not found' in r.stderr
    r = subprocess.run([sys.executable, '-c', code, 'train-retriever', str(TINY_QA), '--output-dir', str(tmp_path/'o'), '--index', 'flat',
                        '--batch-size', '8', '--set', 'max_steps=1', '--set', 'min_dev_queries=5'], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((tmp_path/'o'/'result.json').read_text())['task'] == 'train_retriever'

def test_more_documents(tmp_path):
    docs = tmp_path/'docs.jsonl'
    docs.write_text(''.join(json.dumps(d) + '\n' for d in [{'id': 'k', 'text': 'Koalas feed on eucalyptus leaves.'},      # a copy of an answer
                                                           {'id': 'o', 'title': 'Owls', 'text': 'Owls hunt at night.'}]))
    res = train_retriever(TINY_QA, tmp_path/'o', documents=docs, **FAST)
    assert res['split']['documents'] == 31 and res['split']['documents_from_file'] == 2 and str(docs) in res['manifest']['data_sha256']
    from embedtune.retriever import Retriever
    hit = Retriever.load(tmp_path/'o'/'index').retrieve('which bird hunts at night', k=1)[0]
    assert (hit.metadata['doc_id'], hit.metadata['title']) == ('o', 'Owls')          # the file's id kept as metadata
    with pytest.raises(DataError, match=r'bad.jsonl:1'):
        (tmp_path/'bad.jsonl').write_text('{"title": "no text"}\n'); train_retriever(TINY_QA, tmp_path/'p', documents=tmp_path/'bad.jsonl', **FAST)
    assert not (tmp_path/'p').exists()

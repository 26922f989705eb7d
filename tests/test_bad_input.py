"Every bad input ends in a one-line error naming file/line/field, exit code 2, and nothing written."
import pytest
from conftest import write_beir
from embedtune.cli import main

C = '{"_id": "d1", "title": "T", "text": "doc one"}\n{"_id": "d2", "title": "", "text": "doc two"}\n'
Q = '{"_id": "q1", "text": "query one"}\n'
QR = 'query-id\tcorpus-id\tscore\nq1\td1\t1\n'

BEIR_CASES = {
    'malformed_json':   (dict(corpus='{"_id": "d1", "text": "x"}\n{"_id": "d2", "text": \n'), 'corpus.jsonl:2: malformed JSON'),
    'missing_field':    (dict(queries='{"_id": "q1"}\n'), "queries.jsonl:1: field 'text' is missing"),
    'wrong_type':       (dict(corpus='{"_id": "d1", "text": 5}\n'), "corpus.jsonl:1: field 'text': expected a string"),
    'empty_corpus':     (dict(corpus=''), 'corpus.jsonl: file is empty'),
    'duplicate_id':     (dict(corpus=C + '{"_id": "d1", "text": "again"}\n'), "corpus.jsonl:3: field '_id': duplicate id 'd1'"),
    'non_utf8':         (dict(corpus=b'{"_id": "d1", "text": "ok"}\n{"_id": "d2", "text": "caf\xe9"}\n'), 'corpus.jsonl:2: not valid UTF-8'),
    'unknown_query':    (dict(qrels='q9\td1\t1\n'), "test.tsv:1: field 'query-id': 'q9' is not in queries.jsonl"),
    'unknown_doc':      (dict(qrels=QR + 'q1\td9\t1\n'), "test.tsv:3: field 'corpus-id': 'd9' (query 'q1') is not in corpus.jsonl"),
    'non_numeric_score':(dict(qrels='query-id\tcorpus-id\tscore\nq1\td1\tyes\n'), "test.tsv:2: field 'score': expected an integer"),
    'qrels_fields':     (dict(qrels='q1 d1 1\n'), 'test.tsv:1: expected 3 tab-separated fields'),
    'not_json_object':  (dict(queries='["q1", "text"]\n'), 'queries.jsonl:1: expected a JSON object'),
}

@pytest.mark.parametrize('case', sorted(BEIR_CASES))
def test_beir_bad_input(case, tmp_path, capsys):
    files, msg = BEIR_CASES[case]
    d = write_beir(tmp_path/'data', files.get('corpus', C), files.get('queries', Q), files.get('qrels', QR))
    out = tmp_path/'out'/'metrics.json'
    assert main(['eval', str(d), '--output', str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith('embedtune: error: ') and err.count('\n') == 1, err
    assert msg in err, err
    assert not out.exists() and not out.parent.exists()

STS_CASES = {
    'sts_score':  ('sentence1\tsentence2\tscore\na\tb\t4.0\nc\td\tfive\n', "test.tsv:3: field 'score': expected a number"),
    'sts_header': ('s1\ts2\tlabel\na\tb\t1\n', "test.tsv:1: expected header 'sentence1<TAB>sentence2<TAB>score'"),
    'sts_fields': ('sentence1\tsentence2\tscore\na\tb\n', 'test.tsv:2: expected 3 tab-separated fields, got 2'),
    'sts_empty':  ('sentence1\tsentence2\tscore\n', 'no rows after the header'),
}

@pytest.mark.parametrize('case', sorted(STS_CASES))
def test_sts_bad_input(case, tmp_path, capsys):
    text, msg = STS_CASES[case]
    d = tmp_path/'sts'; d.mkdir(); (d/'test.tsv').write_text(text)
    out = tmp_path/'m.json'
    assert main(['eval', str(d), '--output', str(out)]) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count('\n') == 1, err
    assert not out.exists()

def test_not_a_dataset_folder(tmp_path, capsys):
    assert main(['eval', str(tmp_path), '--output', str(tmp_path/'m.json')]) == 2
    assert 'neither a BEIR folder' in capsys.readouterr().err
    assert not (tmp_path/'m.json').exists()

def test_missing_split(tiny_beir, tmp_path, capsys):
    assert main(['eval', str(tiny_beir), '--split', 'dev', '--output', str(tmp_path/'m.json')]) == 2
    assert "qrels/dev.tsv: file not found" in capsys.readouterr().err
    assert not (tmp_path/'m.json').exists()

def test_model_not_local(tiny_beir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    assert main(['eval', str(tiny_beir), '--model', 'nobody/not-a-model-xyz', '--output', str(tmp_path/'m.json')]) == 2
    err = capsys.readouterr().err
    assert 'not a local folder and not in the Hugging Face cache' in err and 'HF_HUB_OFFLINE=1' in err and err.count('\n') == 1
    assert not (tmp_path/'m.json').exists()

def test_model_folder_without_model(tiny_beir, tmp_path, capsys):
    (tmp_path/'empty_model').mkdir()
    assert main(['eval', str(tiny_beir), '--model', str(tmp_path/'empty_model')]) == 2
    assert 'not a model folder; expected modules.json or config.json' in capsys.readouterr().err

CONFIG_CASES = {
    'unknown_key': ('epochs: 1\nlearnin_rate: 0.1\n', "unknown key 'learnin_rate'; did you mean 'learning_rate'?"),
    'alias_twice': ('lr: 0.1\nlearning_rate: 0.2\n', "key 'learning_rate' and key 'lr' name the same setting"),
    'extends_missing': ('extends: nowhere.yaml\n', "key 'extends': no such file"),
    'bad_type':    ('batch_size: large\n', "key 'batch_size': expected int, got 'large'"),
    'bad_range':   ('lr: -1\n', "key 'lr' must be > 0"),
    'bad_yaml':    ('epochs: [1\n', 'invalid YAML'),
    'not_mapping': ('- a\n- b\n', 'expected a mapping'),
    'missing_train_file': ('train_file: /nowhere/pairs.jsonl\n', "key 'train_file': no such file '/nowhere/pairs.jsonl'"),
    'stage_missing_file': ('stages:\n  - epochs: 1\n  - train_file: /nowhere/p.jsonl\n', "stage 2: key 'train_file': no such file"),
    'stage_bad_key':      ('stages:\n  - model: other\n', "stage 1: key 'model' cannot change per stage"),
}

@pytest.mark.parametrize('case', sorted(CONFIG_CASES))
def test_config_bad_input(case, tmp_path, capsys):
    text, msg = CONFIG_CASES[case]
    cfg = tmp_path/'c.yaml'; cfg.write_text(text)
    out = tmp_path/'res.json'
    assert main(['train', str(cfg), '--output', str(out)]) == 2
    err = capsys.readouterr().err
    assert 'c.yaml' in err and msg in err and err.count('\n') == 1, err
    assert not out.exists()

def test_missing_config(tmp_path, capsys):
    assert main(['train', str(tmp_path/'nope.yaml')]) == 2
    assert 'nope.yaml: config file not found' in capsys.readouterr().err

def test_bad_set_override(tmp_path, capsys):
    cfg = tmp_path/'c.yaml'; cfg.write_text('epochs: 1\n')
    assert main(['train', str(cfg), '--set', 'epochs']) == 2
    assert "--set 'epochs': expected key=value" in capsys.readouterr().err

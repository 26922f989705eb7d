"The benchmarks' shared helper: fresh processes answer in JSON, failures carry stderr, results carry their manifest."
import json, sys
from pathlib import Path
import pytest
sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'benchmarks'))
from _common import fresh, fresh_many, save

def test_fresh_process_answers():
    r = fresh('-c', 'import json, os, sys; print("noise"); print(json.dumps(dict(pid=os.getpid(), arg=sys.argv[1])))', 'x')
    assert r['arg'] == 'x' and r['pid'] != __import__('os').getpid()       # another process
    a, b = fresh_many([['-c', 'import json, os; print(json.dumps(os.getpid()))']] * 2)
    assert a != b                                                             # two processes, at once

def test_fresh_failure_names_stderr():
    with pytest.raises(RuntimeError, match='boom'): fresh('-c', 'raise SystemExit("boom")')
    with pytest.raises(RuntimeError, match='printed nothing'): fresh('-c', 'pass')

def test_save_writes_manifest(tmp_path):
    p = save(dict(task='t', ratio=1.5), tmp_path/'r.json', dict(repeats=2), 7)
    r = json.loads(p.read_text())
    assert r['ratio'] == 1.5 and r['manifest']['config'] == {'repeats': 2} and r['manifest']['seed'] == 7
    assert 'commit' in r['manifest']['code'] and r['manifest']['packages']['torch']

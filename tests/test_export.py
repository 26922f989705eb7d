"ONNX export: round trips with parity (plain, int8, LoRA, query-only adapter), the encode cache and evaluation, bad input, the CLI."
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest

from embedtune.core import ConfigError
from embedtune.data import DataError
from embedtune.export import MANIFEST, OnnxEncoder, export_onnx, is_onnx_dir, main
from embedtune.models import ModelNotFoundError, load_model

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ['what causes fever', 'insulin resistance in mice', 'is vitamin D linked to cancer risk?', 'BRCA1']
PASSAGES = ['Fever is a rise in body temperature, most often caused by an infection. ' * 4,
            'We measured insulin sensitivity in 40 mice fed a high-fat diet for twelve weeks and found a marked drop.',
            'Vitamin D supplementation did not lower the incidence of invasive cancer in a randomised trial of 25,871 adults. ' * 20]
INT8_MIN_COSINE = 0.98   # measured: lowest 0.990 on these texts, 0.9916 on PROBE_TEXTS (per-channel int8)

def cos(a, b): return (np.asarray(a) * np.asarray(b)).sum(1)

@pytest.fixture(scope='module')
def base(): return load_model(None, device='cpu')

@pytest.fixture(scope='module')
def fp32(base, tmp_path_factory): return export_onnx(base, tmp_path_factory.mktemp('onnx')/'fp32', quantize=None)

def no_leftovers(folder:Path): return not [p.name for p in folder.iterdir() if p.name.startswith('.')]

def test_fp32_roundtrip_parity(base, fp32):
    assert is_onnx_dir(fp32) and sorted(p.name for p in fp32.glob('*.onnx')) == ['model.onnx']
    man = json.loads((fp32/MANIFEST).read_text())
    assert man['quantize'] is None and man['opset'] == 17 and man['source_model'] == 'all-MiniLM-L6-v2'
    assert {'onnx', 'onnxruntime', 'torch'} <= set(man['versions']) and man['parity']['fp32']['cosine_min'] >= 0.9999
    assert man['attention'] == ['eager'] and base[0].auto_model.config._attn_implementation == 'sdpa'   # traced eager, the caller's model restored
    enc = OnnxEncoder(fp32)
    for texts in (QUERIES, PASSAGES, QUERIES + PASSAGES):
        c = cos(enc.encode(texts, batch_size=3, normalize_embeddings=True), base.encode(texts, normalize_embeddings=True))
        assert c.min() >= 0.9999, c
    assert enc.encode(QUERIES[0]).shape == (384,) and enc.encode(QUERIES, convert_to_tensor=True).shape == (4, 384)

def test_self_contained(fp32, tmp_path):
    "The folder needs nothing else: moved elsewhere it loads and encodes the same."
    import shutil
    moved = shutil.copytree(fp32, tmp_path/'moved')
    assert np.allclose(OnnxEncoder(moved).encode(QUERIES), OnnxEncoder(fp32).encode(QUERIES), atol=1e-6)

def test_cache_and_evaluate(base, fp32, tiny_beir):
    "The encode cache keys ONNX vectors apart from the torch model's; evaluation gives the torch figures."
    from embedtune.encode import cache_path, encode, model_fingerprint
    from embedtune.evaluate import evaluate_path
    enc = OnnxEncoder(fp32)
    assert model_fingerprint(enc) != model_fingerprint(base) and model_fingerprint(enc) == model_fingerprint(OnnxEncoder(fp32))
    assert cache_path(enc, QUERIES) != cache_path(base, QUERIES)
    a = encode(enc, QUERIES); assert cache_path(enc, QUERIES).exists()
    assert np.array_equal(a, encode(enc, QUERIES))
    r_onnx, r_torch = evaluate_path(tiny_beir, enc), evaluate_path(tiny_beir, base)
    assert abs(r_onnx['ndcg@10'] - r_torch['ndcg@10']) < 1e-6 and r_onnx['model'] == str(fp32)

def test_int8(base, fp32, tmp_path):
    q8 = export_onnx(base, tmp_path/'int8', quantize='int8')
    enc = OnnxEncoder(q8); man = enc.manifest
    assert man['quantize'] == 'int8' and man['graph'] == 'model_int8.onnx' and man['quantization']['per_channel']
    assert not (q8/'model.onnx').exists() and (q8/'model_int8.onnx').stat().st_size < 0.3 * (fp32/'model.onnx').stat().st_size
    texts = QUERIES + PASSAGES
    c = cos(enc.encode(texts, normalize_embeddings=True), base.encode(texts, normalize_embeddings=True))
    assert c.min() >= INT8_MIN_COSINE, c
    assert man['parity']['int8']['cosine_min'] >= INT8_MIN_COSINE
    from embedtune.encode import model_fingerprint
    assert model_fingerprint(enc) != model_fingerprint(OnnxEncoder(fp32))

def test_lora_folder_exports_merged(tmp_path):
    "A saved LoRA folder (adapter only) exports merged, with the LoRA model's vectors."
    import torch
    from embedtune.models import add_lora, save_model
    lm = add_lora(load_model(None, device='cpu'), r=4)
    with torch.no_grad():
        for n, p in lm.named_parameters():
            if 'lora_B' in n: p.normal_(0, 0.02)
    save_model(lm, tmp_path/'lora'); assert (tmp_path/'lora'/'adapter_config.json').exists()
    out = export_onnx(tmp_path/'lora', tmp_path/'lora-onnx', quantize=None)
    enc = OnnxEncoder(out); assert enc.manifest['lora_merged']
    texts = QUERIES + PASSAGES
    ref = lm.encode(texts, normalize_embeddings=True)
    assert cos(enc.encode(texts, normalize_embeddings=True), ref).min() >= 0.9999
    assert cos(ref, load_model(None, device='cpu').encode(texts, normalize_embeddings=True)).min() < 0.9999   # the LoRA mattered

@pytest.mark.parametrize('kind', ['linear', 'mlp'])
def test_query_only_adapter(base, tmp_path, kind):
    "A saved query-only adapter folder: shared graph + query head; queries and documents each match their torch route."
    import torch
    from embedtune.adapter import EmbeddingAdapter, adapter_model
    from embedtune.encode import encode, role_encoder
    from embedtune.models import save_model
    ad = EmbeddingAdapter(384, kind, hidden=32)
    with torch.no_grad():
        for p in ad.parameters(): p.normal_(0, 0.05)
    save_model(adapter_model(base, ad, 'query'), tmp_path/'ad')
    tm = load_model(tmp_path/'ad', device='cpu')
    enc = OnnxEncoder(export_onnx(tmp_path/'ad', tmp_path/'ad-onnx', quantize=None))
    assert sorted(p.name for p in (tmp_path/'ad-onnx').glob('*.onnx')) == ['head_query.onnx', 'model.onnx']
    q, d = enc.encode_query(QUERIES, normalize_embeddings=True), enc.encode_document(PASSAGES, normalize_embeddings=True)
    assert cos(q, tm.encode_query(QUERIES, normalize_embeddings=True)).min() >= 0.9999
    assert cos(d, tm.encode_document(PASSAGES, normalize_embeddings=True)).min() >= 0.9999
    assert cos(d, base.encode(PASSAGES, normalize_embeddings=True)).min() >= 0.9999        # documents keep the base vectors
    assert cos(enc.encode_query(QUERIES), enc.encode_document(QUERIES)).max() < 0.999
    assert role_encoder(enc, 'query')[1] == 'query' and role_encoder(enc, 'document')[1] == 'document'
    assert np.allclose(encode(enc, QUERIES, role='query'), q, atol=1e-6) and np.allclose(encode(enc, PASSAGES, role='document'), d, atol=1e-6)

# --- bad input: one-line errors, nothing written ---

def test_missing_model(tmp_path):
    with pytest.raises(ModelNotFoundError, match='no such model folder'): export_onnx(tmp_path/'nope', tmp_path/'out')
    assert not (tmp_path/'out').exists() and no_leftovers(tmp_path)

def test_existing_output(base, fp32):
    before = sorted((p.name, p.stat().st_mtime_ns) for p in fp32.iterdir())
    with pytest.raises(ConfigError, match='exists; pass overwrite=True'): export_onnx(base, fp32)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in fp32.iterdir()) == before

def test_bad_arguments(base, tmp_path):
    with pytest.raises(ConfigError, match="quantize must be 'int8' or None"): export_onnx(base, tmp_path/'o', quantize='int4')
    with pytest.raises(ConfigError, match='opset must be 13 to 20'): export_onnx(base, tmp_path/'o', opset=21)
    assert not (tmp_path/'o').exists()

def test_failed_export_leaves_nothing(base, tmp_path, monkeypatch):
    "A crash mid-export (here in quantisation, after the fp32 graph is written) leaves no folder and no temporary files."
    import onnxruntime.quantization as q
    def boom(*a, **k): raise RuntimeError('quantisation crashed')
    monkeypatch.setattr(q, 'quantize_dynamic', boom)
    with pytest.raises(RuntimeError, match='quantisation crashed'): export_onnx(base, tmp_path/'o', quantize='int8')
    assert list(tmp_path.iterdir()) == []

def test_overwrite_replaces(base, fp32, tmp_path):
    import shutil
    out = shutil.copytree(fp32, tmp_path/'o'); (out/'stale.txt').write_text('x')
    export_onnx(base, out, quantize=None, overwrite=True)
    assert not (out/'stale.txt').exists() and is_onnx_dir(out) and no_leftovers(tmp_path)

def test_corrupt_files_on_load(fp32, tmp_path):
    import shutil
    with pytest.raises(ModelNotFoundError, match='no such ONNX model folder'): OnnxEncoder(tmp_path/'nope')
    from embedtune.models import default_model_path
    with pytest.raises(DataError, match='not an exported ONNX model folder'): OnnxEncoder(default_model_path())
    bad = shutil.copytree(fp32, tmp_path/'bad')
    with open(bad/'model.onnx', 'r+b') as f: f.seek(5000); f.write(b'\x00' * 64)
    with pytest.raises(DataError, match='sha256 differs from the manifest') as e: OnnxEncoder(bad)
    assert '\n' not in str(e.value)
    (bad/'model.onnx').write_bytes(b'not an onnx graph')
    with pytest.raises(DataError, match='not a loadable ONNX graph') as e: OnnxEncoder(bad, verify=False)
    assert '\n' not in str(e.value)
    (bad/'model.onnx').unlink()
    with pytest.raises(DataError, match='missing; the export is incomplete'): OnnxEncoder(bad)
    (bad/MANIFEST).write_text('{"graph": ')
    with pytest.raises(DataError, match='not a valid export manifest'): OnnxEncoder(bad)

def test_exported_folder_loads_through_load_model_and_eval(fp32, tiny_beir, tmp_path):
    "`load_model` reads an exported folder as an `OnnxEncoder` (registered by this module), so `embedtune eval --model` scores it like the torch model."
    assert isinstance(load_model(fp32), OnnxEncoder)
    a, b = tmp_path/'torch.json', tmp_path/'onnx.json'
    from embedtune.cli import main as cli
    assert cli(['eval', str(tiny_beir), '--output', str(a)]) == 0 and cli(['eval', str(tiny_beir), '--model', str(fp32), '--output', str(b)]) == 0
    ra, rb = json.loads(a.read_text()), json.loads(b.read_text())
    assert abs(ra['ndcg@10'] - rb['ndcg@10']) < 1e-3 and rb['model'] != ra['model']

# --- the command line ---

def test_cli_in_process(tmp_path, capsys):
    assert main(['export', 'base', '--output', str(tmp_path/'o'), '--quantize', 'none', '--opset', '17']) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {tmp_path/'o'} (fp32, opset 17") and 'min 1.0000' in out and is_onnx_dir(tmp_path/'o')
    for argv, msg in ((['export', str(tmp_path/'nope'), '--output', str(tmp_path/'p')], 'no such model folder'),
                      (['export', 'base', '--output', str(tmp_path/'o')], 'exists; pass overwrite=True (--overwrite)'),
                      (['export', 'base', '--output', str(tmp_path/'p'), '--opset', '5'], 'opset must be 13 to 20')):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith('embedtune: error: ') and msg in err and err.count('\n') == 1, err
    assert not (tmp_path/'p').exists()

def test_cli_subprocess(tmp_path):
    "`--help` shows the example; a missing model is one line on stderr, exit code 2, nothing written."
    run = lambda *a: subprocess.run([sys.executable, '-c', 'import sys; from embedtune.export import main; sys.exit(main())', *a],
                                    capture_output=True, text=True, cwd=ROOT, timeout=120)
    h = run('export', '--help')
    assert h.returncode == 0 and 'embedtune export runs/scifact/final --output' in h.stdout and '--quantize {int8,none}' in h.stdout
    r = run('export', str(tmp_path/'nope'), '--output', str(tmp_path/'o'))
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'no such model folder' in r.stderr and not (tmp_path/'o').exists()

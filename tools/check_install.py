"""After `make install`: import every module of the package (a missing dependency fails here, not in a notebook),
check that the packaged default model is on disk, and say which torch build is installed."""
import importlib, pkgutil, sys

def main()->int:
    import embedtune, torch
    mods = ['embedtune'] + [m.name for m in pkgutil.walk_packages(embedtune.__path__, 'embedtune.')]
    for name in mods + ['sentence_transformers', 'nbdev', 'peft', 'faiss', 'bm25s', 'pytrec_eval']:
        try: importlib.import_module(name)
        except Exception as e:
            print(f"install check: importing {name} failed: {type(e).__name__}: {e}", file=sys.stderr); return 1
    from embedtune.models import default_model_path
    path = default_model_path()
    if not (path/'config.json').exists(): print(f"install check: the packaged model folder {path} has no config.json", file=sys.stderr); return 1
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU"
    gpu = torch.cuda.is_available()
    print(f"install check: {len(mods)} embedtune modules import; torch {torch.__version__} ({build} build, "
          f"{'a GPU is visible' if gpu else 'no GPU visible'}); default model at {path}")
    if torch.version.cuda and not gpu:
        print("install check: note: this is a CUDA build of torch (GBs) on a machine without a GPU; the CPU build is "
              "enough here: pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu", file=sys.stderr)
    return 0

if __name__ == '__main__': sys.exit(main())

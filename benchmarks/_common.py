"""Shared by the benchmark scripts: run Python in fresh processes and read their JSON answers, and write a result
file with its manifest (config, seed, git commit, package versions, data sha256).

A benchmark that measures a *fresh* process (what a user's first run is) starts one per measurement: `fresh` runs
`python ARGS...` (a script or `-c CODE`), fails with the end of its stderr when it fails, and returns the JSON object
the process printed last; `fresh_many` starts several at once (processes that must overlap, e.g. two 1-thread
encoders) and returns their answers in order. `measure_peak` (time and peak memory *inside* a process) is
`embedtune.encode.measure_peak`.
"""
import json, subprocess, sys
from pathlib import Path

def _answer(out:str, err:str, rc:int, what:str)->dict:
    if rc != 0: raise RuntimeError(f'{what} failed (exit {rc}): {err[-800:]}')
    lines = out.strip().splitlines()
    if not lines: raise RuntimeError(f'{what} printed nothing; expected a JSON object on its last line')
    return json.loads(lines[-1])

def fresh(*args:str, env:dict|None=None, timeout:float|None=None)->dict:
    "Run `python *args` in a fresh process; the JSON object on its last stdout line (RuntimeError with its stderr if it fails)."
    r = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout)
    return _answer(r.stdout, r.stderr, r.returncode, ' '.join(map(str, args[:3])))

def fresh_many(argss:list, env:dict|None=None)->list:
    "Start `python *args` for every args of `argss` at once (overlapping processes); their JSON answers, in order."
    procs = [subprocess.Popen([sys.executable, *map(str, a)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for a in argss]
    outs = [p.communicate() for p in procs]
    return [_answer(o, e, p.returncode, ' '.join(map(str, a[:3]))) for p, (o, e), a in zip(procs, outs, argss)]

def save(res:dict,            # the result (task, settings, raw times, ratios ...)
         path:str|Path,       # results/<name>.json
         config:dict,         # what was run (the script's arguments and settings)
         seed:int|None=None,  # the seed, if any
         data_files=()        # data files read (their sha256 go into the manifest)
        )->Path:
    "Write `res` with its manifest, atomically; print where."
    from embedtune.core import make_manifest, write_json
    write_json({**res, 'manifest': make_manifest(config, seed, data_files)}, path)
    print(f'-> {path}'); return Path(path)

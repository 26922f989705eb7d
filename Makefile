# embedtune — the two commands a new user needs are `make demo` and `make test`; both install first.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PY ?= python3
PIP ?= $(PY) -m pip
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install check-deps outputs demo baselines diagnostics adapter train-embed train-embed-tb eval-embed infer-embed test nbtest nbexp pytest check-sync readme check-readme lab clean

install:  ## torch (pinned) when missing, then the package with dev extras; fails when pip fails; then imports every module
	@$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q torch==2.13.0 2>&1 | { grep -v -e "is ignored" -e "Running pip as" || true; }
	$(PIP) install -q -e ".[dev]" 2>&1 | { grep -v -e "is ignored" -e "Running pip as" || true; }
	@$(PY) tools/check_install.py

demo: install  ## SciFact: baseline eval -> fine-tune -> eval (+ STS-B forgetting check); writes results/demo_scifact.json
	embedtune train configs/demo_scifact.yaml

baselines: install  ## all-MiniLM-L6-v2 on SciFact test and STS-B test (must match MTEB: 0.6451 / 0.8203)
	embedtune eval scifact --output results/baseline_scifact.json
	embedtune eval stsb --output results/baseline_stsb.json

diagnostics: install  ## embedtune analyze on STS-B, WikiQA and SciFact (results/diagnostics_*.json + PNGs), then the verdict check
	embedtune analyze stsb --output results/diagnostics_stsb.json
	embedtune analyze wikiqa/train.jsonl --output results/diagnostics_wikiqa.json
	embedtune analyze scifact --output results/diagnostics_scifact.json
	$(PY) benchmarks/verdict_check.py

adapter: install  ## cached adapter: ablation + 3 seeds on SciFact, 3 seeds on WikiQA retrieval (results/*_adapter.json, ~15 min warm), then LlamaIndex side by side if its extra is installed
	$(PY) benchmarks/adapter_scifact.py
	$(PY) benchmarks/adapter_scifact.py --only wikiqa
	@if $(PY) -c "import llama_index.finetuning" 2>/dev/null; then $(PY) benchmarks/adapter_vs_llamaindex.py; \
	else echo 'adapter_vs_llamaindex: skipped (pip install -e ".[bench]" to run it)'; fi

# the common flows, each one embedtune command; override the variables: make train-embed CONFIG=configs/default.yaml SET="dataset=my_folder"
CONFIG ?= configs/demo_scifact.yaml
SET ?=
DATA ?= scifact
MODEL ?=
INDEX ?= runs/index_$(notdir $(DATA))
QUERY ?= does vitamin D prevent fractures?
LOGDIR ?= runs

train-embed: install  ## fine-tune from a YAML config: make train-embed CONFIG=configs/default.yaml SET="dataset=my_beir_folder"
	embedtune train $(CONFIG) $(foreach s,$(SET),--set $(s))

train-embed-tb: install  ## the same with TensorBoard logs, then serves them (Ctrl-C stops it): make train-embed-tb CONFIG=...
	embedtune train $(CONFIG) --set tensorboard=true $(foreach s,$(SET),--set $(s))
	tensorboard --logdir $(LOGDIR)

eval-embed: install  ## evaluate a model on a BEIR / STS folder: make eval-embed DATA=scifact MODEL=runs/x/final
	embedtune eval $(DATA) $(if $(MODEL),--model $(MODEL))

infer-embed: install  ## index a corpus with a model and search it: make infer-embed DATA=scifact MODEL=runs/x/final QUERY="..."
	embedtune index $(DATA) $(if $(MODEL),--model $(MODEL)) --output $(INDEX)
	embedtune search $(INDEX) "$(QUERY)" -k 5

test: install check-deps nbtest nbexp pytest check-sync check-readme  ## everything CI runs
	@echo "make test: all checks passed"

check-deps:  ## every third-party import of the package, tests and benchmarks is declared in pyproject.toml (../shared/tools/check-deps)
	@if [ -f ../shared/tools/check-deps ]; then $(PY) ../shared/tools/check-deps; else echo "check-deps: ../shared/tools/check-deps not found, skipped"; fi

nbtest:  ## execute every notebook in nbs/ (cells marked slow or gpu are skipped); their temp files (GBs of checkpoints) go to a folder removed afterwards
	@t=$$(mktemp -d); TMPDIR=$$t nbdev-test --n-workers 2; rc=$$?; rm -rf $$t; exit $$rc

nbexp:  ## execute every experiment notebook in embed_nbs/ at quick size (EMBEDTUNE_SIZE=quick: slices, a few steps; never writes results/), one at a time; their temp folders are removed afterwards
	@t=$$(mktemp -d); TMPDIR=$$t EMBEDTUNE_SIZE=quick nbdev-test embed_nbs --n-workers 1 --timing; rc=$$?; rm -rf $$t; exit $$rc

pytest:  ## pytest tests/ (exit code 5, no tests collected, is a failure); temp files in a folder removed afterwards
	@t=$$(mktemp -d); TMPDIR=$$t $(PY) -m pytest tests/ -q --basetemp=$$t/pytest; rc=$$?; rm -rf $$t; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

check-sync:  ## nbdev-export and nbdev-clean must change nothing (package in sync with notebooks, notebooks clean)
	@tmp=$$(mktemp -d); cp -r embedtune nbs $$tmp/; if [ -d embed_nbs ]; then cp -r embed_nbs $$tmp/; fi; \
	nbdev-export && nbdev-clean --fname nbs && if [ -d embed_nbs ]; then nbdev-clean --fname embed_nbs; fi; \
	rc=0; for d in embedtune nbs embed_nbs; do [ -d $$d ] || continue; \
	  diff -rq -x __pycache__ -x .ipynb_checkpoints $$tmp/$$d $$d || rc=1; done; rm -rf $$tmp; \
	if [ $$rc -ne 0 ]; then echo "notebooks and package out of sync: run nbdev-export && nbdev-clean and commit" >&2; exit 1; fi; \
	echo "nbdev-export and nbdev-clean leave no diff"

outputs:  ## run the library notebooks and keep their small teaching outputs (tables, results; no progress bars) for readers on GitHub
	$(PY) tools/save_outputs.py $$(ls nbs/[0-9]*.ipynb)

readme:  ## run nbs/index.ipynb (its results tables read results/*.json), then render README.md from it
	nbdev-test --save nbs/index.ipynb
	$(PY) tools/make_readme.py nbs/index.ipynb README.md --strip
	nbdev-clean --fname nbs/index.ipynb

check-readme:  ## README.md must match nbs/index.ipynb
	$(PY) tools/make_readme.py nbs/index.ipynb README.md --check

lab: install  ## step through the notebooks
	jupyter lab nbs

clean:
	rm -rf _proc _docs build *.egg-info

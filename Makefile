# `make train` and `make test` work on a fresh clone: each creates .venv on first use.
VENV       ?= .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
# verl (harness/verl/, tests/verl/) pins transformers<5.11: its own venv, made by `make install-verl`.
VERL_VENV  ?= .venv-verl
VERL_PY    := $(VERL_VENV)/bin/python
VERL_STAMP := $(VERL_VENV)/.installed
# torch first (CPU build here; on a GPU machine this is the CUDA build), then pinned.
TORCH_SPEC ?= torch==2.13.0
OFFLINE    := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
ARGS       ?=
SWEEP      ?= toy_main
SWEEP_DIRS ?= multirun
OUT        ?= tables
BASELINE   ?= grpo
COMMA      := ,

.PHONY: install install-verl test-verl train test test-fast lint format sweep sweep-plan tables study bench clean

# $(call venv,DIR,EXTRAS): a venv at DIR with torch first, then the harness and EXTRAS, pinned.
define venv
	test -x $(1)/bin/python || python3 -m venv $(1)
	$(1)/bin/python -m pip install -q --upgrade pip
	$(1)/bin/python -m pip install -q "$(TORCH_SPEC)"
	$(1)/bin/python -m pip install -q -c constraints.txt -e '.[$(2)]'
	touch $(1)/.installed
endef

$(STAMP): pyproject.toml constraints.txt
	$(call venv,$(VENV),dev)

install: $(STAMP)

$(VERL_STAMP): pyproject.toml constraints.txt
	$(call venv,$(VERL_VENV),dev$(COMMA)verl)

## The verl venv: the harness plus verl 0.9.1 (harness-verl, tests/verl); the main venv skips tests/verl
install-verl: $(VERL_STAMP)

## The embedded CPU default: tiny Qwen3, arithmetic task, warm start + RL, minutes on 2 cores.
train: $(STAMP)
	$(OFFLINE) $(PY) -m harness.train $(ARGS)

test: $(STAMP) $(VERL_STAMP)
	$(OFFLINE) WANDB_MODE=offline $(PY) -m pytest $(ARGS)
	$(OFFLINE) WANDB_MODE=offline $(VERL_PY) -m pytest tests/verl

## harness methods as verl policy losses, through verl's own loss path (in the verl venv)
test-verl: $(VERL_STAMP)
	$(OFFLINE) WANDB_MODE=offline $(VERL_PY) -m pytest tests/verl $(ARGS)

## The edit loop: everything but the real training runs (markers slow and e2e), under two minutes
test-fast: $(STAMP)
	$(OFFLINE) WANDB_MODE=offline $(PY) -m pytest -m "not slow and not e2e" $(ARGS)

LINT_PATHS := harness analysis bench tests hydra_plugins

## What CI checks before the tests: ruff (lint + format) and mypy (config in pyproject.toml)
lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)
	$(VENV)/bin/ruff format $(LINT_PATHS)

## Named sweeps from sweeps/ as Hydra multiruns, one after another: make sweep SWEEP="lambda_ablation lambda_ablation_ptrace"
sweep: $(STAMP)
	for s in $(SWEEP); do $(OFFLINE) $(PY) -m harness.train -m --config-dir sweeps --config-name $$s $(ARGS) || exit 1; done

## Validate every job of the sweeps and print each with its overrides and resources; launch nothing
sweep-plan: $(STAMP)
	for s in $(SWEEP); do $(OFFLINE) $(PY) -m harness.train -m --config-dir sweeps --config-name $$s hydra.launcher.dry_run=true $(ARGS) || exit 1; done

## Every table and plot of the given sweep dirs: make tables SWEEP_DIRS="multirun/toy_main" OUT=tables [BASELINE=gspo]
tables: $(STAMP)
	$(PY) -m analysis $(SWEEP_DIRS) --out $(OUT) --baseline "$(BASELINE)"

## A whole study: every sweeps/$(STUDY)_*.yaml (finished runs are skipped, killed ones resume), then its
## tables and figures in docs/results/$(STUDY)/ and docs/results/$(STUDY)/provenance.md (the commit, dirty or not,
## the command, the wall time): make study STUDY=credit
STUDY        ?= credit
STUDY_ALL     = $(sort $(basename $(notdir $(wildcard sweeps/$(STUDY)_*.yaml))))
# <study>_main first, then the others by name
STUDY_SWEEPS  = $(strip $(filter $(STUDY)_main,$(STUDY_ALL)) $(filter-out $(STUDY)_main,$(STUDY_ALL)))
STUDY_K      ?= 1
STUDY_OUT     = docs/results/$(STUDY)
study: $(STAMP)
	@test -n "$(STUDY_SWEEPS)" || { echo "make study: no sweeps/$(STUDY)_*.yaml"; exit 1; }
	@mkdir -p $(STUDY_OUT)
	@commit=$$(git rev-parse HEAD); dirty=$$(git status --porcelain --untracked-files=no | grep -qv '^.. $(STUDY_OUT)/' && echo yes || echo no); \
	start=$$(date -u +%s); started=$$(date -u '+%Y-%m-%d %H:%M:%S UTC'); \
	for s in $(STUDY_SWEEPS); do $(OFFLINE) WANDB_MODE=offline $(PY) -m harness.train -m --config-dir sweeps --config-name $$s $(ARGS) || exit 1; done; \
	end=$$(date -u +%s); \
	$(PY) -m analysis $(addprefix multirun/,$(STUDY_SWEEPS)) --out $(STUDY_OUT) --k $(STUDY_K) || exit 1; \
	{ echo "# $(STUDY) study: provenance"; echo; \
	  echo "- command: \`make study STUDY=$(STUDY)$(if $(ARGS), ARGS=\"$(ARGS)\")\` (sweeps: $(STUDY_SWEEPS))"; \
	  echo "- commit: \`$$commit\` (uncommitted changes to tracked files: $$dirty)"; \
	  echo "- run dirs: $(addprefix multirun/,$(STUDY_SWEEPS))"; \
	  echo "- sweeps started $$started, finished after $$(( (end - start) / 60 )) min $$(( (end - start) % 60 )) s (runs already finished before are skipped, so a re-run reports only what it ran)"; \
	  echo "- regenerate the tables: \`$(PY) -m analysis $(addprefix multirun/,$(STUDY_SWEEPS)) --out $(STUDY_OUT) --k $(STUDY_K)\`"; \
	} > $(STUDY_OUT)/provenance.md; \
	cat $(STUDY_OUT)/provenance.md

bench: $(STAMP)
	$(PY) -m bench.losses --quick
	$(PY) -m bench.grading
	$(OFFLINE) $(PY) -m bench.train_step

clean:
	rm -rf outputs multirun .pytest_cache

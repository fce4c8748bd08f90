# One task runner. `make demo` and `make test` are the README's two commands.
VENV := .venv/bin
.PHONY: demo run test test-full lint model bench pi-check setup setup-test

demo:  ## set up, then replay the bundled workout with spoken coaching lines
	scripts/setup.sh runtime
	$(VENV)/edgecoach demo

run:  ## set up, then start the daemon in the foreground
	scripts/setup.sh runtime
	$(VENV)/edgecoach run

test:  ## set up everything the tests need, then run the whole suite
	scripts/setup.sh test
	$(VENV)/python -m pytest -q
	npm --prefix convex test --silent
	npm --prefix convex run typecheck --silent

test-full:  ## the whole suite with the slow full-size fuzz, then every campaign at full size
	scripts/setup.sh test
	$(VENV)/python -m pytest -q -m ""
	for campaign in crash load security upstream_faults bad_input connections; do \
	  PYTHONPATH=src:. $(VENV)/python -m campaigns.$$campaign --full || exit 1; done

lint:
	scripts/setup.sh test
	$(VENV)/ruff check src tests scripts training
	$(VENV)/mypy src

model:  ## train, quantize and evaluate the coach model (torch, CPU)
	scripts/setup.sh train
	$(VENV)/python -m training.train --threads 1

bench:  ## print the performance figures (the voice figures use Praat, a test package)
	scripts/setup.sh test
	$(VENV)/python -m edgecoach.bench voice
	$(VENV)/python -m edgecoach.bench model
	$(VENV)/python -m edgecoach.bench e2e
	$(VENV)/python -m edgecoach.bench report

pi-check:  ## install and run the project on arm64 (Debian bookworm root under qemu, cached; root)
	python3 scripts/pi_check.py

# SkillMatch: `make run` builds the warehouse from the data and starts the app;
# `make test` runs the test suite. Both set everything up first (scripts/setup.sh).
.PHONY: setup run build app test lint bench

setup:
	bash scripts/setup.sh

build: setup
	.venv/bin/skillmatch build

app: setup
	.venv/bin/skillmatch app

# the app opens once the taxonomy and its index exist; the build goes on behind it
run: setup
	.venv/bin/skillmatch run

test: setup
	bash scripts/setup_browser.sh
	.venv/bin/python -m pytest -q

lint: setup
	.venv/bin/ruff check src tests app.py app_pages pipelines benchmarks

bench: setup
	.venv/bin/python benchmarks/bench_taxonomy.py
	.venv/bin/skillmatch bench

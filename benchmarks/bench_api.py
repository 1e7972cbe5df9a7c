"""The HTTP API under load, on loopback: latency, throughput and errors at 1, 10 and 50
concurrent clients for its three heavy workloads, the batch mode's rate beside it, and the
server's memory over a longer mixed run.

    .venv/bin/python benchmarks/bench_api.py [--warehouse PATH] [--seconds 30] [--soak 300]
    .venv/bin/python benchmarks/bench_api.py --quick      # 8 s per cell, 1 and 10 clients, no soak

Workloads (Locust users in benchmarks/locustfile_api.py, closed loop, no think time):

1. `skills`: POST /v1/skills {"text": ad} with real NHS ads (the `description` HTML), each ad
   sent once: the server remembers every sentence it scored (up to 100,000), so a small pool
   sent round and round would measure its memo, not the mapping. The ads are a seeded sample
   of distinct descriptions; each concurrency level gets its own slice.
2. `badges`: POST /v1/badges/align with the Open Badges 3.0 example of the data root.
3. `talent`: POST /v1/talent/search with the essential skills of real ESCO occupations that
   candidates hold (100 occupations), top_k 20, explain 3, employer key.

The batch mode's rate is `SkillExtractor.extract_many` in its own process, before the server
starts (so the two never share the 2 cores): the same slices of ads in batches of the
concurrency, after the same warm-up. The ratio API texts/s / batch texts/s is the issue's
measure (aim ≥ 0.8).

The script starts `skillmatch serve` on a free loopback port against the warehouse (the
project's settings, or `--warehouse`), with an employer key in a temporary key store and no
rate limit (SKILLMATCH_API_RATE_PER_MINUTE=0), warms each workload up (model loading and the
talent index are not timed), runs Locust headless once per (workload, concurrency), waits for
the server to go idle between cells, then (unless `--soak 0`) runs the mixed workload at 10
clients for `--soak` seconds while sampling the server's RSS (children included) every second.

Prints a table and writes benchmarks/results/api.md and benchmarks/results/api.json.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LOCUSTFILE = REPO / "benchmarks" / "locustfile_api.py"
NHS = Path("vacancies") / "nhs_jobs_2020_schemaorg.jsonl.gz"
BADGE = Path("credentials") / "examples" / "OBv3_microcredential_example_MyNextID.json"
WORKLOADS = ("skills", "badges", "talent")
PATHS = {"skills": "/v1/skills", "badges": "/v1/badges/align", "talent": "/v1/talent/search"}
WARM_TEXTS = 10
PLURAL = {"vacancy": "vacancies"}
STOP_TIMEOUT_S = 120  # let in-flight requests finish when a cell ends (and count them)
AIMS = {"talent_p95_ms_at_10": 100.0, "skills_ratio_to_batch": 0.8,
        "memory_slope_mb_per_min": 5.0}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import psutil

    return {"cores": os.cpu_count(), "cpu_model": model or platform.processor(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform()}


# --- inputs -------------------------------------------------------------------------------

def ad_texts(path: Path, n: int, seed: int = 7) -> list[str]:
    """`n` distinct NHS ad descriptions (at least 300 characters), a seeded sample of the
    whole file (many employers, as a stream of requests would bring them)."""
    seen: set[str] = set()
    texts = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line).get("description") or ""
            if len(text) >= 300 and text not in seen:
                seen.add(text)
                texts.append(text)
    random.Random(seed).shuffle(texts)
    return texts[:n]


def warehouse_inputs(path: Path, occupations: int, seed: int = 7) -> dict[str, Any]:
    """Counts and talent-search requirement sets, read-only and briefly."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("candidate", "credential", "vacancy") if t in tables}
        sets: list[list[str]] = []
        if "candidate" in tables:
            rows = con.execute("""
                WITH held AS (SELECT DISTINCT current_occupation AS uri FROM candidate)
                SELECT r.occupation_uri, list(DISTINCT r.skill_uri ORDER BY r.skill_uri)
                FROM esco_occupation_skill r JOIN held ON held.uri = r.occupation_uri
                WHERE r.relation_type = 'essential'
                GROUP BY 1 ORDER BY 1""").fetchall()
            chosen = random.Random(seed).sample(rows, min(occupations, len(rows)))
            sets = [skills for _, skills in chosen]
    finally:
        con.close()
    return {"counts": counts, "talent": sets}


# --- the batch mode, in its own process ---------------------------------------------------

def batch_worker(plan_file: Path) -> None:
    """`extract_many` in batches of each concurrency over its slice of ads, for about
    `seconds` each, after the warm-up texts; writes {concurrency: {...}} to plan["output"]."""
    import psutil

    from skillmatch import warehouse
    from skillmatch.mapping import SkillExtractor
    from skillmatch.settings import load_settings

    plan = json.loads(plan_file.read_text(encoding="utf-8"))
    texts = json.loads(Path(plan["inputs"]).read_text(encoding="utf-8"))["texts"]
    settings = load_settings()
    started = time.perf_counter()
    con = warehouse.connect_snapshot(settings.warehouse)
    extractor = SkillExtractor(settings, con)
    con.close()
    for text in texts[:WARM_TEXTS]:  # as the server is warmed up: one text at a time
        extractor.extract_many([text])
    out: dict[str, Any] = {"startup_and_warm_up_s": round(time.perf_counter() - started, 1),
                           "levels": {}}
    rss_before, texts_done = psutil.Process().memory_info().rss / 2**20, 0
    for level in plan["levels"]:
        c, (start, end) = level["concurrency"], level["slice"]
        pool = texts[start:end]
        own, machine_before = time.process_time(), busy_cpu_s()
        done, skills, began = 0, 0, time.perf_counter()
        while done < len(pool) and (done == 0 or time.perf_counter() - began < plan["seconds"]):
            batch = pool[done:done + c]
            skills += sum(len(r) for r in extractor.extract_many(batch))
            done += len(batch)
        elapsed = time.perf_counter() - began
        own = time.process_time() - own
        texts_done += done
        out["levels"][str(c)] = {"texts": done, "seconds": round(elapsed, 2),
                                 "texts_per_s": round(done / elapsed, 3),
                                 "skills_per_text": round(skills / max(done, 1), 2),
                                 "cpu_s": round(own, 1), "others_cpu_s": round(
                                     max(busy_cpu_s() - machine_before - own, 0.0), 1)}
        print(f"batch mode, batches of {c:3d}: {done} texts in {elapsed:.1f} s = "
              f"{done / elapsed:.2f} texts/s", flush=True)
    rss_after = psutil.Process().memory_info().rss / 2**20
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    # the extractor remembers each scored sentence (up to 100,000): memory that grows with
    # the distinct text seen until that bound, not a leak
    out["rss_mb_after_warm_up"], out["rss_mb_end"] = round(rss_before), round(rss_after)
    out["texts_after_warm_up"] = texts_done
    out["memo_sentences"] = sum(len(m) for m in extractor._memo.values())
    Path(plan["output"]).write_text(json.dumps(out, indent=1), encoding="utf-8")


# --- the server ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`skillmatch serve` in its own process, its RSS (children included) sampled every
    second from start to stop."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 1) -> None:
        import psutil

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "skillmatch.cli", "serve", "--port", str(self.port),
                 "--workers", str(workers)],
                env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        self.ps = psutil.Process(self.proc.pid)
        self.samples: list[tuple[float, float]] = []  # (time.time(), rss MB)
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def rss_mb(self) -> float:
        import psutil

        total = 0
        for p in [self.ps, *self.ps.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total / 2**20

    def cpu_s(self) -> float:
        import psutil

        total = 0.0
        for p in [self.ps, *self.ps.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.time(), self.rss_mb()))
            except Exception:  # the process is gone
                return
            self._stop.wait(1.0)

    def wait_ready(self, timeout: float = 180) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the API did not start:\n{self.log_tail()}")
            time.sleep(0.5)

    def wait_idle(self, timeout: float = 120, below: float = 10.0) -> float:
        """Seconds until the server's CPU stays under `below` % for one second."""
        began = time.monotonic()
        last = self.cpu_s()
        while time.monotonic() - began < timeout:
            time.sleep(1.0)
            now = self.cpu_s()
            if (now - last) * 100 < below:
                break
            last = now
        return time.monotonic() - began

    def log_tail(self, n: int = 4000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-n:]

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def create_key(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "skillmatch.cli", "keys", "create", "--role",
                           "employer", "--name", "bench_api"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise SystemExit(f"keys create failed: {done.stderr[-2000:]}")
    return done.stdout.strip()


def warm_up(server: Server, key: str, inputs: dict[str, Any], workload: str,
            workers: int = 1) -> float:
    """A few requests of the workload (the first builds its models or index); seconds. With
    several server processes, then the first request again from 4 × workers connections at
    once, so that each process most likely builds its own before the timing."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    bodies: list[dict] = {
        "skills": [{"text": t} for t in inputs["texts"][:WARM_TEXTS]],
        "badges": [inputs["badge"]] * 3,
        "talent": [{"requirements": [{"skill_uri": u} for u in skills], "top_k": 20,
                    "explain": 3} for skills in inputs["talent"][:5]],
    }[workload]
    began = time.perf_counter()
    with httpx.Client(base_url=server.url, headers=headers, timeout=900) as client:
        for body in bodies:
            response = client.post(PATHS[workload], json=body)
            if response.status_code != 200:
                raise SystemExit(f"warm-up of {workload} failed: {response.status_code} "
                                 f"{response.text[:2000]}\n{server.log_tail()}")

    def one_connection(_: int) -> int:
        with httpx.Client(base_url=server.url, headers=headers, timeout=900) as client:
            return client.post(PATHS[workload], json=bodies[0]).status_code

    if workers > 1:
        with ThreadPoolExecutor(4 * workers) as pool:
            statuses = list(pool.map(one_connection, range(4 * workers)))
        if set(statuses) != {200}:
            raise SystemExit(f"warm-up of {workload} failed: {statuses}")
    return time.perf_counter() - began


# --- one Locust run -----------------------------------------------------------------------

def run_locust(server: Server, key: str, inputs_file: Path, workload: str, users: int,
               seconds: int, texts: tuple[int, int], work: Path, name: str) -> dict[str, Any]:
    record = work / f"{name}.jsonl"
    env = {**os.environ, "SKILLMATCH_BENCH_WORKLOAD": workload, "SKILLMATCH_BENCH_KEY": key,
           "SKILLMATCH_BENCH_INPUTS": str(inputs_file),
           "SKILLMATCH_BENCH_TEXTS": f"{texts[0]}:{texts[1]}",
           "SKILLMATCH_BENCH_RECORD": str(record)}
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
           "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", server.url,
           "--csv", str(work / name), "--only-summary", "--stop-timeout", str(STOP_TIMEOUT_S),
           "--loglevel", "WARNING"]
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before, machine_before = server.cpu_s(), busy_cpu_s()
    rss_before = server.rss_mb()
    began = time.time()
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=seconds + STOP_TIMEOUT_S + 120)
    wall = time.time() - began
    server_cpu = server.cpu_s() - server_before
    machine_cpu = busy_cpu_s() - machine_before
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (client_after.ru_utime + client_after.ru_stime
                  - client_before.ru_utime - client_before.ru_stime)
    if not record.exists():
        raise SystemExit(f"locust wrote no records ({done.returncode}):\n{done.stderr[-3000:]}")
    lines = record.read_text(encoding="utf-8").splitlines()
    meta, rows = json.loads(lines[0])["meta"], [json.loads(line) for line in lines[1:]]
    cell = summarise(rows)
    cell.update({"clients": users, "workload": workload, "seconds": seconds,
                 "wall_s": round(wall, 1), "server_cpu_s": round(server_cpu, 1),
                 "client_cpu_s": round(client_cpu, 1),
                 "others_cpu_s": round(max(machine_cpu - server_cpu - client_cpu, 0.0), 1),
                 "load_average_after": round(os.getloadavg()[0], 2),
                 "server_rss_mb_before": round(rss_before), "server_rss_mb_after":
                 round(server.rss_mb()),
                 "locust_rc": done.returncode,
                 "started_at": began, "ended_at": began + wall})
    if workload in ("skills", "mixed"):
        cell["texts_used"], cell["text_wraps"] = meta["texts_used"], meta["text_wraps"]
    return cell


def busy_cpu_s() -> float:
    """CPU seconds every process on the machine has used (all cores), for the share others
    took while a cell ran: the cores are shared."""
    import psutil

    t = psutil.cpu_times()
    return sum(getattr(t, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq"))


def summarise(rows: list[dict]) -> dict[str, Any]:
    ok = [r for r in rows if r["error"] is None]
    errors = Counter(r["error"][:200] for r in rows if r["error"] is not None)
    window = (max(r["end"] for r in ok) - min(r["start"] for r in ok)) if ok else 0.0
    out: dict[str, Any] = {
        "requests": len(rows), "failures": len(rows) - len(ok),
        "p50_ms": _round(percentile([r["ms"] for r in ok], 50)),
        "p95_ms": _round(percentile([r["ms"] for r in ok], 95)),
        "max_ms": _round(max((r["ms"] for r in ok), default=None)),
        "window_s": round(window, 2),
        "req_per_s": round(len(ok) / window, 3) if window > 0 else None,
        "errors": dict(errors.most_common(5)),
    }
    names = {r["name"] for r in rows}
    if len(names) > 1:  # the mixed workload: per endpoint too
        out["per_endpoint"] = {n: summarise([r for r in rows if r["name"] == n])
                               for n in sorted(names)}
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# --- memory -------------------------------------------------------------------------------

def memory_summary(samples: list[tuple[float, float]]) -> dict[str, Any]:
    if len(samples) < 4:
        return {"samples": len(samples)}
    t0 = samples[0][0]
    half = [(t - t0, mb) for t, mb in samples if t - t0 >= (samples[-1][0] - t0) / 2]
    xs, ys = [t / 60 for t, _ in half], [mb for _, mb in half]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0
    return {"samples": len(samples), "start_mb": round(samples[0][1]),
            "peak_mb": round(max(mb for _, mb in samples)), "end_mb": round(samples[-1][1]),
            "slope_second_half_mb_per_min": round(slope, 2),
            "seconds": round(samples[-1][0] - t0)}


# --- report -------------------------------------------------------------------------------

def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def report(result: dict[str, Any]) -> str:
    m, wh, batch = result["machine"], result["warehouse"], result["batch_mode"]
    lines = ["# HTTP API under load — `benchmarks/bench_api.py`", "",
             f"Generated {result['generated']} by `{result['command']}`.", "",
             f"- machine: {m['cores']} cores, {m['cpu_model']}, {m['memory_gb']} GB; Locust "
             "and the server share these cores, and so does whatever else runs on the "
             "machine: the last column splits the CPU seconds used during each cell (a cell "
             "of S seconds has at most cores × S)",
             f"- warehouse: `{wh['path']}` — " + ", ".join(
                 f"{n:,} {PLURAL.get(t, t + 's')}" for t, n in wh["counts"].items()),
             *([] if wh["version_at_start"] == wh["version_at_end"] else [
                 "- **the warehouse was republished during the run**: the server rebuilt its "
                 "models on the new version inside a request; compare cells with care"]),
             f"- server: `skillmatch serve --workers {result['server_workers']}`; "
             f"{result['seconds']} s per cell, "
             + (f"each client waits {result['think_s']:g} s (0.5-1.5x) between requests"
                if result.get("think_s") else "closed loop (no think time)")
             + ", loopback; "
             f"rate limit off; {result['texts']['pool']:,} distinct NHS ads, each sent once "
             f"(a slice of {result['texts']['per_cell']:,} per skills cell, "
             f"{result['texts']['soak']:,} for the soak"
             f"{', repeated' if result.get('soak_text_wraps') else ''}); talent search: "
             f"essential skills of {len(result['talent_sets_sizes'])} occupations held by "
             f"candidates (median {result['talent_sets_median']} skills), top_k 20, explain 3",
             "", "| workload | clients | requests | failures | p50 ms | p95 ms | max ms | "
             "req/s | batch mode texts/s | API / batch | CPU s: server / Locust / others |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for cell in result["cells"]:
        ratio = batch_rate = None
        if cell["workload"] == "skills":
            batch_rate = batch.get("levels", {}).get(str(cell["clients"]), {}).get("texts_per_s")
            if batch_rate and cell["req_per_s"]:
                ratio = round(cell["req_per_s"] / batch_rate, 2)
        label = {"skills": "skills from one ad (texts/s = req/s)",
                 "badges": "badge alignment (OB 3.0)",
                 "talent": "talent search"}[cell["workload"]]
        lines.append(f"| {label} | {cell['clients']} | {fmt(cell['requests'])} | "
                     f"{fmt(cell['failures'])} | {fmt(cell['p50_ms'])} | {fmt(cell['p95_ms'])} | "
                     f"{fmt(cell['max_ms'])} | {fmt(cell['req_per_s'], 2)} | "
                     f"{fmt(batch_rate, 2)} | {fmt(ratio, 2)} | {fmt(cell['server_cpu_s'])} / "
                     f"{fmt(cell['client_cpu_s'])} / {fmt(cell['others_cpu_s'])} |")
    lines += ["", "Closed loop: each client sends its next request when the last one is "
              "answered, so at N clients a request waits for the others' work: p50 ≈ N / "
              "(req/s) once the server is saturated (Little's law).", ""]
    if batch:
        lines += [
            "Batch mode: `SkillExtractor.extract_many` in its own process before the server "
            f"started, same ads and warm-up (start-up + warm-up "
            f"{batch.get('startup_and_warm_up_s')} s, peak RSS "
            f"{fmt(batch.get('peak_rss_mb'))} MB; RSS {fmt(batch.get('rss_mb_after_warm_up'))}"
            f" MB after the warm-up, {fmt(batch.get('rss_mb_end'))} MB after "
            f"{fmt(batch.get('texts_after_warm_up'))} more ads, while the extractor's memo "
            f"of scored sentences, bounded at 100,000, held "
            f"{fmt(batch.get('memo_sentences'))}).", ""]
    if batch.get("levels"):
        lines += ["| batch size | texts | seconds | texts/s | accepted skills per text | "
                  "CPU s: own / others |", "|---|---|---|---|---|---|"]
        lines += [f"| {c} | {b['texts']} | {b['seconds']} | {b['texts_per_s']} | "
                  f"{b['skills_per_text']} | {b['cpu_s']} / {b['others_cpu_s']} |"
                  for c, b in batch["levels"].items()]
        lines.append("")
    for workload, seconds in result["warm_up_s"].items():
        lines.append(f"- warm-up {workload}: {seconds:.1f} s (not timed above)")
    soak = result.get("soak")
    if soak:
        mem, cell = soak["memory"], soak["cell"]
        lines += ["", f"## Soak: mixed workload, 10 clients, {soak['seconds']} s", "",
                  f"- {fmt(cell['requests'])} requests, {fmt(cell['failures'])} failures, "
                  f"{fmt(cell['req_per_s'], 2)} req/s; {fmt(cell.get('texts_used'))} ads sent "
                  f"to /v1/skills from a slice of {fmt(result['texts']['soak'])}"
                  + (f" (gone through {cell['text_wraps']} times: repeats are memo hits)"
                     if cell.get("text_wraps") else " (none repeated)"), "",
                  "| endpoint | requests | failures | p50 ms | p95 ms | req/s |",
                  "|---|---|---|---|---|---|"]
        for name, e in cell.get("per_endpoint", {}).items():
            lines.append(f"| {name} | {fmt(e['requests'])} | {fmt(e['failures'])} | "
                         f"{fmt(e['p50_ms'])} | {fmt(e['p95_ms'])} | {fmt(e['req_per_s'], 2)} |")
        lines += ["", f"Server RSS (children included, sampled every second, {mem['samples']} "
                  f"samples): start {fmt(mem.get('start_mb'))} MB, peak "
                  f"{fmt(mem.get('peak_mb'))} MB, end {fmt(mem.get('end_mb'))} MB; slope over "
                  f"the second half {fmt(mem.get('slope_second_half_mb_per_min'), 2)} MB/min."]
    whole = result["memory_whole_run"]
    lines += ["", f"Whole run: server RSS peak {fmt(whole.get('peak_mb'))} MB, end "
              f"{fmt(whole.get('end_mb'))} MB over {fmt(whole.get('seconds'))} s.", "",
              "## Aims (from the issue)", "", "| aim | measured | met |", "|---|---|---|"]
    for aim in result["aims"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[aim["met"]]
        lines.append(f"| {aim['aim']} | {aim['measured']} | {met} |")
    if result["server_log_first_traceback"]:
        tb = result["server_log_first_traceback"].splitlines()
        lines += ["", "## Server log: the first traceback (its last lines)", "", "```",
                  *tb[-12:], "```"]
    for kind in ("problems", "warnings"):
        if found := result[f"server_log_{kind}"]:
            lines += ["", f"## Server log: {kind[:-1]} lines ({len(found)}; first 30)", "",
                      "```", *found[:30], "```"]
    errors = {f"{c['workload']}@{c['clients']}": c["errors"] for c in result["cells"]
              if c["errors"]}
    if soak and soak["cell"]["errors"]:
        errors["soak"] = soak["cell"]["errors"]
    if errors:
        lines += ["", "## Failed requests (first messages)", ""]
        for where, found in errors.items():
            for message, n in found.items():
                lines.append(f"- {where}: {n} × `{message}`")
    return "\n".join(lines) + "\n"


def aims(result: dict[str, Any]) -> list[dict[str, Any]]:
    cells = {(c["workload"], c["clients"]): c for c in result["cells"]}
    out = []
    talent = cells.get(("talent", 10))
    p95 = talent["p95_ms"] if talent else None
    out.append({"aim": f"talent search p95 ≤ {AIMS['talent_p95_ms_at_10']:.0f} ms at 10 clients",
                "measured": f"{fmt(p95)} ms" if p95 is not None else "–",
                "met": None if p95 is None else p95 <= AIMS["talent_p95_ms_at_10"]})
    levels = result["batch_mode"].get("levels", {})
    ratios = {}
    for (workload, clients), cell in sorted(cells.items(), key=lambda kv: kv[0][1]):
        rate = levels.get(str(clients), {}).get("texts_per_s")
        if workload == "skills" and rate and cell["req_per_s"]:
            ratios[clients] = round(cell["req_per_s"] / rate, 2)
    out.append({"aim": f"skills-from-text rate ≥ {AIMS['skills_ratio_to_batch']} × the batch "
                       "mode's at the same concurrency",
                "measured": ", ".join(f"{c} clients {r}" for c, r in ratios.items()) or "–",
                "met": None if not ratios else all(
                    r >= AIMS["skills_ratio_to_batch"] for r in ratios.values())})
    failures = sum(c["failures"] for c in result["cells"])
    requests = sum(c["requests"] for c in result["cells"])
    if result.get("soak"):
        failures += result["soak"]["cell"]["failures"]
        requests += result["soak"]["cell"]["requests"]
    out.append({"aim": "no errors under load", "measured":
                f"{failures:,} failed of {requests:,} requests"
                + (f"; {len(result['server_log_problems'])} error lines in the server log"
                   if result["server_log_problems"] else ""),
                "met": failures == 0 and not result["server_log_problems"]})
    mem = (result.get("soak") or {}).get("memory", {})
    slope = mem.get("slope_second_half_mb_per_min")
    out.append({"aim": f"memory stable (here: RSS slope over the soak's second half ≤ "
                       f"{AIMS['memory_slope_mb_per_min']:.0f} MB/min)",
                "measured": f"{slope} MB/min (start {mem.get('start_mb')}, peak "
                            f"{mem.get('peak_mb')}, end {mem.get('end_mb')} MB)"
                if slope is not None else "no soak run",
                "met": None if slope is None else slope <= AIMS["memory_slope_mb_per_min"]})
    return out


def first_traceback(text: str) -> str | None:
    start = text.find("Traceback (most recent call last)")
    if start < 0:
        return None
    lines = text[start:].splitlines()
    end = next((i for i, line in enumerate(lines[1:], 1) if line and not line[0].isspace()),
               len(lines) - 1)
    return "\n".join(lines[:end + 1])[-6000:]


def log_lines(text: str, keys: tuple[str, ...]) -> list[str]:
    return [line.rstrip()[:300] for line in text.splitlines() if any(k in line for k in keys)]


def warehouse_version(path: Path) -> str | None:
    """As the server tells versions apart: a new publication is a new file (inode)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"


# --- main ---------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, help="default: the project's settings")
    parser.add_argument("--seconds", type=int, default=30, help="per (workload, clients) cell")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--soak", type=int, default=300,
                        help="seconds of the mixed workload at 10 clients (0 = none)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 8 s per cell, 1 and 10 clients, no soak")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--texts-per-cell", type=int, default=800,
                        help="distinct ads reserved per skills cell (and for the soak)")
    parser.add_argument("--occupations", type=int, default=100)
    parser.add_argument("--soak-texts", type=int,
                        help="distinct ads in the soak (default: enough that none repeats; "
                             "a small number repeats them: once the server's sentence memo "
                             "holds them all, RSS growth left is not the memo's)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server worker processes (`skillmatch serve --workers`)")
    parser.add_argument("--no-batch", action="store_true", help="skip the batch-mode process")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds each client waits between requests (default 0: back "
                             "to back)")
    parser.add_argument("--name", default="api", help="results file stem (NAME.md, NAME.json)")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--batch-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.batch_worker:
        batch_worker(args.batch_worker)
        return
    os.environ["SKILLMATCH_BENCH_THINK"] = str(args.think)  # read by the locustfile
    if args.quick:
        args.seconds, args.concurrency, args.soak = 8, [1, 10], 0
    if args.warehouse:
        os.environ["SKILLMATCH_WAREHOUSE"] = str(args.warehouse.resolve())
    os.environ.setdefault("SKILLMATCH_CONFIG", str(REPO / "skillmatch.toml"))
    from skillmatch.settings import load_settings

    settings = load_settings()
    began = time.time()
    version_at_start = warehouse_version(settings.warehouse)
    work = Path(tempfile.mkdtemp(prefix="bench_api_"))
    print(f"warehouse {settings.warehouse}; work folder {work}", flush=True)

    levels = list(dict.fromkeys(args.concurrency))
    per_cell = args.texts_per_cell
    soak_texts = (args.soak_texts or max(per_cell, args.soak * 6)) if args.soak else 0
    pool = WARM_TEXTS + per_cell * len(levels) + soak_texts
    texts = ad_texts(settings.data_root / NHS, pool)
    found = warehouse_inputs(settings.warehouse, args.occupations)
    if "talent" in args.workloads and not found["talent"]:
        raise SystemExit("the warehouse has no candidates: run `skillmatch build` first "
                         "(or --workloads skills badges)")
    inputs = {"texts": texts, "talent": found["talent"],
              "badge": json.loads((settings.data_root / BADGE).read_text(encoding="utf-8"))}
    inputs_file = work / "inputs.json"
    inputs_file.write_text(json.dumps(inputs), encoding="utf-8")
    slices = {c: (WARM_TEXTS + i * per_cell, WARM_TEXTS + (i + 1) * per_cell)
              for i, c in enumerate(levels)}
    soak_slice = (WARM_TEXTS + len(levels) * per_cell, len(texts))
    print(f"{len(texts):,} ads, {len(found['talent'])} requirement sets, counts "
          f"{found['counts']}", flush=True)

    batch: dict[str, Any] = {}
    if "skills" in args.workloads and not args.no_batch:
        plan = work / "batch_plan.json"
        plan.write_text(json.dumps({
            "inputs": str(inputs_file), "seconds": args.seconds, "output": str(work / "batch.json"),
            "levels": [{"concurrency": c, "slice": slices[c]} for c in levels]}), encoding="utf-8")
        print("batch mode (own process, before the server) ...", flush=True)
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--batch-worker",
                        str(plan)], cwd=REPO, check=True,
                       timeout=900 + len(levels) * (args.seconds + 300))
        batch = json.loads((work / "batch.json").read_text(encoding="utf-8"))

    env = {**os.environ, "SKILLMATCH_API_KEYS_DB": str(work / "keys.sqlite"),
           "SKILLMATCH_API_RATE_PER_MINUTE": "0", "SKILLMATCH_WAREHOUSE": str(settings.warehouse)}
    key = create_key(env)
    server = Server(env, work / "server.log", args.workers)
    cells: list[dict[str, Any]] = []
    warm: dict[str, float] = {}
    soak = None
    try:
        server.wait_ready()
        print(f"server on {server.url} (pid {server.proc.pid})", flush=True)
        for workload in args.workloads:
            warm[workload] = warm_up(server, key, inputs, workload, args.workers)
            print(f"warm-up {workload}: {warm[workload]:.1f} s", flush=True)
            for c in levels:
                idle = server.wait_idle()
                cell = run_locust(server, key, inputs_file, workload, c, args.seconds,
                                  slices[c], work, f"{workload}_{c}")
                cell["idle_wait_s"] = round(idle, 1)
                cells.append(cell)
                print(f"{workload:7s} {c:3d} clients: {cell['requests']:6,} requests, "
                      f"{cell['failures']} failed, p50 {fmt(cell['p50_ms'])} ms, p95 "
                      f"{fmt(cell['p95_ms'])} ms, {fmt(cell['req_per_s'], 2)} req/s "
                      f"(server CPU {cell['server_cpu_s']} s, client {cell['client_cpu_s']} s)",
                      flush=True)
        if args.soak:
            for workload in set(WORKLOADS) - set(warm):
                warm[workload] = warm_up(server, key, inputs, workload, args.workers)
            server.wait_idle()
            print(f"soak: mixed workload, 10 clients, {args.soak} s ...", flush=True)
            cell = run_locust(server, key, inputs_file, "mixed", 10, args.soak, soak_slice,
                              work, "soak")
            samples = [s for s in server.samples
                       if cell["started_at"] <= s[0] <= cell["ended_at"]]
            soak = {"seconds": args.soak, "cell": cell, "memory": memory_summary(samples),
                    "rss_samples_mb": [round(mb, 1) for _, mb in samples]}
            mem = soak["memory"]
            print(f"soak: {cell['requests']:,} requests, {cell['failures']} failed; RSS start "
                  f"{mem.get('start_mb')} peak {mem.get('peak_mb')} end {mem.get('end_mb')} MB, "
                  f"slope {mem.get('slope_second_half_mb_per_min')} MB/min", flush=True)
    finally:
        server.stop()
    log_text = server.log.read_text(encoding="utf-8", errors="replace")
    result: dict[str, Any] = {
        "generated": time.strftime("%Y-%m-%d %H:%M", time.localtime(began)),
        "command": "python benchmarks/bench_api.py " + " ".join(sys.argv[1:]),
        "wall_s": round(time.time() - began), "machine": machine(),
        "warehouse": {"path": str(settings.warehouse), "counts": found["counts"],
                      "version_at_start": version_at_start,
                      "version_at_end": warehouse_version(settings.warehouse)},
        "seconds": args.seconds, "concurrency": levels, "server_workers": args.workers,
        "think_s": args.think,
        "texts": {"pool": len(texts), "per_cell": per_cell, "warm_up": WARM_TEXTS,
                  "soak": soak_slice[1] - soak_slice[0] if args.soak else 0},
        "soak_text_wraps": soak["cell"].get("text_wraps", 0) if soak else 0,
        "talent_sets_sizes": [len(s) for s in found["talent"]],
        "talent_sets_median": sorted(len(s) for s in found["talent"])[
            len(found["talent"]) // 2] if found["talent"] else None,
        "batch_mode": batch, "warm_up_s": {k: round(v, 1) for k, v in warm.items()},
        "cells": cells, "soak": soak,
        "memory_whole_run": memory_summary(server.samples),
        "server_log_problems": log_lines(log_text, ("Traceback", "ERROR", "CRITICAL")),
        "server_log_warnings": log_lines(log_text, ("WARNING", "Warning:")),
        "server_log_first_traceback": first_traceback(log_text),
        "server_log_tail": log_text[-20_000:],
    }
    result["aims"] = aims(result)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / f"{args.name}.json").write_text(json.dumps(result, indent=1),
                                                   encoding="utf-8")
    page = report(result)
    (args.output / f"{args.name}.md").write_text(page, encoding="utf-8")
    print()
    print(page)
    print(f"written {args.output / (args.name + '.md')}, {args.output / (args.name + '.json')} "
          f"({result['wall_s']} s)")
    if result["server_log_problems"] or any(c["failures"] for c in cells):
        print(f"kept {work} (server.log, per-request records)")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The analyst's notebooks (notebooks/*.ipynb): stored without outputs, and executed end to end
with nbclient against the demo warehouse (`demo_settings`), each as a copy in a temporary
folder (nothing is written into the repository).

The kernel is this interpreter (the venv's Python): the test writes a `python3` kernel spec
naming `sys.executable` into its own JUPYTER_PATH, which comes before the user's and the
system's kernel folders, and checks the kernel's `sys.prefix`. A probe cell appended to each
copy reports the values the assertions need (the notebooks' own variables).

catalogue_tagging.ipynb starts its own `skillmatch serve` (keys in a temporary key store) for
its API part; its library part is checked on its own, so a broken API fails only
`test_catalogue_tagging_api_agrees_with_the_library`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, settings_env
from nbclient import NotebookClient

from skillmatch.settings import Settings

NOTEBOOKS = REPO / "notebooks"
CELL_TIMEOUT = 300
PROBE = "PROBE "


def kernel_path(root: Path) -> Path:
    """A JUPYTER_PATH folder whose `python3` kernel is this interpreter."""
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (SkillMatch venv)", "language": "python"}), encoding="utf-8")
    return root


def execute(name: str, settings: Settings, work: Path, probe: str) -> nbformat.NotebookNode:
    """Run notebooks/`name` as a copy in `work`, with `probe` appended, against `settings`.
    Errors do not stop the run (every cell runs, so the notebook's last cell still stops a
    server it started); the executed copy is left in `work` to look at."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(probe, metadata={"tags": ["test-probe"]}))
    env = {
        **{k: v for k, v in settings_env(settings).items() if k.startswith("SKILLMATCH_")},
        "SKILLMATCH_API_KEYS_DB": str(work / "api_keys.sqlite"),
        "JUPYTER_PATH": str(kernel_path(work / "jupyter")),
        "IPYTHONDIR": str(work / "ipython"),
        "TMPDIR": str(work / "tmp"),  # the notebooks' scratch files (example CSV, server log)
    }
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        for key in ("SKILLMATCH_API_URL", "SKILLMATCH_API_KEY"):
            mp.delenv(key, raising=False)  # the notebook starts its own server on the demo
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                allow_errors=True, resources={"metadata": {"path": str(work)}})
        client.execute()
    nbformat.write(nb, work / name)
    return nb


def errors(nb: nbformat.NotebookNode, *, api: bool | None = None) -> list[str]:
    """'cell N [tags]: Error: message' per failed code cell; api=True/False: only the cells
    tagged (or not tagged) "api"."""
    found = []
    for number, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type != "code" or (api is not None and ("api" in tags) != api):
            continue
        for output in cell.outputs:
            if output.output_type == "error":
                found.append(f"cell {number} {tags}: {output.ename}: {output.evalue[:1500]}")
    return found


def probed(nb: nbformat.NotebookNode) -> dict:
    """What the probe cell printed."""
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    line = next((x for x in text.splitlines() if x.startswith(PROBE)), None)
    assert line, f"the probe printed nothing: {nb.cells[-1].outputs}"
    return json.loads(line[len(PROBE):])


def tagged_cell(nb: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if tag in c.get("metadata", {}).get("tags", []))


def html_outputs(cell: nbformat.NotebookNode) -> list[str]:
    return [o["data"]["text/html"] for o in cell.outputs
            if o.output_type in ("display_data", "execute_result")
            and "text/html" in o.get("data", {})]


REGIONAL_PROBE = f"""
import json as _json, sys as _sys
_spec = map_chart.to_dict()
print({PROBE!r} + _json.dumps({{
    "prefix": _sys.prefix, "level": level, "code": code, "note": note, "country": country,
    "key_vacancies": float(key.iloc[0, 0]), "skills": len(skills), "trend": len(trend),
    "gap": len(gap), "gap_positive": int((gap["gap_index"] > 0).sum()),
    "coverage_skills": len(demand), "regional": len(regional),
    "map_layers": len(_spec["layer"]), "features": len(features),
    "filled": sum("mismatch_pct" in f["properties"] for f in features),
    "chosen": sum(f["properties"]["chosen"] for f in features)}}))
"""

CATALOGUE_PROBE = f"""
import json as _json, sys as _sys
print({PROBE!r} + _json.dumps({{
    "prefix": _sys.prefix,
    "csv": str(globals().get("tagged_csv", "")),
    "issues": sorted(map(list, zip(issues["credential_id"], issues["rule"])))
              if "issues" in globals() else None,
    "tags": {{f"{{c}}#{{n}}": sorted(g["skill_label"].dropna())
              for (c, n), g in tagged.groupby(["credential_id", "outcome_no"])}}
            if "tagged" in globals() else None,
    "api_agreed": "only_one_side" in globals() and only_one_side.empty,
    "server_running": globals().get("server") is not None and server.poll() is None}}))
"""


@pytest.fixture(scope="module")
def regional(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory
             ) -> nbformat.NotebookNode:
    return execute("regional_report.ipynb", demo_settings,
                   tmp_path_factory.mktemp("regional"), REGIONAL_PROBE)


@pytest.fixture(scope="module")
def catalogue(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory
              ) -> nbformat.NotebookNode:
    return execute("catalogue_tagging.ipynb", demo_settings,
                   tmp_path_factory.mktemp("catalogue"), CATALOGUE_PROBE)


def test_both_notebooks_exist() -> None:
    names = {p.name for p in NOTEBOOKS.glob("*.ipynb")}
    assert {"regional_report.ipynb", "catalogue_tagging.ipynb"} <= names


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    stored = [n for n, c in enumerate(nb.cells) if c.cell_type == "code"
              and (c.outputs or c.execution_count is not None)]
    assert not stored, f"{path.name}: cells {stored} have outputs or an execution count " \
                       "(clear them before committing)"
    text = path.read_text(encoding="utf-8")
    assert "/work/" not in text, f"{path.name}: a hard-coded path (use settings)"


def test_regional_report_runs_on_the_demo_warehouse(regional: nbformat.NotebookNode) -> None:
    assert not errors(regional), errors(regional)
    found = probed(regional)
    assert found["prefix"] == sys.prefix  # the kernel was this venv's Python
    # the demo warehouse has no Dutch vacancy with a location (60 NHS, 40 VDAB ads): the
    # default labour-market region falls back to the region with the most vacancies
    assert found["note"] and "AM22" in found["note"], found
    assert (found["level"], found["code"], found["country"]) == ("nuts3", "UKG31", "UK")
    assert found["key_vacancies"] > 0 and found["skills"] > 0 and found["trend"] > 0
    assert found["gap"] > 0 and found["gap_positive"] > 0 and found["coverage_skills"] > 0
    assert found["regional"] > 1
    # the map: outlines, filled regions and the report's region outlined
    assert found["map_layers"] == 3 and found["features"] > 100
    assert found["filled"] > 1 and found["chosen"] == 1
    html = html_outputs(tagged_cell(regional, "map"))
    assert html and "vega" in html[0] and "mismatch_pct" in html[0]
    for tag in ("demand", "trend", "gap"):
        assert any("vega" in h for h in html_outputs(tagged_cell(regional, tag))), tag


def test_catalogue_tagging_library_part(catalogue: nbformat.NotebookNode) -> None:
    assert not errors(catalogue, api=False), errors(catalogue, api=False)
    found = probed(catalogue)
    assert found["prefix"] == sys.prefix
    assert found["issues"] == [["nb-003", "ects_range"], ["nb-004", "eqf_missing"]]
    tags = found["tags"]
    assert len(tags) == 12  # four credentials, three outcomes each
    assert "Python (computer programming)" in tags["nb-002#1"]
    assert "PostgreSQL" in tags["nb-002#2"]
    assert any(tags[f"nb-001#{n}"] for n in (1, 2, 3))  # the Dutch outcomes map too
    written = Path(found["csv"])
    assert written.name == "example_catalogue_tagged.csv" and written.is_file()
    assert "PostgreSQL" in written.read_text(encoding="utf-8")


def test_catalogue_tagging_api_agrees_with_the_library(
        catalogue: nbformat.NotebookNode) -> None:
    found = probed(catalogue)
    assert not found["server_running"], "the notebook's last cell did not stop its server"
    assert not errors(catalogue, api=True), errors(catalogue, api=True)
    assert found["api_agreed"]
    assert any("API and library agree on" in o.get("text", "")
               for c in catalogue.cells if "api" in c.get("metadata", {}).get("tags", [])
               for o in c.outputs)

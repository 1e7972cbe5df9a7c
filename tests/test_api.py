"""The HTTP API against a real `skillmatch serve` (uvicorn on a free loopback port) on the
demo warehouse, called with httpx: every endpoint's happy path, roles, limits and hostile
input."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import duckdb
import httpx
import pandas as pd
import pytest
from conftest import REPO, SHARED, api_server, cli, settings_env

from skillmatch import matching, warehouse
from skillmatch.access import KeyStore

EXAMPLES = SHARED / "credentials" / "examples"
NURSE = "http://data.europa.eu/esco/occupation/8d3e8aaa-791b-4c75-a465-f3f827028f50"
NURSING_TEXT = ("We are looking for a nurse who can plan and evaluate nursing care and assess "
                "patients' needs. You will work in multidisciplinary health teams.")
RATE = 120  # requests a minute per key on the test server


@pytest.fixture(scope="module")
def api(demo_settings, tmp_path_factory) -> Iterator[dict]:
    """The server, its key store and one key per role (plus one only for the rate test)."""
    root = tmp_path_factory.mktemp("api")
    env = {**settings_env(demo_settings), "SKILLMATCH_API_KEYS_DB": str(root / "keys.sqlite"),
           "SKILLMATCH_API_RATE_PER_MINUTE": str(RATE)}
    store = KeyStore(root / "keys.sqlite")
    keys = {role: store.create(role, f"test {role}")[1]
            for role in ("consortium", "institution", "employer", "admin")}
    with api_server(env, root / "server.log") as url:
        yield {"url": url, "keys": keys, "store": store, "env": env,
               "warehouse": demo_settings.warehouse}


def call(api: dict, method: str, path: str, role: str | None = "employer",
         **kwargs) -> httpx.Response:
    headers = kwargs.pop("headers", {})
    if role:
        headers["Authorization"] = f"Bearer {api['keys'][role]}"
    return httpx.request(method, api["url"] + path, headers=headers, timeout=300, **kwargs)


def error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text[:500]
    body = response.json()["error"]
    assert body["status"] == status and body["message"]
    return body


def test_health_needs_no_key_and_names_the_version(api) -> None:
    body = call(api, "GET", "/v1/health", role=None).json()
    assert body["status"] == "ok" and body["taxonomy"]["version"]
    assert body["published"]["version"] >= 1


def test_no_key_wrong_key_and_revoked_key_are_401(api) -> None:
    assert error(call(api, "POST", "/v1/skills", role=None, json={"text": "x"}), 401)
    bad = {"Authorization": "Bearer sm_000000000000_not-a-key"}
    error(call(api, "POST", "/v1/skills", role=None, headers=bad, json={"text": "x"}), 401)
    key, secret = api["store"].create("institution", "to revoke")
    ok = call(api, "GET", "/v1/taxonomy/occupation", role=None, params={"uri": NURSE},
              headers={"X-API-Key": secret})
    assert ok.status_code == 200
    api["store"].revoke(key.key_id)
    error(call(api, "GET", "/v1/taxonomy/occupation", role=None, params={"uri": NURSE},
               headers={"X-API-Key": secret}), 401)


def test_skills_from_one_text_and_a_batch(api) -> None:
    one = call(api, "POST", "/v1/skills", role="consortium", json={"text": NURSING_TEXT})
    assert one.status_code == 200, one.text
    skills = one.json()["results"][0]["skills"]
    labels = {s["label"] for s in skills}
    assert skills and all(s["accepted"] for s in skills)
    assert labels & {"plan nursing care", "evaluate nursing care",
                     "work in multidisciplinary health teams"}
    first = skills[0]
    assert first["uri"].startswith("http://data.europa.eu/esco/skill/")
    assert first["evidence"] and first["phrase"] and 0 <= first["start"] < first["end"]
    batch = call(api, "POST", "/v1/skills", role="consortium",
                 json={"texts": [NURSING_TEXT, "Experience with Python and PostgreSQL"],
                       "top_k": 3}).json()["results"]
    assert [len(r["skills"]) for r in batch] == [3, 3]
    assert batch[0]["skills"][0]["uri"] == first["uri"]  # the batch answers as one text does
    assert "Python (computer programming)" in {s["label"] for s in batch[1]["skills"]}


def test_occupations_from_titles_in_english_and_dutch(api) -> None:
    body = call(api, "POST", "/v1/occupations", role="consortium",
                json={"titles": ["Registered nurse", "Verpleegkundige"], "top_k": 3}).json()
    for result in body["results"]:
        best = result["occupations"][0]
        assert best["uri"] == NURSE and best["isco_code"].startswith("2221")


def test_taxonomy_search_and_concept_look_up(api) -> None:
    hits = call(api, "GET", "/v1/taxonomy/search", role="institution",
                params={"q": "weld metal", "type": "skill", "top_k": 5}).json()["results"]
    assert hits and all(h["concept_type"] == "skill" for h in hits)
    occupation = call(api, "GET", "/v1/taxonomy/occupation", role="institution",
                      params={"uri": NURSE}).json()
    assert occupation["concept"]["preferred_label"] == "nurse responsible for general care"
    assert occupation["parts"]["isco_group"]["code"] == "2221"
    essential = occupation["parts"]["essential"]
    skill = call(api, "GET", "/v1/taxonomy/skill", role="institution",
                 params={"uri": essential[0]["uri"]}).json()
    assert skill["concept"]["uri"] == essential[0]["uri"]
    assert NURSE in {o["uri"] for o in skill["parts"]["occupations"]}
    error(call(api, "GET", "/v1/taxonomy/skill", role="institution",
               params={"uri": "http://data.europa.eu/esco/skill/nope"}), 404)


def test_catalogue_tagging_checks_the_quality_framework(api) -> None:
    credentials = [
        {"credential_id": "c-ok", "title": "Nursing care planning", "provider": "Hogeschool X",
         "learning_outcomes": ["The student can plan nursing care for patients",
                               "The student can evaluate nursing care"],
         "ects": 5, "eqf_level": 6, "study_load_hours": 140, "language": "en"},
        {"credential_id": "c-big", "title": "Welding", "provider": "ROC Y",
         "learning_outcomes": ["weld metal parts"], "ects": 45, "study_load_hours": 1260},
    ]
    body = call(api, "POST", "/v1/catalogue/tag", role="institution",
                json={"credentials": credentials}).json()["credentials"]
    ok, big = body
    assert ok["quality"]["ok"] and not ok["quality"]["issues"]
    assert {s["label"] for o in ok["outcomes"] for s in o["skills"]} & {
        "plan nursing care", "evaluate nursing care"}
    assert not big["quality"]["ok"]
    assert {i["rule"] for i in big["quality"]["issues"]} >= {"ects_range", "eqf_missing"}
    bad = call(api, "POST", "/v1/catalogue/tag", role="institution",
               json={"credentials": [{"title": "No provider"}]})
    assert "provider" in error(bad, 422)["message"]


@pytest.mark.parametrize("name", ["OBv3_microcredential_example_MyNextID.json",
                                  "ELMv3_Sample-MC-Annex1-unsigned.jsonld"])
def test_badge_alignment_of_the_real_examples(api, name: str) -> None:
    document = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    response = call(api, "POST", "/v1/badges/align", role="institution", json=document)
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert body["format"] in ("open_badges_3", "elm")
    assert set(body["document"]) == set(document)  # the same document, alignments added
    assert "ects" in body["quality"] or "ok" in body["quality"]
    error(call(api, "POST", "/v1/badges/align", role="institution",
               json={"type": "NotABadge"}), 422)


def test_learner_advice_towards_an_occupation(api) -> None:
    body = call(api, "POST", "/v1/learners/advice", role="institution",
                json={"target_occupation": NURSE, "budget_ects": 15}).json()
    assert body["target"] and len(body["gap"]) == len(body["target"])  # nothing held
    assert body["credentials"], "the demo catalogue teaches nursing skills"
    assert sum(step["ects"] for step in body["path"]) <= 15
    unknown = call(api, "POST", "/v1/learners/advice", role="institution",
                   json={"target_occupation": NURSE, "credentials_held": ["no-such-id"]})
    assert "no-such-id" in error(unknown, 422)["message"]


def test_demand_figures_for_a_region_layer_and_sector(api) -> None:
    figures = call(api, "GET", "/v1/demand/figures", role="consortium").json()["figures"]
    assert figures["vacancies"] > 0
    skills = call(api, "GET", "/v1/demand/skills", role="consortium",
                  params={"n": 5}).json()["rows"]
    assert 0 < len(skills) <= 5 and skills[0]["vacancies"] >= skills[-1]["vacancies"]
    regions = call(api, "GET", "/v1/demand/regions", role="consortium",
                   params={"region_level": "nuts3"}).json()["rows"]
    region = regions[0]["region_code"]
    gap = call(api, "GET", "/v1/demand/gap", role="consortium",
               params={"region_level": "nuts3", "region": region, "by": "region",
                       "top": 3}).json()["rows"]
    assert gap and {g["area"] for g in gap} == {region} and len(gap) <= 3
    error(call(api, "GET", "/v1/demand/skills", role="consortium",
               params={"period_from": "2020-01"}), 422)


def test_talent_search_is_for_employers_and_audited(api) -> None:
    query = {"occupation_uri": NURSE, "top_k": 5, "explain": 2}
    for role in ("consortium", "institution", "admin"):
        error(call(api, "POST", "/v1/talent/search", role=role, json=query), 403)
    before = len(api["store"].searches())
    response = call(api, "POST", "/v1/talent/search", role="employer", json=query)
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    found = body["candidates"]
    assert 0 < len(found) <= 5 and body["candidates_searched"] >= len(found)
    assert all(c["candidate_id"].startswith("syn-") for c in found)  # pseudonymous ids
    assert found[0]["explanation"] and found[2].get("explanation") is None
    audit = api["store"].searches()
    assert len(audit) == before + 1
    latest = audit[0]
    employer = next(k for k in api["store"].list() if k.name == "test employer")
    assert latest["key_id"] == employer.key_id and latest["candidates_returned"] == len(found)
    assert len(latest["query_hash"]) == 64 and NURSE not in json.dumps(latest)
    text = call(api, "POST", "/v1/talent/search", role="employer",
                json={"vacancy_text": NURSING_TEXT, "top_k": 3, "explain": 0}).json()
    assert text["requirements"] and text["candidates"]
    # an occupation and a list together: the list's repeated skill counts once (its first
    # entry), a skill in both keeps the heavier entry, as the library's tables say
    with warehouse.connect(api["warehouse"], read_only=True) as con:
        profile = matching.requirements_for_occupation(con, NURSE)
        first, second = profile["skill_uri"].iloc[0], profile["skill_uri"].iloc[-1]
        listed = matching.requirements_from_skills(con, [second, first]).assign(
            weight=[4.0, 1.0])
    mixed = call(api, "POST", "/v1/talent/search", role="employer", json={
        "occupation_uri": NURSE, "top_k": 5, "explain": 0,
        "requirements": [{"skill_uri": second, "weight": 4}, {"skill_uri": first},
                         {"skill_uri": second, "weight": 9}]}).json()
    expected = matching.normalise_requirements(pd.concat([profile, listed],
                                                         ignore_index=True))
    assert mixed["requirements"] == expected.to_dict("records")


def test_limits_answer_413_422_and_429(api) -> None:
    big = {"text": "x" * 3_000_000}
    assert error(call(api, "POST", "/v1/skills", json=big), 413)["code"] == "body_too_large"
    long = call(api, "POST", "/v1/skills", json={"text": "nursing care " * 90_000})
    assert "api_max_text_chars" in error(long, 422)["message"]
    many = call(api, "POST", "/v1/skills", json={"texts": ["care"] * 10_000})
    assert "api_max_batch" in error(many, 422)["message"]
    error(call(api, "POST", "/v1/skills", json={"text": "x", "colour": "red"}), 422)
    error(call(api, "POST", "/v1/skills", json={"text": 12}), 422)
    error(call(api, "POST", "/v1/skills", content=b"{not json",
               headers={"Content-Type": "application/json"}), 422)
    _, secret = api["store"].create("consortium", "rate")

    def look_up(_: int) -> httpx.Response:
        return httpx.get(api["url"] + "/v1/taxonomy/occupation", params={"uri": NURSE},
                         headers={"X-API-Key": secret}, timeout=60)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(look_up, range(2 * RATE)))
    statuses = Counter(r.status_code for r in answers)
    # a full bucket (refilled at RATE/60 a second while they run), then refusals
    assert statuses[200] >= RATE and statuses[429] > 0 and set(statuses) == {200, 429}
    limited = next(r for r in answers if r.status_code == 429)
    assert error(limited, 429)["code"] == "rate_limited" and limited.headers["Retry-After"]


HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
           "'; DROP TABLE vacancy; --", "\" OR 1=1 --", "NL33') UNION SELECT * FROM candidate --",
           "\u202e\u0000\ufeff", "🧭" * 50]


def test_hostile_input_gets_a_clean_status_and_the_server_keeps_serving(api) -> None:
    before = duckdb.connect(str(api["warehouse"]), read_only=True)
    counts = before.execute("SELECT (SELECT count(*) FROM vacancy), "
                            "(SELECT count(*) FROM candidate)").fetchone()
    before.close()
    statuses = []
    for text in HOSTILE:  # in every string field of every endpoint
        badge = {"type": ["Achievement"], "id": text, "name": text, "description": text,
                 "criteria": {"narrative": text},
                 "alignment": [{"type": ["Alignment"], "targetName": text, "targetUrl": text}]}
        requests = [
            ("consortium", "POST", "/v1/skills", {"json": {"text": text, "language": text}}),
            ("consortium", "POST", "/v1/skills", {"json": {"texts": [text, text]}}),
            ("consortium", "POST", "/v1/occupations", {"json": {"title": text}}),
            ("consortium", "GET", "/v1/taxonomy/search",
             {"params": {"q": text, "type": text, "language": text}}),
            ("consortium", "GET", "/v1/taxonomy/search", {"params": {"q": text}}),
            ("consortium", "GET", "/v1/taxonomy/skill", {"params": {"uri": text}}),
            ("consortium", "GET", "/v1/taxonomy/occupation", {"params": {"uri": text}}),
            ("consortium", "GET", "/v1/demand/skills",
             {"params": {"region": text, "sector": text, "isco": text, "source": text,
                         "skill_type": text}}),
            ("consortium", "GET", "/v1/demand/trend",
             {"params": {"skill": text, "period_from": text, "region_level": text}}),
            ("institution", "POST", "/v1/catalogue/tag", {"json": {"credentials": [
                {"credential_id": text, "title": text, "provider": text, "description": text,
                 "learning_outcomes": [text], "esco_skill_uris": [text],
                 "language": text}]}}),
            ("institution", "POST", "/v1/badges/align", {"json": badge}),
            ("institution", "POST", "/v1/learners/advice",
             {"json": {"target_occupation": text, "credentials_held": [text],
                       "skills": [text]}}),
            ("institution", "POST", "/v1/learners/advice", {"json": {"vacancy_text": text}}),
            ("employer", "POST", "/v1/talent/search",
             {"json": {"requirements": [{"skill_uri": text}], "regions": [text]}}),
            ("employer", "POST", "/v1/talent/search",
             {"json": {"vacancy_text": text, "occupation_uri": text}}),
            ("admin", "POST", "/v1/keys", {"json": {"role": text, "name": text}}),
            ("admin", "DELETE", f"/v1/keys/{quote(text, safe='')}", {}),
        ]
        for role, method, path, kwargs in requests:
            statuses.append((call(api, method, path, role=role, **kwargs).status_code, path))
    assert {status for status, _ in statuses} <= {200, 404, 422}, statuses
    lone = call(api, "POST", "/v1/skills", role="consortium",
                content=b'{"text": "care \\ud800 plan"}',
                headers={"Content-Type": "application/json"})
    assert "surrogate" in error(lone, 422)["message"]
    paired = call(api, "POST", "/v1/skills", role="consortium",
                  content=b'{"text": "care \\ud83e\\udded plan"}',
                  headers={"Content-Type": "application/json"})
    assert paired.status_code == 200
    raw = call(api, "POST", "/v1/skills", role="consortium", content=b'{"text": "\xff\xfe"}',
               headers={"Content-Type": "application/json"})
    error(raw, 400)
    assert call(api, "GET", "/v1/health", role=None).json()["status"] == "ok"
    after = duckdb.connect(str(api["warehouse"]), read_only=True)
    assert after.execute("SELECT (SELECT count(*) FROM vacancy), "
                         "(SELECT count(*) FROM candidate)").fetchone() == counts
    after.close()


def preflight(url: str, origin: str) -> httpx.Response:
    return httpx.options(url + "/v1/skills", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})


def test_cors_is_off_unless_configured(api, tmp_path: Path) -> None:
    assert "access-control-allow-origin" not in preflight(api["url"], "https://evil.example"
                                                          ).headers
    env = {**api["env"], "SKILLMATCH_API_CORS_ORIGINS": "https://portal.example"}
    with api_server(env, tmp_path / "cors.log") as url:
        allowed = preflight(url, "https://portal.example")
        assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
        assert "access-control-allow-origin" not in preflight(url, "https://evil.example"
                                                              ).headers


def test_admin_keys_over_http_and_the_openapi_document(api) -> None:
    created = call(api, "POST", "/v1/keys", role="admin",
                   json={"role": "consortium", "name": "over http"})
    assert created.status_code == 201 and created.json()["key"].startswith("sm_")
    listed = call(api, "GET", "/v1/keys", role="admin").json()
    assert "over http" in {k["name"] for k in listed}
    assert all("key" not in k for k in listed)
    revoked = call(api, "DELETE", f"/v1/keys/{created.json()['key_id']}", role="admin")
    assert revoked.json()["revoked_at"]
    error(call(api, "GET", "/v1/keys", role="employer"), 403)
    error(call(api, "POST", "/v1/skills", role="admin", json={"text": "x"}), 403)
    spec = httpx.get(api["url"] + "/openapi.json").json()
    assert {"/v1/skills", "/v1/badges/align", "/v1/talent/search", "/v1/demand/gap",
            "/v1/learners/advice", "/v1/catalogue/tag"} <= set(spec["paths"])
    assert httpx.get(api["url"] + "/docs").status_code == 200
    documented = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    for path, operations in spec["paths"].items():  # the API's page lists every endpoint
        for method in operations:
            assert f"| {method.upper()} | `{path}` |" in documented, (method, path)


def test_keys_cli_shows_a_key_once_and_stores_only_its_hash(api, tmp_path: Path) -> None:
    env = {**api["env"], "SKILLMATCH_API_KEYS_DB": str(tmp_path / "keys.sqlite")}
    made = cli(env, "keys", "create", "--role", "employer", "--name", "recruiter")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("sm_") and "\n" not in secret and "employer" in made.stderr
    listed = cli(env, "keys", "list")
    assert "recruiter" in listed.stdout and secret not in listed.stdout
    raw = (tmp_path / "keys.sqlite").read_bytes()
    assert secret.encode() not in raw and secret.rsplit("_", 1)[1].encode() not in raw
    with sqlite3.connect(tmp_path / "keys.sqlite") as con:
        key_id, role = con.execute("SELECT key_id, role FROM api_key").fetchone()
    assert role == "employer" and KeyStore(tmp_path / "keys.sqlite").verify(secret)
    revoked = cli(env, "keys", "revoke", key_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert KeyStore(tmp_path / "keys.sqlite").verify(secret) is None
    again = cli(env, "keys", "revoke", key_id)
    assert again.returncode == 1 and "already revoked" in again.stderr
    wrong = cli(env, "keys", "create", "--role", "root")
    assert wrong.returncode == 2

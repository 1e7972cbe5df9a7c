"""Badge alignment (skillmatch.badges) on the real Open Badges 3.0 and ELM v3 examples and on
small documents written here, with the real mapping engine on the mini ESCO export."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import REPO_SETTINGS, needs_shared

from skillmatch.badges import (
    MAX_DEPTH,
    MAX_OUTCOMES,
    BadgeAlignment,
    BadgeError,
    align_badge,
    detect_format,
    schema_violations,
    validate,
)
from skillmatch.mapping import SkillExtractor
from skillmatch.settings import Settings
from skillmatch.sources.credentials import is_added_alignment, read_open_badge

EXAMPLES = REPO_SETTINGS.data_root / "credentials" / "examples"
OB3_EXAMPLE = EXAMPLES / "OBv3_microcredential_example_MyNextID.json"
ELM_EXAMPLE = EXAMPLES / "ELMv3_Sample-MC-Annex1-unsigned.jsonld"
FORM_EXAMPLE = EXAMPLES / "microcredential_input_fields_example_MyNextID.json"
needs_examples = pytest.mark.skipif(not EXAMPLES.exists(), reason=f"{EXAMPLES} not found")
ESCO = "http://data.europa.eu/esco/skill/"
ESCO_SCHEME = {"id": "http://data.europa.eu/esco/concept-scheme/skills",
               "type": "ConceptScheme"}
ALIGNMENT_KEYS = {"type", "targetName", "targetUrl", "targetFramework", "targetCode",
                  "targetType", "targetDescription"}
COMMUNICATION_OUTCOME = "Communication, collaboration and creativity"


@pytest.fixture(scope="module")
def extractor(mini_settings: Settings) -> SkillExtractor:
    con = duckdb.connect(str(mini_settings.warehouse), read_only=True)
    try:
        return SkillExtractor(mini_settings, con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def skill_uri(mini_settings: Settings) -> dict[str, str]:
    """ESCO URI by preferred label, for the skills of the mini taxonomy."""
    con = duckdb.connect(str(mini_settings.warehouse), read_only=True)
    try:
        return dict(con.execute("SELECT preferred_label, uri FROM esco_skill").fetchall())
    finally:
        con.close()


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _text(document: Any) -> str:
    """The exact serialisation (key order included) two documents are compared by."""
    return json.dumps(document, ensure_ascii=False, allow_nan=False)


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def _types(node: dict[str, Any]) -> list[str]:
    kind = node.get("type")
    return kind if isinstance(kind, list) else [kind]


def _added_entries(result: BadgeAlignment) -> list[dict[str, Any]]:
    """The entries the alignment added to its document, in document order."""
    if result.format == "open_badges_3":
        return [a for node in _nodes(result.document)
                for a in (node.get("alignment") or []) if is_added_alignment(a)]
    added = {o["id"]: {a["uri"] for a in o["added"]} for o in result.outcomes}
    found = {(node.get("id"), c["id"]): c for node in _nodes(result.document)
             if "LearningOutcome" in _types(node)
             for c in (node.get("relatedESCOSkill") if isinstance(
                 node.get("relatedESCOSkill"), list) else [])
             if isinstance(c, dict) and c.get("id") in added.get(node.get("id"), set())}
    return list(found.values())  # a node written out twice carries them twice


def _without_added(result: BadgeAlignment, original: dict[str, Any]) -> dict[str, Any]:
    """The aligned document with what the alignment added taken out again. (`original`
    only says whether an ELM relatedESCOSkill was one object or a list before.)"""
    if result.format == "open_badges_3":
        document = copy.deepcopy(result.document)
        for node in _nodes(document):
            if isinstance(node.get("alignment"), list):
                node["alignment"] = [a for a in node["alignment"] if not is_added_alignment(a)]
        return document
    added = {o["id"]: {a["uri"] for a in o["added"]} for o in result.outcomes}

    def strip(value: Any, before: Any) -> Any:
        if isinstance(value, list):
            return [strip(v, before[i] if isinstance(before, list) and i < len(before)
                          else None) for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        uris = added.get(value.get("id"), set()) if "LearningOutcome" in _types(value) \
            else set()
        out = {}
        for key, item in value.items():
            was = before.get(key) if isinstance(before, dict) else None
            if key == "relatedESCOSkill" and uris:
                kept = [c for c in item if not (isinstance(c, dict) and c.get("id") in uris)]
                if kept:  # else the key itself was added
                    out[key] = kept[0] if len(kept) == 1 and not isinstance(was, list) \
                        else kept
            else:
                out[key] = strip(item, was)
        return out

    return strip(result.document, original)


def _check_round_trip(document: dict[str, Any], extractor: SkillExtractor) -> BadgeAlignment:
    """What every alignment keeps: input untouched, output a new, schema-valid document that
    is the input plus well-formed entries, a JSON answer, and nothing new on a second run."""
    before = _text(document)
    fmt = detect_format(document)
    result = align_badge(document, extractor)
    assert _text(document) == before  # the input is not mutated
    assert result.document is not document and result.format == fmt
    assert schema_violations(result.document, fmt) == schema_violations(document, fmt)
    assert _text(_without_added(result, document)) == before  # declared kept, key order too
    answer = result.as_dict()
    assert json.loads(_text(answer)) == answer  # plain JSON types only
    assert set(answer) == {"format", "credential", "quality", "outcomes", "n_added",
                           "schema_violations", "document"}
    entries = _added_entries(result)
    assert len(entries) == result.n_added == sum(len(o["added"]) for o in result.outcomes)
    by_uri = {a["uri"]: (o, a) for o in result.outcomes for a in o["added"]}
    for entry in entries:
        if fmt == "open_badges_3":
            outcome, skill = by_uri[entry["targetUrl"]]
            assert set(entry) == ALIGNMENT_KEYS
            assert entry == {**entry, "type": ["Alignment"], "targetName": skill["label"],
                             "targetFramework": "ESCO", "targetType": "ceasn:Competency",
                             "targetCode": skill["uri"].rsplit("/", 1)[1]}
            assert entry["targetDescription"].startswith(
                f"SkillMatch: from learning outcome {outcome['index']}: ")
        else:
            outcome, skill = by_uri[entry["id"]]
            assert entry == {"id": skill["uri"], "type": "Concept", "inScheme": ESCO_SCHEME,
                             "notation": "Skill", "prefLabel": {"en": skill["label"]}}
    for outcome in result.outcomes:
        declared = {u.replace("https://", "http://") for u in outcome["declared"]}
        assert not declared & {a["uri"] for a in outcome["added"]}  # never a declared one
        assert len(outcome["added"]) <= 5
        for skill in outcome["added"]:
            assert set(skill) == {"uri", "label", "skill_type", "score", "evidence", "phrase"}
            assert skill["uri"].startswith(ESCO) and 0 < skill["score"] <= 1
    again = align_badge(result.document, extractor)  # idempotent
    assert again.n_added == 0 and _text(again.document) == _text(result.document)
    assert again.quality == result.quality and again.credential == result.credential
    return result


# --------------------------------------------------------------------------- real examples


@needs_shared
@needs_examples
def test_open_badge_example_round_trip(extractor: SkillExtractor) -> None:
    document = _load(OB3_EXAMPLE)
    validate(document, "open_badges_3")
    result = _check_round_trip(document, extractor)
    validate(result.document, "open_badges_3")
    assert result.format == "open_badges_3"
    assert result.credential == {"title": "Data Science Fundamentals",
                                 "provider": "NETIS d.o.o.",
                                 "credential_id": "urn:uuid:5300c688-6bfc-498a-a976-230af55b5ca6",
                                 "language": "en"}
    quality = result.quality
    assert (quality["ects"], quality["eqf_level"], quality["study_load_hours"],
            quality["n_outcomes"]) == (5.0, None, None, 2)
    assert not quality["ok"]
    assert {i["rule"] for i in quality["issues"]} == {"eqf_missing", "study_load_missing"}
    assert all(set(i) == {"rule", "severity", "message"} for i in quality["issues"])
    # each outcome is an issuer alignment that already names its ESCO skill
    assert [(o["index"], o["text"], o["path"]) for o in result.outcomes] == [
        (1, "Develop test procedures", "/credentialSubject/achievement/alignment/0"),
        (2, "Analyse test data", "/credentialSubject/achievement/alignment/1")]
    assert result.outcomes[0]["declared"] == [ESCO + "f10142ce-d522-49c3-9fd1-054fb63529d4"]
    alignment = result.document["credentialSubject"]["achievement"]["alignment"]
    assert alignment[:2] == document["credentialSubject"]["achievement"]["alignment"]


@needs_shared
@needs_examples
def test_elm_example_round_trip(extractor: SkillExtractor, skill_uri: dict[str, str]) -> None:
    document = _load(ELM_EXAMPLE)
    validate(document, "elm")
    result = _check_round_trip(document, extractor)
    validate(result.document, "elm")
    assert result.format == "elm"
    assert (result.credential["title"], result.credential["provider"]) == (
        "Digital micro-credential creation", "University of Zed")
    quality = result.quality
    assert (quality["ects"], quality["eqf_level"], quality["study_load_hours"],
            quality["n_outcomes"]) == (2.0, 6, 60.0, 2)
    assert not quality["ok"] and [i["rule"] for i in quality["issues"]] == ["ects_range"]
    first, second = result.outcomes
    assert (first["id"], first["text"]) == ("urn:epass:learningOutcome:1",
                                            COMMUNICATION_OUTCOME)
    assert len(first["declared"]) == 3 and len(second["declared"]) == 1
    # "communication" is in the mini taxonomy; the declared three stay first
    assert skill_uri["communication"] in [a["uri"] for a in first["added"]]
    outcome = result.document["credentialSubject"]["hasClaim"]["specifiedBy"][
        "learningOutcome"][0]
    declared = document["credentialSubject"]["hasClaim"]["specifiedBy"]["learningOutcome"][0]
    assert outcome["relatedESCOSkill"][:3] == declared["relatedESCOSkill"]


@needs_examples
def test_detect_format_of_the_examples() -> None:
    assert detect_format(_load(OB3_EXAMPLE)) == "open_badges_3"
    assert detect_format(_load(OB3_EXAMPLE)["credentialSubject"]["achievement"]) == \
        "open_badges_3"
    assert detect_format(_load(ELM_EXAMPLE)) == "elm"
    with pytest.raises(BadgeError, match="MyNextID's issuing form"):
        detect_format(_load(FORM_EXAMPLE))


# --------------------------------------------------------------------------- written here


def _achievement(alignment: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id": "https://badges.example.org/achievements/py", "type": ["Achievement"],
            "name": "Databases with Python", "description": "A short course.",
            "criteria": {"narrative": "Pass the final project."}, "alignment": alignment,
            "extensions": {"ectsPoints": 5, "hoursOfLearning": "PT140H"}, **extra}


def _credential(achievement: dict[str, Any]) -> dict[str, Any]:
    return {"@context": ["https://www.w3.org/ns/credentials/v2",
                         "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
            "id": "urn:uuid:2b7c5d1e-0000-4000-8000-000000000001",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": "https://hogeschool.example.org", "type": ["Profile"],
                       "name": "Hogeschool Voorbeeld"},
            "validFrom": "2026-01-12T07:04:19Z",
            "credentialSubject": {"type": ["AchievementSubject"], "achievement": achievement}}


PYTHON_OUTCOME = "Write Python programs that query a PostgreSQL database"


def _python_badge(skill_uri: dict[str, str]) -> dict[str, Any]:
    return _credential(_achievement([
        {"type": ["Alignment"], "targetName": PYTHON_OUTCOME,
         "targetUrl": "https://hogeschool.example.org/outcomes/py-1"},
        # the issuer already aligned PostgreSQL (written with https): not added again
        {"type": ["Alignment"], "targetName": "PostgreSQL",
         "targetUrl": skill_uri["PostgreSQL"].replace("http://", "https://")},
        {"type": ["Alignment"], "targetName": "EQF level 5", "targetFramework": "EQF",
         "targetUrl": "http://data.europa.eu/snb/eqf/5"},
    ]))


@needs_shared
def test_an_outcome_naming_a_skill_gets_it(extractor: SkillExtractor,
                                           skill_uri: dict[str, str]) -> None:
    document = _python_badge(skill_uri)
    validate(document, "open_badges_3")
    result = _check_round_trip(document, extractor)
    validate(result.document, "open_badges_3")
    python = skill_uri["Python (computer programming)"]
    first = result.outcomes[0]
    assert (first["index"], first["text"], first["id"]) == (
        1, PYTHON_OUTCOME, "https://hogeschool.example.org/outcomes/py-1")
    assert first["declared"] == [] and first["language"] == "en"
    assert python in [a["uri"] for a in first["added"]]
    assert skill_uri["PostgreSQL"] not in [a["uri"] for a in first["added"]]
    added = next(a for a in first["added"] if a["uri"] == python)
    assert added["label"] == "Python (computer programming)" and "Python" in added["phrase"]
    alignment = result.document["credentialSubject"]["achievement"]["alignment"]
    assert alignment[:3] == document["credentialSubject"]["achievement"]["alignment"]
    assert {a["targetUrl"] for a in alignment[3:]} == {a["uri"] for a in first["added"]}
    assert result.quality == {"ok": True, "issues": [], "ects": 5.0, "eqf_level": 5,
                              "study_load_hours": 140.0, "n_outcomes": 2}
    # the bare Achievement the same way, checked against the Achievement schema
    bare = align_badge(document["credentialSubject"]["achievement"], extractor)
    validate(bare.document, "open_badges_3")
    assert bare.outcomes[0]["path"] == "/alignment/0"
    assert bare.outcomes[0]["added"] == first["added"]
    assert bare.document["alignment"] == alignment


@needs_shared
def test_the_catalogue_reads_added_alignments_as_skills_not_outcomes(
        extractor: SkillExtractor, skill_uri: dict[str, str], tmp_path: Path) -> None:
    document = _python_badge(skill_uri)
    result = align_badge(document, extractor)
    assert result.n_added
    path = tmp_path / "badge.json"
    path.write_text(_text(result.document), encoding="utf-8")
    row = read_open_badge(path, "aligned").rows.iloc[0]
    assert row["learning_outcomes"] == [PYTHON_OUTCOME, "PostgreSQL"]
    assert set(row["esco_skill_uris"]) >= {a["uri"] for a in result.outcomes[0]["added"]}


def _learning_outcome(ident: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"id": ident, "type": "LearningOutcome", "title": {"en": title}, **extra}


@needs_shared
def test_elm_outcomes_referenced_repeated_and_single_skills(
        extractor: SkillExtractor, skill_uri: dict[str, str]) -> None:
    communication = skill_uri["communication"]
    declared = {"id": ESCO + "5fd5c985-eaaa-47aa-8314-62359c54505a", "type": "Concept",
                "prefLabel": {"en": "develop digital content"}}
    written = _learning_outcome("urn:lo:1", COMMUNICATION_OUTCOME, relatedESCOSkill=declared)
    document = {"@graph": [
        {"id": "urn:epass:qualification:9", "type": "Qualification",
         "title": {"en": "Teamwork"}, "learningOutcome": [
             "urn:lo:1", copy.deepcopy(written), {"id": "urn:lo:3"}],
         "creditPoint": {"framework": {"id": "http://data.europa.eu/snb/education-credit/"
                                             "6fcec5c5af"}, "point": "3"},
         "eqfLevel": {"id": "http://data.europa.eu/snb/eqf/4"}, "volumeOfLearning": "PT84H"},
        written,
        _learning_outcome("urn:lo:2", COMMUNICATION_OUTCOME),  # no relatedESCOSkill yet
        _learning_outcome("urn:lo:3", COMMUNICATION_OUTCOME, relatedESCOSkill=[
            {"id": communication.replace("http://", "https://")}]),  # already declared
        {"id": "urn:lo:4", "type": "LearningOutcome"},  # a reference: left alone
    ]}
    assert detect_format(document) == "elm"
    validate(document, "elm")
    result = _check_round_trip(document, extractor)
    validate(result.document, "elm")
    assert [(o["index"], o["id"]) for o in result.outcomes] == [
        (1, "urn:lo:1"), (2, "urn:lo:2"), (3, "urn:lo:3")]
    one, two, three = result.outcomes
    assert one["path"] == "/@graph/0/learningOutcome/1"  # its first full occurrence
    assert communication in [a["uri"] for a in one["added"]]
    assert [a["uri"] for a in one["added"]] == [a["uri"] for a in two["added"]]
    assert three["added"] == []
    graph = result.document["@graph"]
    for node in (graph[0]["learningOutcome"][1], graph[1]):  # both copies of urn:lo:1
        skills = node["relatedESCOSkill"]
        assert isinstance(skills, list) and skills[0] == declared
        assert communication in [s["id"] for s in skills[1:]]
    assert graph[0]["learningOutcome"][1] == graph[1]
    assert list(graph[2]) == ["id", "type", "title", "relatedESCOSkill"]
    assert graph[0]["learningOutcome"][0] == "urn:lo:1"
    assert graph[3] == document["@graph"][3] and graph[4] == document["@graph"][4]
    assert result.quality["ok"] and result.quality["ects"] == 3.0
    assert result.credential["title"] == "Teamwork"


@needs_shared
def test_elm_quality_is_the_credentials_own_specification(extractor: SkillExtractor) -> None:
    """An issued credential's claim has parts: its own specification (nearest the root) is
    the one checked, whatever the key order; the parts' outcomes are aligned too."""
    def spec(ident: str, title: str, outcome: str) -> dict[str, Any]:
        return {"id": ident, "type": "LearningAchievementSpecification",
                "title": {"en": title},
                "learningOutcome": [_learning_outcome(ident + ":lo", outcome)]}

    document = {
        "@context": ["https://www.w3.org/2018/credentials/v1",
                     "http://data.europa.eu/snb/model/context/edc-ap"],
        "id": "urn:credential:1", "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "issuer": {"id": "urn:epass:org:1", "type": "Organisation",
                   "legalName": {"en": "ROC Voorbeeld"}},
        "credentialSubject": {"id": "urn:epass:person:1", "type": "Person", "hasClaim": {
            "id": "urn:claim:1", "type": "LearningAchievement",
            "hasPart": {"id": "urn:claim:2", "type": "LearningAchievement",
                        "specifiedBy": spec("urn:spec:part", "Part", "Weld steel pipes")},
            "specifiedBy": spec("urn:spec:main", "Whole", COMMUNICATION_OUTCOME)}},
    }
    validate(document, "elm")
    result = _check_round_trip(document, extractor)
    assert result.credential["title"] == "Whole"
    assert result.credential["provider"] == "ROC Voorbeeld"
    assert result.quality["n_outcomes"] == 1
    assert [o["id"] for o in result.outcomes] == ["urn:spec:part:lo", "urn:spec:main:lo"]


@needs_shared
def test_nothing_to_align_is_no_error(extractor: SkillExtractor) -> None:
    """An achievement whose alignments are only its EQF level states no outcome: nothing
    is mapped, and the quality check says why."""
    document = _credential(_achievement([
        {"type": ["Alignment"], "targetName": "EQF 4", "targetUrl":
         "http://data.europa.eu/snb/eqf/4"}]))
    result = align_badge(document, extractor)
    assert result.outcomes == [] and result.n_added == 0
    assert _text(result.document) == _text(document)
    assert "outcomes_missing" in [i["rule"] for i in result.quality["issues"]]
    assert align_badge(_python_badge({"PostgreSQL": ESCO + "x"}), extractor,
                       skills_per_outcome=0).n_added == 0


def test_schema_violations_are_named() -> None:
    with pytest.raises(BadgeError, match="'criteria' is a required property"):
        validate({"id": "urn:x", "type": ["Achievement"], "name": "A", "description": "B"},
                 "open_badges_3")
    broken = {"@graph": [_learning_outcome("urn:lo:1", "x", relatedESCOSkill=[
        {"id": "https://example.org/not-esco", "type": "Concept"}])]}
    assert schema_violations(broken, "elm")[0].startswith("/@graph/0/relatedESCOSkill")
    with pytest.raises(BadgeError, match="1 violation"):
        validate(broken, "elm")
    with pytest.raises(BadgeError, match="unknown format"):
        validate(broken, "ob2")


def _deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"leaf": True}
    for _ in range(levels):
        node = {"x": node}
    return node


def _looping() -> dict[str, Any]:
    document = _credential(_achievement([]))
    document["credentialSubject"]["achievement"]["self"] = document
    return document


def _named(name: str) -> dict[str, Any]:
    return _credential(_achievement([], name=name))


BAD_DOCUMENTS = {
    "list": ([_credential(_achievement([]))], "expected a JSON object .* got a list"),
    "string": ("{}", "got a string"),
    "unknown type": ({"type": ["Thing"], "name": "x"}, r"not an Open Badges 3\.0 or ELM v3 "
                                                        r"document \(Thing\)"),
    "no type": ({"name": "x"}, r"\(no type\)"),
    "credential without achievement": (
        {**_credential({}), "credentialSubject": {"type": ["AchievementSubject"]}},
        "credentialSubject has no achievement"),
    "achievement by reference": (
        {**_credential({}), "credentialSubject": {"achievement": "urn:uuid:1"}},
        "a reference cannot be aligned"),
    "two subjects": ({**_credential({}), "credentialSubject": [{}, {}]},
                     "expected one AchievementSubject, got a list of 2"),
    "endorsement": ({"@context": ["https://purl.imsglobal.org/spec/ob/v3p0/context.json"],
                     "type": ["VerifiableCredential", "EndorsementCredential"],
                     "credentialSubject": {"type": "EndorsementSubject"}}, "no achievement"),
    "badge @graph": ({"@context": "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
                      "@graph": [_achievement([])]}, "one OpenBadgeCredential or Achievement"),
    "achievement without name": (_named(""), "name: achievement has no name"),
    "ELM without specification": (
        {"type": "EuropeanDigitalCredential", "credentialSubject": {"id": "urn:p"}},
        "no Qualification or LearningAchievementSpecification"),
    "deep nesting": ({**_credential(_achievement([])), "x": _deep(10_000)},
                     f"nested deeper than {MAX_DEPTH} levels"),
    "a document holding itself": (_looping(), "nested deeper than"),
    "lone surrogate in a name": (
        _named("Welding \ud800"),
        r"lone surrogate \(invalid Unicode, U\+D800\) .*/credentialSubject/achievement/name"),
    "control character": (_named("Welding\x00"), r"control character \(U\+0000\)"),
    "surrogate in a key": ({**_credential(_achievement([])), "\udcff": 1}, "in a key"),
    "1 MB description": (_credential(_achievement([], description="x" * 1_000_000)),
                         "description: 1,000,000 characters, more than the 100,000"),
    "too many values": ({**_credential(_achievement([])), "x": [0] * 250_000},
                        "more than 200,000 values"),
    "too much text": ({**_credential(_achievement([])), "x": ["y" * 1_000_000] * 11},
                      "more than 10,000,000 characters"),
    "not a number": ({**_credential(_achievement([])), "x": float("nan")}, "not JSON: nan"),
    "not JSON": ({**_credential(_achievement([])), "x": {1, 2}}, "not JSON: a set"),
    "huge number": ({**_credential(_achievement([])), "x": 10 ** 2000},
                    "more than 1,000 digits at /x"),
    "too many outcomes": (_credential(_achievement([
        {"type": ["Alignment"], "targetName": f"outcome {i}",
         "targetUrl": f"https://x.org/{i}"} for i in range(MAX_OUTCOMES + 1)])),
        f"{MAX_OUTCOMES + 1} learning outcomes, more than the {MAX_OUTCOMES}"),
    "outcome too long": (_credential(_achievement([
        {"type": ["Alignment"], "targetName": "weld " * 600, "targetUrl": "https://x.org"}])),
        r"learning outcome 1 \(/credentialSubject/achievement/alignment/0\) has 2,999"),
    "outcome no text": (_credential(_achievement([
        {"type": ["Alignment"], "targetName": {"en": "x"}, "targetUrl": "https://x.org"}])),
        "alignment: an object where text is expected"),
}


@needs_shared
@pytest.mark.parametrize("name", list(BAD_DOCUMENTS))
def test_bad_documents_are_refused_with_the_problem_named(
        extractor: SkillExtractor, name: str) -> None:
    document, match = BAD_DOCUMENTS[name]
    with pytest.raises(BadgeError, match=match):
        align_badge(document, extractor)


@needs_shared
@pytest.mark.parametrize("value", [-1, 51, 2.5, True, "5"])
def test_skills_per_outcome_is_checked(extractor: SkillExtractor, value: Any) -> None:
    with pytest.raises(BadgeError, match="skills_per_outcome"):
        align_badge(_credential(_achievement([])), extractor, skills_per_outcome=value)


def test_detect_format_refuses_what_it_does_not_know() -> None:
    for document, match in [([], "got a list"), ("x", "got a string"), (None, "got null"),
                            ({"type": "Other"}, r"\(Other\)")]:
        with pytest.raises(BadgeError, match=match):
            detect_format(document)
    assert issubclass(BadgeError, ValueError)
    assert detect_format({"@context": "http://data.europa.eu/snb/model/context/edc-ap",
                          "id": "x"}) == "elm"

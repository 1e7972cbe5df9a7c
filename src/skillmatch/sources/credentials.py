"""Micro-credential readers: Open Badges 3.0, European Learning Model v3 (JSON-LD), the
project's CSV template and its JSON catalogue.

Every reader returns the same canonical schema (`CREDENTIAL_COLUMNS`), so the pipeline can
concatenate credentials from any source. What a source says that the schema has no column for
goes into `extra` (a JSON string), so nothing about the credential is lost. What a source says
about the *holder* of an issued credential (name, e-mail, birth date, national id) is never
read: the catalogue describes credentials, not people. Text a table cannot hold (a lone
surrogate, a control character) is repaired and named in `problems`, with a number given where
the catalogue expects text; a credential_id given twice in one file keeps its last record.

Field mapping (documented in data/catalogue/README.md as well):

Open Badges 3.0 (an OpenBadgeCredential, an Achievement, or a list of them)
  title <- achievement.name; description <- achievement.description;
  provider <- achievement.creator.name, else issuer.name;
  learning_outcomes <- alignment[].targetName (targetDescription when no name) of every
  alignment but the EQF one and those SkillMatch added (`ADDED_ALIGNMENT_MARK`: a skill, not
  an outcome); esco_skill_uris <- alignment[].targetUrl that are ESCO skill URIs;
  ects <- an ECTS extension field (ectsPoints, ects, ectsCredits) else achievement.creditsAvailable
  (read as ECTS: the European issuers this targets state credits in ECTS);
  eqf_level <- an alignment whose targetFramework/targetCode/targetUrl names EQF, or an
  eqfLevel extension field; study_load_hours <- hoursOfLearning / volumeOfLearning / studyLoad
  extension fields (ISO-8601 duration or a number of hours); assessment <- criteria.narrative;
  language <- inLanguage; times_issued <- issued credentials in the file for that achievement.
  The MyNextID issuing form (flat keys achievementTitle, achievementDescription, ectsPoints,
  hoursOfLearning, title/type/mode of the assessment) is read the same way; its holder fields
  (fullName, nationalId, gradeAchieved, dateIssued) are dropped.

European Learning Model v3 (JSON-LD; nested or referenced by id)
  one row per Qualification / LearningAchievementSpecification; title, description <- the spec;
  provider <- awardedBy.awardingBody.legalName of a claim specified by it, else the issuer;
  learning_outcomes <- learningOutcome[].title; esco_skill_uris <- relatedESCOSkill (and
  relatedSkill that are ESCO); ects <- creditPoint with the ECTS framework; eqf_level <-
  eqfLevel concept (.../snb/eqf/6 -> 6); study_load_hours <- volumeOfLearning (PT120H -> 120);
  language <- spec language (authority code ENG -> en); assessment <- provenBy title and mode;
  sector_code <- thematicArea ISCED-F code (approximate, see ISCED_TO_SECTION).

`open_badge_rows` and `elm_rows` read a parsed document (a request body, `skillmatch.badges`)
the same way `read_open_badge` and `read_elm` read a file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from skillmatch.sources import (
    TOO_DEEP,
    JsonError,
    SourceError,
    Staged,
    clean_json,
    clean_record,
    join_problems,
    load_json,
    parse_bool,
    parse_json,
    read_csv,
    type_problem,
)
from skillmatch.text import clean_text, detect_language

CREDENTIAL_COLUMNS = [
    "credential_id", "source", "source_record", "title", "provider", "provider_type",
    "description", "learning_outcomes", "esco_skill_uris", "ects", "eqf_level",
    "study_load_hours", "language", "assessment", "sector_code", "sectors", "times_issued",
    "stackable_with", "url", "illustrative", "extra", "problems",
]
TEXT_COLUMNS = ("credential_id", "source", "source_record", "title", "provider",
                "provider_type", "description", "language", "assessment", "sector_code", "url",
                "extra", "problems")
# the catalogue's fields that hold one text: a list or object there rejects the record,
# a number is read as its text (and named)
TEXT_FIELDS = ("credential_id", "title", "provider", "provider_type", "description",
               "language", "assessment", "sector_code", "url")
LIST_COLUMNS = ("learning_outcomes", "esco_skill_uris", "sectors", "stackable_with")
REQUIRED_CSV_COLUMNS = ("title", "provider", "learning_outcomes")
PROVIDER_TYPES = ("mbo", "hbo", "wo", "private", "other")
SECTOR_CODES = frozenset("ABCDEFGHIJKLMNOPQRSTU")
MAX_FIELD_CHARS = 100_000  # one catalogue field longer than this is a broken record
MAX_TITLE_CHARS = 500
MAX_EXTRA_CHARS = 1_000_000  # what a source says beyond the schema, as JSON
ESCO_SKILL_PREFIX = "http://data.europa.eu/esco/skill/"

# EU Publications Office language authority codes (and common names) -> ISO 639-1.
LANGUAGE_CODES = {
    "eng": "en", "nld": "nl", "dut": "nl", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr",
    "spa": "es", "ita": "it", "por": "pt", "pol": "pl", "dan": "da", "swe": "sv", "fin": "fi",
    "nor": "no", "ces": "cs", "slk": "sk", "slv": "sl", "hrv": "hr", "hun": "hu", "ron": "ro",
    "bul": "bg", "ell": "el", "est": "et", "lav": "lv", "lit": "lt", "gle": "ga", "mlt": "mt",
    "english": "en", "dutch": "nl", "nederlands": "nl", "engels": "en", "german": "de",
    "duits": "de", "deutsch": "de", "french": "fr", "frans": "fr", "flemish": "nl",
    "vlaams": "nl",
}
# ISCED-F 2013 field (longest prefix) -> SBI/NACE section: an approximation for ELM
# thematicArea; fields with no clear single sector map to nothing.
ISCED_TO_SECTION = {
    "01": "P", "06": "J", "07": "C", "0713": "D", "0712": "E", "073": "F", "09": "Q",
    "1041": "H", "104": "H", "08": "A",
}
PROVIDER_TYPE_ALIASES = {
    "mbo": "mbo", "hbo": "hbo", "wo": "wo", "private": "private", "particulier": "private",
    "commercial": "private", "commercieel": "private", "other": "other", "overig": "other",
    "university": "wo", "universiteit": "wo", "hogeschool": "hbo", "uas": "hbo",
}
# Dutch aliases for the CSV template's columns (a Dutch pilot will name them in Dutch).
COLUMN_ALIASES = {
    "titel": "title", "naam_microcredential": "title", "aanbieder": "provider",
    "type_aanbieder": "provider_type", "omschrijving": "description",
    "beschrijving": "description", "leeruitkomsten": "learning_outcomes",
    "studiepunten": "ects", "ec": "ects", "eqf": "eqf_level", "eqf_niveau": "eqf_level",
    "studiebelasting": "study_load_hours", "studiebelasting_uren": "study_load_hours",
    "taal": "language", "toetsing": "assessment", "sector": "sector_code",
    "sectoren": "sectors", "aantal_uitgegeven": "times_issued",
    "stapelbaar_met": "stackable_with", "illustratief": "illustrative", "id": "credential_id",
}
_ISO_DURATION = re.compile(
    r"^P(?:(?P<years>\d+(?:[.,]\d+)?)Y)?(?:(?P<months>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$",
    re.I,
)
_EQF_TEXT = re.compile(r"(?:.*/eqf/|(?:eqf|level|niveau)(?:\s*(?:level|niveau))?\s*[-:]?\s*)"
                       r"(\d+)", re.I)
_OUTCOME_SPLIT = r"\s*\|\s*|\s*\n\s*"


class RecordError(ValueError):
    """One record's field cannot be used; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


# ---------------------------------------------------------------------------------------------
# small shared helpers


def stable_id(raw_id: str | None, provider: str | None, title: str) -> str:
    """A credential id that stays the same across runs and files: a global id (URL, urn:uuid)
    as given, otherwise a hash of provider and title (local ids like urn:epass:qualification:1
    repeat across files)."""
    if raw_id and re.match(r"^(https?://|urn:uuid:)", raw_id.strip(), re.I):
        return raw_id.strip()
    key = f"{(provider or '').strip().casefold()}|{title.strip().casefold()}"
    return "mc-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def infer_provider_type(provider: str | None) -> str:
    """mbo/hbo/wo from a Dutch or English institution name; 'other' when the name does not
    tell (a reader never guesses 'private')."""
    name = (provider or "").casefold()
    if re.search(r"applied sciences|hogeschool|\bhbo\b|university college", name):
        return "hbo"
    if re.search(r"universit", name):
        return "wo"
    if re.search(r"\broc\b|\bmbo\b|vakcollege|vocational", name):
        return "mbo"
    return "other"


def language_code(value: str | None) -> str | None:
    """ISO 639-1 from a code, a name or an EU authority URI (.../language/ENG)."""
    if not value:
        return None
    text = str(value).strip().rstrip("/").split("/")[-1].casefold()
    if re.fullmatch(r"[a-z]{2}", text):
        return text
    if re.fullmatch(r"[a-z]{2}[-_][a-z]{2}", text):
        return text[:2]
    return LANGUAGE_CODES.get(text)


def iso_duration_hours(value: str) -> float | None:
    """Study hours in an ISO-8601 duration (PT120H -> 120, PT1H30M -> 1.5; a week counts as
    40 hours and a day as 8, i.e. full-time study). Durations in years or months are calendar
    spans, not study load: None."""
    match = _ISO_DURATION.match(value.strip())
    if not match or value.strip().upper() in {"P", "PT"}:
        return None
    parts = {k: float(v.replace(",", ".")) for k, v in match.groupdict().items() if v}
    if not parts or parts.keys() & {"years", "months"}:
        return None
    return (parts.get("weeks", 0) * 40 + parts.get("days", 0) * 8 + parts.get("hours", 0)
            + parts.get("minutes", 0) / 60 + parts.get("seconds", 0) / 3600)


def _clean(value: Any, field: str, limit: int = MAX_FIELD_CHARS) -> str | None:
    """Plain text (HTML and scripts removed) or None; over-long values are an error."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (dict, list)):
        raise RecordError(field, type_problem(value))
    text = str(value)
    if len(text) > limit:
        raise RecordError(field, f"{len(text):,} characters, more than the {limit:,} allowed")
    text = clean_text(text)
    return text or None


def _split_list(value: Any, field: str, separators: str) -> list[str]:
    """A list from a JSON list, or from a string split on the given separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                items = parse_json(text)
            except JsonError:
                items = re.split(separators, text)
            if not isinstance(items, list):
                items = re.split(separators, text)
        else:
            items = re.split(separators, text)
    else:
        raise RecordError(field, f"expected a list, got {type(value).__name__}")
    out: list[str] = []
    for item in items:
        if isinstance(item, (dict, list)):
            raise RecordError(field, "list items must be text")
        cleaned = _clean(item, field)
        if cleaned:
            out.append(cleaned.replace("\n", " "))
    return out


def _float(value: Any, field: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise RecordError(field, f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if text.upper().startswith("P"):
            hours = iso_duration_hours(text)
            if hours is None:
                raise RecordError(field, f"{text!r} is not a duration in hours")
            return hours
        text = text.replace(",", ".") if text.count(",") == 1 and "." not in text else text
        try:
            number = float(text)
        except ValueError:
            raise RecordError(field, f"{value!r} is not a number") from None
    if math.isnan(number):
        return None
    if math.isinf(number) or number < 0:
        raise RecordError(field, f"{value!r} is not a non-negative number")
    return number


def _int(value: Any, field: str) -> int | None:
    number = _float(value, field)
    if number is None:
        return None
    if number != int(number):
        raise RecordError(field, f"{value!r} is not a whole number")
    return int(number)


def _eqf(value: Any, field: str = "eqf_level") -> int | None:
    """An EQF level from 6, "6", "EQF 6", "Level 6", "niveau 6" or .../snb/eqf/6."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().rstrip("/")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        level = _int(value, field)
    elif re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        level = _int(text.replace(",", "."), field)
    else:
        match = _EQF_TEXT.fullmatch(text)
        if not match:
            raise RecordError(field, f"{text[:40]!r} is not an EQF level")
        level = int(match.group(1))
    if level is None:
        return None
    if not 1 <= level <= 8:
        raise RecordError(field, f"{level} is not an EQF level (1-8)")
    return level


def _bool(value: Any, field: str) -> bool:
    try:
        return parse_bool(value)
    except ValueError as exc:
        raise RecordError(field, str(exc)) from exc


def _url(value: Any, field: str = "url") -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if not re.match(r"^https?://[^\s<>\"]+$", text, re.I):
        raise RecordError(field, f"{text[:80]!r} is not an http(s) URL")
    return text


def _json_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)


def credential_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as the canonical schema with fixed dtypes (str, Float64, Int64, bool, lists)."""
    data: dict[str, pd.Series] = {}
    for column in CREDENTIAL_COLUMNS:
        values = [row.get(column) for row in rows]
        if column in LIST_COLUMNS:
            data[column] = pd.Series([list(v or []) for v in values], dtype=object)
        elif column in ("ects", "study_load_hours"):
            data[column] = pd.Series(values, dtype="Float64")
        elif column in ("eqf_level", "times_issued"):
            data[column] = pd.Series(values, dtype="Int64")
        elif column == "illustrative":
            data[column] = pd.Series([bool(v) for v in values], dtype=bool)
        else:
            data[column] = pd.Series(values, dtype="str")
    return pd.DataFrame(data, columns=CREDENTIAL_COLUMNS)


def node_types(node: Any) -> set[str]:
    """The JSON-LD types of a node (`type` or `@type`, a string or a list), empty for a
    value that is no node."""
    if not isinstance(node, dict):
        return set()
    kind = node.get("type", node.get("@type"))
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    return set()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _lang_text(value: Any, prefer: str = "en") -> str | None:
    """A plain string from a string, a language map {"en": ...} or a JSON-LD value object."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = [t for t in (_lang_text(v, prefer) for v in value) if t]
        return texts[0] if texts else None
    if isinstance(value, dict):
        if "@value" in value:
            return str(value["@value"])
        if prefer in value and isinstance(value[prefer], (str, list)):
            return _lang_text(value[prefer], prefer)
        for key, text in value.items():
            if isinstance(key, str) and re.fullmatch(r"[a-z]{2}(-[A-Za-z]{2})?", key):
                return _lang_text(text, prefer)
    return None


def _compact(value: Any, depth: int = 0) -> Any:
    """A readable summary of a JSON-LD value for `extra`: concepts as their label, notes as
    their text, media content dropped (base64 images are not catalogue information)."""
    if depth > 6:
        return None
    if isinstance(value, list):
        return [_compact(v, depth + 1) for v in value]
    if not isinstance(value, dict):
        if isinstance(value, str) and len(value) > 2000:
            return value[:2000] + "…"
        return value
    kinds = node_types(value)
    if "MediaObject" in kinds or "Image" in kinds:
        return value.get("id") if isinstance(value.get("id"), str) and len(
            value.get("id", "")) < 500 else None
    for key in ("prefLabel", "noteLiteral", "legalName", "name", "title"):
        if key in value:
            return _lang_text(value[key]) or value.get("id")
    if "contentURL" in value:
        return value["contentURL"]
    if set(value) <= {"id", "type"}:
        return value.get("id")
    return {k: _compact(v, depth + 1) for k, v in value.items()
            if k not in ("type", "@context", "inScheme")}


def _finish(row: dict[str, Any], problems: list[str] | None = None) -> dict[str, Any]:
    """What the format readers share: text cleaned (`clean_record`, with `problems` found on
    the way, into the `problems` column), defaults (language detected when the source is
    silent) and the bound on `extra`."""
    problems = list(problems or [])
    clean_record(row, problems)
    row["credential_id"] = (row["credential_id"].strip()  # a control character gone
                            or stable_id(None, row.get("provider"), row["title"]))
    row["problems"] = join_problems(problems)
    if len(row.get("extra") or "") > MAX_EXTRA_CHARS:
        raise RecordError("extra", f"fields outside the schema take {len(row['extra']):,} "
                                   f"characters, more than the {MAX_EXTRA_CHARS:,} allowed")
    if not row.get("language"):
        sample = " ".join([row.get("title") or "", row.get("description") or "",
                           *row.get("learning_outcomes", [])])
        row["language"] = detect_language(sample, default="en")
    row.setdefault("provider_type", infer_provider_type(row.get("provider")))
    row.setdefault("illustrative", False)
    return row


# ---------------------------------------------------------------------------------------------
# Open Badges 3.0

_OB_KNOWN = {
    "id", "type", "name", "description", "creator", "alignment", "creditsAvailable",
    "criteria", "inLanguage", "@context", "image",
}
_ECTS_KEYS = {"ects", "ectspoints", "ectscredits", "ectscreditpoints", "creditsects"}
_EQF_KEYS = {"eqf", "eqflevel"}
_HOURS_KEYS = {"hoursoflearning", "volumeoflearning", "studyload", "studyloadhours",
               "workload", "workloadhours", "learninghours"}
_MYNEXTID_HOLDER = {"fullName", "nationalId", "gradeAchieved", "dateIssued", "dateOfBirth",
                    "givenName", "familyName", "email"}


def _norm_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.casefold())


def _extension_values(node: dict[str, Any]) -> dict[str, Any]:
    """Extension fields of an achievement: top-level keys plus keys inside any `extensions`
    object or `*Extension` object, by normalised name."""
    found: dict[str, Any] = {}
    stack: list[dict[str, Any]] = [node]
    while stack:
        current = stack.pop()
        for key, value in current.items():
            norm = _norm_key(key)
            if isinstance(value, dict) and ("extension" in norm or "Extension" in str(
                    value.get("type", ""))):
                stack.append(value)
            elif not isinstance(value, (dict, list)):
                found.setdefault(norm, value)
    return found


# What SkillMatch writes at the start of the targetDescription of an alignment it added
# (skillmatch.badges): such an alignment names a skill, not a learning outcome.
ADDED_ALIGNMENT_MARK = "SkillMatch: from learning outcome"


def is_added_alignment(item: Any) -> bool:
    """Whether an OB3 alignment is one SkillMatch added to the achievement (its ESCO skill
    counts as declared; its text is no learning outcome, so aligning twice adds nothing)."""
    return (isinstance(item, dict) and item.get("targetFramework") == "ESCO"
            and isinstance(item.get("targetDescription"), str)
            and item["targetDescription"].startswith(ADDED_ALIGNMENT_MARK))


def _is_eqf_alignment(item: dict[str, Any]) -> bool:
    url = str(item.get("targetUrl") or "")
    framework = f"{item.get('targetFramework') or ''} {item.get('targetType') or ''}"
    return bool("/snb/eqf/" in url or re.search(r"\beqf\b", framework, re.I)
                or re.match(r"eqf", str(item.get("targetCode") or ""), re.I))


def _ob_alignments(achievement: dict[str, Any]
                   ) -> tuple[list[tuple[int, str, str | None]], list[str], int | None]:
    """One pass over an achievement's alignments: its learning outcomes (see `ob_outcomes`),
    the ESCO skill URIs it names and its EQF level."""
    outcomes: list[tuple[int, str, str | None]] = []
    uris: list[str] = []
    eqf: int | None = None
    for position, item in enumerate(_as_list(achievement.get("alignment"))):
        if not isinstance(item, dict):
            continue
        url = str(item.get("targetUrl") or "")
        if _is_eqf_alignment(item):
            eqf = _eqf(url or str(item.get("targetCode") or "") or item.get("targetName"),
                       "alignment (EQF)")
            continue
        esco = url if url.startswith(ESCO_SKILL_PREFIX) else None
        if not is_added_alignment(item):
            text = _clean(item.get("targetName") or item.get("targetDescription"),
                          "alignment")
            if text:
                outcomes.append((position, text.replace("\n", " "), esco))
        if esco:
            uris.append(esco)
    return outcomes, uris, eqf


def ob_outcomes(achievement: dict[str, Any]) -> list[tuple[int, str, str | None]]:
    """The learning outcomes of an OB3 achievement as (position in `alignment`, text, the
    ESCO skill URI that alignment names or None): every alignment that is not the EQF level
    and not one SkillMatch added; its text is targetName (targetDescription when no name).
    Raises RecordError for a text that is no text."""
    return _ob_alignments(achievement)[0]


def _ob_alignment(achievement: dict[str, Any]) -> tuple[list[str], list[str], int | None]:
    """Learning outcomes, ESCO skill URIs and an EQF level from OB3 alignments."""
    outcomes, uris, eqf = _ob_alignments(achievement)
    return [text for _, text, _ in outcomes], uris, eqf


def _ob_row(achievement: dict[str, Any], issuer: Any, problems: list[str]) -> dict[str, Any]:
    title = _clean(_lang_text(achievement.get("name")), "name", MAX_TITLE_CHARS)
    if not title:
        raise RecordError("name", "achievement has no name")
    creator = achievement.get("creator")
    provider = None
    for profile in (creator, issuer):
        if isinstance(profile, dict) and profile.get("name"):
            provider = _clean(_lang_text(profile["name"]), "issuer.name")
            break
    outcomes, uris, eqf = _ob_alignment(achievement)
    ext = _extension_values(achievement)
    ects = next((_float(ext[k], k) for k in _ECTS_KEYS if k in ext), None)
    if ects is None and "creditsavailable" in ext:
        ects = _float(ext["creditsavailable"], "creditsAvailable")
    if eqf is None:
        eqf = next((_eqf(ext[k], k) for k in _EQF_KEYS if k in ext), None)
    hours = next((_float(ext[k], k) for k in _HOURS_KEYS if k in ext), None)
    criteria = achievement.get("criteria")
    assessment = _clean(criteria.get("narrative"), "criteria") if isinstance(
        criteria, dict) else None
    raw_id = achievement.get("id") if isinstance(achievement.get("id"), str) else None
    extra = {k: _compact(v) for k, v in achievement.items() if k not in _OB_KNOWN}
    if isinstance(issuer, dict):
        extra["issuer"] = {k: issuer[k] for k in ("id", "url") if k in issuer}
    elif isinstance(issuer, str):
        extra["issuer"] = {"id": issuer}
    if raw_id:
        extra["achievement_id"] = raw_id
    return _finish({
        "credential_id": stable_id(raw_id, provider, title),
        "title": title,
        "provider": provider,
        "description": _clean(_lang_text(achievement.get("description")), "description"),
        "learning_outcomes": outcomes,
        "esco_skill_uris": uris,
        "ects": ects,
        "eqf_level": eqf,
        "study_load_hours": hours,
        "language": language_code(_lang_text(achievement.get("inLanguage"))),
        "assessment": assessment,
        "url": raw_id if raw_id and raw_id.lower().startswith("http") else None,
        "extra": _json_text(extra),
    }, problems)


def _mynextid_row(form: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """MyNextID's flat issuing form: achievement fields kept, holder fields dropped."""
    title = _clean(_lang_text(form.get("achievementTitle")) or _lang_text(
        form.get("credentialTitle")), "achievementTitle", MAX_TITLE_CHARS)
    if not title:
        raise RecordError("achievementTitle", "no achievement title")
    method = [_lang_text(form.get(k)) for k in ("title", "type", "mode", "verificationMethod")]
    method = [m for m in method if m]
    assessment = (f"{method[0]} ({'; '.join(method[1:])})" if len(method) > 1
                  else (method[0] if method else None))
    known = {"achievementTitle", "achievementDescription", "ectsPoints", "hoursOfLearning",
             "title", "type", "mode", "verificationMethod", "eqfLevel", *_MYNEXTID_HOLDER}
    extra = {k: _lang_text(v) if isinstance(v, dict) else v for k, v in form.items()
             if k not in known}
    extra["holder_fields_dropped"] = sorted(k for k in form if k in _MYNEXTID_HOLDER)
    return _finish({
        "credential_id": stable_id(None, None, title),
        "title": title,
        "provider": None,
        "description": _clean(_lang_text(form.get("achievementDescription")), "description"),
        "learning_outcomes": [],
        "esco_skill_uris": [],
        "ects": _float(form.get("ectsPoints"), "ectsPoints"),
        "eqf_level": _eqf(form.get("eqfLevel")),
        "study_load_hours": _float(form.get("hoursOfLearning"), "hoursOfLearning"),
        "language": None,
        "assessment": assessment,
        "extra": _json_text(extra),
    }, problems)


def read_open_badge(path: Path, source: str) -> Staged:
    """Open Badges 3.0 JSON / JSON-LD: an OpenBadgeCredential, an Achievement, a list of them
    (or a JSON-LD @graph), or MyNextID's flat micro-credential form. One row per credential
    or achievement; issued credentials of the same achievement share its credential_id and
    carry how many were issued in the file."""
    return open_badge_rows(load_json(path), source, str(path))


def open_badge_rows(document: Any, source: str, name: str = "document") -> Staged:
    """`read_open_badge` of a parsed document (what a file or a request body held); `name`
    says where it came from in a SourceError."""
    items = document.get("@graph", [document]) if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise SourceError(f"{name}: expected a JSON object or list, got {type(items).__name__}")
    staged = Staged(rows=credential_frame([]))
    rows: list[dict[str, Any]] = []
    issued_for: list[str | None] = []
    for number, item in enumerate(items, start=1):
        record, problems = f"item {number}", []
        try:
            item = clean_json(item, "item", problems)
            if not isinstance(item, dict):
                raise RecordError("item", f"expected an object, got {type(item).__name__}")
            kinds = node_types(item)
            subject = item.get("credentialSubject")
            if isinstance(subject, list):
                subject = subject[0] if subject else None
            if isinstance(subject, dict) and isinstance(subject.get("achievement"), dict):
                achievement = subject["achievement"]
                row = _ob_row(achievement, item.get("issuer"), problems)
                issued_for.append(row["credential_id"])
            elif "Achievement" in kinds:
                row = _ob_row(item, None, problems)
                issued_for.append(None)
            elif "achievementTitle" in item or "ectsPoints" in item:
                row = _mynextid_row(item, problems)
                issued_for.append(row["credential_id"])
            else:
                raise RecordError("type", f"not an OpenBadgeCredential or Achievement "
                                          f"(type={sorted(kinds) or None})")
        except (RecordError, RecursionError) as exc:
            staged.reject(source, record, _why(exc))
            continue
        row.update(source=source, source_record=record)
        rows.append(row)
    counts: dict[str, int] = {}
    for cid in issued_for:
        if cid:
            counts[cid] = counts.get(cid, 0) + 1
    for row, cid in zip(rows, issued_for, strict=True):
        row["times_issued"] = counts.get(cid) if cid else None
    staged.rows = credential_frame(rows)
    staged.rows_read = len(items)
    staged.fold("credential_id")  # issued copies of one achievement: one credential
    return staged


# ---------------------------------------------------------------------------------------------
# European Learning Model v3

_SPEC_TYPES = {"Qualification", "LearningAchievementSpecification"}
_ELM_KNOWN = {
    "id", "type", "title", "description", "learningOutcome", "creditPoint", "eqfLevel",
    "volumeOfLearning", "language", "homepage", "@context",
}


class _Graph:
    """A JSON-LD document as nodes by id, so a reference {"id": x} or "x" finds the full
    node wherever in the document it was written out."""

    def __init__(self, document: Any) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.inline: list[dict[str, Any]] = []
        self._collect(document)

    def _collect(self, value: Any) -> None:
        stack = [value]
        while stack:
            current = stack.pop()
            if isinstance(current, list):
                stack.extend(reversed(current))
            elif isinstance(current, dict):
                node_id = current.get("id", current.get("@id"))
                if isinstance(node_id, str) and set(current) - {"id", "@id", "type", "@type"}:
                    known = self.nodes.setdefault(node_id, {})
                    for key, item in current.items():
                        known.setdefault(key, item)
                elif not isinstance(node_id, str):
                    self.inline.append(current)
                stack.extend(v for k, v in current.items() if k != "@context")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str) and value in self.nodes:
            return self.nodes[value]
        if isinstance(value, dict):
            node_id = value.get("id", value.get("@id"))
            if isinstance(node_id, str) and node_id in self.nodes:
                return self.nodes[node_id]
        return value

    def each(self, value: Any) -> list[Any]:
        return [self.resolve(v) for v in _as_list(value)]

    def of_type(self, kinds: set[str]) -> list[dict[str, Any]]:
        found = [n for n in self.nodes.values() if node_types(n) & kinds]
        return found + [n for n in self.inline if node_types(n) & kinds]


def _elm_ects(graph: _Graph, spec: dict[str, Any]) -> float | None:
    for point in graph.each(spec.get("creditPoint")):
        if not isinstance(point, dict):
            continue
        framework = graph.resolve(point.get("framework"))
        label = " ".join(filter(None, [
            framework.get("id") if isinstance(framework, dict) else str(framework or ""),
            _lang_text(framework.get("prefLabel")) if isinstance(framework, dict) else None,
        ]))
        if re.search(r"6fcec5c5af|ects|european credit transfer", label, re.I):
            return _float(point.get("point"), "creditPoint")
    return _float(spec.get("ectsCreditPoints"), "ectsCreditPoints") if spec.get(
        "ectsCreditPoints") is not None else None


def _elm_provider(graph: _Graph, claims: list[dict[str, Any]],
                  issuers: list[Any]) -> str | None:
    bodies: list[Any] = []
    for claim in claims:
        for process in graph.each(claim.get("awardedBy")):
            if isinstance(process, dict):
                bodies.extend(graph.each(process.get("awardingBody")))
    bodies.extend(graph.each(issuers))
    for body in bodies:
        if isinstance(body, dict):
            name = _lang_text(body.get("legalName")) or _lang_text(body.get("prefLabel"))
            if name:
                return _clean(name, "awardingBody")
    return None


def _elm_assessment(graph: _Graph, claims: list[dict[str, Any]]) -> str | None:
    parts: list[str] = []
    for claim in claims:
        for proof in graph.each(claim.get("provenBy")):
            if not isinstance(proof, dict):
                continue
            spec = graph.resolve(proof.get("specifiedBy"))
            spec = spec if isinstance(spec, dict) else {}
            title = _lang_text(spec.get("title")) or _lang_text(proof.get("title"))
            mode = graph.resolve(spec.get("mode"))
            mode_text = _lang_text(mode.get("prefLabel")) if isinstance(mode, dict) else None
            if title:
                parts.append(f"{title} ({mode_text})" if mode_text else title)
    unique = list(dict.fromkeys(parts))
    return _clean("; ".join(unique), "provenBy") if unique else None


def _isced_section(graph: _Graph, spec: dict[str, Any]) -> str | None:
    for area in graph.each(spec.get("thematicArea")):
        code = str(area.get("id") if isinstance(area, dict) else area or "").rstrip("/")
        code = code.split("/")[-1]
        for size in (4, 3, 2):
            section = ISCED_TO_SECTION.get(code[:size]) if len(code) >= size else None
            if section:
                return section
    return None


def elm_outcome_text(outcome: dict[str, Any]) -> str | None:
    """The text of an ELM LearningOutcome: its title (English when given in several
    languages), else its description; RecordError for a text that is no text."""
    text = _clean(_lang_text(outcome.get("title")) or _lang_text(outcome.get("description")),
                  "learningOutcome")
    return text.replace("\n", " ") if text else None


def skill_uri(skill: Any) -> str | None:
    """The ESCO skill URI of a related skill (a Concept node, a reference or the URI), or
    None when it is no ESCO skill."""
    uri = skill.get("id") if isinstance(skill, dict) else skill
    return uri if isinstance(uri, str) and uri.startswith(ESCO_SKILL_PREFIX) else None


def _elm_row(graph: _Graph, spec: dict[str, Any], claims: list[dict[str, Any]],
             issuers: list[Any], problems: list[str]) -> dict[str, Any]:
    title = _clean(_lang_text(spec.get("title")), "title", MAX_TITLE_CHARS)
    if not title:
        raise RecordError("title", "specification has no title")
    provider = _elm_provider(graph, claims, issuers)
    outcomes: list[str] = []
    uris: list[str] = []
    skill_labels: list[str] = []
    for outcome in graph.each(spec.get("learningOutcome")):
        if not isinstance(outcome, dict):
            continue
        text = elm_outcome_text(outcome)
        if text:
            outcomes.append(text)
        for skill in graph.each(outcome.get("relatedESCOSkill")) + graph.each(
                outcome.get("relatedSkill")):
            uri = skill_uri(skill)
            if uri and uri not in uris:
                uris.append(uri)
                label = _lang_text(skill.get("prefLabel")) if isinstance(skill, dict) else None
                skill_labels.append(label or "")
    eqf_node = graph.resolve(spec.get("eqfLevel"))
    eqf_value = (eqf_node.get("id") or _lang_text(eqf_node.get("prefLabel"))
                 if isinstance(eqf_node, dict) else eqf_node)
    volume = spec.get("volumeOfLearning")
    hours = iso_duration_hours(volume) if isinstance(volume, str) else _float(
        volume, "volumeOfLearning")
    languages = graph.each(spec.get("language"))
    language = None
    for lang in languages:
        code = lang.get("id") if isinstance(lang, dict) else lang
        language = language_code(code) or language_code(
            _lang_text(lang.get("prefLabel")) if isinstance(lang, dict) else None)
        if language:
            break
    homepage = next((graph.resolve(h) for h in _as_list(spec.get("homepage"))), None)
    url = homepage.get("contentURL") if isinstance(homepage, dict) else homepage
    raw_id = spec.get("id") if isinstance(spec.get("id"), str) else None
    extra = {k: _compact(graph.resolve(v) if isinstance(v, dict) else v)
             for k, v in spec.items() if k not in _ELM_KNOWN}
    if isinstance(volume, str) and hours is None:
        extra["volumeOfLearning"] = volume
    if raw_id:
        extra["specification_id"] = raw_id
    if any(skill_labels):
        extra["esco_skill_labels"] = skill_labels
    return _finish({
        "credential_id": stable_id(raw_id, provider, title),
        "title": title,
        "provider": provider,
        "description": _clean(_lang_text(spec.get("description")), "description"),
        "learning_outcomes": outcomes,
        "esco_skill_uris": uris,
        "ects": _elm_ects(graph, spec),
        "eqf_level": _eqf(eqf_value) if eqf_value else None,
        "study_load_hours": hours,
        "language": language,
        "assessment": _elm_assessment(graph, claims),
        "sector_code": _isced_section(graph, spec),
        "times_issued": len(claims) if claims else None,
        "url": _url(url, "homepage") if isinstance(url, str) else None,
        "extra": _json_text(extra),
    }, problems)


class ElmDocument:
    """An ELM v3 JSON-LD document read for its specifications: the cleaned graph (repairs
    named in `problems`), the Qualification / LearningAchievementSpecification nodes, and per
    specification the claims specified by it and their credentials' issuers."""

    def __init__(self, document: Any, name: str = "document") -> None:
        if not isinstance(document, (dict, list)):
            raise SourceError(f"{name}: expected a JSON-LD object or list")
        # specifications share the nodes they refer to: a repair anywhere in the document is
        # named on each of its rows
        self.problems: list[str] = []
        try:
            document = clean_json(document, "document", self.problems)
        except RecursionError:
            raise SourceError(f"{name}: {TOO_DEEP}") from None
        self.document = document
        self.graph = _Graph(document)
        self.specs = self.graph.of_type(_SPEC_TYPES)
        if not self.specs:
            raise SourceError(f"{name}: no Qualification or LearningAchievementSpecification "
                              "found (not a European Learning Model v3 document?)")
        graph = self.graph
        self._claims: dict[int, list[dict[str, Any]]] = {}
        self._issuers: dict[int, list[Any]] = {}
        for credential in graph.of_type({"EuropeanDigitalCredential", "VerifiableCredential"}):
            for subject in graph.each(credential.get("credentialSubject")):
                if not isinstance(subject, dict):
                    continue
                claims = [c for c in graph.each(subject.get("hasClaim")) if isinstance(c, dict)]
                while claims:
                    claim = claims.pop()
                    claims.extend(c for c in graph.each(claim.get("hasPart"))
                                  if isinstance(c, dict))
                    spec = graph.resolve(claim.get("specifiedBy"))
                    if isinstance(spec, dict):
                        self._claims.setdefault(id(spec), []).append(claim)
                        self._issuers.setdefault(id(spec), []).append(credential.get("issuer"))

    def row(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The catalogue row of one of `specs` (RecordError for a bad field)."""
        return _elm_row(self.graph, spec, self._claims.get(id(spec), []),
                        self._issuers.get(id(spec), []), self.problems)

    def main_spec(self) -> dict[str, Any]:
        """The specification nearest the document's root (first in document order among
        equals): what an issued credential's own claim, or a learning opportunity, is
        specified by; its parts sit deeper."""
        level: list[Any] = [self.document]
        while level:
            following: list[Any] = []
            for value in level:
                if isinstance(value, dict):
                    if node_types(value) & _SPEC_TYPES:
                        found = self.graph.resolve(value)
                        if any(found is spec for spec in self.specs):
                            return found
                    following.extend(v for k, v in value.items() if k != "@context")
                elif isinstance(value, list):
                    following.extend(value)
            level = following
        return self.specs[0]


def read_elm(path: Path, source: str) -> Staged:
    """European Learning Model v3 JSON-LD (an issued EuropeanDigitalCredential, a list of them,
    an @graph, or bare Qualification / LearningAchievementSpecification nodes). One row per
    specification; the holder (credentialSubject's own fields) is never read."""
    return elm_rows(load_json(path), source, str(path))


def elm_rows(document: Any, source: str, name: str = "document") -> Staged:
    """`read_elm` of a parsed document; `name` says where it came from in a SourceError."""
    elm = ElmDocument(document, name)
    staged = Staged(rows=credential_frame([]))
    rows: list[dict[str, Any]] = []
    for number, spec in enumerate(elm.specs, start=1):
        record = f"specification {number} (id={spec.get('id')})"
        try:
            row = elm.row(spec)
        except (RecordError, RecursionError) as exc:
            staged.reject(source, record, _why(exc))
            continue
        row.update(source=source, source_record=record)
        rows.append(row)
    staged.rows = credential_frame(rows)
    staged.rows_read = len(elm.specs)
    staged.fold("credential_id")
    return staged


# ---------------------------------------------------------------------------------------------
# The project's own formats: CSV template and JSON catalogue


def normalise_record(raw: dict[str, Any], list_separator: str = ";") -> dict[str, Any]:
    """One catalogue record (CSV row or JSON object, schema field names) checked and typed;
    unknown fields go to `extra`. Raises RecordError naming the first bad field."""
    problems: list[str] = []
    record = clean_json({COLUMN_ALIASES.get(k, k): v for k, v in raw.items()}, "record",
                        problems)
    for name in TEXT_FIELDS:
        value = record.get(name)
        if isinstance(value, (dict, list)):
            raise RecordError(name, type_problem(value))
        if problem := type_problem(value):
            problems.append(f"{name}: {problem}")
    title = _clean(record.get("title"), "title", MAX_TITLE_CHARS)
    if not title:
        raise RecordError("title", "empty")
    provider = _clean(record.get("provider"), "provider", MAX_TITLE_CHARS)
    if not provider:
        raise RecordError("provider", "empty")
    kind_raw = str(record.get("provider_type") or "").strip().casefold()
    kind = PROVIDER_TYPE_ALIASES.get(kind_raw) if kind_raw else infer_provider_type(provider)
    if kind is None:
        raise RecordError("provider_type", f"{kind_raw!r} is not one of {PROVIDER_TYPES}")
    sector = str(record.get("sector_code") or "").strip().upper() or None
    if sector is not None and sector not in SECTOR_CODES:
        raise RecordError("sector_code", f"{sector!r} is not an SBI/NACE section letter A-U")
    sep = re.escape(list_separator) + r"|\n"
    outcomes = _split_list(record.get("learning_outcomes"), "learning_outcomes",
                           _OUTCOME_SPLIT)
    uris = _split_list(record.get("esco_skill_uris"), "esco_skill_uris", sep)
    bad_uri = next((u for u in uris if not u.startswith(("http://", "https://"))), None)
    if bad_uri:
        raise RecordError("esco_skill_uris", f"{bad_uri[:80]!r} is not a URI")
    language_raw = record.get("language")
    language = language_code(str(language_raw)) if language_raw not in (None, "") else None
    if language_raw not in (None, "") and not language:
        raise RecordError("language", f"{language_raw!r} is not a language code")
    raw_id = str(record.get("credential_id") or "").strip() or None
    known = set(CREDENTIAL_COLUMNS)
    extra_in = record.get("extra")
    extra: dict[str, Any] = {}
    if isinstance(extra_in, dict):
        extra.update(extra_in)
    elif isinstance(extra_in, str) and extra_in.strip():
        try:
            parsed = parse_json(extra_in)
        except JsonError:
            parsed = {"extra": extra_in}
        extra.update(parsed if isinstance(parsed, dict) else {"extra": parsed})
    for key, value in record.items():
        if key not in known and value not in (None, ""):
            if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
                raise RecordError(key, f"{len(value):,} characters, more than the "
                                       f"{MAX_FIELD_CHARS:,} allowed")
            extra[key] = value
    row = {
        "credential_id": raw_id or stable_id(None, provider, title),
        "title": title,
        "provider": provider,
        "provider_type": kind,
        "description": _clean(record.get("description"), "description"),
        "learning_outcomes": outcomes,
        "esco_skill_uris": uris,
        "ects": _float(record.get("ects"), "ects"),
        "eqf_level": _eqf(record.get("eqf_level")),
        "study_load_hours": _float(record.get("study_load_hours"), "study_load_hours"),
        "language": language,
        "assessment": _clean(record.get("assessment"), "assessment"),
        "sector_code": sector,
        "sectors": _split_list(record.get("sectors"), "sectors", sep),
        "times_issued": _int(record.get("times_issued"), "times_issued"),
        "stackable_with": _split_list(record.get("stackable_with"), "stackable_with", sep),
        "url": _url(record.get("url")),
        "illustrative": _bool(record.get("illustrative"), "illustrative"),
        "extra": _json_text(extra),
    }
    return _finish(row, problems)


def _header_name(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").casefold())
    return COLUMN_ALIASES.get(key, key)


def _why(exc: RecordError | RecursionError) -> str:
    """A reject reason; a RecursionError is JSON nested deeper than the reader follows."""
    return TOO_DEEP if isinstance(exc, RecursionError) else str(exc)


def _record_label(line: int, values: dict[str, Any]) -> str:
    ident = str(values.get("credential_id") or values.get("title") or "").strip()[:60]
    return f"row {line} (id={ident})" if ident else f"row {line}"


def read_credential_csv(path: Path, source: str) -> Staged:
    """The project's CSV template (columns = the canonical schema; Dutch names accepted).

    Learning outcomes are separated by " | " or new lines inside the cell, list columns
    (stackable_with, sectors, esco_skill_uris) by ";". Unknown columns are kept in `extra`;
    a bad value rejects its row, naming the row and the field. A credential listed twice
    (same credential_id) keeps its last row."""
    header, records = read_csv(path)
    names = [_header_name(h) for h in header]
    duplicates = sorted({n for n in names if n and names.count(n) > 1})
    if duplicates:
        raise SourceError(f"{path}: duplicate columns {duplicates}")
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in names]
    if missing:
        raise SourceError(f"{path}: missing required columns {missing} (found {header[:12]})")
    staged = Staged(rows=credential_frame([]))
    rows: list[dict[str, Any]] = []
    for line, fields, problem in records:
        staged.rows_read += 1
        if fields is None:
            staged.reject(source, f"row {line}", problem)
            continue
        values = {n: f for n, f in zip(names, fields, strict=False) if n}
        if len(fields) != len(names):
            staged.reject(source, _record_label(line, values),
                          f"has {len(fields)} fields, expected {len(names)} (truncated or "
                          "unquoted separator)")
            continue
        try:
            row = normalise_record(values)
        except (RecordError, RecursionError) as exc:
            staged.reject(source, _record_label(line, values), _why(exc))
            continue
        row.update(source=source, source_record=f"row {line}")
        rows.append(row)
    staged.rows = credential_frame(rows)
    staged.fold("credential_id")
    return staged


def read_credential_catalogue(path: Path, source: str) -> Staged:
    """The project's JSON catalogue: a list of objects with the schema's field names (or
    {"credentials": [...]}). Lists stay JSON lists; unknown fields go to `extra`; a
    credential listed twice (same credential_id) keeps its last entry."""
    document = load_json(path)
    items = document.get("credentials") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise SourceError(f"{path}: expected a list of credentials (or {{'credentials': "
                          "[...]}})")
    staged = Staged(rows=credential_frame([]), rows_read=len(items))
    rows: list[dict[str, Any]] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            staged.reject(source, f"item {number}",
                          f"expected an object, got {type(item).__name__}")
            continue
        ident = str(item.get("credential_id") or item.get("title") or "")[:60]
        record = f"item {number} (id={ident})" if ident else f"item {number}"
        try:
            row = normalise_record(item)
        except (RecordError, RecursionError) as exc:
            staged.reject(source, record, _why(exc))
            continue
        row.update(source=source, source_record=f"item {number}")
        rows.append(row)
    staged.rows = credential_frame(rows)
    staged.fold("credential_id")
    return staged


TEMPLATE_COLUMNS = [c for c in CREDENTIAL_COLUMNS
                    if c not in ("source", "source_record", "problems")]


def write_credential_csv(credentials: pd.DataFrame, path: Path) -> Path:
    """Credentials in the CSV template's layout (outcomes joined by " | ", lists by ";"), so
    a catalogue can be edited in a spreadsheet and read back with read_credential_csv."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(TEMPLATE_COLUMNS)
        for row in credentials[TEMPLATE_COLUMNS].itertuples(index=False):
            writer.writerow([_csv_cell(column, value)
                             for column, value in zip(TEMPLATE_COLUMNS, row, strict=True)])
    return path


def _csv_cell(column: str, value: Any) -> str:
    if column == "learning_outcomes":
        return " | ".join(value)
    if column in LIST_COLUMNS:
        return ";".join(value)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column == "illustrative":
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


"""Reader for pseudonymous candidate (learner / job-seeker) profiles.

Privacy by design: the schema holds no direct identifiers. A file with a column that looks
like one (name, e-mail, phone, address, BSN, birth date; English and Dutch names) is refused
as a whole, naming the columns, because a file like that should not be in the pipeline at
all. Inside the allowed columns, a value that looks like an e-mail address, a phone number or
a BSN rejects that record. Columns outside the schema are not read (data minimisation).
"""

from __future__ import annotations

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
    clean_record,
    join_problems,
    load_json,
    open_lines,
    parse_bool,
    parse_json,
    read_csv,
    type_problem,
)

CANDIDATE_COLUMNS = ["candidate_id", "source", "source_record", "region", "credentials",
                     "declared_skills", "current_occupation", "synthetic", "problems"]
SCHEMA_FIELDS = ("candidate_id", "region", "credentials", "declared_skills",
                 "current_occupation", "synthetic")
LIST_FIELDS = ("credentials", "declared_skills")
MAX_VALUE_CHARS = 2_000

# Whole normalised column names (lower case, letters and digits only) that identify a person.
IDENTIFIER_NAMES = frozenset({
    "name", "fullname", "firstname", "lastname", "surname", "givenname", "familyname",
    "middlename", "maidenname", "initials", "email", "emailaddress", "mail", "mailaddress",
    "phone", "phonenumber", "telephone", "telephonenumber", "tel", "mobile", "mobilenumber",
    "cellphone", "address", "streetaddress", "street", "housenumber", "postcode", "zipcode",
    "postalcode", "bsn", "ssn", "socialsecuritynumber", "nationalid", "nationalidnumber",
    "passport", "passportnumber", "birthdate", "dateofbirth", "dob", "birthday", "iban",
    "naam", "volledigenaam", "voornaam", "voornamen", "achternaam", "tussenvoegsel",
    "roepnaam", "geboortenaam", "emailadres", "telefoon", "telefoonnummer", "mobiel",
    "mobielnummer", "adres", "straat", "straatnaam", "huisnummer", "burgerservicenummer",
    "geboortedatum", "paspoort", "paspoortnummer", "rekeningnummer",
})
# Words that identify a person wherever they occur in a column name ("contact_email").
IDENTIFIER_WORDS = frozenset({
    "name", "email", "mail", "phone", "telephone", "address", "street", "bsn", "ssn",
    "birthdate", "dob", "naam", "telefoon", "adres", "straat", "geboortedatum", "iban",
    "postcode",
})

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(
    r"(?<![\w/#:.-])(?:(?:\+|00)[1-9]\d{0,2}[\s.-]?(?:\(0\)[\s.-]?)?|0)\d(?:[\s.()-]?\d){7,12}"
    r"(?![\w/-])")
NUTS3 = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}$")
LABOUR_MARKET_REGION = re.compile(r"^AM\d{2}$")


def identifier_columns(columns: list[str]) -> list[str]:
    """The column names that look like direct identifiers of a person."""
    found: list[str] = []
    for column in columns:
        spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(column))
        words = [w for w in re.split(r"[^a-z0-9]+", spaced.casefold()) if w]
        compact = "".join(words)
        if compact in SCHEMA_FIELDS or compact.replace("_", "") in {
                f.replace("_", "") for f in SCHEMA_FIELDS}:
            continue
        if compact in IDENTIFIER_NAMES or IDENTIFIER_WORDS & set(words) or any(
                compact.endswith(suffix) for suffix in ("voornaam", "achternaam", "emailadres",
                                                        "telefoonnummer", "geboortedatum")):
            found.append(str(column))
    return found


def is_bsn(text: str) -> bool:
    """A 9-digit number passing the BSN eleven-test (so a numeric id is not a BSN)."""
    digits = re.sub(r"[\s.-]", "", text)
    if not re.fullmatch(r"\d{9}", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def personal_value_problem(value: str) -> str | None:
    """Why a value may identify a person (e-mail, phone number, BSN), or None."""
    if EMAIL.search(value):
        return "looks like an e-mail address"
    if PHONE.search(value):
        return "looks like a phone number"
    if any(is_bsn(token) for token in re.findall(r"(?<![\w-])[\d.\s-]{9,11}(?![\w-])", value)):
        return "looks like a BSN (citizen service number)"
    return None


def _as_list(value: Any, field: str) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = parse_json(text)
            except JsonError as exc:
                raise ValueError(f"{field}: not a JSON list ({exc})") from None
            if not isinstance(items, list):
                raise ValueError(f"{field}: not a JSON list")
        else:
            items = re.split(r"\s*[;|]\s*|\n", text)
    else:
        raise ValueError(f"{field}: expected a list, got {type(value).__name__}")
    if not all(isinstance(item, (str, int, float)) for item in items):
        raise ValueError(f"{field}: list items must be text")
    return [str(item).strip() for item in items if str(item).strip()]


def _bool(value: Any) -> bool:
    try:
        return parse_bool(value)
    except ValueError as exc:
        raise ValueError(f"synthetic: {exc}") from exc


def normalise_candidate(raw: dict[str, Any]) -> dict[str, Any]:
    """One record checked and typed; ValueError names the field that is wrong. Text is
    cleaned (`clean_record`); what was repaired is named in `problems`."""
    problems: list[str] = []
    for field in ("candidate_id", "region", "current_occupation"):
        if isinstance(raw.get(field), (dict, list)):
            raise ValueError(f"{field}: {type_problem(raw[field])}")
        if problem := type_problem(raw.get(field)):
            problems.append(f"{field}: {problem}")
    candidate_id = str(raw.get("candidate_id") or "").strip()
    if not candidate_id:
        raise ValueError("candidate_id: empty")
    region = str(raw.get("region") or "").strip().upper() or None
    if region and not (NUTS3.match(region) or LABOUR_MARKET_REGION.match(region)):
        raise ValueError(f"region: {region[:20]!r} is not a NUTS3 code or AMxx "
                         "labour-market region")
    occupation = raw.get("current_occupation")
    occupation = None if occupation is None or (isinstance(occupation, float) and math.isnan(
        occupation)) else str(occupation).strip() or None
    row = {
        "candidate_id": candidate_id,
        "region": region,
        "credentials": _as_list(raw.get("credentials"), "credentials"),
        "declared_skills": _as_list(raw.get("declared_skills"), "declared_skills"),
        "current_occupation": occupation,
        "synthetic": _bool(raw.get("synthetic")),
    }
    for field in ("candidate_id", "region", "current_occupation", *LIST_FIELDS):
        values = row[field] if field in LIST_FIELDS else [row[field]]
        for value in values:
            if value is None:
                continue
            if len(value) > MAX_VALUE_CHARS:
                raise ValueError(f"{field}: value longer than {MAX_VALUE_CHARS} characters")
            problem = personal_value_problem(value)
            if problem:
                raise ValueError(f"{field}: a value {problem}; candidate files must be "
                                 "pseudonymous")
    clean_record(row, problems)
    row["candidate_id"] = row["candidate_id"].strip()
    row["problems"] = join_problems(problems)
    return row


def candidate_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as the candidate schema with fixed dtypes."""
    data: dict[str, pd.Series] = {}
    for column in CANDIDATE_COLUMNS:
        values = [row.get(column) for row in rows]
        if column in LIST_FIELDS:
            data[column] = pd.Series([list(v or []) for v in values], dtype=object)
        elif column == "synthetic":
            data[column] = pd.Series([bool(v) for v in values], dtype=bool)
        else:
            data[column] = pd.Series(values, dtype="str")
    return pd.DataFrame(data, columns=CANDIDATE_COLUMNS)


def _refuse_identifiers(path: Path, columns: list[str]) -> None:
    found = identifier_columns(columns)
    if found:
        raise SourceError(
            f"{path}: columns {found} look like direct identifiers of a person; candidate "
            "files must be pseudonymous (candidate_id, region, credentials, declared_skills, "
            "current_occupation, synthetic). Remove them before loading.")


def _json_records(path: Path) -> tuple[list[tuple[str, Any]], int]:
    """(record label, object) pairs of a JSON list or JSON-lines file."""
    path = Path(path)
    name = path.name.casefold()
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
        records: list[tuple[str, Any]] = []
        lines = 0
        for number, text, problem in open_lines(path):
            if text is None:
                records.append((f"line {number}", ValueError(problem)))
                lines += 1
                continue
            if not text.strip():
                continue
            lines += 1
            try:
                records.append((f"line {number}", parse_json(text)))
            except JsonError as exc:
                records.append((f"line {number}", ValueError(f"not JSON ({exc})")))
        if lines == 0:
            raise SourceError(f"{path}: empty file")
        return records, lines
    document = load_json(path)
    items = document.get("candidates") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise SourceError(f"{path}: expected a list of candidates")
    return [(f"item {n}", item) for n, item in enumerate(items, start=1)], len(items)


def read_candidates(path: Path, source: str) -> Staged:
    """Candidates from CSV (lists separated by ";" or "|") or JSON / JSON lines.

    Refuses the whole file (SourceError) when a column looks like a direct identifier;
    rejects a record whose values contain an e-mail address, phone number or BSN, or
    whose region or lists are malformed. A candidate listed twice (same candidate_id) keeps
    the last record."""
    path = Path(path)
    staged = Staged(rows=candidate_frame([]))
    rows: list[dict[str, Any]] = []
    name = path.name.casefold()
    if name.endswith((".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
        records, count = _json_records(path)
        keys: list[str] = []
        for _, item in records:
            if isinstance(item, dict):
                keys.extend(k for k in item if k not in keys)
        _refuse_identifiers(path, keys)
        staged.rows_read = count
        pairs = records
    else:
        header, csv_rows = read_csv(path)
        header = [h.strip() for h in header]
        _refuse_identifiers(path, header)
        if "candidate_id" not in header:
            raise SourceError(f"{path}: missing required column candidate_id (found "
                              f"{header[:12]})")
        staged.rows_read = len(csv_rows)
        pairs = []
        for line, fields, problem in csv_rows:
            if fields is None:
                pairs.append((f"row {line}", ValueError(problem)))
            elif len(fields) != len(header):
                pairs.append((f"row {line}", ValueError(
                    f"has {len(fields)} fields, expected {len(header)}")))
            else:
                pairs.append((f"row {line}", dict(zip(header, fields, strict=True))))
    for record, item in pairs:
        if isinstance(item, ValueError):
            staged.reject(source, record, str(item))
            continue
        if not isinstance(item, dict):
            staged.reject(source, record, f"expected an object, got {type(item).__name__}")
            continue
        ident = str(item.get("candidate_id") or "")[:40]
        # never copy a personal value into the rejects table
        label = f"{record} (id={ident})" if ident and not personal_value_problem(
            ident) else record
        try:
            row = normalise_candidate({k: item.get(k) for k in SCHEMA_FIELDS})
        except ValueError as exc:
            staged.reject(source, label, str(exc))
            continue
        except RecursionError:
            staged.reject(source, label, TOO_DEEP)
            continue
        row.update(source=source, source_record=record)
        rows.append(row)
    staged.rows = candidate_frame(rows)
    staged.fold("candidate_id")
    return staged

"""Reader for scraped Coursera catalogues: the broader course offer next to micro-credentials
(no ECTS, EQF or learning outcomes, so they are kept apart from the credential schema).

Two layouts are recognised by their header:
- "desc": instructor, title, skills ({" A"," B"} set notation), level, certificatetype,
  duration, description, rating, reviewcount, crediteligibility, platform;
- "gained": Subject, Title, Institution, Learning Product, Level, Duration, Gained Skills
  (comma separated), Rate, Reviews — no description.

duration_hours is parsed where the text allows: explicit hours as given ("Less Than 2 Hours"
-> 2), and week/month/year ranges at their midpoint times `hours_per_week` (Coursera's
listings usually quote durations at about 10 hours a week; a deployment may pass another
pace, or None to keep only explicit hours).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from skillmatch.sources import SourceError, Staged, clean_record, join_problems, read_csv
from skillmatch.text import clean_text

COURSE_COLUMNS = [
    "course_id", "source", "source_record", "title", "provider", "level", "product_type",
    "subject", "duration_text", "duration_hours", "description", "listed_skills", "language",
    "url", "extra", "problems",
]
MAX_FIELD_CHARS = 100_000  # a longer field is a broken record
DEFAULT_HOURS_PER_WEEK = 10.0
WEEKS_PER_UNIT = {"hour": None, "week": 1.0, "month": 52 / 12, "year": 52.0}
_UNITS = {
    "hour": "hour", "hours": "hour", "hora": "hour", "horas": "hour", "hr": "hour",
    "hrs": "hour", "week": "week", "weeks": "week", "semana": "week", "semanas": "week",
    "month": "month", "months": "month", "mes": "month", "meses": "month", "year": "year",
    "years": "year", "año": "year", "años": "year", "ano": "year", "anos": "year",
}
_DURATION = re.compile(
    r"^(?P<less>less than\s+)?(?P<low>\d+(?:[.,]\d+)?)\+?"
    r"(?:\s*(?:-|–|to|a|or)\s*(?P<high>\d+(?:[.,]\d+)?))?\s*(?P<unit>[a-zñ]+)", re.I)
_LAYOUTS = {
    "desc": {"title": "title", "provider": "instructor", "skills": "skills", "level": "level",
             "product_type": "certificatetype", "duration": "duration",
             "description": "description"},
    "gained": {"title": "Title", "provider": "Institution", "skills": "Gained Skills",
               "level": "Level", "product_type": "Learning Product", "duration": "Duration",
               "subject": "Subject"},
}
LEVELS = {"beginner", "intermediate", "advanced", "mixed"}
URL_COLUMNS = ("url", "URL", "link", "Link", "course_url", "Course URL")


def duration_hours(text: str | None, hours_per_week: float | None = DEFAULT_HOURS_PER_WEEK
                   ) -> float | None:
    """Study hours from a duration text ("1 - 3 Months", "Less Than 2 Hours", "4 meses");
    None for rates ("15+ hours of study/wk") or text it cannot read."""
    if not text:
        return None
    cleaned = text.strip().casefold()
    if re.search(r"/\s*wk|per week|a week|per course", cleaned):
        return None
    match = _DURATION.match(cleaned)
    if not match:
        return None
    unit = _UNITS.get(match.group("unit"))
    if unit is None:
        return None
    low = float(match.group("low").replace(",", "."))
    high = float(match.group("high").replace(",", ".")) if match.group("high") else low
    if unit == "hour":
        return high if match.group("less") else (low + high) / 2
    if hours_per_week is None:
        return None
    weeks = (low + high) / 2 * WEEKS_PER_UNIT[unit]
    return round(weeks * hours_per_week, 1)


def split_skills(cell: str) -> list[str]:
    """Skills from '{" A"," B"}' (set notation) or 'A, B' (comma list), order kept,
    duplicates dropped."""
    text = (cell or "").strip()
    if text.startswith("{") and text.endswith("}"):
        items = next(csv.reader([text[1:-1]], skipinitialspace=True), [])
    else:
        items = text.split(",")
    out: list[str] = []
    for item in items:
        skill = re.sub(r"\s+", " ", item.strip().strip('"').strip())
        if skill and skill not in out:
            out.append(skill)
    return out


def course_id(provider: str, title: str) -> str:
    """Same course, same id in both layouts (so the pipeline can count duplicates)."""
    key = f"{provider.strip().casefold()}|{re.sub(r'[^a-z0-9]+', ' ', title.casefold()).strip()}"
    return "course-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _detect(header: list[str], path: Path) -> str:
    names = set(header)
    for layout, columns in _LAYOUTS.items():
        if {columns["title"], columns["provider"], columns["skills"]} <= names:
            return layout
    raise SourceError(
        f"{path}: not a known course catalogue layout (need title/instructor/skills or "
        f"Title/Institution/Gained Skills; found {header[:12]})")


def _course_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    data: dict[str, pd.Series] = {}
    for column in COURSE_COLUMNS:
        values = [row.get(column) for row in rows]
        if column == "listed_skills":
            data[column] = pd.Series(values, dtype=object)
        elif column == "duration_hours":
            data[column] = pd.Series(values, dtype="Float64")
        else:
            data[column] = pd.Series(values, dtype="str")
    return pd.DataFrame(data, columns=COURSE_COLUMNS)


def read_coursera(path: Path, source: str,
                  hours_per_week: float | None = DEFAULT_HOURS_PER_WEEK) -> Staged:
    """Either Coursera layout into the course schema; a row with no title or provider, or
    with the wrong number of fields, is rejected. The same course twice (same course_id) is
    one course: a scrape lists a course again under another category, often as a stub
    without skills or level, so the first (full) listing is kept."""
    header, records = read_csv(path)
    header = [h.strip() for h in header]
    layout = _detect(header, path)
    columns = _LAYOUTS[layout]
    mapped = set(columns.values())
    staged = Staged(rows=_course_frame([]))
    rows: list[dict[str, Any]] = []
    for line, fields, problem in records:
        staged.rows_read += 1
        if fields is None:
            staged.reject(source, f"row {line}", problem)
            continue
        values = dict(zip(header, fields, strict=False))
        title = clean_text(values.get(columns["title"], "") or "")
        label = f"row {line} (id={title[:60]})" if title else f"row {line}"
        if len(fields) != len(header):
            staged.reject(source, label, f"has {len(fields)} fields, expected {len(header)}")
            continue
        provider = clean_text(values.get(columns["provider"], "") or "")
        if not title or not provider:
            staged.reject(source, label, "title: empty" if not title else "provider: empty")
            continue
        if any(len(v) > MAX_FIELD_CHARS for v in fields):
            staged.reject(source, label, f"a field is longer than {MAX_FIELD_CHARS:,} "
                                         "characters")
            continue
        level = (values.get(columns["level"]) or "").strip()
        product = (values.get(columns["product_type"]) or "").strip()
        url = next((values[k].strip() for k in URL_COLUMNS if k in values
                    and re.match(r"^https?://\S+$", values[k].strip())), None)
        extra = {k: v.strip() for k, v in values.items()
                 if k not in mapped and k not in URL_COLUMNS and v.strip()}
        if level and level.casefold() not in LEVELS:
            extra["level_raw"] = level  # e.g. "Course" in the level column: misplaced value
            level = ""
        duration = re.sub(r"\s+", " ", values.get(columns["duration"]) or "").strip()
        description = clean_text(values.get(columns.get("description", ""), "") or "")
        problems: list[str] = []
        rows.append(clean_record({
            "course_id": course_id(provider, title),
            "source": source,
            "source_record": f"row {line}",
            "title": title,
            "provider": provider,
            "level": level.capitalize() or None,
            "product_type": product or None,
            "subject": (values.get(columns.get("subject", ""), "") or "").strip() or None,
            "duration_text": duration or None,
            "duration_hours": duration_hours(duration, hours_per_week),
            "description": description or None,
            "listed_skills": split_skills(values.get(columns["skills"], "")),
            "language": "en",
            "url": url,
            "extra": json.dumps(extra, ensure_ascii=False, sort_keys=True),
        }, problems))
        rows[-1]["problems"] = join_problems(problems)
    staged.rows = _course_frame(rows)
    staged.fold("course_id", keep="first")
    return staged

"""JSON Schemas (draft 2020-12) of what badge alignment must preserve, as Python dicts (no
package data to install).

They are the required structure of the standards as far as this project relies on it, not
their full schemas: every property the standard allows stays allowed
(`additionalProperties` is never false), so a real document with extensions validates.

- Open Badges 3.0 (1EdTech, on the W3C Verifiable Credentials data model): an
  OpenBadgeCredential / AchievementCredential needs @context, id, type (with
  VerifiableCredential and OpenBadgeCredential or AchievementCredential), issuer (a Profile
  with id and type, or its URI), validFrom (VCDM 2.0; issuanceDate in VCDM 1.1 documents)
  and credentialSubject (an AchievementSubject: type and achievement). An Achievement needs
  id, type (with Achievement), name, description and criteria; each alignment needs type
  (with Alignment), targetName and targetUrl; targetType is one of the spec's
  AlignmentTargetType values or an `ext:` extension.
- European Learning Model v3: every LearningOutcome node (wherever it sits) has an id and
  type, and a title or description as a language map; relatedESCOSkill is one ESCO Concept
  or a list of them, each a reference (the URI, or {"id": URI}) or a Concept node with
  type Concept, and, when given, inScheme (a ConceptScheme with an id) and prefLabel (a
  language map). A Qualification / LearningAchievementSpecification has an id, type and
  title; an issued EuropeanDigitalCredential has @context, id, type, issuer and
  credentialSubject.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from skillmatch.badges.core import BadgeError, pointer, short
from skillmatch.sources.credentials import node_types

DRAFT = "https://json-schema.org/draft/2020-12/schema"
MAX_LISTED = 20  # violations named in one BadgeError message


def _has_type(*names: str) -> dict[str, Any]:
    """`type` is one of `names`, or a list holding one of them."""
    one = {"enum": list(names)}
    return {"anyOf": [one, {"type": "array", "contains": one}]}


def _types_all(*names: str) -> dict[str, Any]:
    """`type` is a list holding each of `names` (a credential's two types)."""
    return {"type": "array", "allOf": [{"contains": {"const": n}} for n in names]}


_TEXT = {"type": "string"}
_URI = {"type": "string", "minLength": 1}
_LANG_MAP = {
    "type": "object", "minProperties": 1,
    "additionalProperties": {"anyOf": [_TEXT, {"type": "array", "items": _TEXT}]},
}

_OB3_DEFS: dict[str, Any] = {
    "Profile": {
        "anyOf": [_URI, {
            "type": "object", "required": ["id", "type"],
            "properties": {"id": _URI, "type": _has_type("Profile"), "name": _TEXT},
        }],
    },
    "Alignment": {
        "type": "object", "required": ["type", "targetName", "targetUrl"],
        "properties": {
            "type": _has_type("Alignment"), "targetName": _TEXT, "targetUrl": _URI,
            "targetCode": _TEXT, "targetDescription": _TEXT, "targetFramework": _TEXT,
            "targetType": {"anyOf": [
                {"enum": ["ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric",
                          "CFRubricCriterion", "CFRubricCriterionLevel", "CTDL"]},
                {"type": "string", "pattern": "^ext:[A-Za-z0-9.\\-_]+$"},
            ]},
        },
    },
    "Achievement": {
        "type": "object", "required": ["id", "type", "name", "description", "criteria"],
        "properties": {
            "id": _URI, "type": _has_type("Achievement"), "name": _TEXT,
            "description": _TEXT, "criteria": {"type": "object"},
            "alignment": {"type": "array", "items": {"$ref": "#/$defs/Alignment"}},
            "creator": {"$ref": "#/$defs/Profile"}, "creditsAvailable": {"type": "number"},
            "inLanguage": _TEXT,
        },
    },
    "AchievementSubject": {
        "type": "object", "required": ["type", "achievement"],
        "properties": {"type": _has_type("AchievementSubject"),
                       "achievement": {"$ref": "#/$defs/Achievement"}},
    },
}

OB3_CREDENTIAL_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT,
    "$id": "https://skillmatch.invalid/schemas/ob3_credential.json",
    "title": "Open Badges 3.0 OpenBadgeCredential (the structure badge alignment keeps)",
    "type": "object",
    "required": ["@context", "id", "type", "issuer", "credentialSubject"],
    "anyOf": [{"required": ["validFrom"]}, {"required": ["issuanceDate"]}],
    "properties": {
        "@context": {"type": "array", "minItems": 1,
                     "items": {"anyOf": [_URI, {"type": "object"}]}},
        "id": _URI,
        "type": {"anyOf": [_types_all("VerifiableCredential", "OpenBadgeCredential"),
                           _types_all("VerifiableCredential", "AchievementCredential")]},
        "name": _TEXT, "description": _TEXT,
        "issuer": {"$ref": "#/$defs/Profile"},
        "validFrom": _TEXT, "validUntil": _TEXT, "issuanceDate": _TEXT,
        "credentialSubject": {"$ref": "#/$defs/AchievementSubject"},
    },
    "$defs": _OB3_DEFS,
}

OB3_ACHIEVEMENT_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT,
    "$id": "https://skillmatch.invalid/schemas/ob3_achievement.json",
    "title": "Open Badges 3.0 Achievement (the structure badge alignment keeps)",
    "$ref": "#/$defs/Achievement",
    "$defs": _OB3_DEFS,
}

_ESCO_URI = {"type": "string", "pattern": "^https?://data\\.europa\\.eu/esco/"}
_ESCO_CONCEPT = {
    "anyOf": [
        _ESCO_URI,
        {"type": "object", "required": ["id"], "maxProperties": 1,
         "properties": {"id": _ESCO_URI}},
        {"type": "object", "required": ["id", "type"],
         "properties": {
             "id": _ESCO_URI, "type": _has_type("Concept"), "notation": _TEXT,
             "prefLabel": _LANG_MAP,
             "inScheme": {"type": "object", "required": ["id"],
                          "properties": {"id": _URI, "type": _has_type("ConceptScheme")}},
         }},
    ],
}

# a node that only refers to one written out elsewhere: {"id": ..., "type": ...}
_REFERENCE = {"propertyNames": {"enum": ["id", "@id", "type", "@type"]}}

ELM_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT,
    "$id": "https://skillmatch.invalid/schemas/elm_v3.json",
    "title": "European Learning Model v3 document (the structure badge alignment keeps)",
    "type": "object",
    "allOf": [
        {"if": {"required": ["type"],
                "properties": {"type": _has_type("EuropeanDigitalCredential")}},
         "then": {"required": ["@context", "id", "type", "issuer", "credentialSubject"]}},
        {"$ref": "#/$defs/node"},
    ],
    "$defs": {
        # every object and list of the document, at any depth
        "node": {
            "if": {"type": "object"},
            "then": {
                "allOf": [
                    {"if": {"required": ["type"], "not": _REFERENCE,
                            "properties": {"type": _has_type("LearningOutcome")}},
                     "then": {"$ref": "#/$defs/LearningOutcome"}},
                    {"if": {"required": ["type"], "not": _REFERENCE,
                            "properties": {"type": _has_type(
                                "Qualification", "LearningAchievementSpecification")}},
                     "then": {"$ref": "#/$defs/Specification"}},
                ],
                "additionalProperties": {"$ref": "#/$defs/node"},
            },
            "else": {"if": {"type": "array"},
                     "then": {"items": {"$ref": "#/$defs/node"}}},
        },
        "LearningOutcome": {
            "required": ["id", "type"],
            "anyOf": [{"required": ["title"]}, {"required": ["description"]}],
            "properties": {
                "id": _URI, "title": _LANG_MAP, "description": _LANG_MAP,
                "relatedESCOSkill": {"anyOf": [
                    _ESCO_CONCEPT, {"type": "array", "minItems": 1, "items": _ESCO_CONCEPT}]},
            },
        },
        "Specification": {
            "required": ["id", "type", "title"],
            "properties": {"id": _URI, "title": _LANG_MAP},
        },
    },
}

SCHEMAS = {"open_badges_3": (OB3_CREDENTIAL_SCHEMA, OB3_ACHIEVEMENT_SCHEMA),
           "elm": (ELM_SCHEMA, ELM_SCHEMA)}
_VALIDATORS = {name: tuple(Draft202012Validator(s) for s in pair)
               for name, pair in SCHEMAS.items()}
for _schema in (OB3_CREDENTIAL_SCHEMA, OB3_ACHIEVEMENT_SCHEMA, ELM_SCHEMA):
    Draft202012Validator.check_schema(_schema)


def schema_for(document: dict[str, Any], format: str) -> dict[str, Any]:
    """The schema a document of `format` is checked against (OB3: a bare Achievement has
    its own)."""
    if format not in SCHEMAS:
        raise BadgeError(f"unknown format {format!r} (one of {sorted(SCHEMAS)})")
    credential, achievement = SCHEMAS[format]
    bare = "Achievement" in node_types(document) and "credentialSubject" not in document
    return achievement if bare else credential


def schema_violations(document: dict[str, Any], format: str) -> list[str]:
    """Every violation of the schema for `format`, as "JSON Pointer: message", in document
    order ([] when the document conforms)."""
    schema = schema_for(document, format)
    credential, _ = SCHEMAS[format]
    validator = _VALIDATORS[format][0 if schema is credential else 1]
    try:
        errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.path])
    except RecursionError:
        raise BadgeError("document nested too deeply to check against its schema") from None
    return [f"{short(pointer(tuple(e.path)), 200) or '/'}: {short(e.message, 200)}"
            for e in errors]


def validate(document: dict[str, Any], format: str) -> None:
    """Raise BadgeError listing the violations when `document` does not conform to the
    schema of `format` ("open_badges_3" or "elm")."""
    violations = schema_violations(document, format)
    if violations:
        more = len(violations) - MAX_LISTED
        listed = "; ".join(violations[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")
        raise BadgeError(f"not a valid {format} document ({len(violations)} violation"
                         f"{'s' if len(violations) > 1 else ''}): {listed}")

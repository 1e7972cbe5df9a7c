"""Request and response models of the HTTP API (what /docs shows). Tabular results whose
columns follow the library's frames are lists of records; everything a client branches on
is typed."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Records = list[dict[str, Any]]


class Strict(BaseModel):
    """Unknown fields are an error: a misspelt option must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ errors and health
class ErrorBody(BaseModel):
    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = []


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok", "no_warehouse"]
    version: str
    taxonomy: dict[str, Any] | None
    published: dict[str, Any] | None
    message: str = ""


# ------------------------------------------------------------------ mapping
class SkillsRequest(Strict):
    """One text (`text`) or a batch (`texts`), e.g. vacancy texts or learning outcomes."""

    text: str | None = None
    texts: list[str] | None = None
    language: str | None = Field(None, description="'en', 'nl', ...; default: detected")
    top_k: int | None = Field(None, ge=1, le=100, description="the K best, accepted or not; "
                              "default: the accepted skills only")


class SkillOut(BaseModel):
    uri: str
    label: str
    skill_type: str
    score: float
    accepted: bool
    found_by: str
    matched_label: str
    evidence: str
    phrase: str
    start: int
    end: int
    language: str


class SkillsResult(BaseModel):
    language: str | None
    skills: list[SkillOut]


class SkillsResponse(BaseModel):
    results: list[SkillsResult]


class OccupationsRequest(Strict):
    title: str | None = None
    titles: list[str] | None = None
    language: str | None = None
    top_k: int = Field(5, ge=1, le=50)


class OccupationOut(BaseModel):
    uri: str
    label: str
    score: float
    accepted: bool
    matched_label: str
    language: str | None
    isco_code: str | None
    isco_label: str | None


class OccupationsResult(BaseModel):
    title: str
    occupations: list[OccupationOut]


class OccupationsResponse(BaseModel):
    results: list[OccupationsResult]


# ------------------------------------------------------------------ taxonomy
class SearchResponse(BaseModel):
    query: str
    results: Records


class ConceptResponse(BaseModel):
    concept_type: Literal["skill", "occupation"]
    concept: dict[str, Any]
    parts: dict[str, Any]


# ------------------------------------------------------------------ credentials
class CredentialIn(Strict):
    """One credential as in the catalogue CSV template (learning outcomes as a list)."""

    credential_id: str | None = None
    title: str
    provider: str | None = None
    description: str | None = None
    learning_outcomes: list[str] = []
    esco_skill_uris: list[str] = []
    ects: float | None = None
    eqf_level: int | None = None
    study_load_hours: float | None = None
    language: str | None = None


class CatalogueRequest(Strict):
    credentials: list[CredentialIn]
    skills_per_outcome: int = Field(5, ge=1, le=20)


class QualityOut(BaseModel):
    ok: bool
    issues: Records


class OutcomeOut(BaseModel):
    outcome_no: int
    text: str
    skills: Records


class TaggedCredential(BaseModel):
    credential_id: str
    title: str
    quality: QualityOut
    outcomes: list[OutcomeOut]
    declared_skill_uris: list[str]


class CatalogueResponse(BaseModel):
    credentials: list[TaggedCredential]


class AlignmentResponse(BaseModel):
    format: Literal["open_badges_3", "elm"]
    credential: dict[str, Any]
    quality: dict[str, Any] = Field(description="the quality framework check: ok, issues and "
                                    "the values checked (ects, eqf_level, study_load_hours, "
                                    "n_outcomes)")
    outcomes: Records = Field(description="per learning outcome: text, declared and added "
                              "ESCO skills")
    n_added: int
    schema_violations: list[str] = Field(description="where the input already broke the "
                                         "format's required structure (aligned anyway)")
    document: dict[str, Any] = Field(description="the same document with the alignments "
                                     "added; declared ones unchanged")


# ------------------------------------------------------------------ learners
class LearnerRequest(Strict):
    """A learner's profile and a target: an occupation URI or a vacancy text."""

    credentials_held: list[str] = []
    skills: list[str] = Field([], description="ESCO skill URIs the learner declares")
    target_occupation: str | None = None
    include_optional: bool = False
    vacancy_text: str | None = None
    budget_ects: float = Field(15.0, gt=0, le=240)
    top_k: int = Field(10, ge=1, le=100)


class LearnerResponse(BaseModel):
    target: Records
    held: Records
    gap: Records
    credentials: Records
    path: Records
    path_strategy: str | None


# ------------------------------------------------------------------ demand
class DemandResponse(BaseModel):
    filter: dict[str, Any]
    figures: dict[str, Any] | None = None
    rows: Records


# ------------------------------------------------------------------ talent
class RequirementIn(Strict):
    skill_uri: str
    importance: Literal["essential", "optional"] = "essential"
    weight: float | None = Field(None, ge=0, le=100)


class TalentRequest(Strict):
    """Requirements from a vacancy text, an occupation, a list, or any mix of them."""

    vacancy_text: str | None = None
    occupation_uri: str | None = None
    include_optional: bool = False
    requirements: list[RequirementIn] = []
    regions: list[str] = Field([], description="NUTS code prefixes; empty = everywhere")
    top_k: int = Field(20, ge=1, le=100)
    explain: int = Field(3, ge=0, le=20, description="explain the first N candidates")


class CandidateOut(BaseModel):
    rank: int
    candidate_id: str
    region: str | None
    current_occupation: str | None
    score: float
    essential_matched: int
    essential_total: int
    optional_matched: int
    optional_total: int
    matched_skills: list[str]
    missing_skills: list[str]
    explanation: Records | None = None


class TalentResponse(BaseModel):
    requirements: Records
    candidates_searched: int
    candidates: list[CandidateOut]


# ------------------------------------------------------------------ keys
class KeyIn(Strict):
    role: Literal["consortium", "institution", "employer", "admin"]
    name: str = Field("", max_length=200)


class KeyOut(BaseModel):
    key_id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None = None


class NewKey(KeyOut):
    key: str = Field(description="shown once; only its salted hash is stored")

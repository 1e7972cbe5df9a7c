"""Text to ESCO: skills in vacancy text, CV lines and learning outcomes; job titles to
occupations. Every result carries URI, label, type, score, evidence and how it was found.

A package of small modules, one idea each:
`vocabulary` (the labels compared with), `boilerplate` (what is not about the job, sections),
`extractor` (candidates per sentence and the document merge), `acceptance` (the learned model
that accepts and ranks), `requirement` (does a sentence ask anything?), `occupations`
(titles to occupations), `training` (fitting the acceptance model and fine-tuning encoders),
`rows` (warehouse rows).
"""

from skillmatch.mapping.boilerplate import is_boilerplate, section_heading, sections
from skillmatch.mapping.extractor import (
    ENGINE_VERSION,
    MappingParams,
    SkillExtractor,
    SkillMatch,
    extract_documents,
    mapping_params,
)
from skillmatch.mapping.occupations import OccupationLinker
from skillmatch.mapping.rows import SKILL_ROW_COLUMNS, occupation_rows, skill_rows
from skillmatch.mapping.vocabulary import SkillVocabulary

__all__ = [
    "ENGINE_VERSION", "SKILL_ROW_COLUMNS", "MappingParams", "OccupationLinker", "SkillExtractor",
    "SkillMatch", "SkillVocabulary", "extract_documents", "is_boilerplate", "mapping_params",
    "occupation_rows", "section_heading", "sections", "skill_rows",
]

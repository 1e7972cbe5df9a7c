"""Badge alignment: an institution's Open Badges 3.0 or European Learning Model v3 document
comes back the same, with ESCO skill alignments added per learning outcome, and the
micro-credential quality-framework check beside it. A library (no HTTP): the web API calls
`align_badge` and returns `BadgeAlignment.as_dict()`.

    detect_format(document) -> "open_badges_3" | "elm"
    align_badge(document, extractor, skills_per_outcome=5, rules=DEFAULT_RULES)
        -> BadgeAlignment (format, document, outcomes, quality, credential, schema_violations)
    validate(document, format)            BadgeError listing the schema violations
    schema_violations(document, format)   the same as a list

What is added, and where:

- Open Badges 3.0 (an OpenBadgeCredential / AchievementCredential, or a bare Achievement):
  `alignment` entries on the Achievement, after the issuer's, which stay exactly as they
  were: {"type": ["Alignment"], "targetName": ESCO label, "targetUrl": ESCO URI,
  "targetFramework": "ESCO", "targetCode": the concept's UUID, "targetType":
  "ceasn:Competency", "targetDescription": "SkillMatch: from learning outcome <n>:
  <outcome text>"}. The learning outcomes are the achievement's alignments other than its
  EQF level and those SkillMatch added (see `ob3` for why; the prefix marks an added one).
  A document with several badges (@graph, a list) is refused: one badge per document.
- ELM v3 (an issued EuropeanDigitalCredential, a learning opportunity, an @graph):
  `relatedESCOSkill` Concepts on each LearningOutcome node wherever it sits, after the
  declared ones (a single declared object becomes the first item of a list, only when
  something is added): {"id": ESCO URI, "type": "Concept", "inScheme": {"id":
  "http://data.europa.eu/esco/concept-scheme/skills", "type": "ConceptScheme"},
  "notation": "Skill", "prefLabel": {"en": label}}.
- The skills: `skillmatch.credentials.map_outcomes` (what the credentials pipeline uses)
  over all outcome texts at once, in the document's language when it states English or
  Dutch, else detected; the best `skills_per_outcome` accepted skills of each outcome,
  less the ESCO URIs already there (http/https alike). Aligning the output again adds
  nothing.
- The quality check: the catalogue reader's row of the credential (OB3: the achievement;
  ELM: the specification nearest the root) through `check_quality`.

MyNextID's flat issuing form (achievementTitle, ectsPoints, …) is no OB3/ELM document: it
is refused with a message saying so (the catalogue reader still reads it as a file).

Refused with BadgeError (a ValueError; the message names the problem and where): anything
but a JSON object; an unknown type; a credential without an achievement; an ELM document
without a Qualification / LearningAchievementSpecification; nesting deeper than
`MAX_DEPTH` (48); more than `MAX_VALUES` values or `MAX_TEXT_CHARS` characters; a lone
surrogate or control character in any text or key; a field longer than the catalogue
allows (a description over 100,000 characters); more than `MAX_OUTCOMES` (200) learning
outcomes, or one longer than `MAX_OUTCOME_CHARS` (2,000). A document that breaks its schema
is still aligned: its violations are listed in `schema_violations` (the additions never add
one); `validate` refuses it.
"""

from skillmatch.badges.align import FORMATS, BadgeAlignment, align_badge, detect_format
from skillmatch.badges.core import (
    MAX_DEPTH,
    MAX_OUTCOME_CHARS,
    MAX_OUTCOMES,
    MAX_SKILLS_PER_OUTCOME,
    MAX_TEXT_CHARS,
    MAX_VALUES,
    BadgeError,
    check_document,
)
from skillmatch.badges.schemas import (
    ELM_SCHEMA,
    OB3_ACHIEVEMENT_SCHEMA,
    OB3_CREDENTIAL_SCHEMA,
    schema_for,
    schema_violations,
    validate,
)

__all__ = [
    "ELM_SCHEMA", "FORMATS", "MAX_DEPTH", "MAX_OUTCOMES", "MAX_OUTCOME_CHARS",
    "MAX_SKILLS_PER_OUTCOME", "MAX_TEXT_CHARS", "MAX_VALUES", "OB3_ACHIEVEMENT_SCHEMA",
    "OB3_CREDENTIAL_SCHEMA", "BadgeAlignment", "BadgeError", "align_badge", "check_document",
    "detect_format", "schema_for", "schema_violations", "validate",
]

"""What every badge document must pass before anything reads it, and the error it raises.

A document comes from outside (a request body): it is checked once, without recursion, for
what would otherwise surface deep inside as a RecursionError, a MemoryError, a KeyError or
a response that cannot be encoded: nesting, size, values that are no JSON, text that is no
valid Unicode. Readers after this may recurse and index freely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from skillmatch.sources import invalid_characters

MAX_DEPTH = 48  # real OB3 documents nest ~6 levels, ELM credentials ~12 (schema checks recurse)
MAX_VALUES = 200_000  # objects, lists, texts and numbers together
MAX_TEXT_CHARS = 10_000_000  # all keys and texts together (ELM embeds base64 logos)
MAX_OUTCOMES = 200  # learning outcomes per document
MAX_OUTCOME_CHARS = 2_000  # one learning outcome's text (after HTML is removed)
MAX_SKILLS_PER_OUTCOME = 50
MAX_INT_BITS = 3_300  # ~1,000 digits: Python will not even print a number of 4,300

ESCO_SKILLS_SCHEME = "http://data.europa.eu/esco/concept-scheme/skills"


class BadgeError(ValueError):
    """A document that cannot be aligned; the message names what is wrong and where."""


def pointer(path: tuple[str | int, ...]) -> str:
    """A JSON Pointer (RFC 6901) for a path of keys and list positions ("" is the root)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def short(text: str, limit: int = 120) -> str:
    """`text` cut to `limit` characters, with "…" when cut."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _where(path: tuple[str | int, ...]) -> str:
    """`pointer`, cut in the middle when deep (a 10,000-level path is no message)."""
    if len(path) > 8:
        return short(pointer(path[:4]) + "/…" + pointer(path[-3:]), 200)
    return short(pointer(path), 200) or "the document"


def json_kind(value: Any) -> str:
    """What a JSON value is, in words ("an object", "a list", …)."""
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            int: "a number", float: "a number", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}")


def check_document(document: object) -> None:
    """Raise BadgeError unless `document` is a JSON object within the limits above whose
    texts (keys too) hold no lone surrogate or control character. Iterative, so a document
    nested 10,000 deep (or holding itself) is an error, not a RecursionError."""
    if not isinstance(document, dict):
        raise BadgeError(f"expected a JSON object (an Open Badges 3.0 credential or "
                         f"achievement, or an ELM v3 document), got {json_kind(document)}")
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    values = chars = 0
    while stack:
        value, path = stack.pop()
        values += 1
        if values > MAX_VALUES:
            raise BadgeError(f"document too large: more than {MAX_VALUES:,} values")
        if isinstance(value, str):
            chars += len(value)
            if chars > MAX_TEXT_CHARS:
                raise BadgeError(f"document too large: more than {MAX_TEXT_CHARS:,} "
                                 "characters of text")
            if problem := invalid_characters(value):
                raise BadgeError(f"{problem} in the text at {_where(path)}")
        elif isinstance(value, (dict, list)):
            if len(path) >= MAX_DEPTH:
                raise BadgeError(f"document nested deeper than {MAX_DEPTH} levels (at "
                                 f"{_where(path)})")
            if isinstance(value, list):
                stack.extend((item, (*path, i)) for i, item in enumerate(value))
                continue
            for key, item in value.items():
                if not isinstance(key, str):
                    raise BadgeError(f"not JSON: {json_kind(key)} as a key at {_where(path)}")
                chars += len(key)
                if problem := invalid_characters(key):
                    raise BadgeError(f"{problem} in a key at {_where(path)}")
                stack.append((item, (*path, key)))
        elif isinstance(value, float) and not math.isfinite(value):
            raise BadgeError(f"not JSON: {value} at {_where(path)}")
        elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise BadgeError(f"a number with more than 1,000 digits at {_where(path)}")
        elif not isinstance(value, (int, float, bool, type(None))):
            raise BadgeError(f"not JSON: {json_kind(value)} at {_where(path)}")


def esco_key(uri: str) -> str:
    """A URI as compared for duplicates (http/https and a trailing slash do not count)."""
    text = uri.strip().rstrip("/")
    return "http://" + text[8:] if text.lower().startswith("https://") else text


def esco_code(uri: str) -> str:
    """The ESCO concept's UUID: the last part of its URI."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class Outcome:
    """One learning outcome found in a document, and where its added skills go."""

    index: int  # 1-based, in document order
    id: str | None  # OB3: the outcome alignment's targetUrl; ELM: the LearningOutcome's id
    path: str  # JSON Pointer to it in the document (ELM: its first full occurrence)
    text: str
    declared: list[str]  # ESCO skill URIs the issuer gave for it
    # where added entries are appended: the OB3 achievement, or each full occurrence of the
    # ELM LearningOutcome node
    targets: list[dict[str, Any]] = field(default_factory=list, repr=False)
    # esco_key of every skill already there (shared by the outcomes of one OB3 achievement)
    seen: set[str] = field(default_factory=set, repr=False)
    language: str = ""
    added: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "path": self.path, "text": self.text,
                "language": self.language, "declared": list(self.declared),
                "added": [dict(a) for a in self.added]}


def append_after(target: dict[str, Any], key: str, entries: list[dict[str, Any]]) -> None:
    """`entries` after what `target[key]` declares, which stays as it was: a single declared
    object becomes the first item of a list (only when something is added)."""
    current = target.get(key)
    if current is None:
        target[key] = entries
    elif isinstance(current, list):
        current.extend(entries)
    else:
        target[key] = [current, *entries]

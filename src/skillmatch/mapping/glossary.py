"""A word-by-word English reading of text in another language.

The English model knows skills far better than the small multilingual one (on the same
English sentences MiniLM ranks 15 points higher on HOUSE), but it cannot read Dutch. A gloss
("verzorg je wonden" -> "care for you wounds") is no translation, yet it is enough for it to
recognise the skill a sentence names. Each glossed character remembers the span of the
original word it came from, so phrases of the original sentence pool the English model's
token vectors of their own words.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WORD = re.compile(r"[^\W\d_][\w'-]*")
COMPOUND_PART = 4  # shorter parts of an unlisted compound split words by chance


class GlossaryError(ValueError):
    """A glossary file that cannot be read, named with its line."""


@dataclass(frozen=True)
class Gloss:
    """A glossed text and, per glossed character, the span of the original word behind it."""

    text: str
    starts: np.ndarray
    ends: np.ndarray

    def original_spans(self, spans: np.ndarray) -> np.ndarray:
        """Token spans in the glossed text -> spans of the original words they read
        ((-1, -1), a special token, stays)."""
        out = spans.copy()
        real = (spans[:, 0] >= 0) & (spans[:, 1] > spans[:, 0])
        out[real, 0] = self.starts[spans[real, 0]]
        out[real, 1] = self.ends[spans[real, 1] - 1]
        return out


class Glossary:
    """Word -> English gloss, for one language (a two-column TSV: word, English)."""

    def __init__(self, entries: dict[str, str], language: str) -> None:
        self.entries = entries
        self.language = language

    @classmethod
    def load(cls, path: Path, language: str) -> Glossary:
        entries: dict[str, str] = {}
        try:
            with path.open(encoding="utf-8", newline="") as f:
                for line, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE),
                                           start=1):
                    if len(row) != 2 or not row[0].strip() or not row[1].strip():
                        raise GlossaryError(f"{path}:{line}: expected 'word<TAB>gloss'")
                    word = row[0].strip().lower()
                    if word in entries:
                        raise GlossaryError(f"{path}:{line}: '{word}' is listed twice")
                    entries[word] = " ".join(row[1].split())
        except (OSError, UnicodeDecodeError) as exc:
            raise GlossaryError(f"{path}: cannot read the glossary ({exc})") from exc
        return cls(entries, language)

    def word(self, word: str) -> str:
        """A word's gloss; a hyphenated compound not listed is glossed part by part; a word
        the glossary does not know (a name, an English term) stays as it is."""
        lower = word.lower()
        if lower in self.entries:
            return self.entries[lower]
        if "-" in lower:
            return " ".join(self.entries.get(p, p) for p in lower.split("-") if p)
        return self._compound(lower) or word

    def _compound(self, word: str) -> str | None:
        """A compound the glossary does not list, as two words it does ("plaatmetalen" ->
        "plate metal"; a linking "s" may join them: "veiligheidsschoenen"): the split
        with the longest known head, as Dutch compounds end in their head."""
        if len(word) < 2 * COMPOUND_PART:
            return None
        for cut in range(COMPOUND_PART, len(word) - COMPOUND_PART + 1):
            head, modifier = word[cut:], word[:cut]
            if head not in self.entries:
                continue
            for part in (modifier, modifier[:-1] if modifier.endswith("s") else ""):
                if len(part) >= COMPOUND_PART and part in self.entries:
                    return f"{self.entries[part]} {self.entries[head]}"
        return None

    def gloss(self, text: str) -> Gloss:
        """The text with each word replaced by its gloss; spaces and punctuation kept."""
        pieces: list[str] = []
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        at = 0

        def keep(upto: int) -> None:  # text between words maps character to character
            if upto > at:
                pieces.append(text[at:upto])
                starts.append(np.arange(at, upto))
                ends.append(np.arange(at + 1, upto + 1))

        for m in WORD.finditer(text):
            keep(m.start())
            english = self.word(m.group())
            pieces.append(english)
            starts.append(np.full(len(english), m.start()))
            ends.append(np.full(len(english), m.end()))
            at = m.end()
        keep(len(text))
        if not pieces:
            return Gloss(text, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        return Gloss("".join(pieces), np.concatenate(starts), np.concatenate(ends))

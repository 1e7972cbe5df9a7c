"""The skill labels a mapping compares text with, arranged for fast max-per-skill scoring, and
the word helpers that say whether a label's words were said."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from skillmatch.search import normalise

GENERIC_WORDS = {"a", "an", "the", "of", "and", "or", "to", "in", "on", "for", "with", "use",
                 "apply", "skills", "skill", "knowledge", "ability", "principles", "techniques"}
# Words that never name a skill on their own, however a label happens to be spelled: seen
# carrying whole matches in real ads ("term" -> terminology, "re" -> instrumentation equipment,
# "plan", "data", "lead", "conduct", "support", "care"). A phrase or exact mention made only of
# these (or of 1-3 letter lower-case fragments) is no evidence; acronyms written in capitals
# ("R", "C#", "SQL") still are, through the case-sensitive exact rule.
FUNCTION_WORDS = GENERIC_WORDS | {
    "is", "are", "be", "as", "at", "by", "it", "its", "we", "you", "your", "our", "us", "this",
    "that", "these", "those", "will", "can", "all", "any", "from", "have", "has", "who", "re",
    "term", "terms", "plan", "data", "lead", "conduct", "support", "care", "work", "team",
    "role", "staff", "service", "services", "recovery", "shift", "shifts", "free", "hours",
    "de", "het", "een", "en", "van", "voor", "met", "je", "jij", "jouw", "wij", "ons", "onze",
    "te", "die", "dat", "als", "bij", "aan", "om", "ook", "door", "naar", "uit", "er",
    "plannen", "werk", "zorg",
}
_TOKEN = re.compile(r"[\w+#]+")
STEM = 5  # leading characters compared: "communicating" says "communication"
# words that say nothing about which skill a label means, in either language
LABEL_STOPWORDS = GENERIC_WORDS | {
    "is", "are", "be", "as", "at", "by", "it", "its", "from", "into", "other", "their",
    "de", "het", "een", "en", "van", "voor", "met", "in", "op", "te", "aan", "bij", "of", "om",
    "door", "naar", "over", "uit", "je", "zich", "die", "dat",
}
LABEL_KINDS = ("preferred", "alt", "unofficial")


# small caches: a phrase recurs within its sentence's candidates, a label across sentences
# (large ones held ~0.5 GB more over the 185k distinct sentences of the NHS file)
@functools.lru_cache(maxsize=4096)
def words(text: str) -> frozenset[str]:
    """The normalised words of a text (cached: a sentence's phrases recur per candidate)."""
    return frozenset(normalise(text).split())


@functools.lru_cache(maxsize=32_768)
def stems(text: str) -> frozenset[str]:
    """The content words of a text, cut to their stems (for "was this word said?")."""
    return frozenset(w[:STEM] for w in words(text) if w not in GENERIC_WORDS)


JOINED_MIN = 8  # shorter joined forms collide by chance ("in put" ~ "input")


def joined_form(normalised: str) -> str:
    """A normalised text without spaces and hyphens, the key of a compound."""
    return normalised.replace(" ", "").replace("-", "")


@functools.lru_cache(maxsize=32_768)
def is_fragment(phrase: str) -> bool:
    """A phrase that cannot carry a match alone: only function words ("re", "term", "IT",
    "data", "plan") or short lower-case fragments. Capitalised acronyms ("R", "SQL", "C#")
    are real mentions."""
    tokens = [m.group() for m in _TOKEN.finditer(phrase)]
    return all(t.lower() in FUNCTION_WORDS or (len(t) <= 3 and t.islower()) for t in tokens)


def read_rows(con: duckdb.DuckDBPyConnection, languages: Sequence[str] | None = None
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The skills and their label rows (uri, label, language) in `languages` (all if None)."""
    skills = con.execute(
        "SELECT uri, trim(preferred_label) AS preferred_label, skill_type, reuse_level, "
        "trim(coalesce(description, '')) AS description FROM esco_skill ORDER BY uri"
    ).df()
    where, values = "", []
    if languages is not None:
        where = f"AND l.language IN ({', '.join('?' for _ in languages)})"
        values = list(languages)
    labels = con.execute(
        f"""SELECT l.uri, trim(l.label) AS label, l.language FROM esco_label l
            WHERE l.concept_type = 'skill' AND l.kind IN {LABEL_KINDS} {where}""", values
    ).df()
    return skills, labels


@dataclass
class SkillVocabulary:
    """Skill labels (preferred + alternative, in the given languages) arranged for fast
    max-per-skill scoring. Every vocabulary of a warehouse lists the skills in one order."""

    skills: pd.DataFrame                 # uri, preferred_label, skill_type, reuse_level,
                                         # description
    texts: list[str]                     # unique label texts
    text_skills: list[tuple[int, ...]]   # text id -> skill ids carrying it
    languages: tuple[str, ...] = ("en",)
    exact: dict[str, list[int]] = field(default_factory=dict)  # normalised -> text ids
    case_sensitive: set[int] = field(default_factory=set)      # acronyms: exact case only
    content_words: list[list[str]] = field(default_factory=list)  # per text, for specificity
    # multi-word labels as sets of word stems, indexed by their longest stem: a sentence that
    # says every stem, in any order ("verzorg je wonden" ~ "wonden verzorgen"), names it
    text_stems: dict[int, frozenset[str]] = field(default_factory=dict)
    stem_index: dict[str, list[int]] = field(default_factory=dict)
    stem_order: dict[int, tuple[str, int]] = field(default_factory=dict)
    # labels with their spaces and hyphens removed: Dutch writes compounds as one word
    # ("businessanalyse" ~ "business analyse", "full-stack" ~ "fullstack")
    joined: dict[str, list[int]] = field(default_factory=dict)
    # texts that are no English label (a glossary gives the English model its reading of them)
    foreign: frozenset[int] = frozenset()

    @classmethod
    def from_rows(cls, skills: pd.DataFrame, labels: pd.DataFrame,
                  languages: Sequence[str] = ("en",)) -> SkillVocabulary:
        """From `read_rows`' frames (labels of other languages are left out): a caller can
        read once and build each language's vocabulary when it is first needed."""
        english: set[str] | None = None
        if "language" in labels.columns:
            labels = labels[labels["language"].isin(list(languages))]
            english = set(labels.loc[labels["language"] == "en", "label"])
        labels = labels[labels["label"] != ""][["uri", "label"]].copy()
        index = pd.Series(np.arange(len(skills)), index=skills["uri"])
        labels["skill"] = index.reindex(labels["uri"]).to_numpy()
        labels = labels.dropna(subset=["skill"])
        codes, texts = pd.factorize(labels["label"])
        skill_ids = labels["skill"].to_numpy(dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(texts) + 1))
        text_skills = [tuple(np.unique(skill_ids[order[bounds[t]:bounds[t + 1]]]).tolist())
                       for t in range(len(texts))]
        vocab = cls(skills, list(texts), text_skills, tuple(languages))
        if english is not None:
            vocab.foreign = frozenset(t for t, text in enumerate(vocab.texts)
                                      if text not in english)
        for t, text in enumerate(vocab.texts):
            norm = normalise(text)
            vocab.exact.setdefault(norm, []).append(t)
            if len(key := joined_form(norm)) >= JOINED_MIN and key != norm:
                vocab.joined.setdefault(key, []).append(t)
            vocab.content_words.append([w for w in norm.split() if w not in GENERIC_WORDS])
            if len(text) <= 4 or (text.isupper() and len(text) <= 8):
                vocab.case_sensitive.add(t)
            label_stems = frozenset(w[:STEM] for w in norm.split()
                                    if w not in LABEL_STOPWORDS and len(w) > 2)
            if 2 <= len(label_stems) <= 4:
                vocab.text_stems[t] = label_stems
        # each label is filed under its rarest stem (fewest labels to test per word said);
        # hits come back in the order of (longest stem, text id), as they always have
        frequency = Counter(s for label_stems in vocab.text_stems.values() for s in label_stems)
        for t, label_stems in vocab.text_stems.items():
            vocab.stem_index.setdefault(min(label_stems, key=lambda s: (frequency[s], s)),
                                        []).append(t)
            vocab.stem_order[t] = (max(sorted(label_stems), key=len), t)
        return vocab

    def stem_hits(self, sentence: str) -> list[int]:
        """Text ids of multi-word labels whose every word stem the sentence says (in a fixed
        order: candidates tied on score keep it, and training must not depend on set order)."""
        said = frozenset(w[:STEM] for w in words(sentence) if w not in LABEL_STOPWORDS)
        return sorted((t for stem in said for t in self.stem_index.get(stem, ())
                       if self.text_stems[t] <= said), key=self.stem_order.__getitem__)

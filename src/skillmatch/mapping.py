"""Text to ESCO: skills in vacancy text, CV lines and learning outcomes; job titles to
occupations. Every result carries URI, label, type, score, evidence and how it was found.

Skill extraction per sentence:
1. units = the sentence plus its candidate phrases (clauses between commas/"and"/"or", word
   windows), each embedded once per model;
2. semantic score of a skill = its best label's cosine with the sentence or, slightly
   discounted, with one phrase (a phrase names one skill; the sentence gives context);
3. lexical evidence: a phrase that *is* a skill label (normalised, case-sensitive for acronyms
   such as "R", "LESS") adds a bonus, so short exact mentions always surface;
4. models are fused by averaging their rescaled cosines (English text: every configured model;
   other languages: only multilingual ones);
5. the best skills above the acceptance threshold are kept, boilerplate sentences (employer,
   benefits, application process, equal-opportunity statements) and section headings are
   skipped, and a document keeps each skill once, with its strongest evidence.
"""

from __future__ import annotations

import functools
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import duckdb
import numpy as np
import pandas as pd
import torch

from skillmatch.encoding import Encoder, get_encoder
from skillmatch.search import get_index, normalise
from skillmatch.settings import Settings
from skillmatch.text import candidate_phrases, clean_text, detect_language, split_sentences


@dataclass(frozen=True)
class MappingParams:
    """Tunable constants of skill extraction (per-taxonomy values in taxonomy/esco.toml)."""

    phrase_discount: float = 0.05
    exact_bonus: float = 0.25
    accept_threshold: float = 0.55
    sentence_candidates: int = 500
    specificity_penalty: float = 0.0
    use_phrases: bool = True
    batch_sentences: int = 256


def mapping_params(settings: Settings) -> MappingParams:
    """The [esco.mapping] values of the taxonomy configuration (defaults where absent)."""
    from skillmatch.taxonomy import load_config

    values = load_config(settings).mapping
    unknown = set(values) - set(MappingParams.__dataclass_fields__)
    if unknown:
        raise ValueError(f"{settings.taxonomy_config}: unknown [esco.mapping] keys {unknown}")
    return MappingParams(**values)


@dataclass
class SkillMatch:
    uri: str
    label: str
    skill_type: str
    score: float
    accepted: bool
    found_by: str
    matched_label: str
    evidence: str  # the sentence
    phrase: str    # the part of it that names the skill (the whole sentence if none)
    start: int     # character span of `phrase` in the cleaned document
    end: int
    language: str = "en"

    def as_dict(self) -> dict:
        return asdict(self)


WORD = re.compile(r"[\w+#./-]+")
KEEP_PER_SENTENCE = 60  # label texts kept per sentence (top-k output needs no more)
MEMO_SENTENCES = 100_000  # scored sentences remembered across calls (bounded memory)
GENERIC_WORDS = {"a", "an", "the", "of", "and", "or", "to", "in", "on", "for", "with", "use",
                 "apply", "skills", "skill", "knowledge", "ability", "principles", "techniques"}
# Sentences about the employer, the offer, the application or the applicant's data, not the
# job: skipped, since they otherwise yield skills. Each group below was seen doing so in the real
# NHS and VDAB ads ("We regret we cannot contact everyone ... interview" -> "use questioning
# techniques", "Any data which you share with us" -> "statistics", "Staff restaurants" ->
# "manage staff", "Book and manage your shifts" -> "schedule shifts").
BOILERPLATE = re.compile(
    r"\b(?:"
    # equal opportunities and employer schemes
    r"equal opportunit\w*|diversity|inclusive employer|disability confident|mindful employer|"
    r"guaranteed interview|armed forces covenant|positive about disabled|"
    # the offer
    r"we (?:can |will )?offer|competitive (?:salary|pay)|work[ /-]life balance|"
    r"balance your work|(?:development|training|career|progression) opportunities|"
    r"opportunities for (?:career|professional|personal|further)|first (?:choice|refusal) "
    r"(?:of|on)|access to shifts|priority (?:of|on|for) shifts|holiday (?:allowance|pay)|"
    r"career development|making a difference|rewarding (?:career|role|in itself)|"
    r"pension\w*|annual leave|benefits? (?:package|include)|salary sacrifice|cycle to work|"
    r"childcare vouchers?|staff (?:restaurants?|discounts?|benefits)|car park\w*|"
    r"employee assistance|we commit to our (?:staff|employees)|book and manage your shifts|"
    # the employer
    r"about us|our (?:mission|values)|our company (?:is|was|has)|founded in|our trust|"
    r"we (?:deliver|provide) (?:a )?(?:wide )?range of services|the trust (?:is|was|has|employs)|"
    r"reassure you|(?:britain|the uk|england)\W?s (?:leading|largest)|"
    r"one of the (?:largest|leading|biggest)|"
    # the application and the applicant's data
    r"apply (?:now|online)|closing date|we regret|not been successful|hear from us|"
    r"(?:selected|shortlisted) for (?:an )?interview|interviews? will (?:be held|take place)|"
    r"supporting information|informal (?:discussions?|enquiries|visits?)|application form|"
    r"your (?:application|data)\b|applying (?:via|through|for this)|at (?:the )?interview|"
    r"book extra shifts|lines of work|"
    r"data (?:which|that) you (?:share|provide)|privacy notice|disclosure and barring|"
    r"rehabilitation of offenders|certificate of sponsorship|right to work in the uk|"
    # Dutch
    r"wij bieden|wat bieden wij|salaris|vakantiegeld|over ons|solliciteer|reageer|"
    r"acquisitie|pensioenregeling|eindejaarsuitkering|reiskostenvergoeding"
    r")\b",
    re.I,
)


# Section headings written without a colon (normalised): they name a section, not a skill.
HEADINGS = {
    "the role", "about the role", "job summary", "job description", "main duties",
    "main duties of the job", "duties", "duties and responsibilities", "key responsibilities",
    "responsibilities", "skills responsibilities", "person specification", "essential",
    "desirable", "essential criteria", "desirable criteria", "qualifications", "experience",
    "skills", "knowledge", "skills and knowledge", "who we re looking for", "about you",
    "benefits", "what we offer", "de functie", "functieomschrijving", "wat ga je doen",
    "wie ben jij", "wie zoeken wij", "profiel", "functie eisen", "taken",
    "verantwoordelijkheden", "ons aanbod", "aanbod",
}


def is_boilerplate(sentence: str) -> bool:
    """Not a statement about the job: a boilerplate sentence (see BOILERPLATE) or a section
    heading ("The Role:", "Who we're looking for:", "Person Specification")."""
    text = sentence.strip()
    return (text.endswith(":") or normalise(text).replace("/", " ") in HEADINGS
            or bool(BOILERPLATE.search(text)))


STEM = 5  # leading characters compared: "communicating" says "communication"


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


@dataclass
class SkillVocabulary:
    """Skill labels (preferred + alternative) arranged for fast max-per-skill scoring."""

    skills: pd.DataFrame                 # uri, preferred_label, skill_type, reuse_level
    texts: list[str]                     # unique label texts
    text_skills: list[tuple[int, ...]]   # text id -> skill ids carrying it
    exact: dict[str, list[int]] = field(default_factory=dict)  # normalised -> text ids
    case_sensitive: set[int] = field(default_factory=set)      # acronyms: exact case only
    content_words: list[list[str]] = field(default_factory=list)  # per text, for specificity

    @classmethod
    def from_warehouse(cls, con: duckdb.DuckDBPyConnection) -> SkillVocabulary:
        skills = con.execute(
            "SELECT uri, preferred_label, skill_type, reuse_level FROM esco_skill ORDER BY uri"
        ).df()
        labels = con.execute(
            """SELECT l.uri, l.label FROM esco_label l
               WHERE l.concept_type = 'skill' AND l.kind IN ('preferred', 'alt')"""
        ).df()
        index = pd.Series(np.arange(len(skills)), index=skills["uri"])
        labels["skill"] = index.reindex(labels["uri"]).to_numpy()
        labels = labels.dropna(subset=["skill"])
        codes, texts = pd.factorize(labels["label"])
        skill_ids = labels["skill"].to_numpy(dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(texts) + 1))
        text_skills = [tuple(np.unique(skill_ids[order[bounds[t]:bounds[t + 1]]]).tolist())
                       for t in range(len(texts))]
        vocab = cls(skills, list(texts), text_skills)
        for t, text in enumerate(vocab.texts):
            norm = normalise(text)
            vocab.exact.setdefault(norm, []).append(t)
            vocab.content_words.append([w for w in norm.split() if w not in GENERIC_WORDS])
            if len(text) <= 4 or (text.isupper() and len(text) <= 8):
                vocab.case_sensitive.add(t)
        return vocab


class SkillExtractor:
    """Skills in text. Built once (label vectors come from the embedding cache)."""

    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection,
                 models: Sequence[str] | None = None,
                 params: MappingParams | None = None) -> None:
        self.settings = settings
        self.params = params or mapping_params(settings)
        self.vocab = SkillVocabulary.from_warehouse(con)
        # `models` fixes the ensemble for every language (evaluation, experiments)
        self.fixed_models = list(dict.fromkeys(models)) if models else None
        self._label_vectors: dict[str, np.ndarray] = {}
        self._memo: dict[tuple[str, MappingParams], OrderedDict[str, dict]] = {}

    def encoders_for(self, language: str) -> list[Encoder]:
        """English text: the English model (plus the multilingual one when `mapping_ensemble`
        is on); any other language: the multilingual model, which reaches the English labels."""
        s = self.settings
        if self.fixed_models:
            names = self.fixed_models
        elif language in s.model(s.english_model).languages:
            names = [s.english_model] + ([s.multilingual_model] if s.mapping_ensemble else [])
        else:
            names = [s.multilingual_model]
        return [get_encoder(s, n) for n in dict.fromkeys(names)]

    def label_vectors(self, encoder: Encoder) -> np.ndarray:
        """Skill label vectors of one model, loaded (or embedded, once) on first use."""
        if encoder.name not in self._label_vectors:
            self._label_vectors[encoder.name] = encoder.embed(self.vocab.texts, kind="document")
        return self._label_vectors[encoder.name]

    # ------------------------------------------------------------------ scoring
    def _extra_words(self, text_id: int, phrase: str) -> float:
        """Share of a label's content words absent from the phrase: "communication skills"
        should not become "teach communication methods" (two words the text never said)."""
        label_words = self.vocab.content_words[text_id]
        if not label_words:
            return 0.0
        said = words(phrase)
        return sum(w not in said for w in label_words) / len(label_words)

    @staticmethod
    def _prefer_generic(sentence: str, scores: dict[int, tuple], threshold: float) -> None:
        """A generic skill the sentence says ("communication") keeps its over-specific
        relatives out ("teach communication methods": a matched label with the same words plus
        words the sentence never said): those drop just below the acceptance threshold."""
        said = stems(sentence)
        specific = {k: label for k, v in scores.items()
                    if v[0] >= threshold and not (label := stems(v[4])) <= said}
        if not specific:
            return
        generic = [label for v in scores.values() if (label := stems(v[4])) and label <= said]
        for skill, label in specific.items():
            if any(g < label for g in generic):
                scores[skill] = (threshold - 0.01, *scores[skill][1:])

    def _exact_hits(self, sentence: str, phrases: list[tuple[str, int, int]]
                    ) -> dict[int, tuple[int, int, bool]]:
        """skill id -> (start, end, is acronym), for phrases and words that are a skill label."""
        hits: dict[int, tuple[int, int, bool]] = {}
        words = [(m.group(), m.start(), m.end()) for m in WORD.finditer(sentence)]
        for raw, s, e in [*phrases, *words]:
            text = raw.rstrip(".")  # "…and C#." ends a sentence; ".NET" keeps its dot
            e -= len(raw) - len(text)
            for t in self.vocab.exact.get(normalise(text), []):
                acronym = t in self.vocab.case_sensitive
                if acronym and self.vocab.texts[t] != text.strip():
                    continue
                for skill in self.vocab.text_skills[t]:
                    hits.setdefault(skill, (s, e, acronym))
        return hits

    def score_sentences(self, sentences: Sequence[str], language: str = "en"
                        ) -> list[dict[int, tuple[float, str, int, int, str]]]:
        """Per sentence: skill id -> (score, found_by, start, end, matched label)."""
        # re-posted and syndicated ads repeat whole paragraphs: score each sentence once
        memo = self._memo.setdefault((language, self.params), OrderedDict())
        # longest first: each encoder batch then holds sentences of similar length, so padding
        # (wasted encoder work) stays small however the documents mixed them
        todo = sorted((s for s in dict.fromkeys(sentences) if s not in memo), key=len,
                      reverse=True)
        step = max(self.params.batch_sentences, 1)
        fresh: dict[str, dict] = {}
        for start in range(0, len(todo), step):
            batch = todo[start:start + step]
            fresh.update(zip(batch, self._score_batch(batch, language), strict=True))
        out = [fresh[s] if s in fresh else memo[s] for s in sentences]
        memo.update(fresh)
        while len(memo) > MEMO_SENTENCES:
            memo.popitem(last=False)
        return out

    def _score_batch(self, sentences: list[str], language: str
                     ) -> list[dict[int, tuple[float, str, int, int, str]]]:
        p = self.params
        encoders = self.encoders_for(language)
        passes = [enc.encode_tokens(sentences, kind="query") for enc in encoders]
        # rescaled cosine averaged over models: sum_m (cos_m - floor_m) / (1 - floor_m) / M
        scales = [(1.0 / (1 - e.spec.similarity_floor) / len(encoders),
                   e.spec.similarity_floor / (1 - e.spec.similarity_floor) / len(encoders))
                  for e in encoders]
        labels = [self._label_tensor(enc) for enc in encoders]
        sentence_sims = None
        for res, matrix, (a, b) in zip(passes, labels, scales, strict=True):
            vectors = torch.from_numpy(np.stack([r[0] for r in res]))
            part = (vectors @ matrix.T).mul_(a).sub_(b)
            sentence_sims = part if sentence_sims is None else sentence_sims.add_(part)
        assert sentence_sims is not None
        k = min(p.sentence_candidates, sentence_sims.shape[1] - 1)
        top = torch.topk(sentence_sims, k, dim=1, sorted=False)
        top_values, tops = top.values.numpy(), top.indices
        results = []
        for i, sentence in enumerate(sentences):
            phrases = [ph for ph in candidate_phrases(sentence) if ph[0] != sentence]
            cand = tops[i].numpy()
            sent = top_values[i]
            best = sent.copy()
            unit = np.full(len(cand), -1)
            if p.use_phrases and phrases:
                phrase_sims = sum(
                    (self._pool(res[i], phrases) @ matrix.numpy()[cand].T) * a - b
                    for res, matrix, (a, b) in zip(passes, labels, scales, strict=True)
                )
                which = phrase_sims.argmax(axis=0)
                phrase_best = phrase_sims[which, np.arange(len(cand))] - p.phrase_discount
                better = phrase_best > sent
                best = np.where(better, phrase_best, sent)
                unit = np.where(better, which, -1)
            scores: dict[int, tuple[float, str, int, int, str]] = {}
            penalties: dict[int, float] = {}
            for j in np.argsort(-best)[:KEEP_PER_SENTENCE].tolist():
                t = int(cand[j])
                value = float(best[j])
                s, e = (0, len(sentence)) if unit[j] < 0 else phrases[unit[j]][1:]
                penalty = 0.0
                if p.specificity_penalty:
                    said = sentence if unit[j] < 0 else phrases[unit[j]][0]
                    penalty = p.specificity_penalty * self._extra_words(t, said)
                for skill in self.vocab.text_skills[t]:
                    if skill not in scores:
                        scores[skill] = (value - penalty, "semantic", s, e, self.vocab.texts[t])
                        penalties[skill] = penalty
            for skill, (s, e, acronym) in self._exact_hits(sentence, phrases).items():
                value, _, _, _, label = scores.get(skill, (0.0, "", s, e, ""))
                label = label or self.vocab.skills["preferred_label"].iat[skill]
                # one of its labels is written out: no word of the skill went unsaid
                value += p.exact_bonus + penalties.get(skill, 0.0)
                if acronym:  # "R", "C#", "SQL" written exactly so: a mention, whatever context
                    value = max(value, p.accept_threshold + 0.05)
                scores[skill] = (value, "both" if value > p.exact_bonus else "lexical",
                                 s, e, label)
            self._prefer_generic(sentence, scores, p.accept_threshold)
            results.append(scores)
        return results

    def _label_tensor(self, encoder: Encoder) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(self.label_vectors(encoder)))

    @staticmethod
    def _pool(encoded: tuple[np.ndarray, np.ndarray, np.ndarray],
              phrases: list[tuple[str, int, int]]) -> np.ndarray:
        """Phrase vectors: mean of the sentence's contextual token vectors inside each span."""
        sentence, tokens, spans = encoded
        bounds = np.array([(s, e) for _, s, e in phrases])
        inside = ((spans[None, :, 0] < bounds[:, 1:2]) & (spans[None, :, 1] > bounds[:, 0:1]))
        counts = inside.sum(axis=1, keepdims=True)
        vectors = (inside.astype(np.float32) @ tokens) / np.maximum(counts, 1)
        vectors[counts[:, 0] == 0] = sentence
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)

    # ------------------------------------------------------------------ documents
    def extract_many(self, texts: Sequence[str], top_k: int | None = None,
                     language: str | None = None) -> list[list[SkillMatch]]:
        """Skills per document: the accepted ones, or the `top_k` best (each marked accepted
        or not). Sentences of all documents are encoded together, in length-sorted batches."""
        docs = []
        for text in texts:
            cleaned = clean_text(text)
            lang = language or detect_language(cleaned)
            segments = [seg for seg in split_sentences(cleaned) if not is_boilerplate(seg.text)]
            docs.append((lang, segments))
        scored: dict[int, list] = {}
        for lang in {d[0] for d in docs}:
            ids = [(i, j) for i, (lg, segs) in enumerate(docs) if lg == lang
                   for j in range(len(segs))]
            results = self.score_sentences([docs[i][1][j].text for i, j in ids], lang)
            for (i, j), res in zip(ids, results, strict=True):
                scored.setdefault(i, [None] * len(docs[i][1]))[j] = res
        return [self._merge(docs[i][1], scored.get(i, []), docs[i][0], top_k)
                for i in range(len(docs))]

    def extract(self, text: str, top_k: int | None = None, language: str | None = None
                ) -> list[SkillMatch]:
        return self.extract_many([text], top_k, language)[0]

    def _merge(self, segments: list, per_sentence: list, language: str,
               top_k: int | None) -> list[SkillMatch]:
        """One entry per skill across a document, keeping its strongest evidence."""
        best: dict[int, tuple[float, str, int, int, str, object]] = {}
        for seg, scores in zip(segments, per_sentence, strict=True):
            for skill, (score, how, s, e, label) in scores.items():
                if skill not in best or score > best[skill][0]:
                    best[skill] = (score, how, s, e, label, seg)
        skills = self.vocab.skills
        threshold = self.params.accept_threshold
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
        if not top_k:
            ranked = [kv for kv in ranked if kv[1][0] >= threshold]
        return [
            SkillMatch(
                uri=skills["uri"].iat[k], label=skills["preferred_label"].iat[k],
                skill_type=skills["skill_type"].iat[k], score=round(score, 4),
                accepted=score >= threshold, found_by=how, matched_label=label,
                evidence=seg.text, phrase=seg.text[s:e], start=seg.start + s,
                end=seg.start + e, language=language,
            )
            for k, (score, how, s, e, label, seg) in ranked[: top_k or None]
        ]

class OccupationLinker:
    """Job titles (optionally with their ad text) to ranked ESCO occupations with ISCO group.

    Uses the multilingual model over occupation labels in every language: a Dutch title meets
    the Dutch labels, an English one the English labels, and both reach the same concepts.
    """

    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection,
                 model: str | None = None) -> None:
        self.settings = settings
        self.encoder = get_encoder(settings, model or settings.multilingual_model)
        self.index = get_index(con, settings, self.encoder, ("occupation",))
        self.isco = con.execute(
            """SELECT o.uri, o.isco_code, g.preferred_label AS isco_label
               FROM esco_occupation o LEFT JOIN esco_isco_group g ON g.code = o.isco_code"""
        ).df().set_index("uri")

    def link_many(self, titles: Sequence[str], top_k: int = 10,
                  texts: Sequence[str | None] | None = None,
                  language: str | None = None) -> list[pd.DataFrame]:
        """Ranked occupations per title; titles are embedded in one batch."""
        cleaned = [clean_text(t)[:300] for t in titles]
        vectors = self.encoder.embed(cleaned, kind="query", cache=False)
        out = []
        step = 256  # label similarities for a block of titles in one matrix product
        for start in range(0, len(cleaned), step):
            sims = self.index.similarities(vectors[start:start + step])
            for row, title in enumerate(cleaned[start:start + step]):
                i = start + row
                lang = language
                if lang is None and texts is not None and texts[i]:
                    lang = detect_language(clean_text(texts[i][:5000]), default="") or None
                hits = self.index.search(title, concept_type="occupation", top_k=top_k,
                                         language=lang, sims=sims[row])
                if hits.empty and lang:  # no label in that language matches: every language
                    hits = self.index.search(title, concept_type="occupation", top_k=top_k,
                                             sims=sims[row])
                out.append(hits)
        if not out:
            return out
        # ISCO groups for every hit at once (a join per title costs more than the search)
        hits = pd.concat(out, keys=range(len(out))).join(self.isco, on="uri")
        hits["accepted"] = hits["score"] >= self.settings.occupation_accept_threshold
        parts = {k: g.reset_index(drop=True) for k, g in hits.groupby(level=0)}
        none = hits.iloc[0:0].reset_index(drop=True)
        return [parts.get(k, none) for k in range(len(out))]

    def link(self, title: str, text: str | None = None, top_k: int = 10,
             language: str | None = None) -> pd.DataFrame:
        return self.link_many([title], top_k, [text], language)[0]


def skill_rows(ids: Sequence[str], results: Sequence[Sequence[SkillMatch]],
               id_column: str, per_document: int | None = None) -> pd.DataFrame:
    """Warehouse rows (one per document and skill) from `extract_many` results."""
    rows = [{id_column: doc_id, "skill_uri": m.uri, "skill_label": m.label,
             "skill_type": m.skill_type, "score": m.score, "accepted": m.accepted,
             "found_by": m.found_by, "matched_label": m.matched_label, "evidence": m.evidence,
             "phrase": m.phrase, "span_start": m.start, "span_end": m.end,
             "language": m.language}
            for doc_id, matches in zip(ids, results, strict=True)
            for m in list(matches)[:per_document]]
    return pd.DataFrame(rows, columns=[id_column, *SKILL_ROW_COLUMNS])


SKILL_ROW_COLUMNS = ["skill_uri", "skill_label", "skill_type", "score", "accepted", "found_by",
                     "matched_label", "evidence", "phrase", "span_start", "span_end",
                     "language"]


def occupation_rows(ids: Sequence[str], results: Sequence[pd.DataFrame], id_column: str
                    ) -> pd.DataFrame:
    """Warehouse rows (one per document and ranked occupation) from `link_many` results."""
    frames = []
    for doc_id, hits in zip(ids, results, strict=True):
        if hits.empty:
            continue
        frames.append(pd.DataFrame({
            id_column: doc_id, "rank": np.arange(1, len(hits) + 1),
            "occupation_uri": hits["uri"].to_numpy(),
            "occupation_label": hits["preferred_label"].to_numpy(),
            "matched_label": hits["matched_label"].to_numpy(),
            "isco_code": hits["isco_code"].to_numpy(),
            "isco_label": hits["isco_label"].to_numpy(),
            "score": hits["score"].to_numpy(), "accepted": hits["accepted"].to_numpy(),
        }))
    columns = [id_column, "rank", "occupation_uri", "occupation_label", "matched_label",
               "isco_code", "isco_label", "score", "accepted"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(
        columns=columns)


def extract_documents(extractor: SkillExtractor, texts: Sequence[str],
                      languages: Sequence[str] | None = None, chunk: int = 500,
                      progress: Callable[[str], None] | None = None, label: str = "documents"
                      ) -> list[list[SkillMatch]]:
    """`extract_many` over a long list in chunks (bounded memory), each language with its own
    encoder, reporting documents done, rate and time left."""
    started = time.perf_counter()
    out: list[list[SkillMatch] | None] = [None] * len(texts)
    langs = list(languages) if languages is not None else [""] * len(texts)
    done = 0
    for lang in dict.fromkeys(langs):
        idx = [i for i, lg in enumerate(langs) if lg == lang]
        for start in range(0, len(idx), max(chunk, 1)):
            part = idx[start:start + chunk]
            results = extractor.extract_many([texts[i] for i in part], language=lang or None)
            for i, res in zip(part, results, strict=True):
                out[i] = res
            done += len(part)
            if progress:
                rate = done / max(time.perf_counter() - started, 1e-9)
                progress(f"  {label}: {done:,}/{len(texts):,} ({rate:,.1f}/s, "
                         f"{(len(texts) - done) / rate:,.0f} s left)")
    return [r or [] for r in out]

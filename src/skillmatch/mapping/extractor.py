"""Text to ESCO skills, in two stages: candidates, then a learned acceptance model.

Candidates, per sentence:
1. units = the sentence plus its candidate phrases (clauses between commas/"and"/"or", word
   windows), all from one encoder pass (phrase vectors are pooled from the token vectors);
2. a label's similarity = max(sentence cosine, best phrase cosine - discount), rescaled by the
   model's similarity floor; phrases made only of function words or 1-3 letter fragments
   ("re", "term") are no units;
3. lexical evidence: a phrase that *is* a skill label (normalised; case-sensitive for acronyms
   such as "R", "C#") adds a bonus, so short exact mentions always surface; a sentence that
   says every word of a multi-word label in another order ("verzorg je wonden" ~ "wonden
   verzorgen", "staff management" ~ "manage staff") adds half of it;
4. English text uses the English model over the English labels; other languages use the
   multilingual model over the English labels plus that language's labels (official ESCO
   ones where the export has them, else the project's unofficial layer) and, where the
   taxonomy configuration has a glossary for the language, the English model over a
   word-by-word English gloss of the text and of those labels (`glossary.py`).
Acceptance (`acceptance.py`): a logistic regression over each candidate's evidence, its
section of the ad, how often the ad names it and the ad's occupation profile gives one
calibrated probability that ranks the candidates and, above its threshold, accepts them.
Boilerplate sentences (employer, offer, application, privacy) and headings are skipped.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np
import torch

from skillmatch.encoding import Encoder, get_encoder
from skillmatch.mapping.acceptance import (
    AcceptanceModel,
    Candidate,
    Context,
    feature_matrix,
)
from skillmatch.mapping.boilerplate import is_boilerplate, sections
from skillmatch.mapping.glossary import Glossary
from skillmatch.mapping.vocabulary import (
    JOINED_MIN,
    SkillVocabulary,
    is_fragment,
    joined_form,
    read_rows,
    stems,
    words,
)
from skillmatch.memory import release_free_memory
from skillmatch.progress import bar
from skillmatch.search import normalise
from skillmatch.settings import Settings
from skillmatch.text import Segment, candidate_phrases, clean_text, detect_language, split_sentences

# Bumped whenever the mapping's output can change for the same input and models: pipelines
# re-map their data when it (or a model or the acceptance model) changes.
# 2.6: whole documents cut at their own, precision-weighted threshold; ads weigh twice;
# 2.5: the sentence vs each skill's ESCO description; 2.4: Dutch also read in English words
# (glossary); 2.3: said labels scored, Dutch compounds;
# 2.2: `asks`; 2.1: trees
ENGINE_VERSION = "2.6"


@dataclass(frozen=True)
class MappingParams:
    """Tunable constants of skill extraction (per-taxonomy values in taxonomy/esco.toml)."""

    phrase_discount: float = 0.05
    exact_bonus: float = 0.25
    accept_threshold: float = 0.55  # on the heuristic score, when no acceptance model is set
    sentence_candidates: int = 500
    specificity_penalty: float = 0.0
    use_phrases: bool = True
    use_glossaries: bool = True     # languages with a glossary are also read in English words
    batch_sentences: int = 256
    acceptance_model: str = ""      # JSON beside the taxonomy configuration; "" = heuristic
    occupation_context: int = 3     # linked occupations whose ESCO profile informs acceptance


def mapping_params(settings: Settings) -> MappingParams:
    """The [esco.mapping] values of the taxonomy configuration (defaults where absent)."""
    from skillmatch.taxonomy import load_config

    values = load_config(settings).mapping
    unknown = set(values) - set(MappingParams.__dataclass_fields__)
    if unknown:
        raise ValueError(f"{settings.taxonomy_config}: unknown [esco.mapping] keys {unknown}")
    return MappingParams(**values)


def acceptance_path(settings: Settings, params: MappingParams | None = None) -> Path | None:
    """Where the configured acceptance model lives (beside the taxonomy configuration)."""
    name = (params or mapping_params(settings)).acceptance_model
    if not name:
        return None
    path = Path(name)
    return path if path.is_absolute() else settings.taxonomy_config.parent / path


def configured_acceptance(settings: Settings, params: MappingParams | None = None
                          ) -> AcceptanceModel | None:
    """The acceptance model the settings name; None (the heuristic threshold) when none is
    named or it has not been trained yet."""
    path = acceptance_path(settings, params)
    return AcceptanceModel.load(path) if path is not None and path.exists() else None


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
# scored sentences remembered across calls: ~26 KB each, so 30,000 hold ~0.8 GB (100,000
# could hold ~2.6 GB, likely most of the full NHS run's 3.5 GB peak); ads come sorted by
# employer, whose repeated paragraphs sit close together, so a shorter memory finds them
MEMO_SENTENCES = 30_000
Scored = dict[int, Candidate]  # skill id -> its candidate in one sentence
Encoded = list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # one encoder's pass over a batch


@dataclass
class Document:
    """A text prepared for mapping: its language, kept sentences and their sections."""

    language: str
    segments: list[Segment]
    sections: list[str]
    occupations: tuple[str, ...] = ()


class SkillExtractor:
    """Skills in text. Built once (label vectors come from the embedding cache)."""

    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection,
                 models: Sequence[str] | None = None,
                 params: MappingParams | None = None,
                 acceptance: AcceptanceModel | bool | None = True,
                 memo_sentences: int = MEMO_SENTENCES) -> None:
        self.settings = settings
        self.memo_sentences = memo_sentences  # ~26 KB each (tracemalloc)
        self.params = params or mapping_params(settings)
        # the label rows of every language are read now (the connection is gone later); a
        # language's vocabulary and stem index are built on its first text: an English-only
        # run never holds the Dutch one
        self._skill_rows, self._label_rows = read_rows(con)
        self.vocab = SkillVocabulary.from_rows(self._skill_rows, self._label_rows)
        self._vocabs: dict[tuple[str, ...], SkillVocabulary] = {("en",): self.vocab}
        self._vocab_lock = threading.Lock()
        self._memo_lock = threading.Lock()
        # `models` fixes the ensemble for every language (evaluation, experiments)
        self.fixed_models = list(dict.fromkeys(models)) if models else None
        self._label_vectors: dict[tuple[str, tuple[str, ...], str], torch.Tensor] = {}
        self._description_vectors: dict[str, np.ndarray] = {}
        from skillmatch.taxonomy import load_config

        self._glossary_files = load_config(settings).glossaries
        self._glossaries: dict[str, Glossary] = {}
        self._memo: dict[tuple, OrderedDict[str, Scored]] = {}
        skills = self.vocab.skills
        self._skill_type = skills["skill_type"].fillna("").tolist()
        self._reuse = skills["reuse_level"].fillna("").tolist()
        self._uris = skills["uri"].tolist()
        self._profiles = self._occupation_profiles(con)
        if acceptance is True:
            acceptance = configured_acceptance(settings, self.params)
        self.acceptance: AcceptanceModel | None = acceptance or None

    def _occupation_profiles(self, con: duckdb.DuckDBPyConnection) -> dict[str, dict[int, float]]:
        """occupation URI -> {skill id: 1 essential / 0.5 optional} (ESCO's own relations)."""
        index = {u: i for i, u in enumerate(self.vocab.skills["uri"])}
        out: dict[str, dict[int, float]] = {}
        rows = con.execute(
            "SELECT occupation_uri, skill_uri, relation_type FROM esco_occupation_skill"
        ).fetchall()
        for occ, skill, relation in rows:
            if skill in index:
                out.setdefault(occ, {})[index[skill]] = 1.0 if relation == "essential" else 0.5
        return out

    def threshold(self, sentences: int = 1) -> float:
        """The acceptance cut for a text of this many sentences."""
        if self.acceptance:
            return self.acceptance.threshold_for(sentences)
        return self.params.accept_threshold

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

    def glossary_for(self, language: str) -> Glossary | None:
        """The configured word-by-word English glossary of a language (read on first use)."""
        path = self._glossary_files.get(language)
        if path is None or language == "en" or not self.params.use_glossaries:
            return None
        with self._vocab_lock:
            if language not in self._glossaries:
                self._glossaries[language] = Glossary.load(path, language)
        return self._glossaries[language]

    def readings_for(self, language: str) -> list[tuple[Encoder, Glossary | None]]:
        """The encoders that read a text, each with the glossary it reads it through: a
        language with a glossary is also read by the English model, in English words."""
        readings: list[tuple[Encoder, Glossary | None]] = [
            (enc, None) for enc in self.encoders_for(language)]
        glossary = None if self.fixed_models else self.glossary_for(language)
        if glossary is not None:
            readings.append((get_encoder(self.settings, self.settings.english_model), glossary))
        return readings

    def vocabulary_for(self, language: str) -> SkillVocabulary:
        """English labels for English text; for another language, its own labels too."""
        key = ("en", language)
        if language == "en" or not (self._label_rows["language"] == language).any():
            return self.vocab
        with self._vocab_lock:
            if key not in self._vocabs:
                self._vocabs[key] = SkillVocabulary.from_rows(self._skill_rows,
                                                              self._label_rows, key)
        return self._vocabs[key]

    def label_vectors(self, encoder: Encoder, vocab: SkillVocabulary | None = None,
                      glossary: Glossary | None = None) -> torch.Tensor:
        """Skill label vectors of one model, loaded (or embedded, once) on first use; through a
        glossary, the labels in its language are embedded as their gloss."""
        vocab = vocab or self.vocab
        glossary = glossary if vocab.foreign else None  # nothing to gloss: the plain vectors
        key = (encoder.name, vocab.languages, glossary.language if glossary else "")
        if key not in self._label_vectors:
            texts = vocab.texts if glossary is None else [
                glossary.gloss(text).text if t in vocab.foreign else text
                for t, text in enumerate(vocab.texts)]
            vectors = encoder.embed(texts, kind="document")
            self._label_vectors[key] = torch.from_numpy(np.ascontiguousarray(vectors))
        return self._label_vectors[key]

    def description_vectors(self, encoder: Encoder) -> np.ndarray:
        """One vector per skill of "label: ESCO description" (the vocabulary's skill order):
        the description says what a label leaves implicit ("psychiatry" is a medical
        specialty, not a team member), a second view the acceptance model reads."""
        if encoder.name not in self._description_vectors:
            skills = self.vocab.skills
            texts = [f"{label}: {text}" if text else label for label, text in
                     zip(skills["preferred_label"], skills["description"], strict=True)]
            self._description_vectors[encoder.name] = np.ascontiguousarray(
                encoder.embed(texts, kind="document"))
        return self._description_vectors[encoder.name]

    # ------------------------------------------------------------------ candidates
    @staticmethod
    def _extra_words(vocab: SkillVocabulary, text_id: int, phrase: str) -> float:
        """Share of a label's content words absent from the phrase: "communication skills"
        should not become "teach communication methods" (two words the text never said)."""
        label_words = vocab.content_words[text_id]
        if not label_words:
            return 0.0
        said = words(phrase)
        return sum(w not in said for w in label_words) / len(label_words)

    @staticmethod
    def _prefer_generic(sentence: str, scores: Scored, threshold: float) -> None:
        """A generic skill the sentence says ("communication") keeps its over-specific
        relatives out ("teach communication methods": a matched label with the same words plus
        words the sentence never said): those drop just below the heuristic threshold."""
        said = stems(sentence)
        specific = {k: label for k, v in scores.items()
                    if v.score >= threshold and not (label := stems(v.label)) <= said}
        if not specific:
            return
        generic = [label for v in scores.values() if (label := stems(v.label)) and label <= said]
        for skill, label in specific.items():
            if any(g < label for g in generic):
                scores[skill] = scores[skill]._replace(score=threshold - 0.01)

    @staticmethod
    def _exact_hits(vocab: SkillVocabulary, sentence: str, phrases: list[tuple[str, int, int]]
                    ) -> dict[int, tuple[int, int, bool, int]]:
        """skill id -> (start, end, is acronym, label text id), for phrases and words that are
        a skill label (function words and short lower-case fragments never are)."""
        hits: dict[int, tuple[int, int, bool, int]] = {}
        tokens = [(m.group(), m.start(), m.end()) for m in WORD.finditer(sentence)]
        for raw, s, e in [*phrases, *tokens]:
            text = raw.rstrip(".")  # "…and C#." ends a sentence; ".NET" keeps its dot
            e -= len(raw) - len(text)
            if is_fragment(text):
                continue
            norm = normalise(text)
            texts = vocab.exact.get(norm, [])
            # compounds, either way: "businessanalyse" ~ "business analyse" ~ "business-analyse"
            if len(key := joined_form(norm)) >= JOINED_MIN:
                texts = [*texts, *vocab.joined.get(key, ()),
                         *(vocab.exact.get(key, ()) if key != norm else ())]
            for t in texts:
                acronym = t in vocab.case_sensitive
                if acronym and vocab.texts[t] != text.strip():
                    continue
                for skill in vocab.text_skills[t]:
                    hits.setdefault(skill, (s, e, acronym, t))
        return hits

    def score_sentences(self, sentences: Sequence[str], language: str = "en") -> list[Scored]:
        """Per sentence: skill id -> Candidate."""
        # re-posted and syndicated ads repeat whole paragraphs: score each sentence once
        # the memo is shared by the threads of a server: read and written under its lock,
        # scored outside it (a sentence another thread evicts meanwhile is kept in `known`)
        with self._memo_lock:
            memo = self._memo.setdefault((language, self.params), OrderedDict())
            unique = dict.fromkeys(sentences)
            known = {s: memo[s] for s in unique if s in memo}
        # longest first: each encoder batch then holds sentences of similar length, so padding
        # (wasted encoder work) stays small however the documents mixed them
        todo = sorted((s for s in unique if s not in known), key=len, reverse=True)
        step = max(self.params.batch_sentences, 1)
        for start in range(0, len(todo), step):
            batch = todo[start:start + step]
            known.update(zip(batch, self._score_batch(batch, language), strict=True))
        with self._memo_lock:
            memo.update((s, known[s]) for s in todo)
            while len(memo) > self.memo_sentences:
                memo.popitem(last=False)
        return [known[s] for s in sentences]

    def _score_batch(self, sentences: list[str], language: str) -> list[Scored]:
        p = self.params
        readings = self.readings_for(language)
        encoders = [enc for enc, _ in readings]
        vocab = self.vocabulary_for(language)
        passes = [self._read(enc, glossary, sentences) for enc, glossary in readings]
        # rescaled cosine averaged over models: sum_m (cos_m - floor_m) / (1 - floor_m) / M
        scales = [(1.0 / (1 - e.spec.similarity_floor) / len(encoders),
                   e.spec.similarity_floor / (1 - e.spec.similarity_floor) / len(encoders))
                  for e in encoders]
        labels = [self.label_vectors(enc, vocab, glossary) for enc, glossary in readings]
        sentence_sims = None
        for res, matrix, (a, b) in zip(passes, labels, scales, strict=True):
            vectors = torch.from_numpy(np.stack([r[0] for r in res]))
            part = (vectors @ matrix.T).mul_(a).sub_(b)
            sentence_sims = part if sentence_sims is None else sentence_sims.add_(part)
        assert sentence_sims is not None
        asks = self._asks(encoders[0].name, passes[0])
        descriptions = self.description_vectors(encoders[0])
        k = min(p.sentence_candidates, sentence_sims.shape[1] - 1)
        top = torch.topk(sentence_sims, k, dim=1, sorted=False)
        top_values, tops = top.values.numpy(), top.indices
        results = []
        for i, sentence in enumerate(sentences):
            phrases = [ph for ph in candidate_phrases(sentence)
                       if ph[0] != sentence and not is_fragment(ph[0])]
            cand = tops[i].numpy()
            sent = top_values[i]
            exact = self._exact_hits(vocab, sentence, phrases)
            stem_texts = vocab.stem_hits(sentence)
            # a label the text says is scored semantically too, even outside the top
            # candidates: "programmeertalen" names computer programming, whose English label
            # alone would never reach the top 500 of a Dutch sentence
            said_texts = {hit[3] for hit in exact.values()}.union(stem_texts)
            missing = np.array(sorted(said_texts.difference(cand.tolist())), dtype=np.int64)
            if len(missing):
                cand = np.concatenate([cand, missing])
                sent = np.concatenate([sent, sentence_sims[i, missing].numpy()])
            best = sent.copy()
            phrase_raw = sent.copy()
            unit = np.full(len(cand), -1)
            if p.use_phrases and phrases:
                phrase_sims = sum(
                    (self._pool(res[i], phrases) @ matrix.numpy()[cand].T) * a - b
                    for res, matrix, (a, b) in zip(passes, labels, scales, strict=True)
                )
                which = phrase_sims.argmax(axis=0)
                phrase_raw = phrase_sims[which, np.arange(len(cand))]
                phrase_best = phrase_raw - p.phrase_discount
                better = phrase_best > sent
                best = np.where(better, phrase_best, sent)
                unit = np.where(better, which, -1)
            scores: Scored = {}
            kept = np.argsort(-best)[:KEEP_PER_SENTENCE].tolist()
            if said_texts:  # most sentences say no label: no search on the hot path
                top_kept = set(kept)
                kept += [j for j in np.flatnonzero(np.isin(cand, list(said_texts))).tolist()
                         if j not in top_kept]
            for j in kept:
                t = int(cand[j])
                s, e = (0, len(sentence)) if unit[j] < 0 else phrases[unit[j]][1:]
                said = sentence if unit[j] < 0 else phrases[unit[j]][0]
                extra = self._extra_words(vocab, t, said)
                value = float(best[j]) - p.specificity_penalty * extra
                for skill in vocab.text_skills[t]:
                    if skill not in scores:
                        scores[skill] = Candidate(
                            value, "semantic", s, e, vocab.texts[t], float(sent[j]),
                            max(float(phrase_raw[j]), float(sent[j])), extra, False, False, 0,
                            0 if unit[j] < 0 else len(said.split()))
            for skill, (s, e, acronym, _) in exact.items():
                old = scores.get(skill)
                phrase = sentence[s:e]
                if old is None:
                    label = self.vocab.skills["preferred_label"].iat[skill]
                    old = Candidate(0.0, "", s, e, label, 0.0, 0.0, 0.0, False, False, 0,
                                    len(phrase.split()))
                # one of its labels is written out: no word of the skill went unsaid
                value = old.score + p.exact_bonus + p.specificity_penalty * old.extra
                if acronym:  # "R", "C#", "SQL" written exactly so: a mention, whatever context
                    value = max(value, p.accept_threshold + 0.05)
                scores[skill] = old._replace(
                    score=value, found_by="both" if value > p.exact_bonus else "lexical",
                    start=s, end=e, extra=0.0, exact=True, acronym=acronym,
                    phrase_words=len(phrase.split()))
            for t in stem_texts:
                for skill in vocab.text_skills[t]:
                    old = scores.get(skill)
                    if old is not None and (old.exact or old.stem_hit):
                        continue
                    if old is None:
                        old = Candidate(0.0, "", 0, len(sentence), vocab.texts[t], 0.0, 0.0,
                                        0.0, False, False, 0, 0)
                    scores[skill] = old._replace(
                        score=old.score + p.exact_bonus / 2 + p.specificity_penalty * old.extra,
                        found_by="both" if old.score > 0 else "lexical", extra=0.0,
                        stem_hit=True)
            self._prefer_generic(sentence, scores, p.accept_threshold)
            ranked = sorted(scores, key=lambda k: -scores[k].score)
            described = descriptions[ranked] @ passes[0][i][0]
            most = float(described.max(initial=-1.0))  # cosines: -1 is below any of them
            results.append({k: scores[k]._replace(rank=r, asks=float(asks[i]),
                                                  described=float(described[r]),
                                                  described_gap=most - float(described[r]))
                            for r, k in enumerate(ranked)})
        return results

    @staticmethod
    def _read(encoder: Encoder, glossary: Glossary | None, sentences: list[str]) -> Encoded:
        """One encoder's pass over a batch; through a glossary, the token spans point back at
        the original words, so the original phrases pool them."""
        if glossary is None:
            return encoder.encode_tokens(sentences, kind="query")
        glosses = [glossary.gloss(s) for s in sentences]
        passes = encoder.encode_tokens([g.text for g in glosses], kind="query")
        return [(vector, tokens, gloss.original_spans(spans))
                for (vector, tokens, spans), gloss in zip(passes, glosses, strict=True)]

    def _asks(self, encoder: str, encoded: Encoded) -> np.ndarray:
        """Per sentence: P(it asks for a skill), from its vector of the language's first
        model; 0 without an acceptance model (evaluation computes its own, out of fold)."""
        req = self.acceptance.requirement if self.acceptance else None
        if req is None or not encoded:
            return np.zeros(len(encoded))
        return req.probability(encoder, np.stack([r[0] for r in encoded]))

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

    # ------------------------------------------------------------------ acceptance
    def probabilities(self, candidates: Sequence[tuple[int, Candidate, float, Context]]
                      ) -> np.ndarray:
        """The acceptance model's probability per (skill, candidate, top score, context), or
        the heuristic score where no model is configured."""
        if self.acceptance is None:
            return np.array([c.score for _, c, _, _ in candidates], dtype=np.float64)
        uris = self._uris
        return self.acceptance.probability(self.feature_matrix(candidates),
                                           [uris[k] for k, _, _, _ in candidates])

    def feature_matrix(self, candidates: Sequence[tuple[int, Candidate, float, Context]]
                       ) -> np.ndarray:
        return feature_matrix([(c, top, self._skill_type[k], self._reuse[k], ctx)
                               for k, c, top, ctx in candidates])

    def occupation_prior(self, occupations: Sequence[str], skill: int) -> float:
        """How strongly the ad's linked occupations (best first) list the skill in ESCO."""
        best = 0.0
        for rank, occ in enumerate(occupations[: self.params.occupation_context]):
            weight = self._profiles.get(occ, {}).get(skill, 0.0)
            best = max(best, weight / (1 + 0.5 * rank))
        return best

    @staticmethod
    def _top(scored: Scored) -> float:
        return max((c.score for c in scored.values()), default=0.0)

    # ------------------------------------------------------------------ documents
    def prepare(self, text: str, language: str | None = None,
                occupations: Sequence[str] = ()) -> Document:
        """Clean a text, pick its language, keep its job sentences with their sections."""
        cleaned = clean_text(text)
        lang = language or detect_language(cleaned)
        segments = split_sentences(cleaned)
        where = sections([seg.text for seg in segments])
        kept = [(seg, sec) for seg, sec in zip(segments, where, strict=True)
                if not is_boilerplate(seg.text) and not is_fragment(seg.text)]
        return Document(lang, [k[0] for k in kept], [k[1] for k in kept], tuple(occupations))

    def candidates(self, doc: Document, per_sentence: Sequence[Scored]
                   ) -> list[tuple[int, Candidate, float, Context, Segment]]:
        """One candidate per skill across a document (its strongest sentence), with that
        sentence's top score and the document context the acceptance model reads."""
        best: dict[int, tuple[Candidate, float, Segment, str, int]] = {}
        mentions: dict[int, int] = {}
        n = max(len(doc.segments) - 1, 1)
        for i, (seg, sec, scores) in enumerate(
                zip(doc.segments, doc.sections, per_sentence, strict=True)):
            top = self._top(scores)
            for skill, c in scores.items():
                if c.rank < 10 or c.exact or c.stem_hit:
                    mentions[skill] = mentions.get(skill, 0) + 1
                if skill not in best or c.score > best[skill][0].score:
                    best[skill] = (c, top, seg, sec, i)
        has_occ = bool(doc.occupations)
        return [
            (skill, c, top, Context(
                section=sec, mentions=max(mentions.get(skill, 1), 1),
                sentence_words=len(seg.text.split()), position=i / n,
                occupation_prior=self.occupation_prior(doc.occupations, skill),
                has_occupation=has_occ, language=doc.language), seg)
            for skill, (c, top, seg, sec, i) in best.items()
        ]

    def extract_many(self, texts: Sequence[str], top_k: int | None = None,
                     language: str | None = None,
                     occupations: Sequence[Sequence[str]] | None = None
                     ) -> list[list[SkillMatch]]:
        """Skills per document: the accepted ones, or the `top_k` best (each marked accepted
        or not). `occupations` (per document, best first) are the ad's linked ESCO
        occupations. Sentences of all documents are encoded together, in length-sorted
        batches."""
        docs = [self.prepare(text, language, occupations[i] if occupations else ())
                for i, text in enumerate(texts)]
        scored = self.score_documents(docs)
        return [self._merge(doc, per, top_k) for doc, per in zip(docs, scored, strict=True)]

    def score_documents(self, docs: Sequence[Document]) -> list[list[Scored]]:
        """Candidates per sentence of each document, every language with its own models."""
        scored: list[list[Scored]] = [[] for _ in docs]
        for lang in dict.fromkeys(d.language for d in docs):
            ids = [(i, j) for i, d in enumerate(docs) if d.language == lang
                   for j in range(len(d.segments))]
            results = self.score_sentences([docs[i].segments[j].text for i, j in ids], lang)
            for (i, _), res in zip(ids, results, strict=True):
                scored[i].append(res)
        return scored

    def _merge(self, doc: Document, per_sentence: list[Scored], top_k: int | None
               ) -> list[SkillMatch]:
        """One entry per skill across a document, keeping its strongest evidence."""
        found = self.candidates(doc, per_sentence)
        prob = self.probabilities([f[:4] for f in found])
        order = np.argsort(-prob, kind="stable")
        threshold = self.threshold(len(doc.segments))
        if not top_k:
            order = [i for i in order if prob[i] >= threshold]
        skills = self.vocab.skills
        out = []
        for i in list(order)[: top_k or None]:
            k, c, _, _, seg = found[i]
            out.append(SkillMatch(
                uri=skills["uri"].iat[k], label=skills["preferred_label"].iat[k],
                skill_type=skills["skill_type"].iat[k], score=round(float(prob[i]), 4),
                accepted=bool(prob[i] >= threshold), found_by=c.found_by,
                matched_label=c.label, evidence=seg.text, phrase=seg.text[c.start:c.end],
                start=seg.start + c.start, end=seg.start + c.end, language=doc.language))
        return out

    def extract(self, text: str, top_k: int | None = None, language: str | None = None,
                occupations: Sequence[str] = ()) -> list[SkillMatch]:
        return self.extract_many([text], top_k, language, [occupations])[0]


def extract_documents(extractor: SkillExtractor, texts: Sequence[str],
                      languages: Sequence[str] | None = None, chunk: int = 500,
                      label: str | None = None,
                      occupations: Sequence[Sequence[str]] | None = None
                      ) -> list[list[SkillMatch]]:
    """`extract_many` over a long list in chunks (bounded memory), each language with its own
    encoder; with a `label`, a progress bar of documents done, rate and time left."""
    out: list[list[SkillMatch] | None] = [None] * len(texts)
    langs = list(languages) if languages is not None else [""] * len(texts)
    done = 0
    with bar(f"mapping {label}", len(texts), label or "", shown=label is not None) as mapped:
        for lang in dict.fromkeys(langs):
            idx = [i for i, lg in enumerate(langs) if lg == lang]
            for start in range(0, len(idx), max(chunk, 1)):
                part = idx[start:start + chunk]
                results = extractor.extract_many(
                    [texts[i] for i in part], language=lang or None,
                    occupations=[occupations[i] for i in part] if occupations else None)
                for i, res in zip(part, results, strict=True):
                    out[i] = res
                release_free_memory()
                done += len(part)
                mapped.update_to(done)
    return [r or [] for r in out]


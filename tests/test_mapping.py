"""Skill extraction and occupation linking with the real models on the mini ESCO export."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pandas as pd
import pytest

from skillmatch.mapping import (
    MappingParams,
    OccupationLinker,
    SkillExtractor,
    is_boilerplate,
    section_heading,
    sections,
)
from skillmatch.mapping.acceptance import DOCUMENT_SENTENCES
from skillmatch.mapping.vocabulary import SkillVocabulary, is_fragment
from skillmatch.text import clean_text

VACANCY = """<h2>Software developer</h2>
<p>You build our booking platform.</p>
<ul><li>Experience with Java, C# and PostgreSQL</li>
<li>Knowledge of R for statistics</li>
<li>You write Java every day.</li></ul>
<p>We offer a competitive salary, pension and 30 days annual leave.</p>
<p>We are an equal opportunities employer and welcome Python developers.</p>"""


def build(cls, settings):
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return cls(settings, con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def extractor(mini_settings) -> SkillExtractor:
    return build(SkillExtractor, mini_settings)


@pytest.fixture(scope="module")
def linker(mini_settings) -> OccupationLinker:
    return build(OccupationLinker, mini_settings)


def test_english_vacancy_skills_with_evidence(extractor: SkillExtractor) -> None:
    matches = extractor.extract(VACANCY)
    by_label = {m.label: m for m in matches}
    for mention in ("C#", "PostgreSQL", "R", "Java (computer programming)"):
        assert mention in by_label, mention
        assert by_label[mention].accepted
    text = clean_text(VACANCY)
    for m in matches:
        assert m.uri.startswith("http://data.europa.eu/esco/skill/")
        assert m.label and m.skill_type in {"knowledge", "skill/competence", ""}
        assert text[m.start:m.end] == m.phrase and m.phrase in m.evidence
        assert m.found_by in {"semantic", "lexical", "both"}
    assert by_label["C#"].phrase == "C#"
    # each skill once per document, with its strongest evidence
    assert len({m.uri for m in matches}) == len(matches)


def test_boilerplate_sentences_give_no_skills(extractor: SkillExtractor) -> None:
    matches = extractor.extract(VACANCY)
    assert not any("equal opportunities" in m.evidence for m in matches)
    assert not any("pension" in m.evidence for m in matches)
    assert "Python (computer programming)" not in {m.label for m in matches}


@pytest.mark.parametrize("sentence", [
    # headings, with and without a colon
    "The Role:", "Who we're looking for:", "Skills/Responsibilities", "Person Specification",
    # the application process and the applicant's data
    "We regret we cannot contact everyone who is not selected for an interview.",
    "Any data which you share with us throughout the hiring process will be stored securely.",
    "Please ensure all sections of the application form are completed fully.",
    # the offer and the employer
    "Staff restaurants", "Book and manage your shifts on the go",
    "Ongoing continual professional development opportunities",
    "Flexibility that enables you to balance your work life and personal commitments?",
    "We deliver a wide range of services for children, young people and families.",
    "Wij bieden een goed salaris en een pensioenregeling.",
])
def test_boilerplate_and_headings_are_recognised(sentence: str) -> None:
    # each of these (real NHS / VDAB ad sentences) produced accepted skills before
    assert is_boilerplate(sentence)


@pytest.mark.parametrize("sentence", [
    "Excellent communication skills", "Identify opportunities for improvement in care",
    "Experience of working in a multidisciplinary team", "Interview patients and families",
    "Leadership", "Je plant de productie en bewaakt de kwaliteit.",
])
def test_job_statements_are_not_boilerplate(sentence: str) -> None:
    assert not is_boilerplate(sentence)


def test_a_generic_skill_said_keeps_over_specific_relatives_out(
        extractor: SkillExtractor) -> None:
    said = {m.label for m in extractor.extract("Excellent communication skills")}
    assert said == {"communication"}  # not "teach communication methods": nobody said teach
    taught = {m.label for m in extractor.extract("You teach communication methods to pupils.")}
    assert "teach communication methods" in taught


def test_top_k_returns_candidates_below_threshold_marked(extractor: SkillExtractor) -> None:
    ranked = extractor.extract("You build our booking platform.", top_k=8)
    assert len(ranked) == 8
    assert [m.score for m in ranked] == sorted((m.score for m in ranked), reverse=True)
    assert all(m.accepted == (m.score >= extractor.threshold(1)) for m in ranked)


def test_a_whole_ad_is_cut_at_the_document_threshold(extractor: SkillExtractor) -> None:
    model = extractor.acceptance
    assert model is not None and model.document_threshold is not None  # the trained file
    sentence = "Good communication skills in English."
    document = f"You care for patients and give medicines. You write Java every day. {sentence}"
    assert len(extractor.prepare(document, None).segments) >= DOCUMENT_SENTENCES
    alone = extractor.extract(sentence, top_k=5)
    cut = alone[0].score + 0.01  # a document cut above the sentence's best skill
    extractor.acceptance = replace(model, document_threshold=cut)
    try:
        assert extractor.threshold(1) == model.threshold and extractor.threshold(3) == cut
        ranked = extractor.extract(document, top_k=10)
        assert all(m.accepted == (m.score >= cut) for m in ranked)
        assert alone[0].accepted and alone[0].label == "communication"
        assert "communication" not in {m.label for m in extractor.extract(document)}
        assert [m.label for m in extractor.extract(sentence)] == [m.label for m in alone
                                                                  if m.accepted]
    finally:
        extractor.acceptance = model


def test_dutch_text_reaches_english_skill_labels(extractor: SkillExtractor) -> None:
    matches = extractor.extract(
        "Wij zoeken een lasser. Je last metalen onderdelen en werkt met lasapparatuur.", top_k=5)
    assert matches and all(m.language == "nl" for m in matches)
    assert any("weld" in m.label or "metal" in m.label for m in matches[:3])


@pytest.mark.parametrize("text", ["", "   ", "<script>alert(1)</script>", "\x00\x01",
                                  "'; DROP TABLE esco_skill; --", "word " * 200_000,
                                  "Je verzorgt wonden 🩹 e\u0301n ﬁets-- - -'- ''"])
@pytest.mark.parametrize("language", [None, "nl"])  # nl: through the glossary too
def test_hostile_and_empty_texts_do_not_crash(extractor: SkillExtractor, text: str,
                                              language: str | None) -> None:
    for match in extractor.extract(text, top_k=3, language=language):
        assert match.uri.startswith("http://data.europa.eu/esco/skill/")
        assert 0 <= match.start <= match.end


def test_batch_equals_single(extractor: SkillExtractor) -> None:
    texts = ["Experience with PostgreSQL", "Knowledge of R for statistics"]
    batch = extractor.extract_many(texts, top_k=3)
    single = [extractor.extract(t, top_k=3) for t in texts]
    assert [[m.uri for m in b] for b in batch] == [[m.uri for m in s] for s in single]


def test_titles_link_to_occupations_in_both_languages(linker: OccupationLinker) -> None:
    nl, en = linker.link_many(["verpleegkundige", "Senior Java Developer"], top_k=3)
    assert nl.iloc[0]["preferred_label"] == "nurse responsible for general care"
    assert nl.iloc[0]["isco_code"] == "2221" and nl.iloc[0]["isco_label"]
    assert en.iloc[0]["preferred_label"] == "software developer"
    assert set(en.columns) >= {"uri", "preferred_label", "score", "accepted", "matched_label"}


def test_many_batches_score_like_one(mini_settings, extractor: SkillExtractor) -> None:
    """Batches (the encoder's unit of work) change nothing but float noise."""
    import dataclasses

    sentences = ["Experience with PostgreSQL", "You manage staff and budgets.",
                 "Knowledge of R for statistics", "You write Java every day.",
                 "Je verzorgt wonden en dient medicatie toe.", "Excellent communication skills"]
    expected = extractor.score_sentences(sentences)
    small = SkillExtractor(mini_settings,
                           duckdb.connect(str(mini_settings.warehouse), read_only=True),
                           params=dataclasses.replace(extractor.params, batch_sentences=2))
    for got, want in zip(small.score_sentences(sentences), expected, strict=True):
        # other batches pad differently: the same candidates, scores equal to float noise
        top = sorted(want, key=lambda k: want[k].rank)[:10]
        assert sorted(got, key=lambda k: got[k].rank)[:10] == top
        assert [got[k].score for k in top] == pytest.approx([want[k].score for k in top],
                                                            abs=1e-4)


def test_every_word_of_a_label_said_in_any_order(extractor: SkillExtractor) -> None:
    vocab = extractor.vocab
    hits = vocab.stem_hits("Methods to teach: communication, as our teachers do.")
    assert "teach communication methods" in {vocab.texts[t] for t in hits}
    assert hits == sorted(hits, key=vocab.stem_order.__getitem__)  # a fixed order
    assert not vocab.stem_hits("Communication methods matter.")  # one word unsaid: no hit


def test_dutch_sentence_yields_its_skills(extractor: SkillExtractor) -> None:
    # Dutch words meet the project's Dutch labels ("infectiebeheersing", "hygiëne in een
    # zorgomgeving"), and through the multilingual model the English ones
    matches = extractor.extract("Je bent verantwoordelijk voor infectiebeheersing en hygiëne "
                                "in de zorg.")
    accepted = {m.label for m in matches if m.accepted}
    assert {"infection control", "hygiene in a health care setting"} <= accepted
    assert all(m.language == "nl" for m in matches)


def test_a_said_label_is_scored_semantically_outside_the_top_candidates(mini_settings) -> None:
    # one semantic candidate per sentence: the other label the sentence says must still get
    # its cosine (a Dutch word naming a skill whose English labels rank far down), not a bare
    # lexical bonus
    con = duckdb.connect(str(mini_settings.warehouse), read_only=True)
    try:
        narrow = SkillExtractor(mini_settings, con, params=MappingParams(sentence_candidates=1),
                                acceptance=False)
    finally:
        con.close()
    sentence = "Je bent verantwoordelijk voor infectiebeheersing en hygiëne in de zorg."
    scored = narrow.score_sentences([sentence], "nl")[0]
    labels = narrow.vocab.skills["preferred_label"]
    said = {labels.iat[k]: c for k, c in scored.items() if c.exact or c.stem_hit}
    assert {"infection control", "hygiene in a health care setting"} <= set(said)
    assert all(c.sentence_cos > 0 and c.found_by == "both" for c in said.values())


def test_dutch_compounds_meet_labels_written_apart() -> None:
    skills = pd.DataFrame({"uri": ["s1", "s2", "s3"],
                           "preferred_label": ["business analysis", "ICT", "ux tests"],
                           "skill_type": ["knowledge"] * 3, "reuse_level": [""] * 3})
    labels = pd.DataFrame({"uri": ["s1", "s1", "s2", "s3"], "language": ["en", "nl", "nl", "en"],
                           "label": ["business analysis", "business analyse", "ICT", "ux tests"]})
    vocab = SkillVocabulary.from_rows(skills, labels, ("en", "nl"))
    sentence = "Je hebt ervaring met businessanalyse en full-stack werk."
    hits = SkillExtractor._exact_hits(vocab, sentence, [])
    assert set(hits) == {0}  # "businessanalyse" is "business analyse" written as one word
    start, end, _, text = hits[0]
    assert sentence[start:end] == "businessanalyse" and vocab.texts[text] == "business analyse"
    # short joined forms are no evidence: they collide by chance
    assert not SkillExtractor._exact_hits(vocab, "Wij zijn een I-CT bedrijf.", [])
    assert not SkillExtractor._exact_hits(vocab, "Wij doen uxtests.", [])  # 7 letters joined


@pytest.mark.parametrize("phrase", ["re", "term", "IT", "data", "plan", "the", "de", "Lead",
                                    "support staff", "a"])
def test_short_fragments_and_function_words_are_no_evidence(phrase: str) -> None:
    assert is_fragment(phrase)


@pytest.mark.parametrize("phrase", ["C#", "R", "SQL", "patient care", "Excel", "first aid"])
def test_real_mentions_are_evidence(phrase: str) -> None:
    assert not is_fragment(phrase)


def test_fragments_alone_never_carry_a_match(extractor: SkillExtractor) -> None:
    text = ("This is a fixed term contract. Re: shifts. Data and plan to follow. "
            "You will lead.")
    assert not [m for m in extractor.extract(text) if m.accepted]


def test_sections_follow_their_headings() -> None:
    lines = ["Main duties of the job", "You dress wounds.", "Person Specification:",
             "Good communication skills.", "What we offer", "A pension.", "Jouw profiel",
             "Je spreekt Frans."]
    assert section_heading("Person Specification:") == "requirements"
    assert section_heading("Wat bieden wij?") is None or section_heading("Wat bieden wij") \
        == "offer"
    assert sections(lines) == ["duties", "duties", "requirements", "requirements", "offer",
                               "offer", "requirements", "requirements"]


def test_candidates_carry_the_sentence_against_each_skill_description(
        extractor: SkillExtractor) -> None:
    """`described` is the cosine of the sentence with the skill's "label: description" vector
    (of the same model), and `described_gap` how far it lies below the sentence's best."""
    sentence = "You look after our free and open-source database management tool."
    scores = extractor.score_sentences([sentence])[0]
    encoder = extractor.encoders_for("en")[0]
    vector = encoder.embed([sentence], cache=False)[0]
    skills = extractor.vocab.skills
    ids = list(scores)
    texts = [f"{skills['preferred_label'].iat[k]}: {skills['description'].iat[k]}" for k in ids]
    expected = encoder.embed(texts, kind="document", cache=False) @ vector
    described = [scores[k].described for k in ids]
    assert described == pytest.approx(expected.tolist(), abs=1e-4)
    best = ids[int(max(range(len(ids)), key=described.__getitem__))]
    assert scores[best].described_gap == pytest.approx(0.0)
    assert all(c.described_gap >= 0 for c in scores.values())
    # the description says what the label does not: PostgreSQL is such a tool
    assert skills["preferred_label"].iat[best] == "PostgreSQL"

"""The word-by-word English glossary through which the English model reads Dutch text."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from skillmatch.mapping.extractor import MappingParams, SkillExtractor
from skillmatch.mapping.glossary import Glossary, GlossaryError

REPO = Path(__file__).resolve().parents[1]


def small() -> Glossary:
    return Glossary({"verzorg": "care for", "je": "you", "wonden": "wounds",
                     "klant": "customer", "contact": "contact"}, "nl")


def test_each_glossed_character_points_back_at_its_original_word() -> None:
    sentence = "Verzorg je wonden, met zorg."
    gloss = small().gloss(sentence)
    assert gloss.text == "care for you wounds, met zorg."  # unknown words stay as they are
    assert len(gloss.starts) == len(gloss.ends) == len(gloss.text)
    wounds = gloss.text.index("wounds")
    spans = np.array([[0, 4], [wounds, wounds + 6], [-1, -1], [gloss.text.index("zorg"),
                                                               len(gloss.text) - 1]])
    back = gloss.original_spans(spans)
    assert sentence[back[0, 0]:back[0, 1]] == "Verzorg"
    assert sentence[back[1, 0]:back[1, 1]] == "wonden"
    assert back[2].tolist() == [-1, -1]  # special tokens stay special
    assert sentence[back[3, 0]:back[3, 1]] == "zorg"


def test_a_hyphenated_compound_is_glossed_part_by_part() -> None:
    assert small().gloss("klant-contact").text == "customer contact"
    assert small().gloss("").text == ""


@pytest.mark.parametrize(("content", "reason"), [
    ("verzorg\tcare for\nverzorg\tlook after\n", "listed twice"),
    ("verzorg\tcare for\nwonden\n", "expected"),
    ("verzorg\t \n", "expected"),
])
def test_a_broken_glossary_is_refused_with_its_line(tmp_path: Path, content: str,
                                                    reason: str) -> None:
    path = tmp_path / "glossary.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GlossaryError, match=reason) as err:
        Glossary.load(path, "nl")
    assert str(path) in str(err.value)


def test_a_glossary_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "glossary.tsv"
    path.write_bytes(b"caf\xe9\tcafe\n")
    with pytest.raises(GlossaryError, match="cannot read"):
        Glossary.load(path, "nl")


def test_the_project_glossary_loads_and_reads_a_dutch_ad_sentence() -> None:
    glossary = Glossary.load(REPO / "taxonomy" / "glossary_nl_en.tsv", "nl")
    assert len(glossary.entries) > 20_000
    text = glossary.gloss("Je verzorgt wonden en dient medicatie toe.").text
    assert "wounds" in text and "medication" in text


def test_dutch_text_is_also_read_by_the_english_model_in_english_words(mini_settings) -> None:
    con = duckdb.connect(str(mini_settings.warehouse), read_only=True)
    try:
        glossed = SkillExtractor(mini_settings, con, acceptance=False)
        plain = SkillExtractor(mini_settings, con, acceptance=False,
                               params=MappingParams(use_glossaries=False))
    finally:
        con.close()
    english, multilingual = mini_settings.english_model, mini_settings.multilingual_model
    assert [(e.name, g is not None) for e, g in glossed.readings_for("nl")] == [
        (multilingual, False), (english, True)]
    assert [(e.name, g) for e, g in plain.readings_for("nl")] == [(multilingual, None)]
    assert [(e.name, g) for e, g in glossed.readings_for("en")] == [(english, None)]
    # no Dutch label of "shape sheet metal objects" exists: only the English model, reading
    # the gloss ("you shape sheet metal objects ..."), knows what the sentence asks
    sentence = "In ons atelier vorm je plaatmetalen voorwerpen volgens tekening."
    labels = glossed.vocab.skills["preferred_label"]
    skill = int(labels[labels == "shape sheet metal objects"].index[0])

    def rank(extractor: SkillExtractor) -> int:
        scored = extractor.score_sentences([sentence], "nl")[0]
        return scored[skill].rank if skill in scored else len(labels)

    assert rank(glossed) < rank(plain)
    assert rank(glossed) < 3
    found = glossed.score_sentences([sentence], "nl")[0][skill]
    assert 0 <= found.start < found.end <= len(sentence)  # spans point into the original

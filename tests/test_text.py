"""Text preparation: HTML, language, sentences with spans, candidate phrases."""

from __future__ import annotations

from skillmatch.text import (
    MAX_TEXT_CHARS,
    candidate_phrases,
    clean_text,
    detect_language,
    split_sentences,
)


def test_clean_text_decodes_double_escaped_html_and_drops_scripts() -> None:
    raw = ("&lt;p&gt;We need a nurse&amp;amp;carer.&lt;/p&gt;&lt;ul&gt;&lt;li&gt;Wound care"
           "&lt;/li&gt;&lt;li&gt;• Triage&lt;/li&gt;&lt;/ul&gt;<script>alert('x')</script>")
    text = clean_text(raw)
    assert text == "We need a nurse&carer.\nWound care\nTriage"


def test_clean_text_bounds_huge_input_and_control_characters() -> None:
    text = clean_text("a\x00b\x07 " + "x" * (MAX_TEXT_CHARS * 2))
    assert len(text) <= MAX_TEXT_CHARS and text.startswith("ab x")


def test_detect_language() -> None:
    assert detect_language("Wij zoeken een verpleegkundige voor onze afdeling in Utrecht.") == "nl"
    assert detect_language("We are looking for a nurse to join our ward in Leeds.") == "en"
    assert detect_language("Python") == "en"  # too short to tell: the default


def test_sentences_carry_exact_spans() -> None:
    text = clean_text("<p>First sentence here. Second one!</p><ul><li>Bullet item</li></ul>")
    segments = split_sentences(text)
    assert [s.text for s in segments] == ["First sentence here.", "Second one!", "Bullet item"]
    assert all(text[s.start:s.end] == s.text for s in segments)


def test_long_sentences_are_cut_with_spans_kept() -> None:
    text = ", ".join(f"skill number {i}" for i in range(100))
    segments = split_sentences(text, max_chars=120)
    assert len(segments) > 5 and all(len(s.text) <= 120 for s in segments)
    assert all(text[s.start:s.end] == s.text for s in segments)


def test_candidate_phrases_split_lists_and_keep_spans() -> None:
    sentence = "Experience with Java, C# and PostgreSQL or similar databases"
    phrases = candidate_phrases(sentence)
    texts = [p for p, _, _ in phrases]
    assert {"Java", "C#", "PostgreSQL"} <= set(texts)
    assert all(sentence[s:e] == p for p, s, e in phrases)

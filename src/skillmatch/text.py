"""Text preparation: HTML to plain text, language detection, sentences and candidate phrases.

Kept free of models so it is fast, deterministic and usable on any engine.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

MAX_TEXT_CHARS = 200_000  # longer inputs are cut (and the caller is told); 5 MB ads exist

_TAG_BREAK = re.compile(
    r"<\s*(br|/p|p|/li|li|/div|div|/h[1-6]|h[1-6]|tr|/tr|ul|/ul|ol|/ol)\b[^>]*>", re.I
)
_SCRIPT = re.compile(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]{0,2000}>")
_BULLET = re.compile(r"^\s*(?:[-*•·▪◦●○■□➢►✓✔]+|\d{1,2}[.)])\s+", re.M)
# control and format characters (Unicode Cc, Cf, surrogates, private use) except \n and \t
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\ud800-\udfff\ue000-\uf8ff]"
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9\"'(À-Ý])|\n+")
_WORD = re.compile(r"[\w+#./-]+", re.U)

STOPWORDS = {
    "en": set("the and of to a in for is are with on you we our as be will this that or by "
              "an at your from have has it who can all their they not more about which".split()),
    "nl": set("de het een en van in op voor met je is zijn wij we ons onze te die dat als bij "
              "aan om of ook door naar uit er wordt worden heb hebt heeft jij jouw u uw "
              # frequent in Dutch ads and never English words: short sentences carry few
              # function words ("Vereisten 3+ jaar ervaring met webontwikkeling")
              "jaar ervaring kennis goede sterke vaardigheden werken vereisten vereist "
              "bent kunt kan moet samen zoeken zoek functie taken eisen bij voorkeur "
              "minimaal klanten medewerkers".split()),
    "de": set("der die das und zu den mit von ist sie wir für auf ein eine im dem nicht "
              "werden bei als auch uns unser ihre".split()),
    "fr": set("le la les et de des du un une pour avec en dans est vous nous sur au aux "
              "votre notre par qui que".split()),
}


@dataclass(frozen=True)
class Segment:
    """A sentence (or bullet) of a cleaned text, with its character span in that text."""

    text: str
    start: int
    end: int


def clean_text(raw: str) -> str:
    """Plain text from HTML or text: entities decoded (twice, for double-escaped feeds), tags
    and scripts removed, block tags and bullets turned into line breaks, spaces folded."""
    text = raw[:MAX_TEXT_CHARS]
    for _ in range(2):
        if "&" in text:
            text = html.unescape(text)
    text = _SCRIPT.sub(" ", text)
    text = _TAG_BREAK.sub("\n", text)
    text = _TAG.sub(" ", text)
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _BULLET.sub("\n", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n[ \n]*", "\n", text)
    return text.strip()


def detect_language(text: str, default: str = "en") -> str:
    """The language whose function words are most frequent (en, nl, de, fr); `default` when
    the text is too short to tell. Vacancies are long enough for this to be reliable."""
    words = [w.lower() for w in _WORD.findall(text[:5000])]
    if len(words) < 3:
        return default
    counts = {lang: sum(w in stop for w in words) for lang, stop in STOPWORDS.items()}
    best = max(counts, key=counts.get)
    needed = 1 if len(words) < 12 else 2  # a short sentence has one function word or two
    return best if counts[best] >= needed and counts[best] > counts.get(default, 0) else default


def split_sentences(text: str, max_chars: int = 400) -> list[Segment]:
    """Sentences and bullet lines with their spans; over-long runs are cut at commas/spaces."""
    segments: list[Segment] = []
    pos = 0
    for piece in _SENTENCE_END.split(text):
        start = text.find(piece, pos)
        if start < 0:
            start = pos
        pos = start + len(piece)
        stripped = piece.strip()
        if not stripped:
            continue
        offset = start + piece.index(stripped[0])
        while len(stripped) > max_chars:
            cut = stripped.rfind(", ", 0, max_chars)
            cut = cut + 1 if cut > max_chars // 3 else stripped.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            segments.append(Segment(stripped[:cut].strip(), offset, offset + cut))
            rest = stripped[cut:]
            offset += cut + (len(rest) - len(rest.lstrip()))
            stripped = rest.strip()
        if stripped:
            segments.append(Segment(stripped, offset, offset + len(stripped)))
    return segments


_SPLITTERS = re.compile(r"\s*(?:[,;:()\[\]/|]|\s-\s|\band\b|\bor\b|\ben\b|\bof\b|\bzoals\b|"
                        r"\bsuch as\b|\bincluding\b|\bwith\b|\bmet\b)\s*", re.I)


def candidate_phrases(sentence: str, max_words: int = 8) -> list[tuple[str, int, int]]:
    """Sub-phrases of a sentence that may name one skill: the clauses between separators
    (commas, "and", "or", brackets…) and, inside long clauses, word windows of up to 4 words.
    Returns (phrase, start, end) with spans relative to the sentence."""
    out: dict[tuple[int, int], str] = {}
    pos = 0
    for part in _SPLITTERS.split(sentence):
        if not part:
            continue
        start = sentence.find(part, pos)
        if start < 0:
            continue
        pos = start + len(part)
        words = list(_WORD.finditer(part))
        if not words:
            continue
        if len(words) <= max_words:
            s, e = start + words[0].start(), start + words[-1].end()
            out[(s, e)] = sentence[s:e]
        if len(words) > 2:
            for size in (2, 3, 4):
                for i in range(0, len(words) - size + 1):
                    s, e = start + words[i].start(), start + words[i + size - 1].end()
                    out.setdefault((s, e), sentence[s:e])
    return [(p, s, e) for (s, e), p in sorted(out.items())]

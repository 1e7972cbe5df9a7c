"""What is not a statement about the job: employer, offer, application and privacy text, and
section headings. Skipped before mapping, since such sentences otherwise yield skills."""

from __future__ import annotations

import re

from skillmatch.search import normalise

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



# Section headings by what follows them. Ads are written in sections (duties, requirements,
# the employer, the offer, the application); the section a sentence stands in is evidence of
# whether its skills are asked of the candidate (a learned feature, not a filter).
SECTIONS = {
    "requirements": ("person specification", "essential", "desirable", "requirements",
                     "qualifications", "about you", "who we re looking for", "who you are",
                     "the ideal candidate", "your profile", "profile", "skills", "experience",
                     "knowledge", "profiel", "jouw profiel", "je profiel", "wie ben jij",
                     "wie zoeken wij", "wie zoeken we", "vereisten", "functie eisen",
                     "functievereisten", "must haves", "nice to haves", "competenties",
                     "jouw vaardigheden", "wat verwachten we", "wat verwachten wij"),
    "duties": ("main duties", "duties", "responsibilities", "key responsibilities",
               "job description", "job summary", "job purpose", "the role", "about the role",
               "your role", "taken", "jouw taken", "je taken", "wat ga je doen",
               "functieomschrijving", "de functie", "takenpakket", "jouw takenpakket",
               "verantwoordelijkheden", "jouw functie", "je functie", "wat doe je"),
    "employer": ("about us", "about the trust", "about the organisation", "about the practice",
                 "who we are", "our organisation", "over ons", "wie zijn wij", "wie zijn we",
                 "het bedrijf", "onze organisatie", "over de organisatie", "ons bedrijf"),
    "offer": ("what we offer", "benefits", "we offer", "rewards", "what s in it for you",
              "wat bieden wij", "wat bieden we", "ons aanbod", "aanbod", "wij bieden",
              "we bieden", "wat mag je verwachten", "arbeidsvoorwaarden"),
    "application": ("how to apply", "application", "interesse", "solliciteren",
                    "sollicitatie", "contact", "meer informatie", "additional information"),
}
SECTION_NAMES = ("duties", "requirements", "employer", "offer", "application")
_SECTION_OF = {k: name for name, keys in SECTIONS.items() for k in keys}


def section_heading(sentence: str) -> str | None:
    """The section a heading opens ("Person Specification", "Jouw profiel:"), or None when the
    sentence is no heading of a known section."""
    text = sentence.strip()
    norm = normalise(text.rstrip(":")).replace("/", " ")
    if len(norm.split()) > 6:
        return None
    if norm in _SECTION_OF:
        return _SECTION_OF[norm]
    if text.endswith(":") or norm in HEADINGS:
        for key, name in _SECTION_OF.items():
            if norm.startswith(key) or norm.endswith(key):
                return name
    return None


def sections(sentences: list[str]) -> list[str]:
    """The section each sentence stands in ("" before the first known heading)."""
    current, out = "", []
    for sentence in sentences:
        current = section_heading(sentence) or current
        out.append(current)
    return out

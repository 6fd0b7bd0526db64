"""Grading quiz answers: pure functions over an item's payload (see ``app.quiz.build``).

Typed answers are compared after ``normalize``, so width, case, spacing and markdown
emphasis never make a right answer wrong. A cloze answer one character off is "near":
shown as almost right, but not counted as correct.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Literal

from app.content.tags import tag_key

__all__ = [
    "Grade",
    "Verdict",
    "grade_cloze",
    "grade_recall",
    "grade_takeaway",
    "grade_truefalse",
    "normalize",
    "plain_text",
    "recall_coverage",
]

Verdict = Literal["correct", "near", "wrong", "empty"]

_MARKERS = str.maketrans("", "", "*_`")
# A blank may sit between quotes (“照着做”): typing the quotes too is still right.
_QUOTES = "\"'“”‘’「」『』《》"


@dataclass(frozen=True)
class Grade:
    verdict: Verdict
    correct: bool  # counts as right in the score ("near" is not correct)
    expected: str  # what a right answer was (plain text, for the results page)
    covered: tuple[tuple[str, bool], ...] = ()  # recall: (term, covered?)


def normalize(text: str) -> str:
    """The form two answers share when they say the same thing: NFKC (full width to half
    width), casefold, no whitespace, no ``*``/``_``/`` ` `` markers.

    Built on ``tag_key`` so an answer matches exactly when its tag spellings would be one
    tag (``LORA`` = ``LoRA`` = ``ＬｏＲＡ``)."""
    return "".join(tag_key(text).translate(_MARKERS).split())


def _one_edit_apart(a: str, b: str) -> bool:
    """Levenshtein distance exactly 1 (one substitution, insertion or deletion), in one
    linear pass: a full distance matrix is wasted work when only "1" matters."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a  # a is the shorter (or equally long) one
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]  # substitution at i
    return a[i:] == b[i + 1 :]  # b has one extra character at i


def recall_coverage(answer: str, key_terms: Sequence[str]) -> tuple[tuple[str, bool], ...]:
    """Each key term with whether the answer mentions it (after ``normalize``)."""
    said = normalize(answer)
    result: list[tuple[str, bool]] = []
    for term in key_terms:
        needle = normalize(term)
        # A term that normalises to nothing can't be checked; never claim it was covered.
        result.append((term, bool(needle) and needle in said))
    return tuple(result)


def _terms(payload: Mapping[str, Any]) -> list[str]:
    terms = payload.get("key_terms") or []
    return [t for t in terms if isinstance(t, str)]


def grade_recall(payload: Mapping[str, Any], answer: str, self_grade: bool | None) -> Grade:
    """Written recall is self-graded: the user compares with the reference answer.

    Without a self-grade an empty answer is "empty" and any other answer is "wrong"
    (unconfirmed knowledge must not score as known)."""
    terms = _terms(payload)
    covered = recall_coverage(answer, terms)
    expected = ", ".join(terms)
    if self_grade is True:
        return Grade("correct", True, expected, covered)
    if self_grade is None and not answer.strip():
        return Grade("empty", False, expected, covered)
    return Grade("wrong", False, expected, covered)


class _TextOnly(HTMLParser):
    """Text content of rendered HTML (MathML included, its TeX annotation left out)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "annotation":
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "annotation" and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(html: str) -> str:
    """The text of rendered HTML, on one line (MathML's TeX annotation left out)."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def grade_takeaway(payload: Mapping[str, Any], choice: int | None) -> Grade:
    """Multiple choice: right when ``choice`` is the index of the question's takeaway."""
    choices = payload.get("choices") or []
    answer = payload.get("answer")
    expected = ""
    if isinstance(answer, int) and 0 <= answer < len(choices):
        right = choices[answer]
        html = right.get("html", "") if isinstance(right, Mapping) else ""
        expected = plain_text(html) if isinstance(html, str) else ""
    if choice is None:
        return Grade("empty", False, expected)
    if isinstance(answer, int) and choice == answer:
        return Grade("correct", True, expected)
    return Grade("wrong", False, expected)


def grade_truefalse(payload: Mapping[str, Any], choice: int | None) -> Grade:
    """True (1) or false (0): right when it matches the claim's measured verdict."""
    answer = payload.get("answer")
    explanation = payload.get("explanation")
    expected = ("true" if answer == 1 else "false") + (
        f" — {explanation}" if isinstance(explanation, str) and explanation else ""
    )
    if choice is None:
        return Grade("empty", False, expected)
    if choice == answer:
        return Grade("correct", True, expected)
    return Grade("wrong", False, expected)


def grade_cloze(payload: Mapping[str, Any], typed: str) -> Grade:
    """Fill in the blank: equal after ``normalize`` (and without quotes around it) is
    correct, one character off near."""
    raw = payload.get("answer")
    expected = raw if isinstance(raw, str) else ""
    given, wanted = normalize(typed).strip(_QUOTES), normalize(expected).strip(_QUOTES)
    if not given:
        return Grade("empty", False, expected)
    if given == wanted:
        return Grade("correct", True, expected)
    if wanted and _one_edit_apart(given, wanted):
        return Grade("near", False, expected)
    return Grade("wrong", False, expected)

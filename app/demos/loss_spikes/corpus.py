"""The loss-spikes corpus: the bank's answers (handed in as text through
``RunContext.inputs["answers"]``), character by character. No torch here."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from app.demos.loss_spikes.params import CONTEXT, MAX_CORPUS_CHARS, MAX_VOCAB


@dataclass(frozen=True)
class Corpus:
    ids: list[int]  # one id per character of the answers' text
    vocab: list[str]  # id -> character; id 0 is <unk>
    unk_chars: int  # characters of the text mapped to <unk>


def build_corpus(
    text: str, *, max_chars: int = MAX_CORPUS_CHARS, max_vocab: int = MAX_VOCAB
) -> Corpus:
    """The first ``max_chars`` characters of the answers' ``text`` as ids. The vocabulary
    is <unk> plus the ``max_vocab − 1`` most frequent characters (ties by code point); the
    rest map to <unk>."""
    text = text[:max_chars]
    if len(text) < CONTEXT + 2:
        raise ValueError(
            f"no answers to train on (only {len(text)} characters of answers; "
            f"the model needs at least {CONTEXT + 2}): import content first"
        )
    counts = Counter(text)
    kept = sorted(counts, key=lambda ch: (-counts[ch], ch))[: max_vocab - 1]
    vocab = ["<unk>", *kept]
    index = {ch: i for i, ch in enumerate(vocab)}
    ids = [index.get(ch, 0) for ch in text]
    return Corpus(ids=ids, vocab=vocab, unk_chars=ids.count(0))

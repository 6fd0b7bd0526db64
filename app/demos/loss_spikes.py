"""Loss spikes: where they come from and what stops them.

The story: a tiny character-level GPT learns the question bank's own answers (read from
the content folder: no downloads). The user sets up a problem (a learning rate too large,
fp16 without a gradient scaler, batches of random characters from a chosen step) and the
remedies (warmup, gradient clipping, a guard that skips a batch whose loss spikes). Two
arms train from the same init on the same batches at the same learning rate and
precision: *baseline*, with every remedy off, and *configured*, the parameters as given,
so one run shows what the remedies changed; fp32, bf16, fp16 and fp16 with a GradScaler
are compared across runs, helped by the largest activation each run produced against
fp16's largest value, 65504. A spike is a step whose loss is NaN/inf or above k times the
median of the previous losses.

torch is imported inside ``run`` (the model and the loop live in
``app.demos.loss_spikes_model``): the web process imports this module for the catalogue
and must not load torch.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from app.demos.base import Demo, DemoParams, DemoResult, RunContext
from app.demos.loss_spikes_report import MIN_HISTORY, PROBE, Measured, figure_names, result_of

Precision = Literal["fp32", "bf16", "fp16", "fp16_scaler"]

MAX_CORPUS_CHARS = 200_000  # answers beyond this are not read: the model sees a fraction anyway
MAX_VOCAB = 1024  # the most frequent characters; rarer ones share the <unk> id 0
CONTEXT = 32  # characters per training window
BATCH = 32  # windows per step
D_MODEL = 64  # width of the tiny GPT
N_LAYER = 1
N_HEAD = 4
MAX_STEPS = 400  # the slowest allowed run: 2 arms × 400 steps, well under time_limit_s
MAX_CORRUPT_BATCHES = 20


class LossSpikesParams(DemoParams):
    steps: int = Field(default=200, ge=20, le=MAX_STEPS, description="Training steps per arm")
    lr: float = Field(
        default=3e-3,
        gt=0,
        le=1.0,
        allow_inf_nan=False,
        description="Peak AdamW learning rate (3e-3 is stable here; try 0.03–0.3)",
    )
    warmup_steps: int = Field(
        default=0,
        ge=0,
        le=MAX_STEPS,
        description="Linear warmup steps up to lr (0 = none); at most steps",
    )
    clip: float = Field(
        default=0.0,
        ge=0.0,
        le=100.0,
        allow_inf_nan=False,
        description="Clip the gradient to this global norm (0 = no clipping)",
    )
    precision: Precision = Field(
        default="fp32",
        description=(
            "fp32; bf16 or fp16 autocast (weights stay fp32); fp16_scaler: fp16 autocast "
            "with a GradScaler"
        ),
    )
    corrupt_step: int = Field(
        default=100,
        ge=0,
        le=MAX_STEPS,
        description=(
            "Replace this step's batch with random characters (0 = none); "
            f"between {MIN_HISTORY + 1} and steps − 1"
        ),
    )
    corrupt_batches: int = Field(
        default=1,
        ge=1,
        le=MAX_CORRUPT_BATCHES,
        description="Consecutive corrupted batches from corrupt_step on (a bad data shard)",
    )
    skip_guard: bool = Field(
        default=True,
        description="Skip the update of a batch flagged as a spike or with a NaN/inf gradient",
    )
    spike_k: float = Field(
        default=3.0,
        gt=1.0,
        le=100.0,
        allow_inf_nan=False,
        description="A spike is a loss above spike_k × the running median",
    )
    median_window: int = Field(
        default=20,
        ge=MIN_HISTORY,
        le=200,
        description="Previous losses the running median is taken over",
    )

    # Field validators (not a model validator) so that the error names the field; steps
    # is declared first, so it is in info.data when it is valid.
    @field_validator("warmup_steps")
    @classmethod
    def warmup_within_steps(cls, warmup_steps: int, info: ValidationInfo) -> int:
        steps = info.data.get("steps")
        if steps is not None and warmup_steps > steps:
            raise ValueError(f"must be at most steps = {steps}")
        return warmup_steps

    @field_validator("corrupt_step")
    @classmethod
    def corrupt_step_inside_run(cls, corrupt_step: int, info: ValidationInfo) -> int:
        steps = info.data.get("steps")
        if steps is not None and corrupt_step != 0:
            if not MIN_HISTORY < corrupt_step < steps:
                raise ValueError(f"must be 0 (none) or between {MIN_HISTORY + 1} and {steps - 1}")
        return corrupt_step

    @field_validator("corrupt_batches")
    @classmethod
    def corrupt_batches_inside_run(cls, corrupt_batches: int, info: ValidationInfo) -> int:
        steps, corrupt_step = info.data.get("steps"), info.data.get("corrupt_step")
        if steps is not None and corrupt_step and corrupt_step + corrupt_batches > steps:
            raise ValueError(f"must be at most steps − corrupt_step = {steps - corrupt_step}")
        return corrupt_batches

    @property
    def corrupt_steps(self) -> range:
        """The 1-based steps whose batch is corrupted (empty when corrupt_step is 0)."""
        if not self.corrupt_step:
            return range(0)
        return range(self.corrupt_step, self.corrupt_step + self.corrupt_batches)


# ---- the corpus: the bank's answers, character by character ---------------------------


@dataclass(frozen=True)
class Corpus:
    ids: list[int]  # one id per character of the answers' text
    vocab: list[str]  # id -> character; id 0 is <unk>
    unk_chars: int  # characters of the text mapped to <unk>
    answers: int


def load_corpus(
    content_dir: Path, *, max_chars: int = MAX_CORPUS_CHARS, max_vocab: int = MAX_VOCAB
) -> Corpus:
    """The answers of every question under ``content_dir``, files in sorted order and
    questions in file order, joined by blank lines (the first ``max_chars`` characters).
    The vocabulary is <unk> plus the ``max_vocab − 1`` most frequent characters (ties by
    code point); the rest map to <unk>."""
    from app.content.loader import discover, load_file

    files, _ = discover([content_dir])
    answers: list[str] = []
    length = 0
    for path in files:
        parsed = load_file(path, content_dir)
        for question in sorted(parsed.questions, key=lambda q: q.position):
            if question.answer_md.strip() and length < max_chars:
                answers.append(question.answer_md.strip())
                length += len(answers[-1]) + 2
    text = "\n\n".join(answers)[:max_chars]
    if len(text) < CONTEXT + 2:
        raise ValueError(
            f"no answers found under {content_dir} (only {len(text)} characters of answers; "
            f"the model needs at least {CONTEXT + 2}): import content first"
        )
    counts = Counter(text)
    kept = sorted(counts, key=lambda ch: (-counts[ch], ch))[: max_vocab - 1]
    vocab = ["<unk>", *kept]
    index = {ch: i for i, ch in enumerate(vocab)}
    ids = [index.get(ch, 0) for ch in text]
    return Corpus(ids=ids, vocab=vocab, unk_chars=ids.count(0), answers=len(answers))


# ---- the spike detector ---------------------------------------------------------------


class SpikeDetector:
    """Flags a loss that is NaN/inf, or above ``k`` × the median of the previous
    ``window`` finite losses (once ``MIN_HISTORY`` of them exist)."""

    def __init__(self, k: float, window: int) -> None:
        self.k = k
        self.history: deque[float] = deque(maxlen=window)

    def threshold(self) -> float:
        """The loss above which the next step is a spike (inf while history is short)."""
        if len(self.history) < MIN_HISTORY:
            return math.inf
        return self.k * statistics.median(self.history)

    def observe(self, loss: float) -> bool:
        if not math.isfinite(loss):
            return True
        spike = loss > self.threshold()
        # A flagged loss still enters the window: the median shrugs off one outlier, and a
        # loss that stays high becomes the new normal instead of being skipped forever.
        self.history.append(loss)
        return spike


def flag_spikes(losses: list[float], k: float, window: int) -> list[bool]:
    detector = SpikeDetector(k, window)
    return [detector.observe(loss) for loss in losses]


# ---- the run --------------------------------------------------------------------------


def run(params: LossSpikesParams, ctx: RunContext) -> DemoResult:
    import copy
    import dataclasses

    import torch

    from app.config import get_settings
    from app.demos.loss_spikes_model import ArmConfig, build_model, draw_batches, train_arm

    p = params
    corpus = load_corpus(get_settings().content_dir)
    configured = ArmConfig(
        lr=p.lr,
        warmup_steps=p.warmup_steps,
        clip=p.clip,
        precision=p.precision,
        skip_guard=p.skip_guard,
        spike_k=p.spike_k,
        median_window=p.median_window,
    )
    baseline = dataclasses.replace(configured, warmup_steps=0, clip=0.0, skip_guard=False)
    identical = baseline == configured
    total = p.steps * (1 if identical else 2)
    done = 0

    def on_step(step: int, loss: float) -> None:
        nonlocal done
        done += 1
        if step % 10 == 0 or done == total:
            ctx.progress(done, total, loss=loss)

    # Everything random comes from one CPU generator: the init, the batch order and the
    # corrupted batch, so both arms (and both devices) see the same numbers.
    gen = torch.Generator().manual_seed(p.seed)
    init_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen).item())
    ids = torch.tensor(corpus.ids)
    batches = draw_batches(ids, p.steps, BATCH, CONTEXT, gen, p.corrupt_steps)
    model = build_model(len(corpus.vocab), CONTEXT, D_MODEL, N_LAYER, N_HEAD, init_seed)
    models = (model.to(ctx.device), copy.deepcopy(model).to(ctx.device))
    log_baseline = train_arm(models[0], batches, baseline, ctx.device, on_step)
    log_configured = (
        log_baseline
        if identical
        else train_arm(models[1], batches, configured, ctx.device, on_step)
    )
    m = Measured(
        corpus_chars=len(corpus.ids),
        vocab_size=len(corpus.vocab),
        unk_chars=corpus.unk_chars,
        identical=identical,
        baseline=log_baseline,
        configured=log_configured,
        fp16_of_probe=torch.tensor(PROBE).half().item(),
        bf16_of_probe=torch.tensor(PROBE).bfloat16().item(),
    )
    return result_of(p, m)


DEMO = Demo(
    name="loss_spikes",
    title="Loss spikes: where they come from and what stops them",
    summary=(
        "Trains a tiny character-level GPT on the question bank's own answers twice from the "
        "same init on the same batches, both at the chosen learning rate and precision (fp32, "
        "bf16, or fp16 with or without a gradient scaler) and with the same batches of random "
        "characters injected at a chosen step: a baseline with every remedy off, and the "
        "configured run with warmup, gradient clipping and the skip-the-batch guard as set. "
        "Loss and gradient-norm curves for both arms, spikes "
        "(a loss above k × its running median) marked, skipped steps shown, and fp16's "
        "overflow at 65504 against bf16's range."
    ),
    claims=(
        "Loss spikes come from a too-large learning rate, fp16 overflow or bad data",
        "Warmup, gradient clipping, bf16 and skipping bad batches stop loss spikes",
        "fp16 overflows past 65504 where bf16 does not; a gradient scaler skips the steps "
        "whose gradients overflow",
    ),
    params=LossSpikesParams,
    run=run,
    time_limit_s=120.0,
    extra_sources=("app.demos.loss_spikes_model", "app.demos.loss_spikes_report"),
    figure_names=figure_names,
)

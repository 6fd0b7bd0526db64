"""Checks every browser journey makes on a page: it fits its viewport, and the Chinese
interface shows no English outside content and names."""

from __future__ import annotations

import re
from typing import Any

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SIZES = {"phone": PHONE, "desktop": DESKTOP}

# Words allowed in the Chinese interface: model, method, library and format names, units.
ALLOWED_LATIN = {
    "lora",
    "qlora",
    "nf4",
    "fp4",
    "int4",
    "int8",
    "fp16",
    "bf16",
    "fp32",
    "peft",
    "mla",
    "mha",
    "gqa",
    "mqa",
    "llama",
    "mistral",
    "qwen",
    "gpt",
    "adamw",
    "adam",
    "sgd",
    "fsrs",
    "anki",
    "rmse",  # FSRS's fit metric, RMSE (bins), as Anki shows it
    "markdown",
    "api",
    "json",
    "gpu",
    "cpu",
    "cuda",
    "kv",
    "ia",
    "id",
    "url",
    "sft",
    "rlhf",
    "dpo",
    "ppo",
    "svd",
    "rmsnorm",
    "layernorm",
    "deepseek",
    "interview",
    "lab",
    "gb",
    "mb",
    "kb",
    "ms",
    "s",
    "min",
    "h",
    "b",
    "m",
    "k",
    "r",
    "x",
    "apkg",
    "csv",
    "prefix",
    "prompt",
    "tuning",
    "adapter",
    "adapters",
    "houlsby",
    "pfeiffer",
    "p",
    "v2",
    "v3",
    "ai",
    "space",
    "enter",
    "esc",
    "ok",
    "english",  # the language switch names English in English
    "utc",
    "pytorch",
    "mathjax",
    # names of theorems, people, libraries, layers and units kept in Latin in Chinese text
    "eckart",
    "young",
    "frobenius",
    "nan",
    "flop",
    "flops",
    "palm",
    "rope",
    "gelu",
    "swiglu",
    "mlp",
    "mse",
    "dq",
    "gib",
    "mib",
    "llm",
    "flashattention",
    "korthikanti",
    "transformer",
    "bitsandbytes",
    "bit",
    "bits",
    # jargon that Chinese ML writing keeps in Latin (the bank itself writes "Loss 突增",
    # "KV Cache", "token"); method and tensor names
    "token",
    "tokens",
    "cache",
    "batch",
    "loss",
    "lr",
    "prefill",
    "absmax",
    "fa",
    "lm",
    "head",
    "logits",
    "normalfloat",
    "transmla",
    "softmax",
    "exp",
    "torch",
    "meta",
    "ba",
    "paged",  # bitsandbytes' Paged AdamW
}


def page_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than its viewport (0: fits)."""
    return int(
        page.evaluate(
            "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - window.innerWidth"
        )
    )


def assert_fits(page: Any, what: str) -> None:
    over = page_overflow(page)
    assert over <= 0, f"{what}: the page is {over}px wider than its viewport"


def visible_english(page: Any) -> list[str]:
    """Latin words in the page's visible interface text, outside content (elements
    marked ``data-content``, math, code) and outside the allowed names."""
    text: str = page.evaluate(
        """() => {
          const skip = el => el.closest('[data-content], math, code, pre, .tex, script, style, [hidden]');
          const out = [];
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const node = walker.currentNode;
            const el = node.parentElement;
            if (!el || skip(el)) continue;
            const style = getComputedStyle(el);
            if (style.display === 'none' || style.visibility === 'hidden') continue;
            // Text in a closed <details> is not shown until the reader opens it.
            if (el.checkVisibility && !el.checkVisibility()) continue;
            out.push(node.textContent);
          }
          for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
            if (skip(el)) continue;
            for (const a of ['placeholder', 'aria-label', 'title']) {
              if (el.getAttribute(a)) out.push(el.getAttribute(a));
            }
          }
          return out.join(' ');
        }"""
    )
    # A token holding a digit is a model, format or size name (NF4, fp16, int8, r8, 7B); one
    # holding an underscore is a code name (paged_adamw8bit, quantize_4bit).
    tokens = re.findall(r"[A-Za-z][A-Za-z0-9_']+", text)
    words = [w for w in tokens if not re.search(r"[\d_]", w)]
    return sorted({w for w in words if w.lower() not in ALLOWED_LATIN})

"""Our counts against the reference libraries: tiny Llama- and Qwen2-style models built
from ``transformers`` configs on the CPU, each PEFT method applied with ``peft``, and
``get_nb_trainable_parameters()`` (trainable, all) compared with the demo's figures; the
saved state (``get_peft_model_state_dict``) with the demo's saved-parameter count.

Adapters (Houlsby, Pfeiffer) are not in peft, so they have no reference here.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("peft")
pytest.importorskip("transformers")
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

import torch  # noqa: E402
from peft import (  # noqa: E402
    IA3Config,
    LoraConfig,
    PeftModel,
    PrefixTuningConfig,
    PromptEncoderConfig,
    PromptTuningConfig,
    TaskType,
    get_peft_model,
)
from peft.utils import get_peft_model_state_dict  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    LlamaConfig,
    PretrainedConfig,
    Qwen2Config,
)

from app.demos.base import DemoResult, RunContext, validate_params  # noqa: E402
from app.demos.peft_count import DEMO  # noqa: E402

# hidden 64, 4 heads of 16, 2 KV heads (GQA), so k/v are narrower than q.
SHAPE = {"hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2, "intermediate": 96, "vocab": 101}

FAMILIES = {
    # LLaMA: untied lm_head, no biases.
    "llama": (LlamaConfig, {"tie_word_embeddings": False}, {"tied": False, "bias": False}),
    # Qwen2: q/k/v biases; tied embeddings as in Qwen2.5-3B.
    "qwen2": (Qwen2Config, {"tie_word_embeddings": True}, {"tied": True, "bias": True}),
}


def reference_model(family: str) -> Any:
    config_class, extra, _ = FAMILIES[family]
    config: PretrainedConfig = config_class(
        vocab_size=SHAPE["vocab"],
        hidden_size=SHAPE["hidden"],
        intermediate_size=SHAPE["intermediate"],
        num_hidden_layers=SHAPE["layers"],
        num_attention_heads=SHAPE["heads"],
        num_key_value_heads=SHAPE["kv_heads"],
        **extra,
    )
    torch.manual_seed(0)
    # transformers' auto classes are untyped.
    return AutoModelForCausalLM.from_config(config)  # type: ignore[no-untyped-call]


def our_run(family: str, **knobs: Any) -> DemoResult:
    _, _, ours = FAMILIES[family]
    raw = {
        "preset": "custom",
        "custom_hidden": SHAPE["hidden"],
        "custom_layers": SHAPE["layers"],
        "custom_heads": SHAPE["heads"],
        "custom_kv_heads": SHAPE["kv_heads"],
        "custom_intermediate": SHAPE["intermediate"],
        "custom_vocab": SHAPE["vocab"],
        "custom_tied_embeddings": ours["tied"],
        "custom_qkv_bias": ours["bias"],
        "save_dtype": "fp32",  # so saved parameters = adapter_bytes / 4
        **knobs,
    }
    params = validate_params(DEMO, raw)
    return DEMO.run(params, RunContext(device="cpu", report=lambda step, total, metrics: None))


def compare(result: DemoResult, method: str, peft_model: PeftModel) -> None:
    trainable, total = peft_model.get_nb_trainable_parameters()
    assert (result.figures[f"trainable_{method}"], result.figures[f"all_params_{method}"]) == (
        trainable,
        total,
    )
    saved = sum(t.numel() for t in get_peft_model_state_dict(peft_model).values())
    assert result.figures[f"adapter_bytes_{method}"] == 4 * saved


@pytest.mark.parametrize("family", list(FAMILIES))
def test_base_total_matches_transformers(family: str) -> None:
    model = reference_model(family)
    assert our_run(family).figures["total_params"] == model.num_parameters()


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize(("r", "targets"), [(8, "q,v"), (4, "q"), (3, "q,k,v,o,gate,up,down")])
def test_lora(family: str, r: int, targets: str) -> None:
    modules = [f"{name}_proj" for name in targets.split(",")]
    config = LoraConfig(task_type=TaskType.CAUSAL_LM, r=r, lora_alpha=16, target_modules=modules)
    peft_model = get_peft_model(reference_model(family), config)
    result = our_run(family, lora_r=r, lora_target_modules=targets)
    compare(result, "lora", peft_model)
    assert result.figures["trainable_qlora"] == result.figures["trainable_lora"]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_prompt_tuning(family: str) -> None:
    config = PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=7)
    peft_model = get_peft_model(reference_model(family), config)
    compare(our_run(family, prompt_virtual_tokens=7), "prompt", peft_model)


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("projection", [False, True])
def test_prefix_tuning(family: str, projection: bool) -> None:
    config = PrefixTuningConfig(
        task_type=TaskType.CAUSAL_LM,
        num_virtual_tokens=5,
        prefix_projection=projection,
        encoder_hidden_size=24,
    )
    peft_model = get_peft_model(reference_model(family), config)
    result = our_run(
        family, prefix_virtual_tokens=5, prefix_projection=projection, prefix_encoder_hidden=24
    )
    compare(result, "prefix", peft_model)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_p_tuning_mlp_encoder(family: str) -> None:
    config = PromptEncoderConfig(
        task_type=TaskType.CAUSAL_LM, num_virtual_tokens=6, encoder_hidden_size=20
    )
    peft_model = get_peft_model(reference_model(family), config)
    result = our_run(family, ptuning_virtual_tokens=6, ptuning_encoder_hidden=20)
    compare(result, "ptuning", peft_model)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_ia3(family: str) -> None:
    # Named explicitly: peft's default for qwen2 is q_proj, not k_proj.
    config = IA3Config(
        task_type=TaskType.CAUSAL_LM,
        target_modules=["k_proj", "v_proj", "down_proj"],
        feedforward_modules=["down_proj"],
    )
    peft_model = get_peft_model(reference_model(family), config)
    compare(our_run(family), "ia3", peft_model)

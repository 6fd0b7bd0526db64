"""Each demo's own cross-field rules (one parameter against another) read in the reader's
language on the demo form, beside the field's label, while the JSON API keeps the
English one-line message naming the field."""

from __future__ import annotations

import pytest

from tests.web.conftest import MakeClient, csrf, soup

# demo, the refused parameters (each within its own bounds), the field refused, the API's
# English message and the form's Chinese one.
CASES = [
    (
        "lora_roles",
        {"hidden": "8", "r": "16"},
        "r",
        "r: must be at most hidden = 8 (got '16')",
        "LoRA 秩 r：不能大于 hidden = 8（输入为 16）",
    ),
    (
        "lora_vs_full",
        {"hidden": "8", "shift_rank": "16"},
        "shift_rank",
        "shift_rank: must be at most hidden = 8 (got '16')",
        "任务差异的秩：不能大于 hidden = 8（输入为 16）",
    ),
    (
        "qlora",
        {"hidden": "16", "r": "32"},
        "r",
        "r: must be at most hidden = 16 (got '32')",
        "LoRA 秩 r：不能大于 hidden = 16（输入为 32）",
    ),
    (
        "rank",
        {"m": "4", "n": "4", "r": "8"},
        "r",
        "r: must be at most min(m, n) = 4 (got '8')",
        "因子的秩 r：不能大于 min(m, n) = 4（输入为 8）",
    ),
    (
        "peft_latency",
        {"d_model": "100", "n_heads": "8"},
        "n_heads",
        "n_heads: must divide d_model = 100 (got '8')",
        "注意力头数：必须整除 d_model = 100（输入为 8）",
    ),
    (
        "peft_latency",
        {"d_model": "32", "lora_rank": "64"},
        "lora_rank",
        "lora_rank: must be at most d_model = 32 (got '64')",
        "LoRA 秩 r：不能大于 d_model = 32（输入为 64）",
    ),
    (
        "peft_latency",
        {"max_seq_len": "32", "num_lengths": "4"},
        "num_lengths",
        "num_lengths: too many for max_seq_len = 32: the shortest would be < 4 (got '4')",
        "计时的提示词长度个数：相对 max_seq_len = 32 太多：最短的长度会小于 4（输入为 4）",
    ),
    (
        "mla_kv_cache",
        {"gqa_kv_heads": "3"},
        "gqa_kv_heads",
        "gqa_kv_heads: must divide the number of heads, 128 (got '3')",
        "GQA 组数 ng：必须整除注意力头数 128（输入为 3）",
    ),
    (
        "mla_kv_cache",
        {"layer_d_latent": "64"},
        "layer_d_latent",
        "layer_d_latent: must be below min(layer_d_model, heads·head_dim) = 64 (got '64')",
        "小层：潜向量维度 dc：必须小于 min(layer_d_model, heads·head_dim) = 64（输入为 64）",
    ),
    (
        "mla_kv_cache",
        {"layer_d_rope": "3"},
        "layer_d_rope",
        "layer_d_rope: must be even: RoPE rotates pairs of dimensions (got '3')",
        "小层：RoPE 键维度 dhR：必须为偶数：RoPE 按维度成对旋转（输入为 3）",
    ),
    (
        "mla_cost",
        {"gqa_kv_heads": "3"},
        "gqa_kv_heads",
        "gqa_kv_heads: must divide the number of heads, 128 (got '3')",
        "GQA 组数 ng：必须整除注意力头数 128（输入为 3）",
    ),
    (
        "peft_params",
        {"preset": "custom", "custom_hidden": "100", "custom_heads": "3"},
        "custom_heads",
        "custom_heads: must divide custom_hidden = 100 (got '3')",
        "注意力头数：必须整除 custom_hidden = 100（输入为 3）",
    ),
    (
        "peft_params",
        {"lora_target_modules": "q,w"},
        "lora_target_modules",
        "lora_target_modules: unknown target 'w'; choose among q, k, v, o, gate, up, down"
        " (got 'q,w')",
        "LoRA 目标投影：未知的目标 'w'；可选 q, k, v, o, gate, up, down（输入为 q,w）",
    ),
    (
        "peft_params",
        {"lora_target_modules": ","},
        "lora_target_modules",
        "lora_target_modules: name at least one of the targets q, k, v, o, gate, up, down"
        " (got ',')",
        "LoRA 目标投影：至少指定 q, k, v, o, gate, up, down 中的一个目标（输入为 ,）",
    ),
    (
        "peft_params",
        {"preset": "gpt3-175b", "lora_target_modules": "gate"},
        "lora_target_modules",
        "lora_target_modules: gpt3-175b has no gate projection (its MLP is up, down) (got 'gate')",
        "LoRA 目标投影：gpt3-175b 没有 gate 投影（它的 MLP 只有 up、down）（输入为 gate）",
    ),
]


@pytest.mark.parametrize(
    ("demo", "refused", "field", "english", "chinese"),
    CASES,
    ids=[f"{case[0]}-{case[2]}-{i}" for i, case in enumerate(CASES)],
)
def test_a_cross_field_rule_reads_in_chinese_on_the_form_and_english_in_the_api(
    make_client: MakeClient,
    demo: str,
    refused: dict[str, str],
    field: str,
    english: str,
    chinese: str,
) -> None:
    client = make_client(language="zh-CN", seed=False)
    page = soup(client.get(f"/demos/{demo}"))
    response = client.post(f"/demos/{demo}/runs", data={"csrf_token": csrf(page), **refused})
    assert response.status_code == 422
    form = soup(response)
    marked = form.select_one("[aria-invalid=true]")
    assert marked is not None and marked["name"] == field
    error = form.select_one("#field-error")
    assert error is not None and error.get_text() == chinese
    api = client.post(f"/api/demos/{demo}/runs", json={"params": refused})
    assert api.status_code == 422
    assert api.json() == {"detail": english, "field": field}

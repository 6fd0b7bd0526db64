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
        "LoRA 秩 r：不能大于 隐藏层宽度 = 8（输入为 16）",
    ),
    (
        "lora_vs_full",
        {"hidden": "8", "shift_rank": "16"},
        "shift_rank",
        "shift_rank: must be at most hidden = 8 (got '16')",
        "任务差异的秩：不能大于 隐藏层宽度 = 8（输入为 16）",
    ),
    (
        "qlora",
        {"hidden": "16", "r": "32"},
        "r",
        "r: must be at most hidden = 16 (got '32')",
        "LoRA 秩 r：不能大于 MLP 隐藏层宽度 = 16（输入为 32）",
    ),
    (
        "rank",
        {"m": "4", "n": "4", "r": "8"},
        "r",
        "r: must be at most min(m, n) = 4 (got '8')",
        "因子的秩 r：不能大于 min(行数 m, 列数 n) = 4（输入为 8）",
    ),
    (
        "peft_latency",
        {"d_model": "100", "n_heads": "8"},
        "n_heads",
        "n_heads: must divide d_model = 100 (got '8')",
        "注意力头数：必须整除 模型宽度 d = 100（输入为 8）",
    ),
    (
        "peft_latency",
        {"d_model": "32", "lora_rank": "64"},
        "lora_rank",
        "lora_rank: must be at most d_model = 32 (got '64')",
        "LoRA 秩 r：不能大于 模型宽度 d = 32（输入为 64）",
    ),
    (
        "peft_latency",
        {"max_seq_len": "32", "num_lengths": "4"},
        "num_lengths",
        "num_lengths: too many for max_seq_len = 32: the shortest would be < 4 (got '4')",
        "计时的提示词长度个数：相对 最长提示词 = 32 太多：最短的长度会小于 4（输入为 4）",
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
        "小层：潜向量维度 dc：必须小于 min(小层：隐藏维度 d, heads·head_dim) = 64（输入为 64）",
    ),
    (
        "mla_kv_cache",
        {"layer_d_rope": "3"},
        "layer_d_rope",
        "layer_d_rope: must be even: RoPE rotates pairs of dimensions (got '3')",
        "小层：RoPE 键维度 dₕᴿ：必须为偶数：RoPE 按维度成对旋转（输入为 3）",
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
        "注意力头数：必须整除 隐藏维度 h = 100（输入为 3）",
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
    (
        "loss_spikes",
        {"steps": "50", "warmup_steps": "60"},
        "warmup_steps",
        "warmup_steps: must be at most steps = 50 (got '60')",
        "预热：不能大于 训练步数 = 50（输入为 60）",
    ),
    (
        "loss_spikes",
        {"steps": "50", "corrupt_step": "60"},
        "corrupt_step",
        "corrupt_step: must be 0 (none) or between 6 and 49 (got '60')",
        "损坏 batch 所在步：必须为 0（不注入）或介于 6 与 49 之间（输入为 60）",
    ),
    (
        "loss_spikes",
        {"steps": "50", "corrupt_step": "45", "corrupt_batches": "10"},
        "corrupt_batches",
        "corrupt_batches: must be at most steps − corrupt_step = 5 (got '10')",
        "损坏的 batch 数：不能大于 训练步数 − 损坏 batch 所在步 = 5（输入为 10）",
    ),
    (
        "spike_remedies",
        {"steps": "30", "corrupt_step": "40"},
        "corrupt_step",
        "corrupt_step: must be 0 (none) or between 6 and 29 (got '40')",
        "损坏 batch 所在步：必须为 0（不注入）或介于 6 与 29 之间（输入为 40）",
    ),
    (
        "spike_remedies",
        {"steps": "30", "corrupt_step": "0", "rewind_steps": "30"},
        "rewind_steps",
        "rewind_steps: must be below steps = 30 (got '30')",
        "回退：必须小于 训练步数 = 30（输入为 30）",
    ),
    (
        "spike_remedies",
        {"init_large": "0.01"},
        "init_large",
        "init_large: must exceed 0.02 (and init_small must be below it) (got '0.01')",
        "大初始化标准差：必须大于 0.02（且 小初始化标准差 必须小于它）（输入为 0.01）",
    ),
    (
        "paged_optimizer",
        {"width": "4096", "layers": "12", "cap_gb": "0.5"},
        "cap_gb",
        "cap_gb: must exceed the weights and gradients, 1.611 GB for 12 layers of width 4096"
        " (every optimizer would run out of memory) (got '0.5')",
        ""
        "显存上限：必须大于权重与梯度所占的 1.611 GB（12 层、宽度 4096），"
        "否则每个优化器都会内存不足（输入为 0.5）",
    ),
    (
        "paged_optimizer",
        {"arms": "adamw,sgd"},
        "arms",
        "arms: unknown optimizer 'sgd'; choose among adamw, adamw8bit, paged_adamw8bit,"
        " paged_adamw32bit (got 'adamw,sgd')",
        "优化器：未知的优化器 'sgd'；可选 adamw, adamw8bit, paged_adamw8bit, paged_adamw32bit（输入为 adamw,sgd）",
    ),
    (
        "paged_optimizer",
        {"arms": " , "},
        "arms",
        "arms: name at least one of adamw, adamw8bit, paged_adamw8bit, paged_adamw32bit"
        " (got ' , ')",
        "优化器：至少指定 adamw, adamw8bit, paged_adamw8bit, paged_adamw32bit 中的一个（输入为  , ）",
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

"""The paged optimizer under a memory cap — the demo's registration and its story.

The same stack of square linear layers is trained, from the same weights and batch,
with AdamW (two fp32 states per parameter), bitsandbytes' 8-bit AdamW (two 8-bit states,
ordinary PyTorch tensors) and its paged AdamW in 8 and 32 bit (the same states allocated
in CUDA unified memory), while PyTorch's allocator may hold only ``cap_gb``
(``torch.cuda.set_per_process_memory_fraction``). Per optimizer: completed or "OOM at
step k", steps done, step time, PyTorch's peak, the device-wide used memory
(``cudaMemGetInfo``, which also counts unified memory resident on the GPU) and the state
bytes. Off a GPU with bitsandbytes nothing is measured and every figure is NaN.

torch is imported inside ``run`` (via ``measure``): the web process imports this module
for the catalogue and must not load torch.
"""

from __future__ import annotations

from app.demos.base import Demo, DemoResult, RunContext
from app.demos.paged_optimizer.params import PagedOptimizerParams
from app.demos.paged_optimizer.report import figure_names, result_of
from app.demos.text import N_


def run(params: PagedOptimizerParams, ctx: RunContext) -> DemoResult:
    from app.demos.paged_optimizer.measure import measure

    return result_of(params, measure(params, ctx))


DEMO = Demo(
    name="paged_optimizer",
    title=N_("Paged optimizer under a memory cap"),
    summary=N_(
        "Trains the same model (12 layers of 4096², 201M parameters by default) with AdamW, "
        "8-bit AdamW and bitsandbytes' paged AdamW in 8 and 32 bit while PyTorch's allocator "
        "may hold only a chosen number of GB. Without paging the optimizer states are "
        "PyTorch tensors inside the cap and the run stops with out-of-memory; the paged "
        "optimizers keep their states in CUDA unified memory, outside it, and complete. Per "
        "optimizer: completed or the step that ran out of memory, the step time (paging's "
        "cost), PyTorch's peak, the device-wide used memory (which also sees unified memory) "
        "and the state bytes. Needs a CUDA GPU with bitsandbytes; elsewhere nothing is "
        "measured."
    ),
    claims=(
        "Paged optimizers avoid out-of-memory errors: optimizer states live in unified memory "
        "and are paged between GPU and CPU on demand (GPU only)",
        "8-bit AdamW without paging keeps its states in GPU memory and runs out of memory "
        "where the paged one completes (GPU only)",
    ),
    params=PagedOptimizerParams,
    run=run,
    time_limit_s=120.0,
    uses_gpu=True,
    figure_names=figure_names,
    topics=("QLoRA",),
    # Progress counts optimizer steps across four separate optimizers (an OOM jumps ahead):
    # a bar, not a curve; the result's charts compare the optimizers.
    live_chart=False,
)

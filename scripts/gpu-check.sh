#!/usr/bin/env bash
# The GPU check: every registered demo's default run on the GPU through the CLI, the
# claims' GPU measurement (the qlora demo's paged 8-bit AdamW against 8-bit AdamW and
# AdamW, plus an independent probe of the same three optimizers), and a `--queue gpu`
# Celery worker taking one run. Under 5 minutes on one H200.
#
#   scripts/gpu-check.sh          on a machine with a CUDA GPU (fails if torch sees none)
#   scripts/gpu-check.sh --cpu    the same checks with device cpu, to debug the script
#
# Prints one line per check, `PASS|FAIL|SKIP <check> <detail>`, then a summary; exits 1 on
# any FAIL. It runs the app from this tree (PYTHONPATH), never installs it. Python
# packages the interpreter lacks are installed from wheels in .whl/ (here or one folder
# up) into a temporary folder: see /work/notes/README-gpu.md for how to build .whl/.
# Environment: PYTHON (interpreter; default .venv/bin/python if present, else python3),
# WHEELS (the wheel folder), OUT (if set, a tarball of every result lands there).
set -u

MODE=gpu
case "${1:-}" in
"") ;;
--cpu) MODE=cpu ;;
-h | --help)
    sed -n '2,15p' "$0"
    exit 0
    ;;
*)
    echo "usage: $0 [--cpu]" >&2
    exit 2
    ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
START=$SECONDS
NPASS=0 NFAIL=0 NSKIP=0
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null; done
    if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then
        tar czf "$OUT/gpu-check-results.tgz" -C "$WORK" --exclude=site --exclude='*.sqlite3*' . \
            2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

line() { # STATUS CHECK DETAIL...
    local status=$1 check=$2
    shift 2
    case $status in PASS) NPASS=$((NPASS + 1)) ;; FAIL) NFAIL=$((NFAIL + 1)) ;; *) NSKIP=$((NSKIP + 1)) ;; esac
    printf '%s %s %s\n' "$status" "$check" "$*"
}

if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH=$ROOT

# --- the interpreter and the packages it lacks -------------------------------------------
NEEDED="fastapi, starlette, sqlalchemy, alembic, pydantic, pydantic_settings, mdit_py_plugins,
latex2mathml, nh3, typer, rich, fsrs, babel, itsdangerous, pwdlib, argon2, celery, kombu, redis,
genanki, yaml, multipart, torch, numpy"
if ! "$PYTHON" -c "import ${NEEDED//$'\n'/ }" 2>/dev/null; then
    WHEELS=${WHEELS:-}
    for d in "$ROOT/.whl" "$ROOT/../.whl"; do
        if [ -z "$WHEELS" ] && compgen -G "$d/*.whl" >/dev/null; then WHEELS=$d; fi
    done
    if [ -n "$WHEELS" ] && "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
        --no-cache-dir --upgrade --target "$WORK/site" "$WHEELS"/*.whl >"$WORK/pip.log" 2>&1; then
        export PYTHONPATH=$WORK/site:$ROOT
        line PASS wheels "$(ls "$WHEELS"/*.whl | wc -l) wheels from $WHEELS into $WORK/site"
    else
        line FAIL wheels "cannot install the missing packages (WHEELS=${WHEELS:-none}): $(tail -3 "$WORK/pip.log" 2>/dev/null)"
    fi
fi
missing=$("$PYTHON" -c "
import importlib
names = '''$NEEDED'''.replace(',', ' ').split()
bad = []
for n in names:
    try:
        importlib.import_module(n)
    except Exception as exc:
        bad.append(f'{n} ({type(exc).__name__}: {exc})')
print('; '.join(bad))" 2>&1)
if [ -n "$missing" ]; then
    line FAIL imports "$missing"
    printf 'SUMMARY %d PASS, %d FAIL, %d SKIP in %ds (mode %s)\n' $NPASS $NFAIL $NSKIP \
        $((SECONDS - START)) $MODE
    exit 1
fi

env_info=$("$PYTHON" - <<'PY' 2>&1
import platform, torch
cuda = torch.cuda.is_available()
name = torch.cuda.get_device_name(0) if cuda else "none"
try:
    import bitsandbytes
    bnb = bitsandbytes.__version__
except Exception as exc:
    bnb = f"not importable ({type(exc).__name__})"
# The last line is the answer (bitsandbytes may print warnings as it imports).
print(int(cuda), f"python {platform.python_version()}, torch {torch.__version__}, "
      f"cuda {torch.version.cuda}, gpu {name}, bitsandbytes {bnb}")
PY
)
env_info=$(printf '%s\n' "$env_info" | tail -1)
has_cuda=${env_info%% *}
if [ "$MODE" = gpu ]; then
    DEVICE=gpu EXPECT=cuda SLACK=1
    if [ "$has_cuda" = 1 ]; then line PASS env "${env_info#* }"; else line FAIL env "torch sees no GPU: ${env_info#* }"; fi
else
    DEVICE=cpu EXPECT=cpu
    SLACK=4 # a debugging run on a shared CPU may be slow; the GPU run keeps each demo's limit
    line PASS env "mode cpu; ${env_info#* }"
fi

# --- every registered demo's default, through the CLI ------------------------------------
# The CLI runs under a wrapper that, at exit, writes how many allocations the CUDA
# allocator made: a result that says "cuda" must also have used the GPU.
WRAP='import atexit, os, runpy, sys
def _stats():
    import torch
    n = torch.cuda.memory_stats().get("allocation.all.allocated", 0) if torch.cuda.is_initialized() else 0
    open(os.environ["GPU_CHECK_STATS"], "w").write(str(n))
atexit.register(_stats)
sys.argv = ["app", *sys.argv[1:]]
runpy.run_module("app", run_name="__main__", alter_sys=True)'

demos=$("$PYTHON" -c "
from app.demos import registry
for d in registry().values():
    print(d.name, int(d.uses_gpu), int(d.time_limit_s))") || {
    line FAIL demo-list "$demos"
    demos=""
}
while read -r name uses_gpu limit; do
    [ -n "$name" ] || continue
    want=$EXPECT
    [ "$uses_gpu" = 1 ] || want=cpu
    t0=$SECONDS
    GPU_CHECK_STATS=$WORK/$name.allocs timeout $((limit * SLACK + 60)) "$PYTHON" -c "$WRAP" demo run "$name" \
        --device "$DEVICE" --format json >"$WORK/$name.json" 2>"$WORK/$name.err"
    rc=$?
    if [ $rc -eq 124 ]; then
        line FAIL "demo:$name" "timed out after $((SECONDS - t0))s (its limit ${limit}s, x$SLACK, +60s to start)"
        continue
    elif [ $rc -ne 0 ]; then
        line FAIL "demo:$name" "exit $rc after $((SECONDS - t0))s: $(grep -v '^\s*$' "$WORK/$name.err" | tail -2 | tr '\n' ' ' | cut -c1-400)"
        continue
    fi
    read -r ran_on devname wall nchecks nfailed failed < <("$PYTHON" -c "
import json, sys
d = json.load(open(sys.argv[1]))
m = d['meta']
checks = d.get('checks', [])
bad = [c['name'] if isinstance(c['name'], str) else c['name']['msg'] for c in checks if not c['passed']]  # a name may be a Text
print(m['device'], m['device_name'].replace(' ', '_'), m['wall_seconds'], len(checks), len(bad),
      ','.join(bad) or '-')" "$WORK/$name.json")
    allocs=$(cat "$WORK/$name.allocs" 2>/dev/null || echo 0)
    detail="device $ran_on ($devname), ${wall}s run, $((SECONDS - t0))s with start, $allocs cuda allocations"
    if [ "$ran_on" != "$want" ]; then
        line FAIL "demo:$name" "expected $want; $detail"
    elif [ "$want" = cuda ] && [ "${allocs:-0}" -le 0 ]; then
        line FAIL "demo:$name" "says cuda but the CUDA allocator was never used; $detail"
    elif [ "$want" = cpu ] && [ "$EXPECT" = cuda ]; then
        line PASS "demo:$name" "cpu by design (uses_gpu=False); $detail"
    else
        line PASS "demo:$name" "$detail"
    fi
    if [ "$nfailed" = 0 ]; then
        line PASS "demo-checks:$name" "$nchecks/$nchecks of the demo's own checks pass"
    else
        line FAIL "demo-checks:$name" "$nfailed of $nchecks failed: $failed"
    fi
done <<<"$demos"

# --- the claims' GPU measurement: paged 8-bit AdamW vs 8-bit AdamW vs AdamW ---------------
if [ -s "$WORK/qlora.json" ]; then
    paged=$("$PYTHON" - "$WORK/qlora.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["figures"]
keys = [k for k in f if k.startswith(("peak_memory_gb_", "optimizer_state_gb_"))]
figs = ", ".join(f"{k}={f[k]:.3f}" if isinstance(f[k], float) else f"{k}={f[k]}" for k in keys)
measured = f.get("paged_optimizer_measured")
print(1 if measured == 1 else 0, figs or "no paged figures",
      "|", "Paged" + d["conclusion"].split("Paged")[-1][:300].replace("\n", " ") if measured != 1 else "")
PY
)
    if [ "${paged%% *}" = 1 ]; then
        line PASS qlora-paged "measured: ${paged#* }"
    elif [ "$MODE" = cpu ]; then
        line SKIP qlora-paged "not measured on the CPU (needs cuda): ${paged#* }"
    else
        line FAIL qlora-paged "not measured on the GPU: ${paged#* }"
    fi
else
    line FAIL qlora-paged "no qlora result"
fi

# An independent probe of the same comparison. torch's max_memory_allocated counts only
# PyTorch's allocator; the device-wide used memory (cudaMemGetInfo, sampled after each
# step) also counts the paged optimizer's unified-memory state while it is resident on
# the GPU. paged_tensors counts the state tensors bitsandbytes allocated as paged.
if [ "$MODE" = gpu ]; then
    probe=$(timeout 120 "$PYTHON" - 2>&1 <<'PY'
import gc, math, torch
from torch import nn
import bitsandbytes.optim as bo

W, L, B, STEPS, GB = 4096, 4, 64, 3, 1e9
g = torch.Generator().manual_seed(0)
weights = [torch.randn(W, W, generator=g) / math.sqrt(W) for _ in range(L)]
x = torch.randn(B, W, generator=g).cuda()
makers = {"adamw": lambda p: torch.optim.AdamW(p, lr=1e-4),
          "adamw8bit": lambda p: bo.AdamW8bit(p, lr=1e-4),
          "paged_adamw8bit": lambda p: bo.PagedAdamW8bit(p, lr=1e-4)}
parts = []
for name, make in makers.items():
    gc.collect()  # the last optimizer's model and state (reference cycles) go first
    torch.cuda.synchronize(); torch.cuda.empty_cache()
    free0, total = torch.cuda.mem_get_info()
    model = nn.Sequential(*(nn.Linear(W, W, bias=False) for _ in range(L))).cuda()
    with torch.no_grad():
        for layer, w in zip(model, weights):
            layer.weight.copy_(w)
    opt = make(model.parameters())
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    used_peak = 0
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        model(x).square().mean().backward()
        opt.step()
        torch.cuda.synchronize()
        used_peak = max(used_peak, free0 - torch.cuda.mem_get_info()[0])
    state = [t for s in opt.state.values() for t in s.values() if isinstance(t, torch.Tensor)]
    sb = sum(t.numel() * t.element_size() for t in state)
    paged = sum(getattr(t, "is_paged", False) for t in state)
    parts.append(f"{name}: torch_peak={torch.cuda.max_memory_allocated() / GB:.3f} "
                 f"torch_reserved={torch.cuda.max_memory_reserved() / GB:.3f} "
                 f"device_used={used_peak / GB:.3f} state={sb / GB:.3f} GB "
                 f"paged_tensors={paged}/{len(state)}")
    del model, opt, state
print("; ".join(parts))
PY
)
    rc=$?
    if [ $rc -eq 0 ]; then line PASS paged-probe "$probe"; else line FAIL paged-probe "exit $rc: $(echo "$probe" | tail -2 | tr '\n' ' ' | cut -c1-400)"; fi
else
    line SKIP paged-probe "needs cuda and bitsandbytes' GPU kernels"
fi

# --- the paged optimizer under a cap on PyTorch's memory (demo paged_optimizer) ---------
# Its default run above (demo:paged_optimizer) is read back: per optimizer, completed or
# "OOM at step k", step time, PyTorch's peak, device-wide used memory and state bytes.
if [ -s "$WORK/paged_optimizer.json" ]; then
    capped=$("$PYTHON" - "$WORK/paged_optimizer.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["figures"]
def num(key):
    v = f.get(key)
    return float("nan") if v is None else float(v)
arms = []
for arm in ("adamw", "adamw8bit", "paged_adamw8bit", "paged_adamw32bit"):
    done = num(f"completed_{arm}")
    if done != done:
        arms.append(f"{arm}: not measured")
        continue
    head = (f"completed {num(f'steps_done_{arm}'):.0f} steps {num(f'step_time_ms_{arm}'):.1f} ms/step"
            if done == 1 else f"OOM at step {num(f'oom_step_{arm}'):.0f}")
    arms.append(f"{arm}: {head}, torch_peak={num(f'torch_peak_gb_{arm}'):.3f} "
                f"device_used={num(f'device_used_gb_{arm}'):.3f} state={num(f'state_gb_{arm}'):.3f} "
                f"paged={num(f'paged_state_gb_{arm}'):.3f} GB")
ok = (num("measured") == 1 and num("completed_adamw8bit") == 0
      and num("completed_paged_adamw8bit") == 1 and num("completed_paged_adamw32bit") == 1)
detail = "; ".join(arms) if num("measured") == 1 else d["conclusion"][:300]
print(int(num("measured") == 1), int(ok), f"cap {num('cap_gb'):g} GB; {detail}")
PY
)
    measured=${capped%% *}; rest=${capped#* }; ok=${rest%% *}; detail=${rest#* }
    if [ "$measured" = 1 ] && [ "$ok" = 1 ]; then
        line PASS paged-cap "$detail"
    elif [ "$measured" = 1 ]; then
        line FAIL paged-cap "expected 8-bit AdamW OOM and both paged optimizers to complete: $detail"
    elif [ "$MODE" = cpu ]; then
        line SKIP paged-cap "not measured on the CPU (needs cuda and bitsandbytes)"
    else
        line FAIL paged-cap "not measured on the GPU: $detail"
    fi
else
    line FAIL paged-cap "no paged_optimizer result"
fi

# --- a `--queue gpu` Celery worker takes one run -----------------------------------------
celery_check() {
    local redis_bin="" redis_env="" port url
    if command -v redis-server >/dev/null; then
        redis_bin=$(command -v redis-server)
    else
        for d in "${WHEELS:-}" "$ROOT/.whl" "$ROOT/../.whl"; do
            if [ -z "$redis_bin" ] && [ -x "$d/redis/redis-server" ]; then
                redis_bin=$d/redis/redis-server redis_env="LD_LIBRARY_PATH=$d/redis"
            fi
        done
    fi
    if [ -n "$redis_bin" ]; then
        port=$("$PYTHON" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
        setsid env $redis_env "$redis_bin" --port "$port" --bind 127.0.0.1 --save '' \
            --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
        PIDS+=($!)
        url=redis://127.0.0.1:$port/0
        for _ in $(seq 50); do
            "$PYTHON" -c "import redis, sys; redis.Redis.from_url('$url').ping()" 2>/dev/null && break
            sleep 0.2
        done
        if ! "$PYTHON" -c "import redis; redis.Redis.from_url('$url').ping()" 2>/dev/null; then
            line FAIL celery-gpu "redis-server ($redis_bin) did not start: $(tail -2 "$WORK/redis.log" | tr '\n' ' ')"
            return
        fi
        redis_desc="$(env $redis_env "$redis_bin" --version 2>/dev/null | cut -d' ' -f3) at $redis_bin"
    elif [ "$MODE" = cpu ] && "$PYTHON" -c "import redis; redis.Redis.from_url('redis://127.0.0.1:6379/14').ping()" 2>/dev/null; then
        url=redis://127.0.0.1:6379/14 redis_desc="the local redis at $url"
    else
        line SKIP celery-gpu "no redis-server binary here (PATH or .whl/redis/)"
        return
    fi
    export IL_QUEUE=celery IL_REDIS_URL=$url IL_DATA_DIR=$WORK/data DATABASE_URL=
    if ! "$PYTHON" -m app migrate >"$WORK/migrate.log" 2>&1; then
        line FAIL celery-gpu "migrate failed: $(tail -2 "$WORK/migrate.log" | tr '\n' ' ')"
        return
    fi
    setsid "$PYTHON" -m app worker --queue gpu >"$WORK/worker.log" 2>&1 &
    PIDS+=($!)
    local t0=$SECONDS result
    result=$(timeout 150 "$PYTHON" - <<'PY' 2>&1
import datetime as dt, time
from sqlalchemy.orm import Session
from app.config import get_settings
from app.db import make_engine
from app.demos import get_demo
from app.demos.base import validate_params
from app.models import DemoRun
from app.runs.service import params_hash
from app.worker.celery_app import CeleryDispatcher

settings = get_settings()
engine = make_engine(settings)
demo = get_demo("rank")
params = validate_params(demo, {}).model_dump(mode="json")
with Session(engine) as session, session.begin():
    run = DemoRun(demo=demo.name, params=params, params_hash=params_hash(params),
                  code_version=demo.code_version, status="queued", device_requested="gpu",
                  created_at=dt.datetime.now(dt.UTC))
    session.add(run)
    session.flush()
    run_id = run.id
dispatcher = CeleryDispatcher(settings, reap_every=3600)
try:
    dispatcher.submit(run_id)
finally:
    dispatcher.stop()
deadline = time.monotonic() + 120
while True:
    with Session(engine) as session:
        run = session.get(DemoRun, run_id)
        assert run is not None
        if run.status in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            break
    time.sleep(0.5)
meta = (run.result or {}).get("meta", {})
print(run.status, run.device, f"run #{run_id} {run.status} on {run.device} ({run.device_name}), "
      f"worker {run.worker_host}, {run.wall_seconds or 0:.2f}s; error: {run.error}")
PY
)
    local status=${result%% *} rest=${result#* }
    local ran_on=${rest%% *}
    local detail="${rest#* } [redis $redis_desc, $((SECONDS - t0))s]"
    if [ "$status" = succeeded ] && [ "$ran_on" = "$EXPECT" ]; then
        line PASS celery-gpu "$detail"
    else
        line FAIL celery-gpu "$(echo "$result" | tail -3 | tr '\n' ' ' | cut -c1-500) [redis $redis_desc]; worker log: $(tail -3 "$WORK/worker.log" | tr '\n' ' ' | cut -c1-400)"
    fi
}
celery_check

printf 'SUMMARY %d PASS, %d FAIL, %d SKIP in %ds (mode %s)\n' $NPASS $NFAIL $NSKIP \
    $((SECONDS - START)) $MODE
[ $NFAIL -eq 0 ]

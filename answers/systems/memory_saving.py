# %% [markdown]
# # Saving memory in training: checkpointing, mixed precision, accumulation, the proof
#
# **Question.** What are the common ways to save GPU memory when training in PyTorch, and what does each one
# actually save?
#
# Training memory is parameters, gradients and optimizer state (fixed per model) plus the activations that
# autograd saves for the backward pass (proportional to batch size and depth). The usual tricks attack the second
# part. Here the saved activations are measured exactly, on the CPU, with `torch.autograd.graph.saved_tensors_hooks`,
# which sees every tensor autograd stores. Claims:
#
# 1. a chain of $N$ Linear→Tanh blocks saves $N+1$ activations of $B\times W$ floats; checkpointing segments of 2
#    blocks saves only the $N/2$ segment inputs (`test_checkpointing_keeps_only_segment_inputs`);
# 2. checkpointing gives the same gradients, at the price of re-running every forward matmul during backward
#    (`test_checkpointing_recomputes_the_forward_and_keeps_gradients`);
# 3. under bfloat16 autocast the saved activations take half the bytes, but the weights' bf16 copies are saved
#    too (`test_autocast_halves_activations_but_saves_weight_copies`);
# 4. accumulating gradients over 4 micro-batches with the loss divided by 4 gives the full-batch gradient while
#    saving a quarter of the activations at a time (`test_accumulation_matches_the_full_batch_with_a_quarter_of_the_activations`);
# 5. where it stops holding: checkpointing a block with dropout needs the RNG state restored
#    (`test_checkpointing_dropout_needs_the_rng_state`).

# %% [markdown]
# ## Measuring what autograd saves
#
# `saved_bytes` runs a forward pass with a pack hook that records every tensor autograd saves, skipping the
# parameters (which exist anyway) and counting a tensor once however often it is saved.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from answers._dispatch import DispatchLog

WIDTH, BATCH, DEPTH = 64, 32, 8


def saved_bytes(fn, params=()):
    """Run fn(); return its output and the bytes of the distinct non-parameter tensors autograd saved."""
    skip = {p.untyped_storage().data_ptr() for p in params}
    seen = {}

    def pack(t):
        if t.untyped_storage().data_ptr() not in skip:
            seen[(t.data_ptr(), tuple(t.shape))] = t.numel() * t.element_size()  # a view counts its own bytes
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, sum(seen.values())


def make_blocks(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return nn.ModuleList([nn.Sequential(nn.Linear(WIDTH, WIDTH), nn.Tanh(), nn.Dropout(dropout)) for _ in range(DEPTH)])


def run(blocks, x, segment=None, preserve_rng_state=True):
    """The chain of blocks; with `segment`, every `segment` blocks are one checkpoint."""
    if segment is None:
        for block in blocks:
            x = block(x)
        return x
    for start in range(0, len(blocks), segment):
        piece = nn.Sequential(*blocks[start : start + segment])
        x = checkpoint(piece, x, use_reentrant=False, preserve_rng_state=preserve_rng_state)
    return x


blocks = make_blocks()
params = list(blocks.parameters())
x = torch.randn(BATCH, WIDTH, requires_grad=True)
labels, values = [], []
for label, fn in [
    ("plain fp32", lambda: run(blocks, x)),
    ("checkpoint, 2 blocks", lambda: run(blocks, x, segment=2)),
    ("checkpoint, 4 blocks", lambda: run(blocks, x, segment=4)),
    ("micro-batch of 8", lambda: run(blocks, x[:8])),
]:
    labels.append(label)
    values.append(saved_bytes(fn, params)[1] / 1024)
fig, ax = plt.subplots(figsize=(5.5, 2.6))
ax.barh(labels, values)
ax.set_xlabel("activation memory saved for backward (KiB)")
ax.invert_yaxis()
fig.tight_layout()

# %% [markdown]
# ## Claims: gradient checkpointing

# %%
def test_checkpointing_keeps_only_segment_inputs():
    """Plain, the 8-block chain saves 9 activations of 32×64 floats (the input and each Tanh output); checkpointed in segments of 2 it saves 4, the segment inputs."""
    blocks = make_blocks()
    x = torch.randn(BATCH, WIDTH, requires_grad=True)
    params = list(blocks.parameters())
    activation = BATCH * WIDTH * 4  # bytes of one float32 activation
    assert saved_bytes(lambda: run(blocks, x), params)[1] == (DEPTH + 1) * activation
    assert saved_bytes(lambda: run(blocks, x, segment=2), params)[1] == (DEPTH // 2) * activation


def test_checkpointing_recomputes_the_forward_and_keeps_gradients():
    """Checkpointed gradients equal the plain ones, and its backward dispatches the 8 forward addmm ops again, where the plain backward dispatches none."""
    blocks = make_blocks()
    x = torch.randn(BATCH, WIDTH, requires_grad=True)
    counts, grads = [], []
    for segment in (None, 2):
        loss = run(blocks, x, segment).square().sum()
        with DispatchLog() as log:
            grads.append(torch.autograd.grad(loss, [x, *blocks.parameters()]))
        counts.append([name for name, _ in log.ops].count("addmm"))
    assert counts == [0, DEPTH]
    for plain, recomputed in zip(*grads, strict=True):
        torch.testing.assert_close(recomputed, plain, rtol=1e-6, atol=1e-6)


# %% [markdown]
# ## Claims: mixed precision and gradient accumulation
#
# Under `torch.autocast` the matmuls run in bfloat16 (float16 on GPUs), so the activations they save are half
# size. The parameters stay float32, and each layer's weight is cast to bfloat16 and that copy is saved for
# backward: at small batch sizes this extra can outweigh the activation saving.

# %%
def test_autocast_halves_activations_but_saves_weight_copies():
    """Under bfloat16 autocast the chain saves 9 activations of half the fp32 size plus a 64×64 bf16 copy of each of the 8 weights."""
    blocks = make_blocks()
    x = torch.randn(BATCH, WIDTH, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, total = saved_bytes(lambda: run(blocks, x), list(blocks.parameters()))
    assert out.dtype == torch.bfloat16 and blocks[0][0].weight.dtype == torch.float32
    half_activations = (DEPTH + 1) * BATCH * WIDTH * 2
    weight_copies = DEPTH * WIDTH * WIDTH * 2
    assert total == half_activations + weight_copies


def test_accumulation_matches_the_full_batch_with_a_quarter_of_the_activations():
    """Four backward passes on micro-batches of 8 with loss / 4 accumulate the full-batch gradient, and each saves a quarter of the full batch's activation bytes."""
    blocks = make_blocks()
    x = torch.randn(BATCH, WIDTH)
    params = list(blocks.parameters())
    expected = torch.autograd.grad(run(blocks, x).square().mean(), params)
    blocks.zero_grad()
    _, full_bytes = saved_bytes(lambda: run(blocks, x), params)
    for micro in x.chunk(4):
        out, micro_bytes = saved_bytes(lambda: run(blocks, micro), params)
        (out.square().mean() / 4).backward()
        assert micro_bytes * 4 == full_bytes
    for p, g in zip(params, expected, strict=True):
        torch.testing.assert_close(p.grad, g, rtol=1e-5, atol=1e-7)


# %% [markdown]
# ## Where it stops holding: recomputation must replay the randomness
#
# Checkpointing re-runs the forward pass during backward. A dropout inside must drop the *same* units the second
# time, so `checkpoint` saves and restores the RNG state (`preserve_rng_state=True`, the default). Without it the
# recomputed activations differ from the ones that produced the loss, and the gradients are wrong.

# %%
def test_checkpointing_dropout_needs_the_rng_state():
    """With dropout 0.5, checkpointing with the RNG state preserved reproduces the plain gradients; with preserve_rng_state=False they differ by more than 1e-3."""
    blocks = make_blocks(dropout=0.5)
    x = torch.randn(BATCH, WIDTH, requires_grad=True)
    grads = []
    for segment, preserve in [(None, True), (2, True), (2, False)]:
        torch.manual_seed(123)
        loss = run(blocks, x, segment, preserve_rng_state=preserve).square().sum()
        grads.append(torch.autograd.grad(loss, x)[0])
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-6, atol=1e-6)
    assert (grads[2] - grads[0]).abs().max() > 1e-3


# %% [markdown]
# ## Conclusion
#
# Activation memory is what grows with batch size and depth, and each technique trades something for it:
# checkpointing trades one extra forward pass for keeping only segment boundaries (about $\sqrt{N}$ segments
# minimize the total, Chen et al., 2016); mixed precision halves activations (and speeds up tensor-core matmuls) but
# keeps float32 master weights and adds low-precision weight copies; gradient accumulation keeps the memory of a
# micro-batch while reproducing the gradient of the large batch, except for batch-dependent layers such as BN.
# Parameters, gradients and optimizer state need other tools: sharding (ZeRO/FSDP), 8-bit optimizers, offloading.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

# %% [markdown]
# # Layer fusion: why TensorRT makes models faster, the proof
#
# **Question.** Why does TensorRT make a model run faster?
#
# An inference engine rewrites the graph before running it. *Vertical* fusion merges a chain (conv → BN → ReLU)
# into one kernel; *horizontal* fusion merges parallel layers that read the same input into one wider layer;
# *concat elimination* lets producers write straight into their slice of the concatenated output. Each rewrite
# is exact and removes kernel launches and passes over memory. Separately, engines pick the fastest kernel per
# layer and can lower precision, which is *not* exact. Claims:
#
# 1. conv → BN → ReLU in eval mode equals a folded convolution followed by ReLU, with one op fewer
#    (`test_vertical_fusion_is_exact_and_drops_an_op`);
# 2. three 1×1 convolutions on the same input equal one 1×1 convolution with stacked filters, split afterwards
#    (`test_horizontal_fusion_of_parallel_1x1_convs_is_exact`), and run faster (`test_horizontal_fusion_is_faster`,
#    slow);
# 3. writing each branch into its slice of a preallocated buffer equals `torch.cat` without running a `cat`
#    (`test_concat_elimination_writes_branches_in_place`);
# 4. where it stops holding: *consecutive* 1×1 convolutions merge only if nothing non-linear sits between them
#    (`test_consecutive_1x1_convs_merge_only_without_activation`), and lower precision changes the numbers
#    (`test_reduced_precision_is_not_exact`).

# %% [markdown]
# ## An Inception-like block
#
# Three 1×1 branches read the same input and their outputs are concatenated, the pattern TensorRT's documentation
# uses to illustrate horizontal fusion and concat elimination.

# %%
import time

import pytest
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from answers._dispatch import DispatchLog


def op_names(fn):
    with torch.no_grad(), DispatchLog() as log:
        result = fn()
    return result, [name for name, _ in log.ops]


def parallel_branches(in_channels=16, out_channels=(8, 12, 4), seed=0):
    torch.manual_seed(seed)
    return [nn.Conv2d(in_channels, c, 1) for c in out_channels]


def fuse_horizontally(branches):
    """One 1×1 convolution whose filters are the branches' filters stacked along the output dimension."""
    fused = nn.Conv2d(branches[0].in_channels, sum(b.out_channels for b in branches), 1)
    with torch.no_grad():
        fused.weight.copy_(torch.cat([b.weight for b in branches]))  # (sum C_out, C_in, 1, 1)
        fused.bias.copy_(torch.cat([b.bias for b in branches]))
    return fused


# %% [markdown]
# ## Claims: the three rewrites are exact

# %%
def test_vertical_fusion_is_exact_and_drops_an_op():
    """In eval mode ReLU(BN(conv(x))) equals ReLU(folded_conv(x)) to 1e-5, and the fused chain dispatches only convolution and relu, no native_batch_norm."""
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8)
    with torch.no_grad():
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
    chain = nn.Sequential(conv, bn, nn.ReLU()).eval()
    fused = nn.Sequential(fuse_conv_bn_eval(conv.eval(), bn.eval()), nn.ReLU()).eval()
    x = torch.randn(2, 4, 8, 8)
    expected, chain_ops = op_names(lambda: chain(x))
    actual, fused_ops = op_names(lambda: fused(x))
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)
    assert "native_batch_norm" in chain_ops
    assert fused_ops == ["convolution", "relu"]


def test_horizontal_fusion_of_parallel_1x1_convs_is_exact():
    """Splitting the output of the stacked 1×1 convolution by (8, 12, 4) channels gives each branch's output, with one convolution dispatched instead of three."""
    branches = parallel_branches()
    fused = fuse_horizontally(branches)
    x = torch.randn(2, 16, 8, 8)
    separate, separate_ops = op_names(lambda: [b(x) for b in branches])
    together, fused_ops = op_names(lambda: fused(x).split([8, 12, 4], dim=1))
    for actual, expected in zip(together, separate, strict=True):
        torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)
    assert separate_ops.count("convolution") == 3 and fused_ops.count("convolution") == 1


def test_concat_elimination_writes_branches_in_place():
    """For a batch of one, each 1×1 branch computed as a matmul with out= into its rows of one buffer equals torch.cat of the branch outputs, and no cat runs."""
    branches = parallel_branches()
    x = torch.randn(1, 16, 8, 8)
    expected = torch.cat([b(x) for b in branches], dim=1).detach()  # (1, 24, 8, 8)

    def into_buffer():
        flat = x.reshape(16, 64)  # (C_in, H·W)
        buffer = torch.empty(24, 64)
        start = 0
        for b in branches:
            rows = buffer[start : start + b.out_channels]  # contiguous rows: a valid out= target
            torch.addmm(b.bias[:, None], b.weight[:, :, 0, 0], flat, out=rows)
            start += b.out_channels
        return buffer.reshape(1, 24, 8, 8)

    actual, ops = op_names(into_buffer)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)
    assert "cat" not in ops and ops.count("addmm") == 3


@pytest.mark.slow
def test_horizontal_fusion_is_faster():
    """On a small feature map the stacked 1×1 convolution runs at least 1.5 times faster than the three separate ones (best of 7 interleaved rounds)."""
    branches = parallel_branches()
    fused = fuse_horizontally(branches)
    x = torch.randn(1, 16, 8, 8)

    def timed(fn):
        start = time.perf_counter()
        for _ in range(20):
            fn()
        return time.perf_counter() - start

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a busy machine, multi-threaded kernels wait for descheduled threads
    try:
        with torch.no_grad():  # interleaved, so that a burst of load on the machine hits both
            rounds = [(timed(lambda: [b(x) for b in branches]), timed(lambda: fused(x))) for _ in range(7)]
    finally:
        torch.set_num_threads(threads)
    assert min(s for s, _ in rounds) / min(f for _, f in rounds) > 1.5


# %% [markdown]
# ## Where it stops holding
#
# Horizontal fusion needs a shared input. Two *consecutive* 1×1 convolutions compose into one ($W_2 W_1$, bias
# $W_2 b_1 + b_2$) only when nothing non-linear sits between them; with a ReLU in between (a CBR chain) the
# product is wrong. And TensorRT's other big lever, FP16/INT8 kernels, changes the arithmetic: it is a trade of
# accuracy for speed that needs checking (and calibration for INT8), unlike the fusions above.

# %%
def test_consecutive_1x1_convs_merge_only_without_activation():
    """conv2(conv1(x)) equals one 1×1 convolution with weight W2·W1 and bias W2·b1 + b2, but conv2(relu(conv1(x))) differs from it by more than 0.1."""
    torch.manual_seed(0)
    conv1, conv2 = nn.Conv2d(8, 8, 1), nn.Conv2d(8, 8, 1)
    w1, w2 = conv1.weight[:, :, 0, 0], conv2.weight[:, :, 0, 0]
    merged = nn.Conv2d(8, 8, 1)
    with torch.no_grad():
        merged.weight.copy_((w2 @ w1)[:, :, None, None])
        merged.bias.copy_(w2 @ conv1.bias + conv2.bias)
        x = torch.randn(2, 8, 5, 5)
        torch.testing.assert_close(merged(x), conv2(conv1(x)), rtol=1e-5, atol=1e-5)
        assert (merged(x) - conv2(torch.relu(conv1(x)))).abs().max() > 0.1


def test_reduced_precision_is_not_exact():
    """The same convolution in bfloat16 differs from float32 by more than 1e-3 relative error, where the fusions above agree to float32 rounding."""
    torch.manual_seed(0)
    conv = nn.Conv2d(16, 16, 3, padding=1)
    x = torch.randn(1, 16, 8, 8)
    with torch.no_grad():
        expected = conv(x)
        actual = conv.to(torch.bfloat16)(x.to(torch.bfloat16)).float()
    assert ((actual - expected).norm() / expected.norm()).item() > 1e-3


# %% [markdown]
# ## Conclusion
#
# TensorRT's graph rewrites (vertical CBR fusion, horizontal fusion of layers that share an input, and concat
# elimination) are exact and save kernel launches and full passes over activations. The rest of its speed comes
# from choosing the fastest kernel per layer and shape (auto-tuning), planning and reusing memory, and FP16/INT8
# kernels, the last of which changes the numbers and must be validated.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

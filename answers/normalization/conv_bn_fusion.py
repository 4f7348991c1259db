# %% [markdown]
# # Conv-BN fusion: the proof
#
# **Question.** How do you fold a BatchNorm layer into the convolution before it, and why does that make
# inference faster?
#
# In eval mode a BatchNorm layer applies a fixed affine map to each channel, and a convolution is linear in
# its weights, so the pair collapses into one convolution with rescaled weights and a new bias. This module
# derives the folded weights, checks them against PyTorch's own modules and its fusion helper, counts the
# work that disappears, and then shows where the folding stops being exact. Claims:
#
# 1. the fused convolution reproduces conv → BN in eval mode, to float64 rounding, for a strided grouped
#    convolution without a bias (`test_fused_conv_matches_conv_then_bn_in_eval`);
# 2. a convolution that has its own bias folds too, the bias being scaled and shifted
#    (`test_fused_conv_keeps_the_conv_bias`);
# 3. our fusion gives the same weights and bias as `torch.nn.utils.fusion.fuse_conv_bn_eval`
#    (`test_fusion_agrees_with_torch_fuse_conv_bn_eval`);
# 4. the fused model dispatches one ATen `convolution` and nothing else, where conv → BN also dispatches
#    `native_batch_norm` (`test_fused_model_dispatches_one_op_instead_of_two`);
# 5. the fused model writes one activation tensor instead of two
#    (`test_fused_model_writes_half_the_activation_bytes`);
# 6. a stack of small fused convolutions runs at least 1.4× faster than the conv → BN stack
#    (`test_fused_stack_runs_faster`, marked slow).
#
# Where it stops holding:
#
# 7. in train mode BN normalizes with the statistics of the current batch, so no fixed convolution matches it
#    (`test_fusion_breaks_in_train_mode`), and PyTorch's helper refuses to fuse modules in train mode
#    (`test_torch_refuses_to_fuse_in_train_mode`);
# 8. the recipe in the source note drops the convolution's own bias
#    (`test_note_fusion_drops_the_conv_bias`) and rebuilds the convolution with hard-coded arguments, losing its
#    padding (`test_rebuilding_the_conv_loses_its_padding`);
# 9. a BN placed *before* a convolution folds exactly without padding and with replicate, reflect or circular
#    padding, but not with zero padding: the border pixels differ
#    (`test_bn_before_a_conv_folds_exactly_unless_zero_padded`);
# 10. for a transposed convolution the output channels sit on weight dimension 1, so the usual reshape scales
#     the wrong axis (`test_transposed_conv_scales_weight_dim_1`);
# 11. exact in real arithmetic is not the same as harmless after quantization: a channel with a tiny running
#     variance gets its filter multiplied by a large $\gamma/\sqrt{\sigma^2+\epsilon}$, which ruins per-tensor int8
#     quantization of the folded weights (`test_folding_a_low_variance_channel_spoils_per_tensor_int8`).

# %% [markdown]
# ## Batch norm in eval mode is an affine map per channel
#
# In eval mode BN uses its stored running mean $\mu_c$ and running variance $\sigma_c^2$, so for a
# convolution output $z$ it computes
#
# $$\mathrm{BN}(z)_c = \gamma_c \frac{z_c - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c = s_c z_c + (\beta_c - s_c \mu_c),
# \qquad s_c = \frac{\gamma_c}{\sqrt{\sigma_c^2 + \epsilon}}.$$
#
# Output channel $c$ of the convolution is $z_c = W_c \star x + b_c$, and multiplying it by $s_c$ is the same as
# multiplying the filter $W_c$ by $s_c$. So the pair equals one convolution with
#
# $$W'_c = s_c W_c, \qquad b'_c = s_c (b_c - \mu_c) + \beta_c,$$
#
# where $b_c = 0$ when the convolution has no bias. Everything else about the convolution (stride, padding,
# dilation, groups) stays as it was, which is why we copy the module rather than build a new one.

# %%
import copy

import torch
from torch import nn


def fuse_conv_bn(conv, bn):
    """A new convolution equal to bn(conv(x)) for a BN layer in eval mode."""
    with torch.no_grad():
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # (C_out,)
        conv_bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        fused = copy.deepcopy(conv)  # keeps stride, padding, dilation, groups
        # weight (C_out, C_in / groups, kH, kW): scale each output channel's filter
        fused.weight = nn.Parameter(conv.weight * scale.reshape(-1, 1, 1, 1))
        fused.bias = nn.Parameter(scale * (conv_bias - bn.running_mean) + bn.bias)
    return fused


# %% [markdown]
# ## A conv → BN pair with statistics worth folding
#
# A freshly built BN has $\mu = 0$, $\sigma^2 = 1$, $\gamma = 1$, $\beta = 0$, which would hide mistakes in the
# fold. This helper randomizes $\gamma$ and $\beta$ and runs a few training batches with a shifted, scaled input
# so the running statistics move far from their initial values; then it switches the pair to eval mode.

# %%
def conv_bn_pair(in_channels=4, out_channels=6, bias=False, seed=0, dtype=torch.float64, **conv_kwargs):
    """An eval-mode nn.Sequential(conv, bn) whose BN has non-trivial parameters and running statistics."""
    torch.manual_seed(seed)
    conv = nn.Conv2d(in_channels, out_channels, 3, bias=bias, **conv_kwargs)
    bn = nn.BatchNorm2d(out_channels)
    model = nn.Sequential(conv, bn).to(dtype)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2.0)
        bn.bias.normal_()
        model.train()
        for _ in range(5):
            model(3 * torch.randn(8, in_channels, 10, 10, dtype=dtype) + 1)
    return model.eval()


def max_abs_diff(a, b):
    return (a - b).abs().max().item()


# %% [markdown]
# ## The fused convolution next to the pair
#
# The table compares our fusion, and PyTorch's helper `fuse_conv_bn_eval`, with the pair they replace: a
# strided, padded, grouped convolution, with and without its own bias. The last row runs the pair in train mode,
# where the fold no longer applies.

# %%
from torch.nn.utils.fusion import fuse_conv_bn_eval

torch.manual_seed(0)
x = torch.randn(2, 4, 10, 10, dtype=torch.float64)  # (B, C_in, H, W)
rows = []
for bias in (False, True):
    pair = conv_bn_pair(bias=bias, stride=2, padding=1, groups=2)
    with torch.no_grad():
        expected = pair(x)
        rows.append((f"ours, conv bias={bias}, eval", max_abs_diff(fuse_conv_bn(*pair)(x), expected)))
        rows.append((f"torch helper, conv bias={bias}, eval", max_abs_diff(fuse_conv_bn_eval(*pair)(x), expected)))
pair = conv_bn_pair(stride=2, padding=1, groups=2)
fused = fuse_conv_bn(*pair)
with torch.no_grad():
    rows.append(("ours vs the same pair in train mode", max_abs_diff(fused(x), pair.train()(x))))
print(f"{'fused conv compared with conv -> BN':40} max |difference|")
for name, diff in rows:
    print(f"{name:40} {diff:.1e}")

# %% [markdown]
# ## Claims: the fold is exact in eval mode
#
# Each claim builds its own pair from a fixed seed, in float64 so that "exact" means agreement to about
# $10^{-12}$, not merely to float32 noise. The oracle is PyTorch's `nn.Conv2d` followed by `nn.BatchNorm2d`.

# %%
def test_fused_conv_matches_conv_then_bn_in_eval():
    """For a strided, padded, grouped convolution without bias, the fused convolution equals conv followed by BN in eval mode."""
    pair = conv_bn_pair(bias=False, stride=2, padding=1, groups=2)
    x = torch.randn(2, 4, 10, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(10))
    with torch.no_grad():
        actual = fuse_conv_bn(*pair)(x)
        expected = pair(x)
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)


def test_fused_conv_keeps_the_conv_bias():
    """When the convolution has its own bias, the fused bias s·(b − μ) + β reproduces conv followed by BN in eval mode."""
    pair = conv_bn_pair(bias=True, padding=1)
    x = torch.randn(2, 4, 10, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        actual = fuse_conv_bn(*pair)(x)
        expected = pair(x)
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)


def test_fusion_agrees_with_torch_fuse_conv_bn_eval():
    """Our folded weight and bias equal those of torch.nn.utils.fusion.fuse_conv_bn_eval, with and without a conv bias."""
    for bias in (False, True):
        pair = conv_bn_pair(bias=bias, groups=2)
        actual = fuse_conv_bn(*pair)
        expected = fuse_conv_bn_eval(*pair)
        torch.testing.assert_close(actual.weight, expected.weight, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(actual.bias, expected.bias, rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## Counting the work that disappears
#
# The fold does not make the convolution cheaper: the fused convolution has the same weight shape, so the same
# multiply-accumulates. What disappears is BN's own pass over the activation. A `TorchDispatchMode` sees every
# ATen operator that runs, so it can list the ops each model dispatches and add up the bytes of the tensors they
# return; ours, `DispatchLog`, is a dozen lines in `answers/_dispatch.py`, shared with the dropout proof.
# Conv → BN runs a `convolution`, writes its output, then runs `native_batch_norm`, which reads that output
# back and writes a second tensor of the same size (plus a zero-size `empty` placeholder for statistics it does
# not need in eval mode). The fused model runs the convolution alone.

# %%
from answers._dispatch import DispatchLog  # a TorchDispatchMode that records (op name, bytes written)


def dispatched_ops(model, x):
    with torch.no_grad(), DispatchLog() as log:
        model(x)
    return log.ops


pair = conv_bn_pair(dtype=torch.float32, padding=1)
x = torch.randn(1, 4, 32, 32)
print(f"{'model':8} {'ATen op':20} bytes written")
for name, model in (("conv→BN", pair), ("fused", fuse_conv_bn(*pair))):
    for op, written in dispatched_ops(model, x):
        print(f"{name:8} {op:20} {written}")

# %% [markdown]
# ## Claims: one op and one activation instead of two
#
# The expected byte count comes from the output shape, $N \cdot C_{out} \cdot H_{out} \cdot W_{out}$ float32
# numbers, not from the log.

# %%
def test_fused_model_dispatches_one_op_instead_of_two():
    """In eval mode conv → BN dispatches one convolution and one native_batch_norm; the fused model dispatches only the convolution."""
    pair = conv_bn_pair(dtype=torch.float32, padding=1)
    x = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(12))
    unfused = [op for op, _ in dispatched_ops(pair, x) if op != "empty"]  # drop the zero-size placeholder
    fused = [op for op, _ in dispatched_ops(fuse_conv_bn(*pair), x)]
    assert unfused == ["convolution", "native_batch_norm"]
    assert fused == ["convolution"]


def test_fused_model_writes_half_the_activation_bytes():
    """Conv → BN writes two output-sized activations in eval mode, the fused convolution one."""
    pair = conv_bn_pair(in_channels=4, out_channels=6, dtype=torch.float32, padding=1)
    x = torch.randn(2, 4, 16, 16, generator=torch.Generator().manual_seed(13))
    activation_bytes = 2 * 6 * 16 * 16 * 4  # N · C_out · H · W float32 numbers
    unfused = sum(written for _, written in dispatched_ops(pair, x))
    fused = sum(written for _, written in dispatched_ops(fuse_conv_bn(*pair), x))
    assert (unfused, fused) == (2 * activation_bytes, activation_bytes)


# %% [markdown]
# ## Claim: the fused model is faster
#
# Wall-clock time depends on the machine, so this claim is a ratio measured in one run, with a wide margin, and is
# marked slow. We time eight small conv → BN blocks against their fused version, interleaving the two and keeping
# the best of 30 runs of each. With activations this small the cost of each op is mostly its dispatch overhead, and
# fusion halves the number of ops; on a 2-core CPU the measured ratio is about 2, and we assert 1.4. With large
# activations and a convolution that dominates the time, the gain shrinks to BN's share of that time: its one
# read and one write of the activation.

# %%
import time

import pytest


def best_times(model_a, model_b, x, repeats=30):
    """Best wall-clock time of each model over interleaved runs, after a warm-up."""
    times_a, times_b = [], []
    with torch.no_grad():
        for _ in range(3):
            model_a(x), model_b(x)
        for _ in range(repeats):
            start = time.perf_counter()
            model_a(x)
            times_a.append(time.perf_counter() - start)
            start = time.perf_counter()
            model_b(x)
            times_b.append(time.perf_counter() - start)
    return min(times_a), min(times_b)


@pytest.mark.slow
def test_fused_stack_runs_faster():
    """Eight small conv → BN blocks take at least 1.4 times as long as the same blocks fused, in eval mode on CPU."""
    blocks = [conv_bn_pair(4, 4, seed=seed, dtype=torch.float32, padding=1) for seed in range(8)]
    unfused = nn.Sequential(*blocks)
    fused = nn.Sequential(*[fuse_conv_bn(*block) for block in blocks])
    x = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(14))
    unfused_time, fused_time = best_times(unfused, fused, x)
    assert unfused_time / fused_time > 1.4


# %% [markdown]
# ## Where it stops holding: train mode
#
# In train mode BN ignores its running statistics and normalizes with the mean and the *biased* variance of the
# current batch. The fold needs fixed numbers, so it cannot follow: the eval-mode fusion disagrees with the train-mode
# output. Folding the current batch's own statistics does reproduce that one batch, which shows exactly what
# changed, but the same fused convolution is wrong on the next batch, whose statistics differ. PyTorch's helper
# checks the mode of each module and raises `AssertionError("Fusion only for eval!")` (an explicit `raise`, so it
# stays active under `python -O`) if either one is training.

# %%
def with_running_stats(bn, mean, var):
    """A copy of bn whose running statistics are replaced by the given ones."""
    bn = copy.deepcopy(bn)
    bn.running_mean.copy_(mean)
    bn.running_var.copy_(var)
    return bn


def test_fusion_breaks_in_train_mode():
    """In train mode conv → BN equals a fusion of the batch's own mean and biased variance, not the eval-mode fusion, and that fusion fails on another batch."""
    conv, bn = conv_bn_pair(padding=1)
    x, other_x = torch.randn(2, 8, 4, 10, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(15))
    with torch.no_grad():
        z = conv(x)  # (B, C_out, H, W)
        batch_fused = fuse_conv_bn(conv, with_running_stats(bn, z.mean((0, 2, 3)), z.var((0, 2, 3), correction=0)))
        eval_fused = fuse_conv_bn(conv, bn)
        train_pair = nn.Sequential(conv, copy.deepcopy(bn)).train()
        expected, other_expected = train_pair(x), train_pair(other_x)
        torch.testing.assert_close(batch_fused(x), expected, rtol=1e-10, atol=1e-10)
        assert max_abs_diff(eval_fused(x), expected) > 0.1
        assert max_abs_diff(batch_fused(other_x), other_expected) > 0.1


def test_torch_refuses_to_fuse_in_train_mode():
    """torch.nn.utils.fusion.fuse_conv_bn_eval raises when the convolution alone, or the BN alone, is in train mode."""
    conv, bn = conv_bn_pair()  # both in eval mode: fusing works
    fuse_conv_bn_eval(conv, bn)
    for training in (conv, bn):
        training.train()
        with pytest.raises(AssertionError, match="only for eval"):
            fuse_conv_bn_eval(conv, bn)
        training.eval()


# %% [markdown]
# ## Where it stops holding: the source note's recipe
#
# The note folds the BN shift as $\beta - s\mu$, which is right only for a convolution without bias, and writes
# the result into a freshly built `nn.Conv2d` whose arguments are hard-coded (in the note, 3 input channels,
# 128 output channels, kernel 3, read from a line whose commas were lost). A fresh module has the default
# stride 1 and padding 0, whatever the original had. Below is that recipe in our words, then two claims that
# show both faults.

# %%
def note_style_fusion(conv, bn):
    """The source note's recipe: bias β − s·μ, weights scaled per output channel, a new Conv2d(3, 128, 3)."""
    with torch.no_grad():
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        fused = nn.Conv2d(3, 128, 3).to(conv.weight.dtype)
        fused.weight = nn.Parameter(conv.weight * scale.reshape(-1, 1, 1, 1))
        fused.bias = nn.Parameter(bn.bias - bn.running_mean * scale)
    return fused


def test_note_fusion_drops_the_conv_bias():
    """The note's recipe is exact for a convolution without bias, but with a conv bias b its output is off by exactly s·b per channel."""
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(16))
    with torch.no_grad():
        pair = conv_bn_pair(3, 128, bias=False)
        torch.testing.assert_close(note_style_fusion(*pair)(x), pair(x), rtol=1e-12, atol=1e-12)

        conv, bn = conv_bn_pair(3, 128, bias=True)
        actual = note_style_fusion(conv, bn)(x) - bn(conv(x))
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        expected = (-scale * conv.bias).reshape(1, -1, 1, 1).expand_as(actual)
        torch.testing.assert_close(actual, expected, rtol=1e-10, atol=1e-10)


def test_rebuilding_the_conv_loses_its_padding():
    """For a 3×3 convolution with padding 1, the note's rebuilt convolution has padding 0 and returns a smaller output."""
    pair = conv_bn_pair(3, 128, padding=1)
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(17))
    with torch.no_grad():
        assert pair(x).shape == (1, 128, 8, 8)
        assert note_style_fusion(*pair)(x).shape == (1, 128, 6, 6)
        assert fuse_conv_bn(*pair)(x).shape == (1, 128, 8, 8)


# %% [markdown]
# ## Where it stops holding: BN before the convolution, and transposed convolutions
#
# A BN layer that comes *before* a convolution, with no activation in between, is an affine map on the
# convolution's input: scale input channel $i$ of the filter by $s_i$ and add
# $\sum_{i,k} W_{o,i,k}\,(\beta_i - s_i\mu_i)$ to the bias. That is exact if every value the filter sees is BN's
# output. Replicate, reflect and circular padding only copy values that BN produced, and copying commutes with a
# per-channel affine map, so padding BN's output equals applying BN to the padded input: the fold stays exact.
# Zero padding inserts zeros *after* BN in the original model, but in the folded model those zeros would need to be
# $\beta_i - s_i\mu_i$; so with zero padding the border outputs differ while the interior matches.
#
# A transposed convolution stores its weight as $(C_{in}, C_{out}/\text{groups}, k_H, k_W)$, so its output channels
# sit on dimension 1. Reshaping the scale to $(-1, 1, 1, 1)$ scales the *input* channels instead; when the two
# counts are equal this runs without error and is silently wrong. PyTorch's helper takes `transpose=True` for this.

# %%
def fold_bn_into_next_conv(bn, conv):
    """A new convolution equal to conv(bn(x)) when the convolution does not zero-pad."""
    with torch.no_grad():
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # (C_in,)
        shift = bn.bias - scale * bn.running_mean  # (C_in,)
        fused = copy.deepcopy(conv)
        fused.weight = nn.Parameter(conv.weight * scale.reshape(1, -1, 1, 1))
        conv_bias = conv.bias if conv.bias is not None else torch.zeros(conv.out_channels, dtype=shift.dtype)
        fused.bias = nn.Parameter(conv_bias + (conv.weight * shift.reshape(1, -1, 1, 1)).sum((1, 2, 3)))
    return fused


def bn_then_conv(padding, padding_mode="zeros"):
    """An eval-mode nn.Sequential(bn, conv) with non-trivial BN parameters and statistics."""
    _, bn = conv_bn_pair(6, 4)  # reuse the helper for a trained BatchNorm2d(4)
    torch.manual_seed(1)
    conv = nn.Conv2d(4, 6, 3, padding=padding, padding_mode=padding_mode).double()
    return nn.Sequential(bn, conv).eval()


def test_bn_before_a_conv_folds_exactly_unless_zero_padded():
    """Folding a BN into the following convolution is exact without padding and with replicate, reflect or circular padding; with zero padding only the interior matches."""
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(18))
    with torch.no_grad():
        for padding, padding_mode in ((0, "zeros"), (1, "replicate"), (1, "reflect"), (1, "circular")):
            model = bn_then_conv(padding, padding_mode)
            torch.testing.assert_close(fold_bn_into_next_conv(*model)(x), model(x), rtol=1e-12, atol=1e-12)

        model = bn_then_conv(padding=1)  # padding_mode="zeros"
        actual, expected = fold_bn_into_next_conv(*model)(x), model(x)
        interior = (..., slice(1, -1), slice(1, -1))
        torch.testing.assert_close(actual[interior], expected[interior], rtol=1e-12, atol=1e-12)
        assert max_abs_diff(actual, expected) > 0.1


def test_transposed_conv_scales_weight_dim_1():
    """For ConvTranspose2d followed by BN, the fold must scale weight dimension 1: torch's helper with transpose=True matches, the Conv2d reshape does not."""
    _, bn = conv_bn_pair(4, 4)
    torch.manual_seed(2)
    conv_t = nn.ConvTranspose2d(4, 4, 3, stride=2).double().eval()
    x = torch.randn(2, 4, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(19))
    with torch.no_grad():
        expected = bn(conv_t(x))
        torch.testing.assert_close(fuse_conv_bn_eval(conv_t, bn, transpose=True)(x), expected, rtol=1e-12, atol=1e-12)
        assert max_abs_diff(fuse_conv_bn(conv_t, bn)(x), expected) > 0.1


# %% [markdown]
# ## Where it stops holding: exact, but not harmless after quantization
#
# The fold is exact in real arithmetic, and in float32 the fused and unfused models differ only by rounding. But it
# multiplies filter $c$ by $s_c = \gamma_c/\sqrt{\sigma_c^2+\epsilon}$, and that factor is large for a channel whose
# running variance is tiny (a nearly constant channel): up to $\gamma_c/\sqrt{\epsilon} \approx 316\,\gamma_c$ with
# PyTorch's default $\epsilon = 10^{-5}$. Deployment usually quantizes the *folded* weights. Symmetric per-tensor int8
# uses one step size, $\max|W'|/127$, for the whole tensor, so one magnified channel sets a step so coarse that the
# other channels' weights round to a few levels or to zero. Nagel et al. (2019, "Data-Free Quantization") report
# exactly this spread of folded per-channel weight ranges in MobileNetV2. Per-channel step sizes fix it. Below, one
# channel of a trained pair gets a running variance of $10^{-3}$, about 1/1700 of the others'.

# %%
def quantize_int8(weight, per_channel):
    """Symmetric int8 quantize-dequantize: one step size max|w|/127 for the tensor, or one per output channel."""
    dims = tuple(range(1, weight.dim()))
    step = (weight.abs().amax(dim=dims, keepdim=True) if per_channel else weight.abs().max()) / 127
    return (weight / step).round().clamp(-127, 127) * step


def test_folding_a_low_variance_channel_spoils_per_tensor_int8():
    """With one channel's running_var at 1e-3, per-tensor int8 quantization of the folded weights errs by over 10% on the other channels, against under 1% per channel or before folding."""
    conv, bn = conv_bn_pair(4, 6)
    with torch.no_grad():
        bn.running_var[0] = 1e-3  # a nearly constant channel: its s is 50 to 95 times the others'
        folded = fuse_conv_bn(conv, bn).weight  # (C_out, C_in, kH, kW)
        x = torch.randn(2, 4, 10, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(20))

        def error_on_other_channels(weight, quantized):  # relative error of conv(x) on channels 1..5
            expected = nn.functional.conv2d(x, weight)[:, 1:]
            return ((nn.functional.conv2d(x, quantized)[:, 1:] - expected).norm() / expected.norm()).item()

        assert error_on_other_channels(folded, quantize_int8(folded, per_channel=False)) > 0.1
        assert error_on_other_channels(folded, quantize_int8(folded, per_channel=True)) < 0.01
        assert error_on_other_channels(conv.weight, quantize_int8(conv.weight, per_channel=False)) < 0.01


# %% [markdown]
# ## Conclusion
#
# In eval mode a BN layer is a frozen per-channel affine map, and folding it into the preceding convolution is an
# exact rewrite: scale each output filter by $\gamma/\sqrt{\sigma^2+\epsilon}$ and fold the convolution's bias, the
# running mean and $\beta$ into one bias. The convolution keeps its cost; BN's op, its extra activation and the
# pass over memory disappear. The rewrite is only valid with frozen statistics (not in train mode), must keep the
# convolution's own bias and hyper-parameters, must scale the right weight axis, and does not carry over exactly to
# a BN that precedes a zero-padded convolution. Exact does not mean quantization-friendly: folding can magnify one
# channel's filter enough to spoil per-tensor int8 quantization, which per-channel quantization avoids.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

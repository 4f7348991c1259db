# %% [markdown]
# # Depthwise separable convolution: the proof
#
# **Question.** What is a depthwise separable convolution, how much does it save over a standard
# convolution, and what does it give up?
#
# A standard $k\times k$ convolution mixes space and channels in one step. A depthwise separable
# convolution splits it in two: a *depthwise* $k\times k$ convolution that filters every input channel
# on its own (`groups=in_channels`), then a *pointwise* $1\times 1$ convolution that mixes channels.
# Claims:
#
# 1. the depthwise step filters each channel alone, and can still multiply the channel count
#    (`test_depthwise_filters_each_channel_alone`), while each pointwise kernel spans every input channel
#    (`test_pointwise_kernels_span_every_input_channel`);
# 2. weights fall by the factor $1/C_\text{out} + 1/k^2$, counted with `numel()` (`test_weight_ratio_is_one_over_c_out_plus_one_over_k_squared`);
# 3. FLOPs fall by the same factor, counted by `FlopCounterMode` (`test_flop_ratio_is_one_over_c_out_plus_one_over_k_squared`);
# 4. the pair is a standard convolution whose kernel is rank one per input channel (`test_separable_pair_is_a_standard_conv`);
# 5. a random standard kernel is not separable; the best factorization misses most of it, as much as its
#    singular values predict (`test_random_standard_kernel_is_not_separable`);
# 6. the depthwise step does few FLOPs per byte it moves, which is why the FLOP ratio is not the speed
#    ratio (`test_depthwise_step_does_few_flops_per_byte`).

# %% [markdown]
# ## The two layers
#
# `depthwise_separable` returns the pair as an `nn.Sequential`. The stride and padding belong to the
# depthwise step; the pointwise step then works at the output resolution. `count_flops` (from the shared `answers/_models.py`) runs a module
# under `FlopCounterMode`, which counts each multiply-accumulate of a convolution as 2 FLOPs and ignores
# the bias. It only needs shapes, so we feed it tensors on the `meta` device, which hold no data.

# %%
from fractions import Fraction

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from answers._models import count_flops


def depthwise_separable(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=False, **kwargs):
    return nn.Sequential(
        nn.Conv2d(in_channels, in_channels, kernel_size, stride, padding, groups=in_channels, bias=bias, **kwargs),
        nn.Conv2d(in_channels, out_channels, 1, bias=bias, **kwargs),
    )


def count_weights(module):
    return sum(p.numel() for p in module.parameters())


# %% [markdown]
# ## Costs side by side
#
# For several layer shapes we count weights and FLOPs of the standard convolution and of its separable
# replacement, and print both ratios next to the closed form $1/C_\text{out} + 1/k^2$. Biases are
# excluded here (`bias=False`). The last shape has a single output channel, where the pair costs more than
# the standard layer.

# %%
SHAPES = [  # (in_channels, out_channels, kernel_size, stride, padding, input size)
    (32, 64, 3, 1, 1, 16),
    (32, 8, 3, 1, 1, 16),
    (16, 128, 5, 2, 2, 16),
    (64, 256, 7, 1, 3, 8),
    (8, 16, 3, 2, 0, 15),
    (16, 1, 3, 1, 1, 8),
]


def costs(in_channels, out_channels, kernel_size, stride, padding, size):
    """(weights, FLOPs) of the standard conv and of the separable pair, on the meta device."""
    x = torch.empty(1, in_channels, size, size, device="meta")  # (B, C_in, H, W)
    standard = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False, device="meta")
    separable = depthwise_separable(in_channels, out_channels, kernel_size, stride, padding, device="meta")
    return (count_weights(standard), count_flops(standard, x)), (count_weights(separable), count_flops(separable, x))


print(f"{'C_in':>5}{'C_out':>6}{'k':>3}{'s':>3}  {'weights: standard → separable':>29}  "
      f"{'FLOPs: standard → separable':>27}  {'ratio':>6}  {'1/C_out+1/k²':>12}")
for shape in SHAPES:
    (w_std, f_std), (w_sep, f_sep) = costs(*shape)
    c_in, c_out, k, s = shape[:4]
    print(
        f"{c_in:>5}{c_out:>6}{k:>3}{s:>3}  {w_std:>18,} → {w_sep:>8,}  {f_std:>14,} → {f_sep:>10,}"
        f"  {f_sep / f_std:>6.3f}  {1 / c_out + 1 / k**2:>12.3f}"
    )

# %% [markdown]
# ## The saving depends on the width, and what the factorization throws away
#
# Left: the FLOP ratio measured by `FlopCounterMode` (dots) against the closed form (lines). It tends to
# $1/k^2$ only when $C_\text{out}\gg k^2$; with few output channels the $1/C_\text{out}$ term dominates.
# Right: for one input channel $i$, reshape the kernel slice $W[:, i]$ into a $C_\text{out}\times k^2$
# matrix and look at its singular values. A separable pair produces a single non-zero one; a random
# standard kernel has nine.


# %%
def equivalent_kernel(separable):
    """Weight (C_out, C_in, k, k) and bias (C_out,) of the one standard conv computing separable(x)."""
    depthwise, pointwise = separable
    spatial = depthwise.weight[:, 0]  # (C_in, k, k)
    mixing = pointwise.weight[:, :, 0, 0]  # (C_out, C_in)
    weight = mixing[:, :, None, None] * spatial[None]  # W[o, i] = P[o, i] * D[i]
    bias = None
    if depthwise.bias is not None:
        bias = mixing @ depthwise.bias + pointwise.bias
    return weight, bias


def channel_slices(weight):
    """The C_in matrices W[:, i] reshaped to (C_out, k*k): (C_in, C_out, k*k)."""
    c_out, c_in = weight.shape[:2]
    return weight.transpose(0, 1).reshape(c_in, c_out, -1)


torch.manual_seed(0)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for k, color in [(3, "C0"), (5, "C1"), (7, "C2")]:
    widths = torch.logspace(0, 9, 100, base=2)
    left.plot(widths, 1 / widths + 1 / k**2, color=color, label=f"k={k}: 1/C_out + 1/k²")
    left.axhline(1 / k**2, color=color, linestyle=":", linewidth=1)
    for c_out in [2, 8, 32, 128, 512]:
        (_, f_std), (_, f_sep) = costs(16, c_out, k, 1, k // 2, 8)
        left.plot(c_out, f_sep / f_std, "o", color=color)
left.set(xscale="log", yscale="log", xlabel="C_out", ylabel="separable FLOPs / standard FLOPs")
left.set_title("FLOP ratio: counted (dots) vs closed form")
left.legend(fontsize=8)

separable_weight, _ = equivalent_kernel(depthwise_separable(16, 16, 3, dtype=torch.float64))
random_weight = torch.randn(16, 16, 3, 3, dtype=torch.float64)
positions = torch.arange(1, 10)
right.semilogy(positions, torch.linalg.svdvals(channel_slices(separable_weight)[0]).detach().clamp_min(1e-17), "o-")
right.semilogy(positions, torch.linalg.svdvals(channel_slices(random_weight)[0]), "s-")
right.legend(["depthwise + pointwise", "random standard kernel"], fontsize=8)
right.set(xlabel="singular value index", ylabel="singular value of W[:, 0] as 16×9")
right.set_title("One input channel's kernel slice")
fig.tight_layout()

# %% [markdown]
# ## Claims: what it is and what it costs
#
# The depthwise step is checked against a loop of single-channel convolutions; the counts against the
# closed forms, exactly, as fractions.


# %%
def test_depthwise_filters_each_channel_alone():
    """A conv with groups=in_channels equals one single-channel conv per input channel, so it never mixes channels, yet with out_channels = 2·in_channels it doubles the channel count."""
    torch.manual_seed(0)
    x = torch.randn(2, 4, 9, 9, dtype=torch.float64)  # (B, C, H, W)
    for multiplier in [1, 2]:
        depthwise = nn.Conv2d(4, 4 * multiplier, 3, padding=1, groups=4, bias=False, dtype=torch.float64)
        expected = torch.cat(
            [
                F.conv2d(x[:, i : i + 1], depthwise.weight[i * multiplier : (i + 1) * multiplier], padding=1)
                for i in range(4)
            ],
            dim=1,
        )  # output channel o sees input channel o // multiplier only
        actual = depthwise(x)
        assert actual.shape == (2, 4 * multiplier, 9, 9)
        torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)


def test_pointwise_kernels_span_every_input_channel():
    """Only the depthwise filters are single-channel: each pointwise 1×1 kernel spans all C_in channels, and autograd shows every output channel of the pair depending on every input channel."""
    torch.manual_seed(0)
    depthwise, pointwise = separable = depthwise_separable(4, 6, 3, padding=1, dtype=torch.float64)
    assert depthwise.weight.shape == (4, 1, 3, 3)  # (C_in, 1, k, k): one single-channel filter per channel
    assert pointwise.weight.shape == (6, 4, 1, 1)  # (C_out, C_in, 1, 1): each kernel has C_in channels
    x = torch.randn(1, 4, 5, 5, dtype=torch.float64)  # (B, C_in, H, W)

    def depends_on(module):  # (C_out, C_in): does output channel o at the centre change with input channel i?
        jacobian = torch.autograd.functional.jacobian(lambda t: module(t)[0, :, 2, 2], x)  # (C_out, 1, C_in, 5, 5)
        return jacobian.abs().sum(dim=(1, 3, 4)) > 0

    assert torch.equal(depends_on(depthwise), torch.eye(4, dtype=torch.bool))  # channel i -> channel i only
    assert bool(depends_on(separable).all())  # after the pointwise step: every channel -> every channel


def test_weight_ratio_is_one_over_c_out_plus_one_over_k_squared():
    """Without biases the separable pair holds C_in·k² + C_in·C_out weights, a fraction 1/C_out + 1/k² of the standard conv's C_out·C_in·k²."""
    for c_in, c_out, k, stride, padding, size in SHAPES:
        (standard, _), (separable, _) = costs(c_in, c_out, k, stride, padding, size)
        assert standard == c_out * c_in * k * k
        assert Fraction(separable, standard) == Fraction(1, c_out) + Fraction(1, k * k)
    # with biases: the standard conv adds C_out, the pair adds C_in (depthwise) + C_out (pointwise)
    with_bias = depthwise_separable(32, 64, 3, bias=True, device="meta")
    assert count_weights(with_bias) == 32 * 9 + 32 * 64 + 32 + 64


def test_flop_ratio_is_one_over_c_out_plus_one_over_k_squared():
    """FlopCounterMode counts 2·k²·C_in·C_out·H'·W' FLOPs for the standard conv and 2·(k²·C_in + C_in·C_out)·H'·W' for the pair, a ratio of 1/C_out + 1/k² at any stride, 17/72 (a 4.2x saving) for a 3×3 layer with 8 outputs and 10/9 (a loss) with 1."""
    for c_in, c_out, k, stride, padding, size in SHAPES:
        (_, standard), (_, separable) = costs(c_in, c_out, k, stride, padding, size)
        out = (size + 2 * padding - k) // stride + 1  # H' = W'
        assert standard == 2 * (k * k * c_in * c_out * out * out)  # 2 x multiply-accumulates
        assert separable == 2 * (k * k * c_in * out * out + c_in * c_out * out * out)
        assert Fraction(separable, standard) == Fraction(1, c_out) + Fraction(1, k * k)
    # with 8 output channels a 3×3 layer saves 72/17 = 4.2x, not the 9x of the 1/k² rule of thumb
    (_, standard), (_, separable) = costs(32, 8, 3, 1, 1, 16)
    assert Fraction(separable, standard) == Fraction(17, 72)
    # with 1 output channel the pair costs more than the standard conv
    (_, standard), (_, separable) = costs(16, 1, 3, 1, 1, 8)
    assert Fraction(separable, standard) == Fraction(10, 9) > 1


# %% [markdown]
# ## Claims: a special case of a standard convolution
#
# Writing the pair out, $y_o = \sum_i P_{oi}\,(D_i \star x_i) = \sum_i (P_{oi} D_i)\star x_i$: one
# standard convolution with kernel $W_{oi} = P_{oi} D_i$ and bias $P\,b_\text{dw} + b_\text{pw}$. For
# each input channel the $C_\text{out}\times k^2$ slice of $W$ is the outer product of a column of $P$
# and the flattened $D_i$, so it has rank one. A generic kernel slice has rank $\min(C_\text{out}, k^2)$.
# By the Eckart–Young theorem the closest rank-one slice is the leading singular triple, so
# `best_separable` below is the best factorization in the Frobenius norm.


# %%
def best_separable(weight):
    """Depthwise (C_in, 1, k, k) and pointwise (C_out, C_in, 1, 1) weights closest to a standard kernel."""
    c_out, c_in, k, _ = weight.shape
    u, s, vh = torch.linalg.svd(channel_slices(weight), full_matrices=False)  # per input channel
    depthwise = vh[:, 0, :].reshape(c_in, 1, k, k)
    pointwise = (u[:, :, 0] * s[:, :1]).T.reshape(c_out, c_in, 1, 1)
    return depthwise, pointwise


def test_separable_pair_is_a_standard_conv():
    """Depthwise then pointwise (biases included, stride 2) equals F.conv2d with kernel W[o, i] = P[o, i]·D[i] and bias P·b_dw + b_pw, whose every input-channel slice has rank 1."""
    torch.manual_seed(0)
    separable = depthwise_separable(6, 10, 3, stride=2, padding=1, bias=True, dtype=torch.float64)
    x = torch.randn(2, 6, 11, 11, dtype=torch.float64)  # (B, C_in, H, W)
    weight, bias = equivalent_kernel(separable)
    expected = separable(x)  # (2, 10, 6, 6)
    actual = F.conv2d(x, weight, bias, stride=2, padding=1)
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)
    assert torch.linalg.matrix_rank(channel_slices(weight.detach())).tolist() == [1] * 6


def test_random_standard_kernel_is_not_separable():
    """A random 3×3 kernel with 16 outputs has slices of rank 9, out of reach of any separable pair; the best pair misses 84% of the kernel, as the singular values predict, and over 80% of the output."""
    torch.manual_seed(0)
    weight = torch.randn(16, 8, 3, 3, dtype=torch.float64)  # (C_out, C_in, k, k)
    x = torch.randn(2, 8, 12, 12, dtype=torch.float64)
    assert torch.linalg.matrix_rank(channel_slices(weight)).tolist() == [min(16, 9)] * 8
    depthwise, pointwise = best_separable(weight)
    # in kernel space: the residual of the factorization equals the Eckart–Young bound from the singular values
    folded = pointwise[:, :, 0, 0, None, None] * depthwise[:, 0][None]  # W[o, i] = P[o, i] D[i]
    kernel_residual = (folded - weight).norm() / weight.norm()
    sigma = torch.linalg.svdvals(channel_slices(weight))  # (C_in, 9)
    eckart_young = (sigma[:, 1:].square().sum() / sigma.square().sum()).sqrt()  # all but the top one, per slice
    torch.testing.assert_close(kernel_residual, eckart_young, rtol=1e-12, atol=1e-12)
    assert eckart_young > 0.8
    # in output space, run as a real separable pair: on white-noise input the relative error tracks the kernel residual
    approximation = F.conv2d(F.conv2d(x, depthwise, groups=8), pointwise)
    expected = F.conv2d(x, weight)
    error = (approximation - expected).norm() / expected.norm()
    assert abs(error - eckart_young) < 0.05
    assert error > 0.8
    # the residual is the kernel's fault, not the method's: a kernel that is separable is recovered exactly
    separable_weight, _ = equivalent_kernel(depthwise_separable(8, 16, 3, dtype=torch.float64))
    depthwise, pointwise = best_separable(separable_weight.detach())
    actual = F.conv2d(F.conv2d(x, depthwise, groups=8), pointwise)
    torch.testing.assert_close(actual, F.conv2d(x, separable_weight.detach()), rtol=1e-10, atol=1e-12)


# %% [markdown]
# ## Where it stops holding: FLOPs are not time
#
# The closed form counts arithmetic. A depthwise layer does only $2k^2$ FLOPs per output element, while it
# still has to read the whole input and write the whole output. Its *arithmetic intensity* (FLOPs per
# byte moved) is therefore tiny. Accelerators can do tens of FLOPs per byte of memory traffic in fp32
# (an H100: about 67 TFLOP/s over 3.35 TB/s, about 20) and hundreds with fp16/bf16 tensor cores, so the
# layer waits on memory instead. We compute the intensity for the shapes of a 3×3 layer on a 64×64×256 feature
# map in fp32, reading each tensor once (the best case). How this turns into measured time belongs to the
# question on depthwise speed; here we only show the gap.


# %%
def flops_per_byte(module, x):
    y = module(x)
    moved = sum(t.numel() * t.element_size() for t in [x, y, *module.parameters()])
    return count_flops(module, x) / moved


def test_depthwise_step_does_few_flops_per_byte():
    """On a 64×64×256 fp32 map a depthwise 3×3 conv does 2k²/(4·(2 + k²/HW)) ≈ 2.2 FLOPs per byte moved, over 100 times fewer than the standard 3×3 conv."""
    x = torch.empty(1, 256, 64, 64, device="meta")
    depthwise = nn.Conv2d(256, 256, 3, padding=1, groups=256, bias=False, device="meta")
    standard = nn.Conv2d(256, 256, 3, padding=1, bias=False, device="meta")
    actual = flops_per_byte(depthwise, x)
    expected = 2 * 9 / (4 * (2 + 9 / (64 * 64)))  # per channel: 2k²·HW FLOPs over 4·(2·HW + k²) bytes
    assert abs(actual - expected) < 1e-9
    assert flops_per_byte(standard, x) > 100 * actual


# %% [markdown]
# ## Conclusion
#
# A depthwise separable convolution is a standard convolution whose kernel is constrained to
# $W_{oi} = P_{oi} D_i$: one spatial filter per input channel, scaled per output channel. That
# constraint cuts weights and FLOPs to $1/C_\text{out} + 1/k^2$ of the standard layer, close to $1/k^2$
# only for wide layers, and it is exact as long as nothing non-linear sits between the two steps. The
# price is expressiveness: a generic kernel has rank $\min(C_\text{out}, k^2)$ per input channel, not
# one, and no separable pair reproduces it. And since the depthwise step does so little arithmetic per
# byte, the FLOP saving overstates the speed-up.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

# %% [markdown]
# # Receptive field: the proof
#
# **Question.** What is the receptive field of a unit in a CNN, how do you compute it, and how do
# stacking, stride, dilation and pooling change it?
#
# The receptive field of an output unit is the set of input pixels that can change its value. That
# is a statement about derivatives, so we can *measure* it: back-propagate from one output unit and
# look at where the gradient on the input is non-zero. Every claim below compares that measurement
# with the closed-form recursion, or with an independent count. Claims:
#
# 1. two stacked 3×3 convolutions see 5×5, three see 7×7 (`test_stacked_3x3_convs_see_5x5_then_7x7`);
# 2. the recursion $r_l = r_{l-1} + d_l(k_l-1)\prod_{i<l}s_i$ matches autograd on mixed stacks
#    (`test_recursion_matches_autograd`);
# 3. a stride multiplies the growth of the *later* layers, not its own (`test_stride_multiplies_the_growth_of_later_layers`);
# 4. a 3×3 kernel with dilation $d$ spans $2d+1$ pixels: 5 for $d=2$, 7 (not 8) for $d=3$, and keeps the map size
#    only with padding $d$ (`test_dilated_3x3_spans_2d_plus_1`);
# 5. dilations 1, 2, 4 give 3, 7, 15: exponential growth (`test_dilations_1_2_4_grow_the_field_exponentially`);
# 6. padding does not change the size, but clips what border units see of the image (`test_padding_keeps_the_size_but_clips_border_units`);
# 7. pooling adds little by itself; it multiplies what later layers add (`test_pooling_enlarges_the_field_through_later_layers`);
# 8. two (three) 3×3 layers use $18C^2$ ($27C^2$) weights and FLOPs per pixel against $25C^2$ ($49C^2$)
#    (`test_3x3_stacks_use_fewer_weights_and_flops`);
# 9. without a non-linearity, two 3×3 convolutions *are* one 5×5 convolution (`test_two_linear_3x3_convs_are_one_5x5_conv`);
# 10. ...but with $C$ middle channels (VGG's case) only a thin family of 5×5 kernels, $17C^2$ dimensions out of
#     $25C^2$; with $2C$ middle channels the family is full-dimensional (`test_two_3x3_kernels_reach_a_thin_family_of_5x5_kernels`);
# 11. the gradient footprint is not uniform: its width grows like $\sqrt{\text{depth}}$ (`test_effective_field_width_grows_like_sqrt_depth`);
# 12. with random weights and ReLU, a central window of 26.5% of the area gets most of the gradient, and path
#     counting alone already concentrates it (`test_effective_field_concentrates_in_the_centre`);
# 13. equal dilations leave holes in the footprint (gridding); 1, 2, 4 does not, and neither does any schedule
#     whose sorted rates never exceed the field so far (`test_equal_dilations_leave_holes`,
#     `test_dilation_rates_leave_no_holes_iff_each_is_at_most_the_field_before_it`).

# %% [markdown]
# ## Measuring a receptive field with autograd
#
# We build single-channel stacks in float64 whose convolution weights are all ones and which have no
# bias and no padding. With all-ones weights the gradient of an output unit with respect to an input
# pixel counts the paths between them, so it is a positive integer exactly where the pixel is in the
# receptive field and zero elsewhere: no cancellation can hide a pixel. Without padding every output
# unit's window lies fully inside the input, so any input size that leaves one output unit works.

# %%
import itertools
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn


def conv(kernel_size, stride=1, dilation=1, padding=0):
    """A 1-channel probe convolution with all-ones weights and no bias."""
    layer = nn.Conv2d(1, 1, kernel_size, stride, padding, dilation, bias=False, dtype=torch.float64)
    nn.init.ones_(layer.weight)
    return layer


def gradient_footprint(model, size=64, unit=None):
    """d model(x)[unit] / dx for a (1, 1, size, size) input; unit defaults to the centre output unit."""
    x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = model(x)  # (1, 1, H_out, W_out)
    i, j = unit if unit is not None else (y.shape[-2] // 2, y.shape[-1] // 2)
    y[0, 0, i, j].backward()
    return x.grad[0, 0]  # (size, size)


def span(footprint):
    """Height of the smallest window holding every non-zero entry of the footprint."""
    rows = footprint.ne(0).any(dim=1).nonzero()
    return int(rows.max() - rows.min() + 1)


def receptive_field_by_autograd(model, size=64):
    return span(gradient_footprint(model, size))


# %% [markdown]
# ## The closed form
#
# Walk the layers from input to output and keep two numbers: the field $r$ and the *jump* $j$, the
# distance in input pixels between two neighbouring units of the current feature map. A layer with
# kernel $k$, dilation $d$ and stride $s$ covers $d(k-1)+1$ neighbouring units, so it adds
# $d(k-1)$ jumps to the field, and then multiplies the jump by its own stride:
#
# $$r_l = r_{l-1} + d_l\,(k_l-1)\,j_{l-1},\qquad j_l = j_{l-1}\,s_l,\qquad r_0 = j_0 = 1.$$
#
# The function reads `kernel_size`, `stride` and `dilation` from the layers themselves; pooling layers
# have the first two and count exactly like a convolution. Layers without a window (ReLU) add nothing.


# %%
def _first(value):
    return value[0] if isinstance(value, tuple) else value


def receptive_field_by_formula(model):
    field, jump = 1, 1
    for layer in model:
        if not hasattr(layer, "kernel_size"):
            continue
        k = _first(layer.kernel_size)
        s = _first(layer.stride)
        d = _first(getattr(layer, "dilation", 1))
        field += d * (k - 1) * jump
        jump *= s
    return field


STACKS = {
    "3x3": nn.Sequential(conv(3)),
    "3x3 > 3x3": nn.Sequential(conv(3), conv(3)),
    "3x3 > 3x3 > 3x3": nn.Sequential(conv(3), conv(3), conv(3)),
    "5x5": nn.Sequential(conv(5)),
    "3x3 > 1x1 > 3x3": nn.Sequential(conv(3), conv(1), conv(3)),
    "3x3/s2 > 3x3": nn.Sequential(conv(3, stride=2), conv(3)),
    "3x3 > 3x3/s2": nn.Sequential(conv(3), conv(3, stride=2)),
    "3x3 d=3": nn.Sequential(conv(3, dilation=3)),
    "3x3 d=1 > d=2 > d=4": nn.Sequential(conv(3), conv(3, dilation=2), conv(3, dilation=4)),
    "avgpool2/s2 > 3x3 > 3x3": nn.Sequential(nn.AvgPool2d(2, 2), conv(3), conv(3)),
    "3x3/s2 > 5x5 d=2 > pool3/s3 > 3x3": nn.Sequential(
        conv(3, stride=2), conv(5, dilation=2), nn.AvgPool2d(3, 3), conv(3)
    ),
}

print(f"{'stack':<36}{'formula':>8}{'autograd':>9}")
for name, model in STACKS.items():
    print(f"{name:<36}{receptive_field_by_formula(model):>8}{receptive_field_by_autograd(model):>9}")

# %% [markdown]
# ## What the footprint looks like
#
# The span is only half of the story; the values inside it matter too. Left to right: three
# all-ones 3×3 layers (the numbers are path counts, highest in the centre); a 16-layer ReLU network with
# random weights, where the dashed box is the central 17×17 of its 33×33 field; three 3×3 layers all
# with dilation 2, whose footprint is a lattice with holes; and dilations 1, 2, 4, which fill a 15×15
# window without holes. White pixels get exactly zero gradient.


# %%
def random_relu_footprint(depth, channels=8, samples=4):
    """Mean |d out / dx| of the centre unit of random Kaiming-scaled 3x3 ReLU stacks, normalised to sum 1."""
    size = 2 * depth + 1  # exactly one output unit
    total = torch.zeros(size, size, dtype=torch.float64)
    for seed in range(samples):
        generator = torch.Generator().manual_seed(seed)
        layers = []
        for index in range(depth):
            in_channels = 1 if index == 0 else channels
            out_channels = 1 if index == depth - 1 else channels
            layer = nn.Conv2d(in_channels, out_channels, 3, bias=False, dtype=torch.float64)
            with torch.no_grad():
                layer.weight.normal_(0.0, math.sqrt(2.0 / (9 * in_channels)), generator=generator)
            layers += [layer, nn.ReLU()]
        model = nn.Sequential(*layers[:-1])  # no ReLU after the last layer
        x = torch.randn(1, 1, size, size, dtype=torch.float64, generator=generator, requires_grad=True)
        model(x)[0, 0, 0, 0].backward()
        total += x.grad[0, 0].abs()
    return total / total.sum()


three_3x3 = gradient_footprint(STACKS["3x3 > 3x3 > 3x3"], size=7)
relu_16 = random_relu_footprint(16)
dilated_222 = gradient_footprint(nn.Sequential(*(conv(3, dilation=2) for _ in range(3))), size=13)
dilated_124 = gradient_footprint(STACKS["3x3 d=1 > d=2 > d=4"], size=15)

fig, axes = plt.subplots(1, 4, figsize=(15, 4))
panels = [
    (three_3x3, "3 × (3x3): 7×7, path counts"),
    (relu_16, "16 × (3x3) + ReLU, random: 33×33"),
    (dilated_222, "3 × (3x3, d=2): 13×13, holes"),
    (dilated_124, "3x3 with d=1, 2, 4: 15×15, dense"),
]
cmap = plt.get_cmap("viridis").with_extremes(bad="white")  # zero gradient (NaN below) is drawn white
for ax, (footprint, title) in zip(axes, panels):
    ax.imshow(footprint.masked_fill(footprint == 0, float("nan")).numpy(), cmap=cmap)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
for i in range(7):
    for j in range(7):
        axes[0].text(j, i, int(three_3x3[i, j]), ha="center", va="center", color="w", fontsize=7)
axes[1].add_patch(plt.Rectangle((7.5, 7.5), 17, 17, fill=False, edgecolor="w", linestyle="--"))
fig.tight_layout()

# %% [markdown]
# ## Claims: size of the field
#
# Each claim measures the field with autograd and compares it with the recursion or a hand count.


# %%
def test_stacked_3x3_convs_see_5x5_then_7x7():
    """Two stacked stride-1 3×3 convolutions give an output unit a 5×5 field and three give 7×7, measured by autograd."""
    for depth, expected in [(1, 3), (2, 5), (3, 7), (4, 9)]:
        model = nn.Sequential(*(conv(3) for _ in range(depth)))
        footprint = gradient_footprint(model, size=16)
        assert span(footprint) == expected
        assert span(footprint.T) == expected  # square: the same along the width
        assert int(footprint.ne(0).sum()) == expected**2  # and no holes inside it
        assert receptive_field_by_formula(model) == expected


def test_recursion_matches_autograd():
    """The recursion rₗ = rₗ₋₁ + dₗ(kₗ − 1)·(product of the strides before l) equals the autograd span on stacks mixing stride, dilation, 1×1 and pooling."""
    for name, model in STACKS.items():
        assert receptive_field_by_formula(model) == receptive_field_by_autograd(model), name


def test_stride_multiplies_the_growth_of_later_layers():
    """A stride-2 first layer turns two 3×3 layers into a 7×7 field, a stride-2 second layer leaves 5×5: the recursion uses the strides before a layer, not its own."""

    def with_own_stride(model):  # a variant in circulation: the product of strides includes layer l
        field, jump = 1, 1
        for layer in model:
            jump *= _first(layer.stride)
            field += (_first(layer.kernel_size) - 1) * jump
        return field

    early, late = STACKS["3x3/s2 > 3x3"], STACKS["3x3 > 3x3/s2"]
    assert receptive_field_by_autograd(early) == receptive_field_by_formula(early) == 7
    assert receptive_field_by_autograd(late) == receptive_field_by_formula(late) == 5
    assert (with_own_stride(early), with_own_stride(late)) == (9, 7)  # both wrong


def test_dilated_3x3_spans_2d_plus_1():
    """One 3×3 convolution with dilation d spans d(k-1)+1 = 2d+1 pixels (5 for d=2, 7 for d=3, never 8) with 9 taps, and keeps the map size only with padding d."""
    x = torch.zeros(1, 1, 16, 16, dtype=torch.float64)
    for dilation in [1, 2, 3, 4]:
        footprint = gradient_footprint(nn.Sequential(conv(3, dilation=dilation)), size=16)
        assert span(footprint) == dilation * (3 - 1) + 1
        assert int(footprint.ne(0).sum()) == 9
        assert conv(3, dilation=dilation, padding=dilation)(x).shape[-1] == 16
        assert conv(3, dilation=dilation)(x).shape[-1] == 16 - 2 * dilation


def test_dilations_1_2_4_grow_the_field_exponentially():
    """Stacking 3×3 layers with dilations 1, 2, 4 gives fields 3, 7, 15 (2^(l+1) - 1, as in Yu and Koltun's figure), against 3, 5, 7 without dilation."""
    layers = [conv(3, dilation=1), conv(3, dilation=2), conv(3, dilation=4)]
    for depth in [1, 2, 3]:
        assert receptive_field_by_autograd(nn.Sequential(*layers[:depth])) == 2 ** (depth + 1) - 1


def test_padding_keeps_the_size_but_clips_border_units():
    """Padding 1 leaves an interior unit's field of two 3×3 layers at 5×5, but the corner unit sees only a 3×3 patch of real pixels; the rest of its window is zeros."""
    padded = nn.Sequential(conv(3, padding=1), conv(3, padding=1))
    interior = gradient_footprint(padded, size=12, unit=(6, 6))
    corner = gradient_footprint(padded, size=12, unit=(0, 0))
    assert span(interior) == span(gradient_footprint(STACKS["3x3 > 3x3"], size=12)) == 5
    assert int(interior.ne(0).sum()) == 25
    half = (5 - 1) // 2  # the corner unit's window covers rows -half..half; rows 0..half are inside the image
    assert int(corner.ne(0).sum()) == (half + 1) ** 2 == 9


def test_pooling_enlarges_the_field_through_later_layers():
    """A 2×2 stride-2 pooling adds only 1 to the field itself but doubles what each later 3×3 layer adds: pool>3x3>3x3 sees 10, 3x3>3x3>pool sees 6."""
    pool_first = STACKS["avgpool2/s2 > 3x3 > 3x3"]
    pool_last = nn.Sequential(conv(3), conv(3), nn.AvgPool2d(2, 2))
    assert receptive_field_by_autograd(nn.Sequential(nn.AvgPool2d(2, 2))) == 2
    assert receptive_field_by_autograd(pool_first) == 2 + 2 * 2 + 2 * 2 == 10
    assert receptive_field_by_autograd(pool_last) == 1 + 2 + 2 + 1 == 6


# %% [markdown]
# ## Claims: why VGG stacks 3×3 kernels
#
# Same field, fewer weights, and, with padding that keeps the map size, fewer FLOPs in the same ratio.
# `FlopCounterMode` counts the FLOPs from shapes alone, so the layers live on the `meta` device and
# hold no data. But without the ReLU in between, the stack is just a 5×5 convolution whose
# kernel is restricted: it is the 2-D (true) convolution of the two 3×3 kernels, summed over the middle
# channels. `compose_kernels` builds that kernel by explicit index arithmetic, without calling any conv.
#
# How restricted depends on the middle width $M$. The two layers have $18CM$ weights, and replacing
# (first, second) by ($A\,$first, second$\,A^{-1}$) for any invertible $M\times M$ matrix $A$ changes
# nothing, so the composed kernels form a family of dimension at most $18CM - M^2$, and at most the
# $25C^2$ of a free 5×5 layer. The claim measures the dimension as the rank of the Jacobian of
# `compose_kernels` at random weights: $17C^2$ for VGG's $M = C$, but the full $25C^2$ once $M = 2C$.


# %%
from torch.utils.flop_counter import FlopCounterMode


def compose_kernels(first, second):
    """Kernel of conv(second) after conv(first): (C_out, C_mid) x (C_mid, C_in) taps summed at offset a + b."""
    c_out, _, k2, _ = second.shape  # (C_out, C_mid, k2, k2)
    _, c_in, k1, _ = first.shape  # (C_mid, C_in, k1, k1)
    size = k1 + k2 - 1
    taps = [[first.new_zeros(c_out, c_in) for _ in range(size)] for _ in range(size)]
    for a in range(k1):
        for b in range(k1):
            for c in range(k2):
                for d in range(k2):
                    taps[a + c][b + d] = taps[a + c][b + d] + second[:, :, c, d] @ first[:, :, a, b]
    return torch.stack([torch.stack(row, dim=-1) for row in taps], dim=-2)  # (C_out, C_in, size, size)


def test_3x3_stacks_use_fewer_weights_and_flops():
    """With C channels in and out and padding that keeps an H×W map, two 3×3 layers hold 18C² weights and cost 2·18C²HW FLOPs, three 27C² and 2·27C²HW, against 25C² and 2·25C²HW for one 5×5 and 49C² and 2·49C²HW for one 7×7 layer (biases excluded)."""
    channels, size = 64, 14
    x = torch.empty(1, channels, size, size, device="meta")  # (B, C, H, W): shapes only, no data
    for kernel_sizes, taps_per_channel_pair in [((3, 3), 18), ((5,), 25), ((3, 3, 3), 27), ((7,), 49)]:
        model = nn.Sequential(
            *(nn.Conv2d(channels, channels, k, padding=k // 2, bias=False, device="meta") for k in kernel_sizes)
        )
        assert sum(p.numel() for p in model.parameters()) == taps_per_channel_pair * channels**2
        with FlopCounterMode(display=False) as counter:
            y = model(x)
        assert y.shape == x.shape  # equal resolution
        assert counter.get_total_flops() == 2 * taps_per_channel_pair * channels**2 * size**2  # 2 x MACs


def test_two_linear_3x3_convs_are_one_5x5_conv():
    """Two 3×3 convolutions with nothing in between compute exactly one 5×5 convolution whose kernel is the composition of the two."""
    generator = torch.Generator().manual_seed(0)
    first = torch.randn(6, 4, 3, 3, dtype=torch.float64, generator=generator)  # (C_mid, C_in, 3, 3)
    second = torch.randn(5, 6, 3, 3, dtype=torch.float64, generator=generator)  # (C_out, C_mid, 3, 3)
    x = torch.randn(2, 4, 12, 12, dtype=torch.float64, generator=generator)  # (B, C_in, H, W)
    expected = F.conv2d(F.conv2d(x, first), second)  # (2, 5, 8, 8)
    actual = F.conv2d(x, compose_kernels(first, second))
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)


def composed_family_dimension(channels, middle, seed=0):
    """Rank of the Jacobian of (first, second) -> composed 5×5 kernel, C channels in and out, M in the middle."""
    generator = torch.Generator().manual_seed(seed)
    n = 9 * middle * channels
    params = torch.randn(2 * n, dtype=torch.float64, generator=generator)

    def compose(p):
        first = p[:n].reshape(middle, channels, 3, 3)  # (M, C, 3, 3)
        second = p[n:].reshape(channels, middle, 3, 3)  # (C, M, 3, 3)
        return compose_kernels(first, second).flatten()  # (25C²,)

    jacobian = torch.autograd.functional.jacobian(compose, params, vectorize=True)  # (25C², 18CM)
    return int(torch.linalg.matrix_rank(jacobian))


def test_two_3x3_kernels_reach_a_thin_family_of_5x5_kernels():
    """With C channels in and out and C in the middle (VGG's case), two 3×3 layers compose only a 17C²-dimensional family of the 25C² 5×5 kernels, in general min(18CM − M², 25C²) with M middle channels, so the restriction is gone at M = 2C."""
    for channels, middle in [(1, 1), (2, 2), (3, 3), (2, 3), (1, 2), (2, 4)]:
        actual = composed_family_dimension(channels, middle, seed=10 * channels + middle)
        # 18CM parameters minus M² directions that change nothing: first -> A first, second -> second A^-1
        expected = min(18 * channels * middle - middle**2, 25 * channels**2)
        assert actual == expected, (channels, middle)
    assert composed_family_dimension(3, 3) == 153 == 17 * 3**2 < 225  # VGG's case: a thin family
    assert composed_family_dimension(2, 3) == 99 < 100  # one middle channel more: still one dimension short
    assert composed_family_dimension(2, 4) == 100 and composed_family_dimension(1, 2) == 25  # M = 2C: full


# %% [markdown]
# ## Where it stops holding: the field is not uniform, and dilation leaves holes
#
# The recursion gives the *theoretical* field: the pixels that can matter at all. How much each one
# matters is a different question. With all-ones weights the footprint of $n$ stacked 3×3 layers is,
# along each axis, the distribution of a sum of $n$ independent offsets drawn uniformly from
# $\{-1, 0, 1\}$. Each offset has variance $2/3$ and variances add, so the footprint's standard
# deviation is $\sqrt{2n/3}$ while the field's half-width is $n$: the share of the field that carries
# the weight shrinks like $1/\sqrt{n}$ (Luo et al., 2016, call this the effective receptive field).
# Path counting alone puts 98.4% of a 16-layer footprint in the central 17×17 window; random weights
# with ReLU spread it a little, to about 90%, so most of the concentration is combinatorial.
#
# Dilation adds a second caveat. Along one axis, a stack of 3×3 layers with rates $d_1, d_2, \dots$
# reaches the offsets $\sum_l e_l d_l$ with $e_l \in \{-1, 0, 1\}$, a set that does not depend on the
# order of the layers. If the offsets reached so far fill $[-h, h]$ (a field $r = 2h+1$), adding rate $d$
# keeps them gap-free exactly when the shifted copies $[-h-d, h-d]$, $[-h, h]$, $[-h+d, h+d]$ touch, that
# is when $d \le 2h + 1 = r$. So with the rates sorted, the footprint has no holes exactly when each rate
# is at most the field of the layers before it; the first rate must be 1. Avoiding a common factor is
# not enough: rates 1, 5 reach 9 of 13 offsets, and 1, 2, 9 reach 21 of 25.


# %%
def footprint_std(footprint):
    """Standard deviation, in pixels, of the footprint's row profile read as a distribution."""
    profile = footprint.abs().sum(dim=1)
    profile = profile / profile.sum()
    rows = torch.arange(len(profile), dtype=footprint.dtype)
    mean = (profile * rows).sum()
    return float((profile * (rows - mean) ** 2).sum().sqrt())


def test_effective_field_width_grows_like_sqrt_depth():
    """For n stacked all-ones 3×3 layers the autograd footprint has standard deviation sqrt(2n/3), so its width over the field's half-width n falls like 1/sqrt(n)."""
    width = {}
    for depth in [1, 4, 16]:
        model = nn.Sequential(*(conv(3) for _ in range(depth)))
        width[depth] = footprint_std(gradient_footprint(model, size=2 * depth + 1))
        assert math.isclose(width[depth], math.sqrt(2 * depth / 3), rel_tol=1e-12)
    # 4x the depth: 4x the half-width, 2x the footprint width, so half the share of the field
    assert math.isclose((width[16] / 16) / (width[4] / 4), 0.5, rel_tol=1e-12)
    assert math.isclose((width[4] / 4) / (width[1] / 1), 0.5, rel_tol=1e-12)


def test_effective_field_concentrates_in_the_centre():
    """In 16 random Kaiming-scaled 3×3 layers with ReLU, the central 17×17 window (26.5% of the 33×33 field) receives over 85% of the input-gradient magnitude, less than the 98.4% that all-ones path counting alone puts there."""
    footprint = random_relu_footprint(16)  # (33, 33), sums to 1
    centre = float(footprint[8:25, 8:25].sum())
    assert centre > 0.85
    assert bool(footprint.ne(0).all())  # yet every pixel of the field is reached
    # all-ones weights: the share is P(|S| <= 8)² for S a sum of 16 offsets uniform in {-1, 0, 1},
    # counted from the coefficients of (1 + z + z²)^16 without any convolution
    counts = [1]
    for _ in range(16):
        counts = [sum(counts[i - j] for j in range(3) if 0 <= i - j < len(counts)) for i in range(len(counts) + 2)]
    central = sum(counts[16 - 8 : 16 + 9]) / 3**16  # offsets -8..8
    ones = gradient_footprint(nn.Sequential(*(conv(3) for _ in range(16))), size=33)
    path_share = float(ones[8:25, 8:25].sum() / ones.sum())
    assert math.isclose(path_share, central**2, rel_tol=1e-12)
    assert path_share > 0.98 > centre  # most of the concentration is path counting; random weights spread it a little


def reachable_offsets(dilations):
    """Offsets along one axis that a stack of 3×3 layers reaches: the Minkowski sum of the sets {-d, 0, d}."""
    offsets = {0}
    for d in dilations:
        offsets = {o + step for o in offsets for step in (-d, 0, d)}
    return offsets


def test_equal_dilations_leave_holes():
    """Three 3×3 layers all with dilation 2 span 13×13 but reach only 49 pixels (gridding), as do rates 2, 4, 8 with a common factor and rates 1, 5 without one; rates 1, 2, 4 reach all 225 of their 15×15 window."""
    for dilations in [(2, 2, 2), (1, 2, 4), (2, 4, 8), (1, 5)]:
        model = nn.Sequential(*(conv(3, dilation=d) for d in dilations))
        footprint = gradient_footprint(model, size=40)
        expected_span = 2 * sum(dilations) + 1
        assert span(footprint) == expected_span
        assert int(footprint.ne(0).sum()) == len(reachable_offsets(dilations)) ** 2
    assert len(reachable_offsets((2, 2, 2))) ** 2 == 49 < 13**2
    assert len(reachable_offsets((1, 2, 4))) ** 2 == 225 == 15**2
    assert len(reachable_offsets((2, 4, 8))) ** 2 == 15**2 < 29**2  # a common factor 2: holes again
    assert len(reachable_offsets((1, 5))) ** 2 == 9**2 < 13**2  # no common factor, holes all the same


def test_dilation_rates_leave_no_holes_iff_each_is_at_most_the_field_before_it():
    """A stack of 3×3 layers reaches every pixel of its window exactly when, with the rates sorted, each rate is at most the field of the layers before it (dₗ ≤ rₗ₋₁ = 1 + 2(d₁ + … + dₗ₋₁)), on all 584 schedules of one to three rates from 1 to 8."""

    def rule(dilations):
        field = 1
        for d in sorted(dilations):  # the footprint does not depend on the order of the layers
            if d > field:
                return False
            field += 2 * d
        return True

    schedules = [s for depth in (1, 2, 3) for s in itertools.product(range(1, 9), repeat=depth)]
    assert len(schedules) == 584
    for dilations in schedules:
        dense = len(reachable_offsets(dilations)) == 2 * sum(dilations) + 1
        assert dense == rule(dilations), dilations
    # autograd on real stacks: reached pixels along one axis, out of the span
    for dilations, reached, window in [((1, 5), 9, 13), ((1, 2, 9), 21, 25), ((1, 2, 5), 17, 17), ((2, 1), 7, 7)]:
        footprint = gradient_footprint(nn.Sequential(*(conv(3, dilation=d) for d in dilations)), size=window)
        assert span(footprint) == window and int(footprint.ne(0).sum()) == reached**2
        assert rule(dilations) == (reached == window)


# %% [markdown]
# ## Conclusion
#
# The receptive field is the support of an output unit's input gradient, and autograd measures it
# exactly. Its size follows one recursion: each layer adds $d(k-1)$ times the product of the strides
# before it, and padding does not enter. Two 3×3 layers see 5×5 and three see 7×7, with 28% and 45%
# fewer weights and FLOPs than one 5×5 or 7×7 layer; but without a ReLU in between they are just a
# restricted 5×5 layer (with $C$ middle channels; a middle layer twice as wide lifts the restriction).
# Stride and pooling enlarge the field through the layers that follow them; dilation enlarges it for
# free but leaves holes unless each rate is at most the field built so far. And the theoretical field
# overstates what a unit uses: the gradient concentrates in a centre whose width grows only like the
# square root of depth.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

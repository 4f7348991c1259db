# %% [markdown]
# # The classic convolution types: the proof
#
# **Question.** What are the classic kinds of convolution, and how do they relate to the standard one?
#
# Almost every named convolution is the standard `conv2d` with one setting changed or with a structured kernel.
# This module builds each from the standard one and checks the equivalence. Claims:
#
# 1. a dilated $3\times3$ convolution is a $5\times5$ convolution whose kernel has zeros between its taps: a wider view
#    with the same 9 weights and the same FLOPs per output (`test_dilated_conv_is_a_sparse_larger_kernel`);
# 2. a spatially separable pair ($3\times1$ then $1\times3$) is a $3\times3$ convolution with a rank-one kernel, and a
#    generic $3\times3$ kernel is not reachable (`test_spatially_separable_pair_is_a_rank_one_kernel`);
# 3. the channel-structured types are `groups` settings: pointwise is $k=1$, grouped is `groups=g`, depthwise is
#    `groups=C_in`, each with the parameter count its formula gives (`test_channel_types_are_groups_and_kernel_settings`);
# 4. a 3-D convolution is a sum over time of 2-D convolutions (`test_conv3d_is_a_sum_of_conv2d_over_time`);
# 5. a transposed convolution undoes the *shape* change of a strided convolution, and is its adjoint
#    (`test_transposed_conv_reverses_the_shape_and_is_the_adjoint`).

# %% [markdown]
# ## Footprints
#
# Which input pixels one output of each spatial type reads. The standard and the dilated kernel both have 9 weights;
# the dilated one spreads them over a $5\times5$ area. (A separable pair, not drawn, reads the same $3\times3$ area as
# a standard kernel with only 6 weights, because its kernel is constrained.)

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from answers._models import count_flops


def footprint(kernel_size, dilation=1, size=7):
    """(size, size) mask of the input pixels that reach the centre output."""
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    weight = torch.ones(1, 1, kernel_size, kernel_size)
    y = F.conv2d(x, weight, dilation=dilation, padding=dilation * (kernel_size - 1) // 2)
    y[0, 0, size // 2, size // 2].backward()
    return x.grad[0, 0] != 0


panels = {
    "standard 3×3\n9 weights": footprint(3),
    "dilated 3×3, d=2\n9 weights": footprint(3, dilation=2),
    "1×1 (pointwise)\n1 weight": footprint(1),
    "5×5\n25 weights": footprint(5),
}
fig, axes = plt.subplots(1, 4, figsize=(11, 3))
for ax, (title, mask) in zip(axes, panels.items()):
    ax.imshow(mask.numpy(), cmap="Greys", vmin=0, vmax=1)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()

# %% [markdown]
# ## Claims: spatial types


# %%
def test_dilated_conv_is_a_sparse_larger_kernel():
    """conv2d with a 3×3 kernel and dilation 2 equals conv2d with the 5×5 kernel that has those taps and zeros between; it keeps 9 weights and, at the same output size, the same FLOPs as a plain 3×3."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 11, 11, dtype=torch.float64)
    weight = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    sparse = torch.zeros(4, 3, 5, 5, dtype=torch.float64)
    sparse[:, :, ::2, ::2] = weight
    torch.testing.assert_close(F.conv2d(x, weight, dilation=2), F.conv2d(x, sparse), rtol=1e-12, atol=1e-12)
    dilated = nn.Conv2d(16, 16, 3, padding=2, dilation=2, bias=False, device="meta")
    plain = nn.Conv2d(16, 16, 3, padding=1, bias=False, device="meta")
    inputs = torch.empty(1, 16, 32, 32, device="meta")
    assert dilated.weight.numel() == plain.weight.numel() == 16 * 16 * 9
    assert count_flops(dilated, inputs) == count_flops(plain, inputs)


def test_spatially_separable_pair_is_a_rank_one_kernel():
    """A 3×1 then a 1×3 convolution equals one 3×3 convolution with the outer-product kernel (rank 1), while a random 3×3 kernel has rank 3 and its best rank-one approximation leaves a residual."""
    torch.manual_seed(0)
    x = torch.randn(1, 1, 9, 9, dtype=torch.float64)
    column, row = torch.randn(3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    pair = F.conv2d(F.conv2d(x, column.reshape(1, 1, 3, 1)), row.reshape(1, 1, 1, 3))
    kernel = torch.outer(column, row)
    torch.testing.assert_close(pair, F.conv2d(x, kernel[None, None]), rtol=1e-12, atol=1e-12)
    assert torch.linalg.matrix_rank(kernel) == 1
    generic = torch.randn(3, 3, dtype=torch.float64)
    sigma = torch.linalg.svdvals(generic)
    assert torch.linalg.matrix_rank(generic) == 3
    assert (sigma[1:].square().sum() / sigma.square().sum()).sqrt() > 0.1  # what no separable pair can reach


# %% [markdown]
# ## Claims: channel types, 3-D and transposed


# %%
def test_channel_types_are_groups_and_kernel_settings():
    """Pointwise (k=1), grouped (groups=4) and depthwise (groups=C_in) convolutions on 32→64 channels hold 32·64, 3·3·8·64 and 3·3·64 weights, and depthwise output channel o depends on input channel o // 2 only."""
    settings = {  # name: (kernel_size, groups, expected weights)
        "pointwise": (1, 1, 32 * 64),
        "grouped": (3, 4, 3 * 3 * (32 // 4) * 64),
        "depthwise": (3, 32, 3 * 3 * 1 * 64),
    }
    for name, (kernel_size, groups, weights) in settings.items():
        layer = nn.Conv2d(32, 64, kernel_size, groups=groups, bias=False, device="meta")
        assert layer.weight.numel() == weights, name
    torch.manual_seed(0)
    depthwise = nn.Conv2d(4, 8, 3, padding=1, groups=4, bias=False, dtype=torch.float64)
    basis = torch.eye(4, dtype=torch.float64)[:, :, None, None].expand(4, 4, 5, 5)  # one input channel lit at a time
    with torch.no_grad():
        reach = depthwise(basis).abs().sum(dim=(2, 3)) > 0  # (lit input channel, output channel)
    assert torch.equal(reach.T, torch.eye(4, dtype=torch.bool).repeat_interleave(2, dim=0))


def test_conv3d_is_a_sum_of_conv2d_over_time():
    """Conv3d with a (3, 3, 3) kernel equals, at each output time t, the sum over τ of conv2d(x[:, :, t + τ], w[:, :, τ])."""
    torch.manual_seed(0)
    layer = nn.Conv3d(2, 4, 3, bias=False, dtype=torch.float64)
    x = torch.randn(1, 2, 6, 7, 7, dtype=torch.float64)  # (B, C, T, H, W)
    expected = torch.stack(
        [sum(F.conv2d(x[:, :, t + tau], layer.weight[:, :, tau]) for tau in range(3)) for t in range(4)], dim=2
    )  # (B, C_out, T', H', W')
    torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)


def test_transposed_conv_reverses_the_shape_and_is_the_adjoint():
    """A 3×3 stride-2 conv maps 8×8 to 4×4 and the transposed conv with the same weights maps 4×4 back to 8×8 (output_padding=1); ⟨conv(x), y⟩ = ⟨x, conv_transpose(y)⟩."""
    torch.manual_seed(0)
    weight = torch.randn(5, 3, 3, 3, dtype=torch.float64)
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64)
    y = torch.randn(1, 5, 4, 4, dtype=torch.float64)
    down = F.conv2d(x, weight, stride=2, padding=1)
    up = F.conv_transpose2d(y, weight, stride=2, padding=1, output_padding=1)
    assert down.shape == y.shape and up.shape == x.shape
    torch.testing.assert_close((down * y).sum(), (x * up).sum(), rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## Conclusion
#
# The named convolutions are settings of one operation. Spatial variants change which pixels a weight touches
# (dilation spreads the taps, a separable pair constrains the kernel to rank one); channel variants change which
# channels a filter sees (`groups`, from 1 to $C_\text{in}$, and $k=1$ for pointwise); 3-D convolution adds a
# dimension; the transposed convolution is the adjoint that runs the shape change backwards. Deformable convolution
# goes one step further and learns per-pixel offsets for the taps.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

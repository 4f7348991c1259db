# %% [markdown]
# # Upsampling: interpolation, transposed convolution and max unpooling: the proof
#
# **Question.** How does a network increase the resolution of a feature map, and how do the common methods
# differ?
#
# Three families: fixed interpolation (nearest, bilinear), the learnable transposed convolution, and max
# unpooling, which puts values back where a max pool found them. Claims:
#
# 1. a transposed convolution is a convolution over the input with zeros inserted between its pixels, padded by
#    $d(k-1)-p$, with the kernel flipped; its output side is $(H-1)s - 2p + d(k-1) + \text{output\_padding} + 1$
#    (`test_transposed_conv_is_zero_insertion_then_conv`);
# 2. it is the adjoint of the convolution, the map autograd uses for the convolution's input gradient, and not its
#    inverse (`test_transposed_conv_is_the_adjoint_not_the_inverse`);
# 3. nearest and bilinear upsampling are transposed convolutions with fixed kernels, bilinear only once the
#    border is replicated (`test_interpolation_is_a_fixed_transposed_conv`);
# 4. max unpooling keeps each window's maximum in place and fills the rest with zeros
#    (`test_max_unpool_puts_maxima_back_and_zeros_elsewhere`);
# 5. bilinear interpolation invents values that a label map does not have; nearest does not
#    (`test_bilinear_invents_values_nearest_does_not`);
# 6. a transposed convolution whose kernel size is not a multiple of its stride covers the output unevenly: the
#    checkerboard artefact (`test_uneven_overlap_makes_a_checkerboard`).

# %% [markdown]
# ## Four upsamplings of the same map
#
# We upsample a $6\times6$ map by 2 with each method. The transposed convolution uses an all-ones $3\times3$
# kernel with stride 2, a common initialisation-free setting, to make its overlap pattern visible.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

torch.manual_seed(0)
small = torch.rand(1, 1, 6, 6)  # (B, C, H, W)
pooled_from = torch.rand(1, 1, 12, 12)
pooled, indices = F.max_pool2d(pooled_from, 2, return_indices=True)  # (1, 1, 6, 6)
methods = {
    "input 6×6": small,
    "nearest": F.interpolate(small, scale_factor=2, mode="nearest"),
    "bilinear": F.interpolate(small, scale_factor=2, mode="bilinear", align_corners=False),
    "transposed conv\n3×3 ones, stride 2": F.conv_transpose2d(small, torch.ones(1, 1, 3, 3), stride=2, padding=1, output_padding=1),
    "max unpool": F.max_unpool2d(pooled, indices, 2),
}
fig, axes = plt.subplots(1, 5, figsize=(13, 3))
for ax, (title, image) in zip(axes, methods.items()):
    ax.imshow(image[0, 0].numpy(), cmap="viridis")
    ax.set_title(title)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## Claims: the transposed convolution
#
# `zero_insertion_conv` builds the transposed convolution from scratch: put $s-1$ zeros between input pixels,
# pad every side with $d(k-1)-p$ zeros (plus `output_padding` at the end), and cross-correlate with the kernel
# flipped in space and with its in/out channel axes swapped.


# %%
def zero_insertion_conv(x, weight, stride, padding, output_padding=0, dilation=1):
    """conv_transpose2d(x, weight) rebuilt from conv2d. weight: (C_in, C_out, k, k) as conv_transpose2d takes it."""
    b, c, h, w = x.shape
    spread = torch.zeros(b, c, (h - 1) * stride + 1, (w - 1) * stride + 1, dtype=x.dtype)
    spread[:, :, ::stride, ::stride] = x  # s - 1 zeros between pixels
    edge = dilation * (weight.shape[-1] - 1) - padding
    spread = F.pad(spread, (edge, edge + output_padding, edge, edge + output_padding))
    kernel = weight.flip(-2, -1).transpose(0, 1)  # (C_out, C_in, k, k)
    return F.conv2d(spread, kernel, dilation=dilation)


def test_transposed_conv_is_zero_insertion_then_conv():
    """conv_transpose2d equals zero insertion, padding by d(k−1)−p and a conv2d with the flipped kernel, with output side (H−1)s − 2p + d(k−1) + output_padding + 1, on 33 settings."""
    torch.manual_seed(0)
    checked = 0
    for stride in (1, 2, 3):
        for kernel_size in (2, 3, 4):
            for padding, output_padding, dilation in [(0, 0, 1), (1, 0, 1), (1, 1, 2), (0, 1, 1)]:
                if output_padding >= max(stride, dilation) or padding > dilation * (kernel_size - 1):
                    continue
                x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
                weight = torch.randn(3, 4, kernel_size, kernel_size, dtype=torch.float64)
                expected = F.conv_transpose2d(x, weight, stride=stride, padding=padding,
                                              output_padding=output_padding, dilation=dilation)
                actual = zero_insertion_conv(x, weight, stride, padding, output_padding, dilation)
                torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)
                side = (5 - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
                assert expected.shape == (2, 4, side, side)
                checked += 1
    assert checked == 33


def test_transposed_conv_is_the_adjoint_not_the_inverse():
    """⟨conv2d(x, w), y⟩ = ⟨x, conv_transpose2d(y, w)⟩ and conv_transpose2d is autograd's input gradient of conv2d, but applying it after conv2d does not give x back."""
    torch.manual_seed(0)
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64)  # conv2d: (C_out, C_in, k, k); conv_transpose2d reads it as (C_in', C_out')
    y = torch.randn(1, 4, 4, 4, dtype=torch.float64)
    forward = F.conv2d(x, w, stride=2, padding=1)  # (1, 4, 4, 4)
    back = F.conv_transpose2d(y, w, stride=2, padding=1, output_padding=1)  # (1, 3, 8, 8)
    torch.testing.assert_close((forward * y).sum(), (x * back).sum(), rtol=1e-12, atol=1e-12)
    (grad,) = torch.autograd.grad(forward, x, grad_outputs=y)
    torch.testing.assert_close(grad, back, rtol=1e-12, atol=1e-12)
    round_trip = F.conv_transpose2d(forward, w, stride=2, padding=1, output_padding=1)
    assert round_trip.shape == x.shape
    assert ((round_trip - x).norm() / x.norm()).item() > 0.5  # "deconvolution" does not undo the convolution


# %% [markdown]
# ## Claims: interpolation as a fixed kernel
#
# Nearest ×2 copies each pixel into a $2\times2$ block: a transposed convolution with a $2\times2$ kernel of ones
# and stride 2. Bilinear ×2 (`align_corners=False`) gives output $2i$ the value $\tfrac34x_i + \tfrac14x_{i-1}$ and
# output $2i+1$ the value $\tfrac34x_i + \tfrac14x_{i+1}$: the separable kernel $[\tfrac14, \tfrac34, \tfrac34,
# \tfrac14]^{\otimes 2}$ with stride 2. At the border PyTorch clamps the index, which is what replicating the edge
# pixel does. This is the fixed kernel FCN used to initialise its learnable upsampling layers.


# %%
def test_interpolation_is_a_fixed_transposed_conv():
    """Nearest ×2 equals conv_transpose2d with a 2×2 ones kernel, and bilinear ×2 equals conv_transpose2d with the outer product of [1/4, 3/4, 3/4, 1/4] on the edge-replicated input; with zero padding instead the border is off."""
    torch.manual_seed(0)
    x = torch.rand(2, 1, 7, 9, dtype=torch.float64)
    nearest = F.interpolate(x, scale_factor=2, mode="nearest")
    ones = torch.ones(1, 1, 2, 2, dtype=torch.float64)
    torch.testing.assert_close(F.conv_transpose2d(x, ones, stride=2), nearest, rtol=0, atol=0)
    bilinear = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)  # (2, 1, 14, 18)
    taps = torch.tensor([0.25, 0.75, 0.75, 0.25], dtype=torch.float64)
    kernel = torch.outer(taps, taps)[None, None]  # (1, 1, 4, 4)
    replicated = F.pad(x, (1, 1, 1, 1), mode="replicate")
    torch.testing.assert_close(F.conv_transpose2d(replicated, kernel, stride=2, padding=3), bilinear, rtol=1e-12, atol=1e-12)
    zero_padded = F.conv_transpose2d(x, kernel, stride=2, padding=1)  # same size, border sees zeros
    gap = (zero_padded - bilinear).abs()
    assert gap[..., 1:-1, 1:-1].max() < 1e-12 and gap.max() > 0.05


def test_bilinear_invents_values_nearest_does_not():
    """Upsampling a label map with classes {0, 1, 2}, nearest keeps exactly those values while bilinear produces fractional, non-existent labels."""
    labels = torch.tensor([[0, 0, 1, 1], [0, 2, 2, 1], [2, 2, 1, 0], [1, 1, 0, 0]], dtype=torch.float64)[None, None]
    nearest = F.interpolate(labels, scale_factor=2, mode="nearest")
    bilinear = F.interpolate(labels, scale_factor=2, mode="bilinear", align_corners=False)
    assert set(nearest.unique().tolist()) == {0.0, 1.0, 2.0}
    fractional = bilinear != bilinear.round()
    assert fractional.float().mean() > 0.3


# %% [markdown]
# ## Claims: max unpooling


# %%
def test_max_unpool_puts_maxima_back_and_zeros_elsewhere():
    """max_unpool2d after max_pool2d (2×2) equals the input masked to each window's maximum (brute force): one nonzero per window, at the position of the maximum."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    pooled, indices = F.max_pool2d(x, 2, return_indices=True)
    unpooled = F.max_unpool2d(pooled, indices, 2)
    windows = x.reshape(2, 3, 4, 2, 4, 2)
    is_max = windows == windows.amax(dim=(3, 5), keepdim=True)
    expected = (windows * is_max).reshape(2, 3, 8, 8)
    torch.testing.assert_close(unpooled, expected, rtol=0, atol=0)
    assert int((unpooled != 0).sum()) == pooled.numel()


# %% [markdown]
# ## Where it stops holding: uneven overlap
#
# A transposed convolution stamps a copy of its kernel, scaled by each input pixel, every $s$ output pixels.
# If $k$ is not a multiple of $s$, some output pixels receive more stamps than others. With a $3\times3$ kernel and
# stride 2, interior pixels get 1, 2 or 4 contributions in a repeating pattern, so even a constant input and a
# constant kernel give a checkerboard (Odena et al. 2016, *Deconvolution and checkerboard artifacts*). With a
# $4\times4$ kernel, every interior pixel gets exactly 4.


# %%
def test_uneven_overlap_makes_a_checkerboard():
    """On a constant input with an all-ones kernel, a 3×3 stride-2 transposed conv gives interior values {1, 2, 4} in a period-2 pattern, while a 4×4 stride-2 one gives 4 everywhere inside."""
    x = torch.ones(1, 1, 6, 6)
    odd = F.conv_transpose2d(x, torch.ones(1, 1, 3, 3), stride=2)  # (1, 1, 13, 13)
    interior = odd[0, 0, 2:-2, 2:-2]
    assert set(interior.unique().tolist()) == {1.0, 2.0, 4.0}
    torch.testing.assert_close(interior[::2, ::2], torch.full_like(interior[::2, ::2], 4.0))  # pixels hit by 2×2 stamps
    even = F.conv_transpose2d(x, torch.ones(1, 1, 4, 4), stride=2)  # (1, 1, 14, 14)
    assert set(even[0, 0, 2:-2, 2:-2].unique().tolist()) == {4.0}


# %% [markdown]
# ## Conclusion
#
# All three families are linear maps from a small grid to a larger one. Interpolation uses a fixed kernel (and
# nearest is the only one that keeps label values); a transposed convolution learns its kernel and is the adjoint of
# a convolution, not its inverse, so "deconvolution" is a misnomer; max unpooling uses the pool's indices to put
# maxima back and zeros elsewhere, a sparse map that a following convolution densifies. Transposed convolutions with
# kernel sizes that do not divide by the stride stamp unevenly; resize-then-convolve avoids that.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

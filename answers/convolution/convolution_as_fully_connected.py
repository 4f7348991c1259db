# %% [markdown]
# # Convolution as a special fully connected layer: the proof
#
# **Question.** Why is a convolutional layer called a special fully connected layer?
#
# A fully connected layer on an image multiplies the flattened image by a dense matrix. A convolution is
# the same kind of linear map, with most of that matrix forced to zero (locality) and the remaining entries
# forced to repeat (weight sharing). Claims:
#
# 1. a convolution is an unfold (im2col) followed by one matrix multiply with the kernel reshaped to
#    $C_\text{out}\times C_\text{in}k^2$ (`test_conv_is_unfold_then_matmul`);
# 2. its dense matrix, read off from single-pixel inputs, is zero outside each output's $k\times k$ window and repeats
#    the same $C_\text{out}C_\text{in}k^2$ numbers at every position, so it holds thousands of times fewer free parameters
#    than a dense layer of the same shape (`test_dense_matrix_is_local_and_tied`);
# 3. weight sharing makes the layer translation *equivariant*, exactly with circular padding, and only away from
#    the border with zero padding; a dense layer is not (`test_convolution_is_translation_equivariant`);
# 4. it is equivariance, not invariance: the output moves with the input, and only a global pooling makes a
#    shift-invariant summary (`test_equivariance_is_not_invariance`);
# 5. conversely, a dense layer is a convolution whose kernel covers the whole input
#    (`test_linear_layer_is_a_conv_with_a_full_size_kernel`).

# %% [markdown]
# ## The dense matrix of a convolution
#
# A convolution is linear in its input, so it has a matrix $M$ with $\text{vec}(y) = M\,\text{vec}(x)$. The
# response to an image with a single 1 at pixel $p$ is column $p$ of $M$. We read it off this way for a $3\times3$ kernel on a
# $6\times6$ single-channel image with padding 1, and plot it next to a dense layer of the same shape.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn


def dense_matrix(layer, input_shape):
    """The (out_numel, in_numel) matrix M of a linear layer, y.flatten() = M @ x.flatten()."""
    n = torch.Size(input_shape).numel()
    basis = torch.eye(n, dtype=torch.float64).reshape(n, *input_shape[1:])  # one image per input pixel
    with torch.no_grad():
        columns = layer(basis).reshape(n, -1)  # row p: the response to pixel p alone
    return columns.T


torch.manual_seed(0)
conv = nn.Conv2d(1, 1, 3, padding=1, bias=False, dtype=torch.float64)
M = dense_matrix(conv, (1, 1, 6, 6))  # (36, 36)
fig, axes = plt.subplots(1, 2, figsize=(8.5, 4))
limit = M.abs().max().item()
axes[0].imshow(M.numpy(), cmap="coolwarm", vmin=-limit, vmax=limit)
axes[0].set_title("3×3 conv on 6×6: 36×36 matrix,\n9 distinct weights, banded")
axes[1].imshow(torch.randn(36, 36).numpy(), cmap="coolwarm")
axes[1].set_title("fully connected: 36×36 matrix,\n1296 free weights")
for ax in axes:
    ax.set_xlabel("input pixel")
    ax.set_ylabel("output pixel")
fig.tight_layout()

# %% [markdown]
# ## Claims: the same linear map, constrained
#
# `F.unfold` cuts every $k\times k\times C_\text{in}$ window into a column (im2col). A convolution is then one
# matrix multiply of the reshaped kernel with those columns. This is how many libraries compute it.


# %%
def test_conv_is_unfold_then_matmul():
    """Conv2d (bias, stride 2, padding 1) equals im2col by F.unfold followed by one matmul with the kernel reshaped to (C_out, C_in·k·k)."""
    torch.manual_seed(0)
    layer = nn.Conv2d(3, 5, 3, stride=2, padding=1, dtype=torch.float64)
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64)  # (B, C_in, H, W)
    columns = F.unfold(x, 3, padding=1, stride=2)  # (B, C_in·k·k, H'·W') = (2, 27, 25)
    actual = layer.weight.reshape(5, -1) @ columns + layer.bias[:, None]  # (B, C_out, H'·W')
    torch.testing.assert_close(actual.reshape(2, 5, 5, 5), layer(x), rtol=1e-12, atol=1e-12)


def test_dense_matrix_is_local_and_tied():
    """The conv's dense matrix, read off from its responses to single pixels, is nonzero only inside each output's 3×3 window, every window repeats the same C_out·C_in·k² kernel weights, and the free parameters fall from 1,048,576 to 2,304."""
    torch.manual_seed(0)
    layer = nn.Conv2d(16, 16, 3, padding=1, bias=False, dtype=torch.float64)
    shape = (1, 16, 8, 8)
    matrix = dense_matrix(layer, shape)  # (16·8·8, 16·8·8)
    assert matrix.shape == (1024, 1024)
    # locality: entry (o, c, i, j) <- (c', i', j') is zero unless |i - i'| <= 1 and |j - j'| <= 1
    out_idx = torch.cartesian_prod(*[torch.arange(n) for n in (16, 8, 8)])  # (1024, 3)
    di = (out_idx[:, None, 1] - out_idx[None, :, 1]).abs()
    dj = (out_idx[:, None, 2] - out_idx[None, :, 2]).abs()
    outside = (di > 1) | (dj > 1)
    assert matrix[outside].abs().max() == 0
    # weight sharing: entry ((o, i, j), (c, i + u - 1, j + v - 1)) is weight[o, c, u, v] at every position
    entries = matrix.reshape(16, 8, 8, 16, 8, 8)
    for i, j in [(1, 1), (4, 6), (6, 2)]:
        window = entries[:, i, j, :, i - 1 : i + 2, j - 1 : j + 2]  # (C_out, C_in, 3, 3)
        torch.testing.assert_close(window, layer.weight, rtol=0, atol=0)
    assert matrix.numel() == 1_048_576
    assert sum(p.numel() for p in layer.parameters()) == 2_304


# %% [markdown]
# ## Claims: what weight sharing buys, and what it does not
#
# Because the same weights are applied at every position, shifting the input shifts the output: the layer is
# translation *equivariant*. With circular padding the image has no border and equivariance is exact for every
# shift. Zero padding breaks it near the border. A dense layer has no reason to be equivariant at all.


# %%
def test_convolution_is_translation_equivariant():
    """conv(shift(x)) == shift(conv(x)) exactly with circular padding, inside the image only with zero padding, and not at all for a random dense layer."""
    torch.manual_seed(0)
    x = torch.randn(1, 2, 10, 10, dtype=torch.float64)
    shift = lambda t: torch.roll(t, shifts=(3, -2), dims=(2, 3))  # noqa: E731
    circular = nn.Conv2d(2, 4, 3, padding=1, padding_mode="circular", dtype=torch.float64)
    torch.testing.assert_close(circular(shift(x)), shift(circular(x)), rtol=1e-12, atol=1e-12)
    zeros = nn.Conv2d(2, 4, 3, padding=1, dtype=torch.float64)
    zeros.load_state_dict(circular.state_dict())
    gap = (zeros(shift(x)) - shift(zeros(x))).abs()  # (1, 4, 10, 10)
    interior = gap[..., 4:8, 1:6]  # rows/cols whose window never meets a border or the wrap-around
    assert interior.max() < 1e-12 and gap.max() > 0.1
    dense = nn.Linear(200, 400, dtype=torch.float64)
    flat = lambda t: dense(t.flatten(1)).reshape(1, 4, 10, 10)  # noqa: E731
    assert (flat(shift(x)) - shift(flat(x))).abs().max() > 0.1


def test_equivariance_is_not_invariance():
    """Shifting the input moves a conv's output by the same amount (it changes), while a global average pool over it stays the same."""
    torch.manual_seed(0)
    x = torch.randn(1, 2, 10, 10, dtype=torch.float64)
    shifted = torch.roll(x, shifts=(3, -2), dims=(2, 3))
    layer = nn.Conv2d(2, 4, 3, padding=1, padding_mode="circular", dtype=torch.float64)
    assert (layer(shifted) - layer(x)).abs().max() > 0.5  # the feature map is not invariant
    pooled = lambda t: layer(t).mean(dim=(2, 3))  # noqa: E731
    torch.testing.assert_close(pooled(shifted), pooled(x), rtol=1e-12, atol=1e-12)


def test_linear_layer_is_a_conv_with_a_full_size_kernel():
    """A Linear layer on a flattened (C, H, W) input equals a Conv2d whose kernel is H×W with the Linear's weights reshaped, giving a 1×1 output."""
    torch.manual_seed(0)
    linear = nn.Linear(3 * 5 * 5, 7, dtype=torch.float64)
    x = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    conv = nn.Conv2d(3, 7, 5, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(linear.weight.reshape(7, 3, 5, 5))
        conv.bias.copy_(linear.bias)
    torch.testing.assert_close(conv(x)[:, :, 0, 0], linear(x.flatten(1)), rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## Conclusion
#
# A convolution is a fully connected layer whose matrix is sparse (each output sees a $k\times k$ window) and
# tied (every window uses the same kernel). Those two constraints are the "locality" and the "translation
# invariance" of the derivation from fully connected layers; what they give the layer is equivariance, and the
# saving in parameters is the ratio of the dense matrix to the kernel. In the other direction, a dense layer is
# a convolution with a kernel as large as its input.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

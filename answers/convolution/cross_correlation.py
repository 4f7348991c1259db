# %% [markdown]
# # Convolution versus cross-correlation, and an edge filter: the proof
#
# **Question.** Is the "convolution" of a CNN the convolution of mathematics? And which edges does the
# filter $[-1\,-1\,-1;\ 0\,0\,0;\ 1\,1\,1]$ extract?
#
# The convolution of mathematics flips the kernel: $(x * w)[i,j] = \sum_{u,v} x[i-u, j-v]\,w[u,v]$.
# `torch.nn.functional.conv2d` does not: it computes the cross-correlation
# $(x \star w)[i,j] = \sum_{u,v} x[i+u, j+v]\,w[u,v]$. Claims:
#
# 1. `F.conv2d` is a cross-correlation, checked against a brute-force loop, and differs from the true
#    convolution (`test_conv2d_is_cross_correlation`);
# 2. flipping the kernel turns it into the true convolution, checked against the convolution theorem with
#    `torch.fft` (`test_flipped_kernel_gives_the_true_convolution`);
# 3. two stacked cross-correlations are one cross-correlation whose kernel is the *true* convolution of the
#    two kernels, and the order of the layers does not matter (`test_stacked_layers_compose_by_true_convolution`);
# 4. for learning the flip is irrelevant: a network trained with flipped kernels follows the same path, flipped
#    (`test_training_absorbs_the_flip`);
# 5. on the note's own image the filter gives a $3\times4$ output of 0 and 30 rows, not the $4\times4$ the note
#    prints (`test_edge_filter_on_the_notes_image`);
# 6. the filter responds to horizontal edges only, with a sign that gives the edge's polarity and flips under
#    true convolution; it is a Prewitt filter, a vertical derivative times a horizontal smoothing
#    (`test_filter_finds_horizontal_edges_with_a_sign`).

# %% [markdown]
# ## The filter on a picture
#
# We apply the note's filter to a grey square on a black background. The output is positive where the image
# gets brighter going down (the top edge of the square) and negative where it gets darker (the bottom edge).
# The left and right edges give nothing.

# %%

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

EDGE_FILTER = torch.tensor([[-1.0, -1.0, -1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])


def correlate(x, w):
    """Valid 2D cross-correlation of one (H, W) image with a (k, k) kernel, by F.conv2d."""
    return F.conv2d(x[None, None], w[None, None])[0, 0]


square = torch.zeros(16, 16)
square[4:12, 4:12] = 10.0
response = correlate(square, EDGE_FILTER)  # (14, 14)
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
axes[0].imshow(square.numpy(), cmap="gray")
axes[0].set_title("input")
image = axes[1].imshow(response.numpy(), cmap="coolwarm", vmin=-30, vmax=30)
axes[1].set_title("F.conv2d with [-1 -1 -1; 0 0 0; 1 1 1]")
fig.colorbar(image, ax=axes[1])
fig.tight_layout()

# %% [markdown]
# ## Two independent references
#
# `brute_force_correlation` loops over the output and sums $x[i+u, j+v]\,w[u,v]$ literally.
# `fft_convolution` computes the full true convolution with the convolution theorem: multiply the
# zero-padded Fourier transforms, transform back. It shares no code with `F.conv2d`.


# %%
def brute_force_correlation(x, w):
    k_h, k_w = w.shape
    out = torch.zeros(x.shape[0] - k_h + 1, x.shape[1] - k_w + 1, dtype=x.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = sum(x[i + u, j + v] * w[u, v] for u in range(k_h) for v in range(k_w))
    return out


def fft_convolution(x, w):
    """Full 2D convolution (x * w), size (H + k_h - 1, W + k_w - 1), by the convolution theorem."""
    shape = (x.shape[0] + w.shape[0] - 1, x.shape[1] + w.shape[1] - 1)
    return torch.fft.irfft2(torch.fft.rfft2(x, shape) * torch.fft.rfft2(w, shape), shape)


# %% [markdown]
# ## Claims: what conv2d computes


# %%
def test_conv2d_is_cross_correlation():
    """F.conv2d computes Σ x[i+u, j+v]·w[u, v] (a cross-correlation, equal to a brute-force loop), which differs from the true convolution for an asymmetric kernel."""
    torch.manual_seed(0)
    x = torch.randn(6, 7, dtype=torch.float64)
    w = torch.randn(3, 3, dtype=torch.float64)
    torch.testing.assert_close(correlate(x, w), brute_force_correlation(x, w), rtol=1e-12, atol=1e-12)
    true_convolution = fft_convolution(x, w)[2:-2, 2:-2]  # the "valid" part, (4, 5)
    assert (correlate(x, w) - true_convolution).abs().max() > 0.5


def test_flipped_kernel_gives_the_true_convolution():
    """F.conv2d with the kernel flipped in both axes and k−1 zero padding equals the full true convolution from torch.fft, and with a kernel symmetric under 180° rotation no flip is needed, to 1e-10."""
    torch.manual_seed(0)
    x = torch.randn(6, 7, dtype=torch.float64)
    w = torch.randn(3, 4, dtype=torch.float64)
    actual = F.conv2d(x[None, None], w.flip(0, 1)[None, None], padding=(2, 3))[0, 0]  # (8, 10)
    torch.testing.assert_close(actual, fft_convolution(x, w), rtol=1e-10, atol=1e-10)
    # a kernel symmetric under a 180° rotation is its own flip: then plain conv2d already is the true convolution
    symmetric = w + w.flip(0, 1)
    true_valid = fft_convolution(x, symmetric)[2:-2, 3:-3]  # the "valid" part, (4, 4)
    torch.testing.assert_close(correlate(x, symmetric), true_valid, rtol=1e-10, atol=1e-10)


def test_stacked_layers_compose_by_true_convolution():
    """Cross-correlating with a then b equals one cross-correlation with the true convolution a * b, which is commutative, so swapping two linear conv layers changes nothing."""
    torch.manual_seed(0)
    x = torch.randn(9, 9, dtype=torch.float64)
    a = torch.randn(3, 3, dtype=torch.float64)
    b = torch.randn(3, 3, dtype=torch.float64)
    stacked = correlate(correlate(x, a), b)  # (5, 5)
    torch.testing.assert_close(stacked, correlate(x, fft_convolution(a, b)), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(stacked, correlate(correlate(x, b), a), rtol=1e-10, atol=1e-10)
    # the cross-correlation of the kernels is not the right composition
    kernel_correlation = F.conv2d(a[None, None], b[None, None], padding=2)[0, 0]  # (5, 5)
    assert (correlate(x, kernel_correlation) - stacked).abs().max() > 0.5


# %% [markdown]
# ## Claims: the flip does not matter for learning
#
# A kernel is learned, so a network that flips it computes exactly the functions that one that does not
# flip computes, with the weights stored rotated by 180°. Gradient descent keeps that correspondence step by
# step: the gradient of a flipped kernel is the flipped gradient.


# %%

def test_training_absorbs_the_flip():
    """Training a true-convolution layer and a cross-correlation layer from flipped initial weights on the same data gives the same losses at each of 50 steps and final kernels that are each other's flip."""
    torch.manual_seed(0)
    x = torch.randn(16, 1, 8, 8, dtype=torch.float64)
    target = F.conv2d(x, torch.randn(1, 1, 3, 3, dtype=torch.float64))
    w0 = torch.randn(1, 1, 3, 3, dtype=torch.float64)
    w_corr = w0.clone().requires_grad_()
    w_conv = w0.flip(-2, -1).clone().requires_grad_()  # a "true convolution" layer stores the flipped kernel
    for _ in range(50):
        losses = []
        for w, flip in [(w_corr, False), (w_conv, True)]:
            kernel = w.flip(-2, -1) if flip else w
            loss = (F.conv2d(x, kernel) - target).square().mean()
            (grad,) = torch.autograd.grad(loss, w)
            with torch.no_grad():
                w -= 0.1 * grad
            losses.append(loss.item())
        assert abs(losses[0] - losses[1]) < 1e-12
    torch.testing.assert_close(w_conv.flip(-2, -1), w_corr, rtol=1e-10, atol=1e-12)
    assert losses[0] < 0.05 * (target.square().mean().item())


# %% [markdown]
# ## Claims: the edge filter
#
# The note's image has five rows (three black, two at intensity 10) and six columns. A valid $3\times3$
# window fits $5-3+1=3$ times down and $6-3+1=4$ times across, so the output is $3\times4$. Each window
# computes (bottom row sum) − (top row sum), which is $3\cdot10\cdot(\text{bright}(r+2)-\text{bright}(r))$
# for the window starting at row $r$.


# %%
def test_edge_filter_on_the_notes_image():
    """On the note's 5×6 image the filter gives a 3×4 output with rows 0, 30, 30 (the closed form 30·(bright(r+2) − bright(r))); the note's 4×4 answer needs a sixth row of 10s."""
    image = torch.tensor([[0.0] * 6] * 3 + [[10.0] * 6] * 2)  # (5, 6), as printed in S3.21
    actual = correlate(image, EDGE_FILTER)
    bright = (image[:, 0] > 0).double()  # (5,)
    expected = (30 * (bright[2:] - bright[:-2]))[:, None].expand(3, 4)
    assert actual.shape == (3, 4)
    torch.testing.assert_close(actual.double(), expected, rtol=0, atol=0)
    six_rows = torch.tensor([[0.0] * 6] * 3 + [[10.0] * 6] * 3)  # (6, 6)
    assert correlate(six_rows, EDGE_FILTER).tolist() == [[0.0] * 4, [30.0] * 4, [30.0] * 4, [0.0] * 4]


def test_filter_finds_horizontal_edges_with_a_sign():
    """The filter gives +30 on a dark-above-bright horizontal edge, −30 on the reverse and under true convolution, 0 on a vertical edge, and equals a vertical [−1, 0, 1] derivative after a horizontal [1, 1, 1] sum."""
    horizontal = torch.tensor([[0.0] * 6] * 3 + [[10.0] * 6] * 3)  # (6, 6): dark above bright
    vertical = horizontal.T.contiguous()  # dark left of bright
    assert correlate(horizontal, EDGE_FILTER).max() == 30
    assert correlate(horizontal.flip(0), EDGE_FILTER).min() == -30  # bright above dark
    assert correlate(horizontal, EDGE_FILTER.flip(0, 1)).min() == -30  # true convolution flips the sign
    assert correlate(vertical, EDGE_FILTER).abs().max() == 0
    # separable (rank one): outer product of a vertical derivative and a horizontal box
    derivative, box = torch.tensor([-1.0, 0.0, 1.0]), torch.ones(3)
    torch.testing.assert_close(torch.outer(derivative, box), EDGE_FILTER)
    torch.manual_seed(0)
    x = torch.randn(8, 8)
    two_step = correlate(correlate(x, box[None, :]), derivative[:, None])
    torch.testing.assert_close(two_step, correlate(x, EDGE_FILTER), rtol=1e-5, atol=1e-5)


# %% [markdown]
# ## Conclusion
#
# CNN layers compute cross-correlations; the name "convolution" stuck because, for learned kernels, the flip
# is a relabelling of the weights and changes nothing that training can see. It matters when kernels are
# fixed (an edge filter's sign flips) and when reasoning about composition: stacked layers combine their
# kernels by *true* convolution. The note's filter is a Prewitt filter for horizontal edges; it reports their
# polarity, and on the note's image its output is $3\times4$.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

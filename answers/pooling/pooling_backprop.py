# %% [markdown]
# # Pooling backward: the proof
#
# **Question.** What is a pooling layer for, and how does the gradient flow back through it?
#
# This module writes the backward pass of max and average pooling by hand, checks it against
# PyTorch's autograd, and then probes the cases where the textbook picture needs care: overlapping
# windows, padding, ties, and shifted inputs. Claims:
#
# 1. max pooling sends each output gradient, whole, to the maximum of its window (`test_max_pool_routes_gradient_to_the_argmax`);
# 2. average pooling gives each input of a window an equal share $g/k^2$ (`test_avg_pool_spreads_gradient_evenly`);
# 3. with overlapping windows (stride < kernel) the shares add up (`test_overlapping_windows_accumulate_gradient`);
# 4. without padding, the input gradient sums to the output gradient (`test_gradient_sum_is_preserved_without_padding`);
# 5. a pooling layer has no parameters, yet its backward is a real gradient computation the layers below depend on (`test_pooling_has_no_parameters_yet_backpropagates`);
# 6. the indices saved by the forward pass are the backward, but only without overlap (`test_max_unpool_is_the_backward_only_without_overlap`);
# 7. on ties, PyTorch gives the whole gradient to the first maximum in row-major order (`test_max_pool_tie_goes_to_the_first_maximum`),
#    a NaN beats every number (on CPU, the last NaN of the window takes the gradient: `test_max_pool_nan_takes_the_gradient_on_cpu`),
#    and a window of ReLU-dead zeros passes nothing further down (`test_dead_relu_window_passes_no_gradient`);
# 8. average pooling with `count_include_pad=True` loses gradient into the padding (`test_avg_pool_padding_loses_gradient`), `count_include_pad=False` does not (`test_count_include_pad_false_divides_by_the_real_count`), max pooling never does (`test_max_pool_padding_never_takes_the_gradient`), and `divisor_override` rescales the sum (`test_divisor_override_rescales_the_gradient_sum`);
# 9. the role: pooling shrinks the map and widens the receptive field (`test_pooling_downsamples_and_widens_the_receptive_field`), and max pooling is blind to shifts inside a window (`test_max_pool_ignores_shifts_inside_a_window`) but not to shifts in general (`test_one_pixel_shift_changes_two_thirds_of_max_pool_outputs`).

# %% [markdown]
# ## The backward pass, written by hand
#
# A pooling window maps $k \times k$ inputs to one output. For max pooling the local derivative is 1 at
# the winning input and 0 elsewhere; for average pooling it is $1/k^2$ everywhere in the window. So the
# backward pass walks over the output positions and adds each output gradient $g$ into its window:
# whole to the winner (the first one in row-major order on ties, which is PyTorch's rule, as the ties
# section shows), or split evenly. The helpers below do exactly that, with plain loops, so that
# nothing is borrowed from PyTorch's pooling kernels. Windows that go past the input read padding:
# $-\infty$ for max pooling (it never wins) and $0$ for average pooling (it takes its share and is then
# cropped away).

# %%
import torch
import torch.nn.functional as F
from torch import nn


def max_pool2d_backward(x, grad_output, kernel_size, stride, padding=0):
    """Input gradient of max pooling: each output gradient goes to the first maximum of its window."""
    B, C, H, W = x.shape
    k = kernel_size
    x_pad = F.pad(x.detach(), (padding,) * 4, value=float("-inf"))  # (B, C, H+2p, W+2p)
    grad_pad = torch.zeros_like(x_pad)
    for i in range(grad_output.shape[-2]):
        for j in range(grad_output.shape[-1]):
            rows, cols = slice(i * stride, i * stride + k), slice(j * stride, j * stride + k)
            window = x_pad[:, :, rows, cols].reshape(B, C, k * k)  # row-major order
            is_max = window == window.amax(dim=-1, keepdim=True)
            first_max = is_max & (is_max.cumsum(dim=-1) == 1)  # one winner per window, even on ties
            share = first_max * grad_output[:, :, i, j, None]  # (B, C, k*k)
            grad_pad[:, :, rows, cols] += share.reshape(B, C, k, k)
    return grad_pad[:, :, padding : padding + H, padding : padding + W]


def avg_pool2d_backward(x, grad_output, kernel_size, stride, padding=0, count_include_pad=True):
    """Input gradient of average pooling: each output gradient is split evenly over its window."""
    B, C, H, W = x.shape
    k = kernel_size
    is_real = F.pad(torch.ones(H, W, dtype=x.dtype), (padding,) * 4)  # 1 on the input, 0 on the padding
    grad_pad = torch.zeros(B, C, H + 2 * padding, W + 2 * padding, dtype=x.dtype)
    for i in range(grad_output.shape[-2]):
        for j in range(grad_output.shape[-1]):
            rows, cols = slice(i * stride, i * stride + k), slice(j * stride, j * stride + k)
            divisor = k * k if count_include_pad else is_real[rows, cols].sum()
            grad_pad[:, :, rows, cols] += grad_output[:, :, i, j, None, None] / divisor
    return grad_pad[:, :, padding : padding + H, padding : padding + W]  # the padding's share is dropped


def autograd_input_grad(pool, x, grad_output):
    """The oracle: the input gradient that PyTorch's autograd computes for `pool(x)`."""
    x = x.detach().requires_grad_()
    (grad,) = torch.autograd.grad(pool(x), x, grad_output)
    return grad


# %% [markdown]
# ## What the gradient looks like
#
# Each panel pools a random $6 \times 6$ map (the same one that `test_overlapping_windows_accumulate_gradient`
# uses) and back-propagates a gradient of 1 from every output, so a cell's colour counts how much gradient
# it receives. Max pooling with disjoint $2 \times 2$ windows lights
# one cell per window; a $3 \times 3$ window with stride 1 lets one cell win several windows; average pooling
# with zero padding starves the border unless the divisor counts only real cells.

# %%
import matplotlib.pyplot as plt

torch.manual_seed(0)
x_demo = torch.randn(1, 1, 6, 6, dtype=torch.float64)
panels = [
    ("max, k=2, s=2", lambda t: F.max_pool2d(t, 2, 2)),
    ("max, k=3, s=1", lambda t: F.max_pool2d(t, 3, 1)),
    ("avg, k=3, s=1, p=1\ncount_include_pad=True", lambda t: F.avg_pool2d(t, 3, 1, 1)),
    ("avg, k=3, s=1, p=1\ncount_include_pad=False", lambda t: F.avg_pool2d(t, 3, 1, 1, count_include_pad=False)),
]
fig, axes = plt.subplots(1, len(panels), figsize=(13, 3.6))
for ax, (title, pool) in zip(axes, panels):
    grad_output = torch.ones_like(pool(x_demo))
    grad = autograd_input_grad(pool, x_demo, grad_output)[0, 0]  # (6, 6)
    ax.imshow(grad.numpy(), cmap="viridis", vmin=0)
    for (r, c), value in zip(torch.cartesian_prod(torch.arange(6), torch.arange(6)).tolist(), grad.flatten()):
        color = "k" if value > 0.6 * grad.max() else "w"  # readable on viridis
        ax.text(c, r, f"{value:.2g}", ha="center", va="center", fontsize=8, color=color)
    ax.set_title(f"{title}\nΣ grad in = {grad.sum():.2f} of {grad_output.sum():.0f}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Input gradient of pooling, with a gradient of 1 at every output", fontsize=10)
fig.tight_layout(rect=(0, 0, 1, 0.94))

# %% [markdown]
# ## Claims: routing the gradient
#
# The hand-written backward passes agree with autograd, and the average-pooling share also agrees with
# the closed form $g/k^2$ spelled out with `repeat_interleave`. Double precision makes equality exact
# enough to compare with a tight tolerance.

# %%
def test_max_pool_routes_gradient_to_the_argmax():
    """Max pooling sends each output gradient, whole, to the one input that won its window, exactly as autograd does."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    grad_output = torch.randn(2, 3, 3, 3, dtype=torch.float64)
    actual = max_pool2d_backward(x, grad_output, kernel_size=2, stride=2)
    expected = autograd_input_grad(lambda t: F.max_pool2d(t, 2, 2), x, grad_output)
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)
    # exactly one non-zero cell per 2x2 window, and it holds the maximum
    winners = (expected != 0).double()
    assert torch.equal(F.avg_pool2d(winners, 2) * 4, torch.ones_like(grad_output))
    torch.testing.assert_close(F.avg_pool2d(x * winners, 2) * 4, F.max_pool2d(x, 2), rtol=1e-12, atol=1e-12)


def test_avg_pool_spreads_gradient_evenly():
    """Average pooling gives every input of a k×k window the share g/k² of its output gradient g."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    grad_output = torch.randn(2, 3, 2, 2, dtype=torch.float64)
    expected = (grad_output / 9).repeat_interleave(3, dim=-2).repeat_interleave(3, dim=-1)  # closed form
    by_autograd = autograd_input_grad(lambda t: F.avg_pool2d(t, 3, 3), x, grad_output)
    by_hand = avg_pool2d_backward(x, grad_output, kernel_size=3, stride=3)
    torch.testing.assert_close(by_autograd, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(by_hand, expected, rtol=1e-12, atol=1e-12)


def test_overlapping_windows_accumulate_gradient():
    """With stride < kernel an input can sit in several windows, and its gradient is the sum of what each window sends it (two cells of the proof's 6×6 map win four of the 16 windows each)."""
    torch.manual_seed(0)
    x = torch.randn(1, 1, 6, 6, dtype=torch.float64)
    ones = torch.ones(1, 1, 4, 4, dtype=torch.float64)  # 3x3 windows, stride 1: 4x4 outputs
    # max: a cell's gradient is the number of windows it wins, counted from the forward pass's indices
    max_grad = autograd_input_grad(lambda t: F.max_pool2d(t, 3, 1), x, ones)
    _, indices = F.max_pool2d(x, 3, 1, return_indices=True)
    wins = torch.bincount(indices.flatten(), minlength=36).reshape(1, 1, 6, 6).double()
    assert torch.equal(max_grad, wins)
    assert max_grad.max() == 4 and int(max_grad.eq(4).sum()) == 2  # two cells win four windows each
    torch.testing.assert_close(max_pool2d_backward(x, ones, 3, 1), max_grad, rtol=0, atol=0)
    # avg: a cell's gradient is (number of windows covering it) / 9; the cover count is min(i+1, 3, 6-i, 4)
    cover = torch.tensor([min(i + 1, 3, 6 - i, 4) for i in range(6)], dtype=torch.float64)
    expected = torch.outer(cover, cover)[None, None] / 9
    avg_grad = autograd_input_grad(lambda t: F.avg_pool2d(t, 3, 1), x, ones)
    torch.testing.assert_close(avg_grad, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(avg_pool2d_backward(x, ones, 3, 1), expected, rtol=1e-12, atol=1e-12)


def test_gradient_sum_is_preserved_without_padding():
    """Without padding, max and average pooling return exactly as much gradient as they receive, overlapping or not."""
    torch.manual_seed(0)
    x = torch.randn(2, 2, 7, 7, dtype=torch.float64)  # 7 is not a multiple of 2: floor mode drops a border
    for kind in (F.max_pool2d, F.avg_pool2d):
        for kernel_size, stride in [(2, 2), (3, 2), (3, 1), (2, 1)]:
            pool = lambda t: kind(t, kernel_size, stride)  # noqa: E731
            grad_output = torch.randn_like(pool(x))
            actual = autograd_input_grad(pool, x, grad_output).sum()
            torch.testing.assert_close(actual, grad_output.sum(), rtol=1e-12, atol=1e-12)


def test_pooling_has_no_parameters_yet_backpropagates():
    """Pooling layers have no parameters, but the convolution below them gets its gradient only through the pooling backward."""
    assert list(nn.MaxPool2d(2).parameters()) == [] and list(nn.AvgPool2d(2).parameters()) == []
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 2, kernel_size=3, padding=1).double()
    x = torch.randn(1, 1, 6, 6, dtype=torch.float64)
    grad_output = torch.randn(1, 2, 3, 3, dtype=torch.float64)
    # end to end: autograd through conv -> max pool
    (expected,) = torch.autograd.grad(F.max_pool2d(conv(x), 2), conv.weight, grad_output)
    # by hand: the pooling backward first, then the convolution's own backward
    features = conv(x)
    grad_features = max_pool2d_backward(features, grad_output, kernel_size=2, stride=2)
    (actual,) = torch.autograd.grad(features, conv.weight, grad_features)
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)
    assert grad_features.count_nonzero() == 2 * 9  # one routed gradient per window and channel


def test_max_unpool_is_the_backward_only_without_overlap():
    """The argmax indices saved by the forward pass reproduce the max-pool gradient for disjoint windows, but not for overlapping ones."""
    torch.manual_seed(0)
    x = torch.randn(1, 1, 6, 6, dtype=torch.float64)
    # disjoint windows: scattering the output gradient to the saved indices is the backward
    _, indices = F.max_pool2d(x, 2, 2, return_indices=True)
    grad_output = torch.randn(1, 1, 3, 3, dtype=torch.float64)
    actual = F.max_unpool2d(grad_output, indices, 2, 2, output_size=(6, 6))
    expected = autograd_input_grad(lambda t: F.max_pool2d(t, 2, 2), x, grad_output)
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)
    # overlapping windows: unpool writes once per index, the backward adds, so shared winners are undercounted
    _, indices = F.max_pool2d(x, 3, 1, return_indices=True)
    ones = torch.ones(1, 1, 4, 4, dtype=torch.float64)
    unpooled = F.max_unpool2d(ones, indices, 3, 1, output_size=(6, 6))
    backward = autograd_input_grad(lambda t: F.max_pool2d(t, 3, 1), x, ones)
    assert backward.sum() == 16 and unpooled.sum() == indices.unique().numel() < 16


# %% [markdown]
# ## Where the picture needs care: ties
#
# "The gradient goes to the maximum" does not say which maximum when several inputs are equal, as in a
# window of zeros after a ReLU. PyTorch's kernel scans the window row by row and replaces the running
# maximum only on a strictly larger value (`val > maxval`), so the first copy in row-major order wins;
# `torch.amax` over the same values splits the gradient evenly instead. Both are valid subgradients of the
# same function; the two ops just choose differently.
#
# The same comparison has a second branch: the CPU kernel also replaces the running maximum whenever the
# new value is NaN (`val > maxval || isnan(val)`). A NaN therefore wins its window, the output is NaN, and
# with several NaNs the *last* one takes the gradient. (Only the CPU kernel is checked here.) Finally,
# the tie rule meets ReLU in a window of dead activations: the gradient goes to the first zero, and ReLU's
# derivative at 0 is 0, so nothing reaches the layer below whichever zero is chosen.

# %%
def test_max_pool_tie_goes_to_the_first_maximum():
    """When a window holds several equal maxima, PyTorch's max pooling gives the whole gradient to the first one in row-major order."""
    flat = torch.zeros(1, 1, 4, 4, dtype=torch.float64)  # every window is a four-way tie
    expected = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    expected[..., ::2, ::2] = 1  # top-left cell of each 2x2 window
    grad_output = torch.ones(1, 1, 2, 2, dtype=torch.float64)
    for memory_format in (torch.contiguous_format, torch.channels_last):
        x = flat.to(memory_format=memory_format)
        actual = autograd_input_grad(lambda t: F.max_pool2d(t, 2, 2), x, grad_output)
        torch.testing.assert_close(actual, expected, rtol=0, atol=0)
    two_way = torch.tensor([[[[1.0, 3.0], [3.0, 2.0]]]], dtype=torch.float64)
    actual = autograd_input_grad(lambda t: F.max_pool2d(t, 2), two_way, torch.ones(1, 1, 1, 1, dtype=torch.float64))
    assert actual.flatten().tolist() == [0, 1, 0, 0]  # the 3 in the first row wins
    # amax splits a tie evenly instead
    split = autograd_input_grad(lambda t: t.amax(dim=(-2, -1)), flat[..., :2, :2], torch.ones(1, 1, dtype=torch.float64))
    torch.testing.assert_close(split, torch.full((1, 1, 2, 2), 0.25, dtype=torch.float64), rtol=0, atol=0)
    # integer-valued inputs are full of ties; the first-maximum rule of the hand-written backward matches everywhere
    torch.manual_seed(0)
    x = torch.randint(0, 3, (2, 4, 7, 7)).double()
    for kernel_size, stride in [(2, 2), (3, 1), (3, 2)]:
        pool = lambda t: F.max_pool2d(t, kernel_size, stride)  # noqa: E731
        grad_output = torch.randn_like(pool(x))
        for memory_format in (torch.contiguous_format, torch.channels_last):
            expected = autograd_input_grad(pool, x.to(memory_format=memory_format), grad_output)
            actual = max_pool2d_backward(x, grad_output, kernel_size, stride)
            torch.testing.assert_close(actual, expected, rtol=0, atol=1e-12)


def test_max_pool_nan_takes_the_gradient_on_cpu():
    """On CPU a NaN wins its max-pool window over every number, and with two NaNs the last one in row-major order takes the whole gradient."""
    nan = float("nan")
    x = torch.tensor([[[[1.0, nan], [3.0, nan]]]], dtype=torch.float64)  # 3 is the largest number
    one = torch.ones(1, 1, 1, 1, dtype=torch.float64)
    assert F.max_pool2d(x, 2).isnan().all()
    for memory_format in (torch.contiguous_format, torch.channels_last):
        actual = autograd_input_grad(lambda t: F.max_pool2d(t, 2), x.to(memory_format=memory_format), one)
        assert actual.flatten().tolist() == [0, 0, 0, 1]  # the second NaN, not the first, and not the 3
    _, indices = F.max_pool2d(x, 2, return_indices=True)
    assert indices.item() == 3  # the saved index the backward scatters to
    single = torch.tensor([[[[nan, 5.0], [3.0, 4.0]]]], dtype=torch.float64)
    assert autograd_input_grad(lambda t: F.max_pool2d(t, 2), single, one).flatten().tolist() == [1, 0, 0, 0]


def test_dead_relu_window_passes_no_gradient():
    """A 2×2 window of ReLU outputs that are all 0 routes its gradient to the first zero, where ReLU's derivative 0 stops it, so the input below gets none."""
    x = torch.tensor([[[[-1.0, 0.0], [-2.0, 0.0]]]], dtype=torch.float64, requires_grad=True)  # exact zeros too
    (relu_grad,) = torch.autograd.grad(F.relu(x).sum(), x)
    assert relu_grad.flatten().tolist() == [0, 0, 0, 0]  # derivative 0 at 0 as well as below it
    routed = autograd_input_grad(lambda t: F.max_pool2d(t, 2), F.relu(x), torch.ones(1, 1, 1, 1, dtype=torch.float64))
    assert routed.flatten().tolist() == [1, 0, 0, 0]  # the pool routes it to the first zero
    (through_both,) = torch.autograd.grad(F.max_pool2d(F.relu(x), 2).sum(), x)
    assert through_both.flatten().tolist() == [0, 0, 0, 0]


# %% [markdown]
# ## Where the sum stops being preserved: padding
#
# The gradient sum is preserved when, for every window, the backward weights on *real* inputs add up to 1.
# Max pooling pads with $-\infty$, so a padded cell never wins and the weight 1 always lands on a real input.
# Average pooling with `count_include_pad=True` (PyTorch's default) divides by $k^2$ even when part of the
# window is zero padding: the padded cells take their share, and that share is thrown away. With $k=3$,
# $s=1$, $p=1$ on an $n \times n$ map, row $i$ is covered by 2 windows at the border and 3 inside, so
# $3n-2$ row-window incidences; an all-ones output gradient of total $n^2$ returns only
# $(3n-2)^2/9$ to the input. `count_include_pad=False` divides by the number of real cells, which restores
# the sum but gives border cells a larger weight. `divisor_override=d` replaces $k^2$ by $d$ and scales the
# sum by $k^2/d$.

# %%
torch.manual_seed(0)
rows = []
for n in (4, 6, 8):
    x_table = torch.randn(1, 1, n, n, dtype=torch.float64)
    ones_table = torch.ones(1, 1, n, n, dtype=torch.float64)
    include = autograd_input_grad(lambda t: F.avg_pool2d(t, 3, 1, 1), x_table, ones_table).sum().item()
    exclude = autograd_input_grad(
        lambda t: F.avg_pool2d(t, 3, 1, 1, count_include_pad=False), x_table, ones_table
    ).sum().item()
    rows.append(f"{f'{n}x{n}':<7}{n * n:>10}  {include:>22.3f}  {(3 * n - 2) ** 2 / 9:>9.3f}  {exclude:>22.3f}")
print(f"{'input':<7}{'Σ grad out':>10}  {'Σ grad in, include_pad':>22}  {'(3n-2)²/9':>9}  {'Σ grad in, exclude_pad':>22}")
print("\n".join(rows))


# %% [markdown]
# ## Claims: padding
#
# The hand-written backward passes, which crop the padding's share away, match autograd at the border too;
# the sums match the closed form above, and the corner shares are $1/9$ or $1/4$ depending on the divisor.

# %%
def test_avg_pool_padding_loses_gradient():
    """With zero padding and count_include_pad=True, average pooling returns (3n-2)²/9 < n² of an all-ones gradient (k=3, s=1, p=1)."""
    torch.manual_seed(0)
    for n in (4, 5, 6, 8):
        x = torch.randn(1, 1, n, n, dtype=torch.float64)
        ones = torch.ones(1, 1, n, n, dtype=torch.float64)
        by_autograd = autograd_input_grad(lambda t: F.avg_pool2d(t, 3, 1, 1), x, ones)
        by_hand = avg_pool2d_backward(x, ones, kernel_size=3, stride=1, padding=1)
        torch.testing.assert_close(by_hand, by_autograd, rtol=1e-12, atol=1e-12)
        expected = torch.tensor((3 * n - 2) ** 2 / 9, dtype=torch.float64)
        torch.testing.assert_close(by_autograd.sum(), expected, rtol=1e-12, atol=1e-12)
        assert by_autograd.sum() < ones.sum()
        corner = torch.tensor(4 / 9, dtype=torch.float64)  # a corner sits in 4 windows, each sending 1/9
        torch.testing.assert_close(by_autograd[0, 0, 0, 0], corner, rtol=1e-12, atol=1e-12)


def test_count_include_pad_false_divides_by_the_real_count():
    """With count_include_pad=False each window splits its gradient over its real cells only, so nothing is lost to the padding."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    for kernel_size, stride in [(3, 1), (3, 2), (2, 2)]:
        pool = lambda t: F.avg_pool2d(t, kernel_size, stride, 1, count_include_pad=False)  # noqa: E731
        grad_output = torch.randn_like(pool(x))
        expected = autograd_input_grad(pool, x, grad_output)
        actual = avg_pool2d_backward(x, grad_output, kernel_size, stride, 1, count_include_pad=False)
        torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(expected.sum(), grad_output.sum(), rtol=1e-12, atol=1e-12)
    # the corner window of a 3x3 kernel with padding 1 has 4 real cells: each gets g/4, not g/9
    corner_only = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    corner_only[0, 0, 0, 0] = 1  # gradient from the corner output only
    corner = autograd_input_grad(lambda t: F.avg_pool2d(t, 3, 1, 1, count_include_pad=False), x[:1, :1], corner_only)
    assert corner[0, 0, :2, :2].flatten().tolist() == [0.25] * 4


def test_max_pool_padding_never_takes_the_gradient():
    """Max pooling pads with -inf, so even an all-negative map keeps its values and its whole gradient at the border."""
    torch.manual_seed(0)
    x = -1 - torch.rand(1, 2, 5, 5, dtype=torch.float64)  # every value < 0: a zero pad would win
    pool = lambda t: F.max_pool2d(t, 3, 1, 1)  # noqa: E731
    # brute force over the real cells of each window
    expected_out = torch.stack(
        [torch.stack([x[..., max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2].amax((-2, -1)) for j in range(5)], -1)
         for i in range(5)], -2)
    torch.testing.assert_close(pool(x), expected_out, rtol=0, atol=0)
    grad_output = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    grad = autograd_input_grad(pool, x, grad_output)
    torch.testing.assert_close(grad, max_pool2d_backward(x, grad_output, 3, 1, 1), rtol=0, atol=1e-12)
    torch.testing.assert_close(grad.sum(), grad_output.sum(), rtol=1e-12, atol=1e-12)


def test_divisor_override_rescales_the_gradient_sum():
    """avg_pool2d with divisor_override=d sends g/d to each of the k² inputs, so the gradient sum is multiplied by k²/d."""
    torch.manual_seed(0)
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    grad_output = torch.randn(1, 2, 3, 3, dtype=torch.float64)
    for divisor in (1, 2, 4):
        grad = autograd_input_grad(lambda t: F.avg_pool2d(t, 2, divisor_override=divisor), x, grad_output)
        expected = (grad_output / divisor).repeat_interleave(2, -2).repeat_interleave(2, -1)
        torch.testing.assert_close(grad, expected, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(grad.sum(), grad_output.sum() * 4 / divisor, rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## The role of pooling
#
# Pooling with stride $s$ divides each spatial side by $s$, so the next layer costs about $s^2$ times less,
# and each unit after it sees a wider patch of the input. Max pooling also tolerates small shifts: a
# feature can move anywhere inside its window without changing the output. That tolerance ends at the
# window boundary. On a generic input a one-pixel shift moves the maximum out of or into many windows;
# for i.i.d. continuous values and $2 \times 2$ windows, a horizontal shift keeps a window's output only if
# the largest of the six values involved (the column that leaves, the one that stays, the one that enters)
# is in the column that stays: probability $2/6 = 1/3$. Plain subsampling (`x[..., ::2, ::2]`) keeps none.
# Shifts by a multiple of the stride are exact: the output shifts by one cell (equivariance, not invariance).

# %%
def receptive_field(model, size=16):
    """Height and width of the input region that one central output unit depends on, measured by autograd."""
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    out = model(x)
    out[0, 0, out.shape[-2] // 2, out.shape[-1] // 2].backward()
    rows, cols = x.grad[0, 0].abs().sum(1).nonzero(), x.grad[0, 0].abs().sum(0).nonzero()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_pooling_downsamples_and_widens_the_receptive_field():
    """A 2×2 pool halves each side (a quarter of the activations) and lets a following 3×3 convolution see 6×6 inputs instead of 3×3."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 16)
    assert F.max_pool2d(x, 2).shape == (2, 3, 8, 8)
    assert F.max_pool2d(x, 3, 2, 1).shape[-1] == (16 + 2 * 1 - 3) // 2 + 1  # the floor formula
    conv = nn.Conv2d(1, 1, 3, padding=1)
    nn.init.ones_(conv.weight)  # all-positive weights: no accidental zero gradient
    assert receptive_field(conv) == (3, 3)
    # average pooling passes gradient to every cell of a window, so it shows the whole region
    assert receptive_field(nn.Sequential(nn.AvgPool2d(2), conv)) == (6, 6)
    assert receptive_field(nn.Sequential(nn.AvgPool2d(2), conv, nn.AvgPool2d(2), conv), size=32) == (16, 16)


def test_max_pool_ignores_shifts_inside_a_window():
    """A single activation can move anywhere inside its 2×2 window without changing the max-pool output; crossing the window edge moves the output."""
    outputs = {}
    for r in range(8):
        for c in range(8):
            spike = torch.zeros(1, 1, 8, 8)
            spike[0, 0, r, c] = 1
            outputs[r, c] = F.max_pool2d(spike, 2)
            expected = torch.zeros(1, 1, 4, 4)
            expected[0, 0, r // 2, c // 2] = 1  # the window that contains the spike
            assert torch.equal(outputs[r, c], expected)
    assert torch.equal(outputs[2, 2], outputs[3, 3])  # moved inside the window: same output
    assert not torch.equal(outputs[3, 3], outputs[3, 4])  # moved one pixel across the edge: different output


def test_one_pixel_shift_changes_two_thirds_of_max_pool_outputs():
    """On random inputs a one-pixel shift leaves only about 1/3 of 2×2 max-pool outputs unchanged (0 for plain subsampling), while a shift by the stride shifts the output exactly."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 256, 256, generator=generator, dtype=torch.float64)
    pooled = F.max_pool2d(x, 2)
    shifted = F.max_pool2d(torch.roll(x, 1, dims=-1), 2)  # circular shift: no border effects
    unchanged = (shifted == pooled).double().mean().item()
    assert abs(unchanged - 1 / 3) < 0.02
    subsampled_unchanged = (torch.roll(x, 1, dims=-1)[..., ::2, ::2] == x[..., ::2, ::2]).double().mean().item()
    assert subsampled_unchanged == 0
    assert torch.equal(F.max_pool2d(torch.roll(x, 2, dims=-1), 2), torch.roll(pooled, 1, dims=-1))


# %% [markdown]
# ## Conclusion
#
# A pooling layer has nothing to learn, but its backward pass is a genuine gradient: max pooling is a
# router that sends each output gradient to the saved argmax (the first one, on ties), average pooling a
# splitter that hands out $g/k^2$. Overlapping windows add their contributions. "The gradient sum is
# unchanged" is a consequence, not a rule: it holds for max pooling always and for average pooling only
# while each window's weights on real inputs sum to one, so zero padding with `count_include_pad=True`
# leaks gradient and `divisor_override` rescales it. As for the role, pooling shrinks the map and widens
# the receptive field; the translation invariance it buys is real only for shifts that stay inside a window.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

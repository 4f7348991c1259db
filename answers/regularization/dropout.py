# %% [markdown]
# # Dropout: the proof
#
# **Question.** How is dropout implemented (why `mask * x / (1 - p)`), what does it do at test time,
# and why does it reduce overfitting?
#
# This module writes inverted dropout in one line, checks it against `nn.Dropout`, and measures what
# it does to a small network. Claims:
#
# 1. inverted dropout keeps the expectation: exactly, by enumerating every mask of a small vector
#    (`test_expectation_exact_over_all_masks`), and within a few standard errors over many sampled
#    masks (`test_monte_carlo_mean_within_standard_error`);
# 2. in eval mode dropout is the identity, for `nn.Dropout` and for `F.dropout(training=False)`
#    (`test_eval_mode_is_identity`);
# 3. given the same mask, the multiply form and the masked-fill form give the same output and the same
#    gradient (`test_mask_multiply_equals_masked_fill`), but zeroing in place can break backward
#    (`test_inplace_assignment_breaks_backward`); PyTorch's own CPU dropout is the multiply form
#    (`test_torch_dropout_is_mask_multiply`), while `x[drop] = 0` runs a different op, `index_put_`
#    (`test_masked_assignment_runs_index_put`);
# 4. our function reproduces `nn.Dropout` under the same seed on CPU, mask for mask
#    (`test_matches_nn_dropout_under_same_seed`), and `nn.Dropout(p)` zeroes a fraction `p` and scales
#    survivors by exactly $1/(1-p)$ (`test_nn_dropout_statistics`);
# 5. why it regularizes: on linear regression, dropout on the inputs is ridge regression in expectation
#    (`test_dropout_on_linear_regression_is_ridge`), and on a small MLP it narrows the train/test gap
#    without closing it (`test_dropout_narrows_train_test_gap`);
# 6. where it stops holding: without the $1/(1-p)$ the eval output is off by a factor $(1-p)$
#    (`test_without_scaling_eval_is_off_by_keep_prob`); the variance is not preserved
#    (`test_variance_not_preserved`), which shifts the statistics of a BatchNorm placed after dropout
#    (`test_batchnorm_after_dropout_sees_variance_shift`); and the eval network equals the average of the
#    dropped-out sub-networks when everything after the dropout is linear, but not in general
#    (`test_weight_scaling_is_exact_for_a_linear_head_not_in_general`).

# %% [markdown]
# ## Inverted dropout in one line
#
# During training each element is kept with probability $1-p$ and dropped with probability $p$
# (PyTorch's `p` is the *drop* probability). A kept element is divided by $1-p$, so that
# $\mathbb{E}[y] = (1-p)\cdot\frac{x}{1-p} + p\cdot 0 = x$ and nothing has to change at test time. The
# mask is drawn with `bernoulli_` on an empty tensor shaped like the input, which is what PyTorch does on
# CPU; we also keep a "vanilla" version without the rescaling, the form of the original paper.

# %%
import itertools

import torch
import torch.nn.functional as F
from torch import nn


def keep_mask(x, p):
    """A 0/1 tensor shaped like x: 1 (keep) with probability 1 - p, drawn from the default generator."""
    return torch.empty_like(x).bernoulli_(1 - p)


def inverted_dropout(x, p, mask):
    """Training-time dropout as used today: drop, then scale the survivors by 1 / (1 - p)."""
    return x * mask / (1 - p)


def vanilla_dropout(x, p, mask):
    """Dropout without rescaling (Srivastava et al., 2014); test time must then scale by 1 - p."""
    return x * mask


def all_masks(n, p, dtype=torch.float64):
    """Every 0/1 mask of length n, shape (2**n, n), and the probability of each one, shape (2**n,)."""
    masks = torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=dtype)
    kept = masks.sum(dim=1)
    probs = (1 - p) ** kept * p ** (n - kept)
    return masks, probs


# %% [markdown]
# ## Watching the mean converge
#
# A single input $x = 1$ is passed through dropout with $p = 0.5$ five thousand times. The running mean
# of inverted dropout settles on $1$ inside a band of three standard errors,
# $3\sqrt{\operatorname{Var}[y]/N}$ with $\operatorname{Var}[y] = x^2\,p/(1-p)$; vanilla dropout settles on
# $1-p = 0.5$ instead.

# %%
import matplotlib.pyplot as plt

p, n_draws = 0.5, 5000
torch.manual_seed(0)
x = torch.ones(n_draws, dtype=torch.float64)
mask = keep_mask(x, p)  # (N,)
steps = torch.arange(1, n_draws + 1, dtype=torch.float64)
running_inverted = inverted_dropout(x, p, mask).cumsum(0) / steps
running_vanilla = vanilla_dropout(x, p, mask).cumsum(0) / steps
band = 3 * (p / (1 - p) / steps).sqrt()

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.fill_between(steps, 1 - band, 1 + band, color="C0", alpha=0.15, label="input ± 3 standard errors")
ax.plot(steps, running_inverted, color="C0", label="inverted: x · mask / (1 − p)")
ax.plot(steps, running_vanilla, color="C3", label="vanilla: x · mask")
ax.axhline(1.0, color="k", lw=0.8)
ax.set(xscale="log", ylim=(0, 2), xlabel="number of masks drawn", ylabel="running mean of the output")
ax.set_title("Dropout with p = 0.5 applied to x = 1")
ax.legend(loc="upper right", fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Claims: the expectation and the eval mode
#
# With $n = 4$ elements there are only 16 masks, so the expectation can be computed exactly as a
# probability-weighted sum instead of a sample mean.

# %%
def test_expectation_exact_over_all_masks():
    """Averaging inverted dropout over all 2^n masks, weighted by their probability, returns the input exactly."""
    p = 0.3
    x = torch.tensor([1.5, -2.0, 0.25, 4.0], dtype=torch.float64)
    masks, probs = all_masks(4, p)  # (16, 4), (16,)
    assert torch.isclose(probs.sum(), torch.tensor(1.0, dtype=torch.float64))
    actual = (probs[:, None] * inverted_dropout(x, p, masks)).sum(dim=0)
    torch.testing.assert_close(actual, x, rtol=1e-12, atol=1e-12)


def test_monte_carlo_mean_within_standard_error():
    """Over 20,000 sampled masks the mean output of inverted dropout is within 4 standard errors of the input."""
    p, n_draws = 0.5, 20_000
    torch.manual_seed(0)
    x = torch.tensor([1.0, -3.0, 0.5, 2.0, -0.1, 10.0, 7.0, -4.0], dtype=torch.float64)
    masks = keep_mask(x.repeat(n_draws, 1), p)  # (N, 8)
    actual = inverted_dropout(x, p, masks).mean(dim=0)
    standard_error = (x**2 * p / (1 - p) / n_draws).sqrt()  # from Var[y] = x² p / (1 - p)
    assert ((actual - x).abs() <= 4 * standard_error).all()
    assert (standard_error <= 0.01 * x.abs()).all()  # the band is tight: 1% of |x|


def test_eval_mode_is_identity():
    """In eval mode nn.Dropout, and F.dropout with training=False, return the input unchanged."""
    torch.manual_seed(0)
    x = torch.randn(4, 8)
    dropout = nn.Dropout(p=0.5)
    assert not torch.equal(dropout(x), x)  # a fresh module is in training mode: it does change x
    dropout.eval()
    assert torch.equal(dropout(x), x)
    assert torch.equal(F.dropout(x, p=0.5, training=False), x)


# %% [markdown]
# ## Claims: multiply or masked fill, and what PyTorch does
#
# `x * mask / (1 - p)` and "set the dropped entries to zero, then divide by $1-p$" are the same function
# once the mask is fixed, and autograd gives both the gradient $\text{mask}/(1-p)$. The real difference is
# that `h[drop] = 0` writes into `h` in place: if the op that produced `h` saved it for its backward pass
# (sigmoid, tanh, exp and ReLU all do), backward fails. The out-of-place `masked_fill` has no such problem.
# The two forms also dispatch different ATen ops: the assignment is an `index_put_` through a boolean index,
# the multiply form a `mul` and a `div`. Which is faster on a given device is a separate question that this
# module does not measure.

# %%
import pytest

from answers._dispatch import DispatchLog


def test_mask_multiply_equals_masked_fill():
    """With the same mask, x * mask / (1 - p) and masked fill then / (1 - p) agree in output and in gradient."""
    p = 0.3
    torch.manual_seed(0)
    x = torch.randn(5, 7, dtype=torch.float64)
    mask = keep_mask(x, p)
    upstream = torch.randn(5, 7, dtype=torch.float64)  # a generic dL/dy

    x_mul = x.clone().requires_grad_()
    y_mul = inverted_dropout(x_mul, p, mask)
    (y_mul * upstream).sum().backward()

    x_fill = x.clone().requires_grad_()
    y_fill = x_fill.masked_fill(mask == 0, 0.0) / (1 - p)
    (y_fill * upstream).sum().backward()

    y_assign = x.clone()
    y_assign[mask == 0] = 0  # the x[mask] = 0 form, on a tensor that needs no grad
    y_assign = y_assign / (1 - p)

    torch.testing.assert_close(y_mul, y_fill, rtol=0, atol=0)
    torch.testing.assert_close(y_assign, y_fill.detach(), rtol=0, atol=0)
    expected_grad = upstream * mask / (1 - p)  # d(x·m/(1-p))/dx = m/(1-p)
    torch.testing.assert_close(x_mul.grad, expected_grad)
    torch.testing.assert_close(x_fill.grad, expected_grad)


def test_inplace_assignment_breaks_backward():
    """Zeroing the output of sigmoid, tanh, exp or ReLU in place (h[drop] = 0) makes backward fail, while the multiply form works."""
    p = 0.5
    torch.manual_seed(0)
    z = torch.randn(16, requires_grad=True)
    mask = keep_mask(z.detach(), p)

    for activation in (torch.sigmoid, torch.tanh, torch.exp, torch.relu):  # each saves its output for backward
        h = activation(z)
        h[mask == 0] = 0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            h.sum().backward()

    h = torch.sigmoid(z)
    inverted_dropout(h, p, mask).sum().backward()
    s = torch.sigmoid(z.detach())
    torch.testing.assert_close(z.grad, s * (1 - s) * mask / (1 - p))


def test_torch_dropout_is_mask_multiply():
    """On CPU, F.dropout runs exactly four ops: an empty tensor, bernoulli_(1 - p), div_(1 - p), and a multiply."""
    torch.manual_seed(0)
    x = torch.randn(3, 4)
    with DispatchLog() as log:  # from answers/_dispatch.py: records every ATen op that runs
        F.dropout(x, p=0.3, training=True)
    assert log.overloads == [
        "aten.empty_like.default",
        "aten.bernoulli_.float",
        "aten.div_.Scalar",
        "aten.mul.Tensor",
    ]


def test_masked_assignment_runs_index_put():
    """On CPU, x[drop] = 0 dispatches aten.index_put_ through a boolean index, while x * mask / (1 - p) dispatches only mul and div."""
    p = 0.3
    torch.manual_seed(0)
    x = torch.randn(3, 4)
    mask = keep_mask(x, p)
    with DispatchLog() as assign_log:
        y_assign = x.clone()
        y_assign[mask == 0] = 0
    with DispatchLog() as multiply_log:
        y_multiply = inverted_dropout(x, p, mask)
    assert "aten.index_put_.default" in assign_log.overloads
    assert not any("mul" in op or "div" in op for op in assign_log.overloads)
    assert multiply_log.overloads == ["aten.mul.Tensor", "aten.div.Tensor"]
    torch.testing.assert_close(y_assign / (1 - p), y_multiply, rtol=1e-6, atol=0)


# %% [markdown]
# ## Claims: ours against `nn.Dropout`
#
# Because PyTorch's CPU kernel draws its mask with `bernoulli_` from the default generator, seeding that
# generator identically makes our function and `nn.Dropout` draw the same mask. The values agree to float
# rounding only, because PyTorch computes $x\cdot(m/(1-p))$ and we compute $(x\cdot m)/(1-p)$. (On CUDA,
# PyTorch dispatches to a fused kernel, `native_dropout`, so the masks need not match there; this claim is
# about CPU.)

# %%
def test_matches_nn_dropout_under_same_seed():
    """Under the same seed on CPU, our inverted dropout zeroes the same elements as nn.Dropout and matches its values to float rounding."""
    p = 0.3
    x = torch.randn(6, 10, generator=torch.Generator().manual_seed(1))

    torch.manual_seed(123)
    actual = inverted_dropout(x, p, keep_mask(x, p))
    torch.manual_seed(123)
    expected = nn.Dropout(p)(x)

    assert torch.equal(actual == 0, expected == 0)
    torch.testing.assert_close(actual, expected, rtol=1e-6, atol=0)


def test_nn_dropout_statistics():
    """nn.Dropout(p) zeroes a fraction p of the elements (within 4 binomial standard errors) and multiplies every survivor by 1/(1-p)."""
    p, n = 0.3, 100_000
    torch.manual_seed(0)
    y = nn.Dropout(p)(torch.ones(n))
    fraction_zeroed = (y == 0).float().mean()
    assert abs(fraction_zeroed - p) <= 4 * (p * (1 - p) / n) ** 0.5
    survivors = y[y != 0]
    torch.testing.assert_close(survivors, torch.full_like(survivors, 1 / (1 - p)), rtol=1e-6, atol=0)


# %% [markdown]
# ## Why it regularizes: an L2 penalty in expectation
#
# For linear regression with dropout on the inputs, the expected squared error over masks splits into the
# clean error plus a penalty:
#
# $$\mathbb{E}_m\,\bigl\lVert y - \tfrac{m \odot X}{1-p}\,w \bigr\rVert^2
#   = \lVert y - Xw \rVert^2 + \frac{p}{1-p}\sum_j w_j^2 \sum_i X_{ij}^2 ,$$
#
# a ridge penalty whose strength grows with $p$ and is scaled per feature by that feature's energy.
# With $2\times 3$ inputs there are $2^6 = 64$ masks, few enough to average exactly.

# %%
def test_dropout_on_linear_regression_is_ridge():
    """Averaged over all masks, the squared error of linear regression with inverted input dropout equals the clean error plus p/(1-p)·Σ_j w_j² ||X_j||²."""
    p = 0.3
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(2, 3, generator=gen, dtype=torch.float64)
    y = torch.randn(2, generator=gen, dtype=torch.float64)
    w = torch.randn(3, generator=gen, dtype=torch.float64)

    masks, probs = all_masks(6, p)  # one mask bit per entry of X
    masks = masks.reshape(-1, 2, 3)  # (64, 2, 3)
    errors = ((y - inverted_dropout(X, p, masks) @ w) ** 2).sum(dim=1)  # (64,)
    actual = (probs * errors).sum()

    expected = ((y - X @ w) ** 2).sum() + p / (1 - p) * (w**2 * (X**2).sum(dim=0)).sum()
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## Dropout on a small MLP: a measurement
#
# A one-hidden-layer MLP (256 ReLU units) is fitted to 100 noisy points of $y = \tanh(w^\top x) + \varepsilon$
# in 10 dimensions with Adam, 300 full-batch steps, with and without dropout (0.2 on the inputs, 0.5 on
# the hidden layer). Train and test losses are measured in eval mode. Without dropout the network drives
# its training loss toward zero by fitting the noise; with dropout the training loss stays higher and the
# test loss lower. Three seeds; the plot shows seed 0.

# %%
import functools


def _teacher_data(gen, n, in_features=10, noise=0.5):
    x = torch.randn(n, in_features, generator=gen)
    w = torch.ones(in_features) / in_features**0.5
    return x, torch.tanh(x @ w).unsqueeze(1) + noise * torch.randn(n, 1, generator=gen)


@functools.lru_cache(maxsize=None)
def train_mlp(p_input, p_hidden, seed, steps=300, hidden=256, lr=1e-2, every=10):
    """Train once and return the eval-mode (train MSE, test MSE) curves, one point every `every` steps."""
    gen = torch.Generator().manual_seed(seed)
    x_train, y_train = _teacher_data(gen, 100)
    x_test, y_test = _teacher_data(gen, 2000)
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Dropout(p_input), nn.Linear(10, hidden), nn.ReLU(), nn.Dropout(p_hidden), nn.Linear(hidden, 1)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    curve_train, curve_test = [], []
    for step in range(steps + 1):
        if step % every == 0:
            model.eval()
            with torch.no_grad():
                curve_train.append(F.mse_loss(model(x_train), y_train).item())
                curve_test.append(F.mse_loss(model(x_test), y_test).item())
            model.train()
        if step < steps:
            optimizer.zero_grad()
            F.mse_loss(model(x_train), y_train).backward()
            optimizer.step()
    return tuple(curve_train), tuple(curve_test)


SEEDS = (0, 1, 2)
results = {
    label: [train_mlp(p_in, p_hid, seed) for seed in SEEDS]
    for label, (p_in, p_hid) in {"no dropout": (0.0, 0.0), "dropout 0.2 / 0.5": (0.2, 0.5)}.items()
}
print(f"{'':18} {'seed':>4} {'train MSE':>10} {'test MSE':>9} {'gap':>7}")
for label, runs in results.items():
    for seed, (curve_train, curve_test) in zip(SEEDS, runs):
        gap = curve_test[-1] - curve_train[-1]
        print(f"{label:18} {seed:>4} {curve_train[-1]:>10.3f} {curve_test[-1]:>9.3f} {gap:>7.3f}")

fig, ax = plt.subplots(figsize=(6, 3.2))
for color, (label, runs) in zip(("C3", "C0"), results.items()):
    curve_train, curve_test = runs[0]
    x_steps = range(0, 10 * len(curve_train), 10)
    ax.plot(x_steps, curve_train, color=color, ls="--", label=f"{label}: train")
    ax.plot(x_steps, curve_test, color=color, label=f"{label}: test")
ax.axhline(0.25, color="k", lw=0.8, ls=":", label="noise variance (best possible test MSE)")
ax.set(ylim=(0, 1.0), xlabel="Adam step", ylabel="MSE (eval mode)")
ax.set_title("One-hidden-layer MLP, 100 noisy training points")
ax.legend(loc="upper right", fontsize=7)
fig.tight_layout()

# %% [markdown]
# ### The claim
#
# It asserts a direction with a wide margin, averaged over the three seeds: the gap shrinks by at
# least a quarter and the test loss improves, yet the gap stays clearly positive, so dropout reduces
# overfitting without removing it.

# %%
def test_dropout_narrows_train_test_gap():
    """On a seeded toy regression, dropout cuts the MLP's train/test gap by over 25% and lowers test MSE, but the gap stays positive."""

    def mean_final(p_input, p_hidden):  # train_mlp is cached: these are the runs tabulated above
        runs = [train_mlp(p_input, p_hidden, seed) for seed in SEEDS]
        return sum(r[0][-1] for r in runs) / len(runs), sum(r[1][-1] for r in runs) / len(runs)

    train_plain, test_plain = mean_final(0.0, 0.0)
    train_drop, test_drop = mean_final(0.2, 0.5)
    gap_plain, gap_drop = test_plain - train_plain, test_drop - train_drop
    assert gap_drop < 0.75 * gap_plain
    assert test_drop < test_plain
    assert gap_drop > 0.1


# %% [markdown]
# ## Where it stops holding
#
# **No rescaling.** Vanilla dropout has mean $(1-p)\,x$, so a network trained with it and run as the
# identity at test time sees activations $1/(1-p)$ times too large; the original recipe multiplies by
# the keep probability $1-p$ at test time instead ("multiply by $p$" in the paper, where $p$ is the
# probability of *keeping* a unit). Multiplying by PyTorch's `p` is wrong unless $p = 0.5$.
#
# **Variance.** Only the mean is preserved: $\mathbb{E}[y^2] = x^2/(1-p)$, so
# $\operatorname{Var}[y] = x^2\,p/(1-p)$. A BatchNorm after dropout collects its running variance on these
# inflated activations and then, in eval mode, divides clean activations by it: for zero-mean, unit-variance
# inputs the eval-mode output variance is $1-p$ instead of 1 (the "variance shift" of Li et al., 2019).
#
# **Ensemble.** Inverted dropout at eval computes the network at the *mean mask*. That equals the average
# over the $2^n$ thinned networks when everything after the dropout is linear, because the average of a linear
# map is the map of the average. With a nonlinearity after it the two differ in general, though not always: a
# ReLU whose inputs stay non-negative under every mask acts as the identity, and the average is exact again.

# %%
def test_without_scaling_eval_is_off_by_keep_prob():
    """Vanilla dropout averages to (1-p)·x, so the identity at eval is off by 1/(1-p) until test time multiplies by 1-p, not by p."""
    p = 0.2
    x = torch.tensor([1.5, -2.0, 0.25, 4.0], dtype=torch.float64)
    masks, probs = all_masks(4, p)
    train_mean = (probs[:, None] * vanilla_dropout(x, p, masks)).sum(dim=0)
    torch.testing.assert_close(train_mean, (1 - p) * x, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(train_mean, x)  # the eval-mode identity does not match training
    assert not torch.allclose(train_mean, p * x)  # scaling by the drop probability is wrong too


def test_variance_not_preserved():
    """Inverted dropout keeps the mean but its second moment is x²/(1-p), so the variance is x²·p/(1-p), not 0."""
    p = 0.3
    x = torch.tensor([1.5, -2.0, 0.25, 4.0], dtype=torch.float64)
    masks, probs = all_masks(4, p)
    y = inverted_dropout(x, p, masks)  # (16, 4)
    second_moment = (probs[:, None] * y**2).sum(dim=0)
    variance = second_moment - x**2
    torch.testing.assert_close(second_moment, x**2 / (1 - p), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(variance, x**2 * p / (1 - p), rtol=1e-12, atol=1e-12)


def test_batchnorm_after_dropout_sees_variance_shift():
    """Dropout(p) then BatchNorm: running_var learns 1/(1-p) for unit-variance inputs, so eval-mode outputs have variance 1-p, not 1."""
    p = 0.5
    gen = torch.Generator().manual_seed(1)  # inputs; a seed other than the masks', so the two streams are independent
    torch.manual_seed(0)  # the dropout masks
    model = nn.Sequential(nn.Dropout(p), nn.BatchNorm1d(16, affine=False, momentum=None))
    with torch.no_grad():
        train_out = torch.cat([model(torch.randn(256, 16, generator=gen)) for _ in range(50)])
        model.eval()
        eval_out = model(torch.randn(4096, 16, generator=gen))
    torch.testing.assert_close(model[1].running_var.mean().item(), 1 / (1 - p), rtol=0.02, atol=0)
    torch.testing.assert_close(train_out.var(dim=0).mean().item(), 1.0, rtol=0.02, atol=0)
    torch.testing.assert_close(eval_out.var(dim=0).mean().item(), 1 - p, rtol=0.04, atol=0)


def test_weight_scaling_is_exact_for_a_linear_head_not_in_general():
    """Averaging all 16 thinned networks equals the eval-mode network when a linear layer follows dropout, or a ReLU that no mask switches off, but not for a generic ReLU layer."""
    p = 0.5
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, generator=gen, dtype=torch.float64)
    W1, W2, w3 = (torch.randn(*shape, generator=gen, dtype=torch.float64) for shape in [(4, 3), (4, 4), (4,)])
    h = torch.relu(W1 @ x)  # (4,) the units being dropped
    masks, probs = all_masks(4, p)
    dropped = inverted_dropout(h, p, masks)  # (16, 4)

    linear_head = dropped @ W2.T  # (16, 4): only a linear map after dropout
    torch.testing.assert_close((probs[:, None] * linear_head).sum(dim=0), W2 @ h, rtol=1e-12, atol=1e-12)

    relu_head = torch.relu(dropped @ W2.T) @ w3  # (16,): a ReLU after dropout
    ensemble_mean = (probs * relu_head).sum()
    eval_output = torch.relu(W2 @ h) @ w3
    assert (ensemble_mean - eval_output).abs() > 0.1

    W2_positive = W2.abs()  # h ≥ 0, so every pre-activation is ≥ 0 under every mask: the ReLU is the identity
    assert (dropped @ W2_positive.T >= 0).all()
    positive_head = torch.relu(dropped @ W2_positive.T) @ w3  # (16,)
    eval_output = torch.relu(W2_positive @ h) @ w3
    torch.testing.assert_close((probs * positive_head).sum(), eval_output, rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## Conclusion
#
# Inverted dropout multiplies by a Bernoulli mask and divides by the keep probability $1-p$; that
# division, not the choice between multiplying and assigning zeros, is what lets eval mode be the
# identity. The mean is preserved exactly, the variance is not, and eval mode is only an approximation of
# the ensemble of thinned networks. As a regularizer, dropout adds noise that in the linear case is
# exactly an adaptive L2 penalty; on a small MLP it measurably narrows the train/test gap, but it does not
# close it. `x[drop] = 0` computes the same numbers as the multiply but runs a different op (`index_put_`) and
# writes in place; this module measures neither form's speed.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

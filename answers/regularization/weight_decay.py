# %% [markdown]
# # Weight decay, label noise and the bias: the proof
#
# **Question.** With weight decay, does more noise in the data make the learned weights larger? And why is the
# bias usually left out of weight decay?
#
# The setting is the one of the Dive into Deep Learning weight-decay lecture: 20 training samples, 200 inputs,
# $y = 0.05 + \sum_j 0.01\,x_j + \epsilon$. A penalized least-squares fit is linear in the targets, $\hat w = A y$, so
# the effect of the noise can be computed exactly. Claims:
#
# 1. the expected squared norm of the learned weights is $\lVert A X w^\ast\rVert^2 + \sigma^2 \operatorname{tr}(AA^\top)$:
#    it grows with the noise, as a Monte Carlo over 2000 noise draws confirms (`test_weight_norm_grows_with_noise_as_predicted`);
# 2. the *mean* of the learned weights does not depend on the noise at all (`test_mean_weights_do_not_depend_on_noise`);
# 3. penalizing the bias breaks shift equivariance: adding $c$ to every target should add $c$ to every
#    prediction, and does so only when the bias is not decayed (`test_penalizing_the_bias_breaks_shift_equivariance`);
# 4. the bias does not change a linear model's slope $\partial f/\partial x$, but hidden biases do change an MLP's
#    (`test_bias_changes_slopes_only_through_nonlinearities`);
# 4b. the bias's gradient is the mean residual, often the largest entry of the gradient, not a negligible one
#    (`test_bias_gradient_is_the_mean_residual`);
# 5. parameter groups exclude biases from AdamW's decay, which then multiplies only the weights by
#    $(1-\eta\lambda)$ per step (`test_param_groups_exclude_the_bias_from_decay`).

# %% [markdown]
# ## The learned weights are linear in the targets
#
# Ridge regression (an L2 penalty, which SGD's `weight_decay` implements) gives
# $\hat w = (X^\top X + \lambda I)^{-1}X^\top y = A y$. With $y = Xw^\ast + \epsilon$ and noise $\epsilon \sim \mathcal N(0, \sigma^2 I)$:
#
# $$\mathbb E[\hat w] = AXw^\ast, \qquad \mathbb E\lVert \hat w\rVert^2 = \lVert AXw^\ast\rVert^2 + \sigma^2\operatorname{tr}(AA^\top).$$
#
# The noise adds a variance term and leaves the mean alone. With $\lambda = 0$ and more inputs than samples,
# $A = X^{+}$ gives the minimum-norm interpolant, which fits every bit of noise.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn

DTYPE = torch.float64
N_TRAIN, N_INPUTS = 20, 200


def d2l_design(seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(N_TRAIN, N_INPUTS, generator=gen, dtype=DTYPE)  # standard normal inputs
    w_true = torch.full((N_INPUTS,), 0.01, dtype=DTYPE)
    return X, w_true


def ridge_operator(X, lam):
    if lam == 0:
        return torch.linalg.pinv(X)  # minimum-norm least squares
    return torch.linalg.solve(X.T @ X + lam * torch.eye(X.shape[1], dtype=DTYPE), X.T)  # (d, n)


def expected_sq_norm(X, w_true, lam, sigma):
    A = ridge_operator(X, lam)
    return (A @ X @ w_true).pow(2).sum() + sigma**2 * (A * A).sum()


def monte_carlo_weights(X, w_true, lam, sigma, draws=2000, seed=1):
    gen = torch.Generator().manual_seed(seed)
    noise = sigma * torch.randn(draws, X.shape[0], generator=gen, dtype=DTYPE)
    Y = X @ w_true + noise  # (draws, n)
    return Y @ ridge_operator(X, lam).T  # (draws, d): one fit per noise draw


X, w_true = d2l_design()
sigmas = torch.tensor([0.0, 0.01, 0.03, 0.1, 0.3, 1.0], dtype=DTYPE)
fig, ax = plt.subplots(figsize=(6, 3.5))
for lam, marker in ((0.0, "o"), (3.0, "s"), (30.0, "^")):
    curve = [expected_sq_norm(X, w_true, lam, s).sqrt().item() for s in sigmas]
    mc = [monte_carlo_weights(X, w_true, lam, s, draws=300).pow(2).sum(1).mean().sqrt().item() for s in sigmas]
    ax.loglog(sigmas[1:], curve[1:], "-", label=f"λ = {lam:g}, closed form")
    ax.loglog(sigmas[1:], mc[1:], marker, color=ax.lines[-1].get_color(), label=f"λ = {lam:g}, 300 fits")
ax.axhline(w_true.norm().item(), color="0.6", linestyle=":", label="‖w*‖ = 0.14")
ax.set(xlabel="noise standard deviation σ", ylabel="root mean ‖ŵ‖²", title="20 samples, 200 inputs")
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()

# %% [markdown]
# ## Claims: noise makes the weights larger, not different on average
#
# The closed form is checked against 2000 independent fits. Weight decay shrinks the noise term: a larger
# $\lambda$ makes $\operatorname{tr}(AA^\top)$ smaller, so for the same noise the weights stay smaller, but they still grow with $\sigma$.

# %%
def test_weight_norm_grows_with_noise_as_predicted():
    """For ridge with λ = 3 on the d2l design, the mean of ‖ŵ‖² over 2000 noise draws matches ‖AXw*‖² + σ²·tr(AAᵀ) within 5%, and grows over 10× from σ = 0.01 to σ = 1."""
    X, w_true = d2l_design()
    for sigma in (0.01, 0.1, 1.0):
        measured = monte_carlo_weights(X, w_true, 3.0, sigma).pow(2).sum(1).mean()
        torch.testing.assert_close(measured, expected_sq_norm(X, w_true, 3.0, sigma), rtol=0.05, atol=0)
    assert expected_sq_norm(X, w_true, 3.0, 1.0) > 10 * expected_sq_norm(X, w_true, 3.0, 0.01)
    for sigma in (0.1, 1.0):  # more decay, smaller weights at the same noise
        assert expected_sq_norm(X, w_true, 30.0, sigma) < expected_sq_norm(X, w_true, 3.0, sigma)


def test_mean_weights_do_not_depend_on_noise():
    """The average of 2000 ridge fits is AXw* for σ = 0.01 and for σ = 1, within 4 standard errors: noise adds spread, not bias."""
    X, w_true = d2l_design()
    expected = ridge_operator(X, 3.0) @ X @ w_true
    for sigma in (0.01, 1.0):
        fits = monte_carlo_weights(X, w_true, 3.0, sigma)
        standard_error = fits.std(0) / fits.shape[0] ** 0.5
        assert ((fits.mean(0) - expected).abs() < 4 * standard_error + 1e-15).all()


# %% [markdown]
# ## Why the bias is left out of weight decay
#
# Two properties are worth keeping. First, a model with an unpenalized bias is *shift-equivariant*: adding $c$
# to every target adds $c$ to every prediction and leaves the weights alone. Decaying the bias pulls the
# intercept toward 0 and makes the fit depend on where the origin of $y$ happens to be. Second, the bias of a
# linear model does not change its slope $\partial f/\partial x$, which is where the overfitting lives, so
# penalizing it buys no smoothness. There are also few biases: one per unit, against fan-in weights per unit.

# %%
def fit_with_bias(X, y, lam, decay_bias):
    Xb = torch.cat([X, torch.ones(len(X), 1, dtype=DTYPE)], dim=1)  # last column: the bias
    penalty = torch.eye(Xb.shape[1], dtype=DTYPE) * lam
    if not decay_bias:
        penalty[-1, -1] = 0.0
    theta = torch.linalg.solve(Xb.T @ Xb + penalty, Xb.T @ y)
    return theta[:-1], theta[-1], Xb @ theta  # weights, bias, predictions


def test_penalizing_the_bias_breaks_shift_equivariance():
    """Adding 10 to every target adds exactly 10 to every prediction when only the weights are decayed, but not when the bias is decayed too."""
    X, w_true = d2l_design()
    gen = torch.Generator().manual_seed(2)
    y = X @ w_true + 0.05 + 0.01 * torch.randn(N_TRAIN, generator=gen, dtype=DTYPE)
    for decay_bias, should_hold in ((False, True), (True, False)):
        w0, _, pred0 = fit_with_bias(X, y, 3.0, decay_bias)
        w1, _, pred1 = fit_with_bias(X, y + 10.0, 3.0, decay_bias)
        shifted = torch.allclose(pred1 - pred0, torch.full_like(pred0, 10.0), rtol=0, atol=1e-9)
        same_weights = torch.allclose(w1, w0, rtol=0, atol=1e-9)
        assert shifted == should_hold and same_weights == should_hold


def test_bias_changes_slopes_only_through_nonlinearities():
    """Changing the bias leaves ∂f/∂x of a linear layer unchanged, but changing the hidden biases of a ReLU MLP changes its ∂f/∂x."""
    torch.manual_seed(0)
    x = torch.randn(16, 5, dtype=DTYPE, requires_grad=True)

    def input_slopes(model):
        (grad,) = torch.autograd.grad(model(x).sum(), x)
        return grad

    linear = nn.Linear(5, 1).to(DTYPE)
    before = input_slopes(linear)
    with torch.no_grad():
        linear.bias += 3.0
    torch.testing.assert_close(input_slopes(linear), before, rtol=0, atol=0)

    mlp = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 1)).to(DTYPE)
    before = input_slopes(mlp)
    with torch.no_grad():
        mlp[0].bias += 0.5  # shifts which ReLUs are active
    assert (input_slopes(mlp) - before).abs().max() > 1e-2


def test_bias_gradient_is_the_mean_residual():
    """For a linear model with MSE loss, ∂L/∂b equals 2·mean(residual), and when the targets are offset by 3 it is the largest gradient entry."""
    X, w_true = d2l_design()
    y = X @ w_true + 3.0
    model = nn.Linear(N_INPUTS, 1).to(DTYPE)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    residual = model(X)[:, 0] - y
    (residual**2).mean().backward()
    torch.testing.assert_close(model.bias.grad[0], 2 * residual.mean(), rtol=1e-12, atol=0)
    assert model.bias.grad.abs().item() > model.weight.grad.abs().max().item()


# %% [markdown]
# ## How to exclude the bias in PyTorch
#
# `weight_decay` applies to every parameter of a group, so the usual recipe builds two groups: weights with
# decay, and biases (and normalization parameters) with `weight_decay=0`. With AdamW and a zero gradient the
# effect is visible exactly: decayed weights are multiplied by $1-\eta\lambda$ each step, the bias stays put.

# %%
def test_param_groups_exclude_the_bias_from_decay():
    """With two AdamW parameter groups and zero gradients, 5 steps multiply the weights by (1 − ηλ)⁵ and leave the bias unchanged."""
    torch.manual_seed(0)
    model = nn.Linear(4, 3).to(DTYPE)
    decay = [p for name, p in model.named_parameters() if not name.endswith("bias")]
    no_decay = [p for name, p in model.named_parameters() if name.endswith("bias")]
    lr, wd = 0.1, 0.5
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    w0, b0 = model.weight.detach().clone(), model.bias.detach().clone()
    for _ in range(5):
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        optimizer.step()
    torch.testing.assert_close(model.weight.detach(), w0 * (1 - lr * wd) ** 5, rtol=1e-12, atol=0)
    torch.testing.assert_close(model.bias.detach(), b0, rtol=0, atol=0)


# %% [markdown]
# ## Conclusion
#
# Yes, more label noise makes the learned weights larger, but only in norm: the noise adds a variance term
# $\sigma^2\operatorname{tr}(AA^\top)$, the mean $AXw^\ast$ is unchanged, and weight decay shrinks the variance term
# without removing it. The bias is left out of decay because penalizing it makes the fit depend on the origin
# of the targets and buys no smoothness, not because it has no gradient or no effect.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

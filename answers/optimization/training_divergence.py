# %% [markdown]
# # Non-convergence and training collapse: the proof
#
# **Question.** A model does not converge, or its loss blows up to NaN: is the model useless, and what are
# the usual causes?
#
# Most failures to converge are failures of the optimization setup, not of the model: a learning rate above
# the stability limit, badly scaled inputs, or a numerically unsafe loss. This module makes each one
# measurable on problems whose answer is known in closed form. Claims:
#
# 1. gradient descent on a quadratic converges for $\eta < 2/\lambda_{\max}$ and diverges above it, for the
#    same model (`test_learning_rate_above_two_over_lambda_max_diverges`);
# 2. a too-small learning rate still converges, at the rate $(1-\eta\lambda)^t$ predicted per eigendirection
#    (`test_small_learning_rate_converges_slowly_not_never`);
# 3. one feature on a 100× larger scale makes gradient descent stall far from the least-squares solution,
#    while standardized features reach it (`test_unscaled_features_stall_gradient_descent`);
# 4. `log(softmax(z))` underflows to $-\infty$ and gives an infinite loss and NaN gradients, while
#    `cross_entropy` on the logits is exact (`test_log_of_softmax_underflows_cross_entropy_does_not`);
# 5. the "add 1e-8" fix keeps the loss finite but caps it at $-\log 10^{-8}$ and kills the gradient
#    (`test_epsilon_in_the_log_caps_the_loss_and_kills_the_gradient`).

# %% [markdown]
# ## The stability limit of gradient descent
#
# On $f(w) = \tfrac12 w^\top A w$ a gradient step multiplies the component of $w$ along each eigenvector of $A$
# by $1 - \eta\lambda_i$. That factor has magnitude below 1 for every $i$ exactly when $\eta < 2/\lambda_{\max}$.
# Above the limit the steepest direction flips sign and grows at every step: the loss explodes, then overflows
# to inf and NaN. A neural network's loss is locally a quadratic whose $A$ is the Hessian, so the same limit
# applies to its sharpest direction.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

DTYPE = torch.float64


def quadratic(seed=0):
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=gen, dtype=DTYPE))
    eigenvalues = torch.tensor([10.0, 4.0, 1.0, 0.5, 0.1], dtype=DTYPE)
    return q @ torch.diag(eigenvalues) @ q.T, torch.ones(5, dtype=DTYPE)  # A, starting point


def gd_losses(A, w, lr, steps):
    w = w.clone().requires_grad_()
    optimizer = torch.optim.SGD([w], lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = 0.5 * w @ A @ w
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return torch.tensor(losses, dtype=DTYPE), w.detach()


A, w_start = quadratic()
lam_max = torch.linalg.eigvalsh(A).max().item()
fig, ax = plt.subplots(figsize=(6, 3.5))
for factor in (0.5, 1.0, 1.9, 2.05):
    losses, _ = gd_losses(A, w_start, factor / lam_max, 60)
    ax.semilogy(losses, label=f"η = {factor} / λmax")
ax.set(xlabel="step", ylabel="loss", title="gradient descent on a quadratic, λmax = 10")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Claims: the learning rate
#
# The eigenvalues come from `torch.linalg.eigvalsh`, an oracle independent of the descent. Just below
# $2/\lambda_{\max}$ the loss falls; just above it rises without bound. Far below, every eigendirection still
# converges, only slowly: after $t$ steps its component is exactly $(1-\eta\lambda_i)^t$ times the start.

# %%
def test_learning_rate_above_two_over_lambda_max_diverges():
    """On a quadratic with λmax = 10, gradient descent converges with η = 1.9/λmax and diverges with η = 2.1/λmax."""
    A, w0 = quadratic()
    lam_max = torch.linalg.eigvalsh(A).max().item()
    below, _ = gd_losses(A, w0, 1.9 / lam_max, 300)
    above, _ = gd_losses(A, w0, 2.1 / lam_max, 300)
    assert below[-1] < 1e-6 * below[0]
    assert above[-1] > 1e6 * above[0]


def test_small_learning_rate_converges_slowly_not_never():
    """With η = 0.01/λmax, 500 steps shrink each eigencomponent exactly by (1 − ηλᵢ)⁵⁰⁰, so the error falls, only slowly."""
    A, w0 = quadratic()
    eigenvalues, vectors = torch.linalg.eigh(A)
    lr = 0.01 / eigenvalues.max().item()
    _, w = gd_losses(A, w0, lr, 500)
    expected = vectors @ ((1 - lr * eigenvalues) ** 500 * (vectors.T @ w0))
    torch.testing.assert_close(w, expected, rtol=1e-9, atol=1e-12)
    assert w.norm() < w0.norm()  # it converges...
    assert (vectors.T @ w)[0].abs() > 0.9 * (vectors.T @ w0)[0].abs()  # ...but barely along λ = 0.1


# %% [markdown]
# ## Claims: input scale
#
# For least squares $\tfrac{1}{2n}\lVert Xw - y\rVert^2$ the Hessian is $X^\top X/n$. Multiplying one feature by 100
# multiplies its eigenvalue by about $10^4$: the learning rate must be below $2/\lambda_{\max}$ for that feature,
# so the others barely move. Standardizing the features makes the Hessian close to the identity.

# %%
def fit_least_squares(X, y, steps=200):
    lam_max = torch.linalg.eigvalsh(X.T @ X / len(X)).max().item()
    w = torch.zeros(X.shape[1], dtype=DTYPE, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=1.0 / lam_max)  # half the stability limit
    for _ in range(steps):
        optimizer.zero_grad()
        (0.5 * ((X @ w - y) ** 2).mean()).backward()
        optimizer.step()
    return w.detach()


def test_unscaled_features_stall_gradient_descent():
    """With one feature 100× larger, 200 steps of gradient descent at η = 1/λmax leave the loss far above the least-squares optimum, while standardized features reach it."""
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(200, 4, generator=gen, dtype=DTYPE)
    y = X @ torch.tensor([1.0, -1.0, 2.0, 0.5], dtype=DTYPE) + 0.1 * torch.randn(200, generator=gen, dtype=DTYPE)
    X_raw = X * torch.tensor([100.0, 1.0, 1.0, 1.0], dtype=DTYPE)

    def excess_loss(X_, w):
        best = torch.linalg.lstsq(X_, y[:, None]).solution[:, 0]  # the oracle
        return (0.5 * ((X_ @ w - y) ** 2).mean() - 0.5 * ((X_ @ best - y) ** 2).mean()).item()

    X_std = (X_raw - X_raw.mean(0)) / X_raw.std(0)
    assert excess_loss(X_raw, fit_least_squares(X_raw, y)) > 0.1
    assert excess_loss(X_std, fit_least_squares(X_std, y)) < 1e-6
    assert torch.linalg.cond(X_raw.T @ X_raw) > 1e3 * torch.linalg.cond(X_std.T @ X_std)


# %% [markdown]
# ## Claims: numerics, where NaN comes from
#
# Writing cross-entropy as `log(softmax(z))` underflows: for logits $(0, 200)$ the softmax of class 0 is
# $e^{-200}$, which float32 rounds to 0, and $\log 0 = -\infty$. The loss becomes inf and its gradient NaN,
# and one NaN step poisons every weight. `F.cross_entropy` works on logits with the log-sum-exp trick and returns
# the exact value, $200 + \log(1 + e^{-200}) \approx 200$. Adding $\epsilon = 10^{-8}$ inside the log keeps the
# number finite but wrong: the loss is capped at $-\log 10^{-8} \approx 18.4$ and its gradient vanishes.

# %%
def test_log_of_softmax_underflows_cross_entropy_does_not():
    """For logits (0, 200) and label 0, log(softmax) gives an infinite loss and NaN gradients, while F.cross_entropy gives 200 and a finite gradient."""
    logits = torch.tensor([[0.0, 200.0]], requires_grad=True)
    target = torch.tensor([0])
    naive = -torch.log(torch.softmax(logits, dim=1))[0, 0]
    (naive_grad,) = torch.autograd.grad(naive, logits)
    assert torch.isinf(naive) and torch.isnan(naive_grad).any()
    fused = F.cross_entropy(logits, target)
    (fused_grad,) = torch.autograd.grad(fused, logits)
    torch.testing.assert_close(fused, torch.tensor(200.0))
    torch.testing.assert_close(fused_grad, torch.tensor([[-1.0, 1.0]]))  # softmax − one-hot


def test_epsilon_in_the_log_caps_the_loss_and_kills_the_gradient():
    """With log(p + 1e-8) the loss for logits (0, 200) is stuck at −log(1e-8) ≈ 18.42 and its gradient is below 1e-6 instead of ±1."""
    logits = torch.tensor([[0.0, 200.0]], requires_grad=True)
    patched = -torch.log(torch.softmax(logits, dim=1) + 1e-8)[0, 0]
    (grad,) = torch.autograd.grad(patched, logits)
    torch.testing.assert_close(patched, torch.tensor(18.420681), rtol=1e-6, atol=0)
    assert grad.abs().max() < 1e-6
    assert F.cross_entropy(logits, torch.tensor([0])) > 10 * patched  # the true loss is 200


# %% [markdown]
# ## Conclusion
#
# A model that does not converge is usually trained badly, not a bad model: the same quadratic converges or
# diverges depending only on $\eta\lambda_{\max}$, a small learning rate converges slowly rather than never,
# unscaled inputs stretch the curvature until no single learning rate suits every direction, and NaNs come
# from unsafe arithmetic that a fused, log-domain loss avoids. Check these before blaming the architecture:
# learning rate (with warmup), input normalization, numerically stable losses, gradient clipping, and the data
# (wrong labels, wrong preprocessing).

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

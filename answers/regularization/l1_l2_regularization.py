# %% [markdown]
# # L1 and L2 regularization: the proof
#
# **Question.** What is regularization, and how do L1 (lasso) and L2 (ridge) regularization differ?
#
# This module solves a small least-squares problem with both penalties, checks each solver against an
# independent oracle, and then looks at where the textbook statements stop holding. Claims:
#
# 1. the solvers are right: gradient descent on the ridge objective reaches the closed form
#    $(X^\top X + \lambda I)^{-1} X^\top y$ (`test_ridge_gradient_descent_matches_closed_form`); proximal
#    gradient (ISTA) on the lasso matches a brute-force search over supports and signs
#    (`test_lasso_matches_brute_force`) and satisfies the optimality conditions
#    (`test_lasso_satisfies_kkt`); on an orthonormal design the lasso is soft-thresholding and ridge a
#    uniform shrink (`test_orthonormal_design_lasso_is_soft_thresholding`);
# 2. L1 sets coefficients exactly to zero, L2 does not (`test_l1_gives_exact_zeros_l2_does_not`); what
#    ridge shrinks is the norm $\lVert w\rVert_2$, while single coefficients can grow or cross zero
#    (`test_ridge_shrinks_the_norm_not_every_weight`); the reason for the zeros is the kink at zero, not a
#    bigger gradient: a ridge zero needs $X_j^\top r = 0$ exactly, a lasso zero only $|X_j^\top r| \le \lambda$
#    (`test_l2_zero_needs_exact_balance_l1_zero_has_slack`); ridge splits the weight of a duplicated feature
#    evenly, and that split is unique, while the lasso's split depends on the solver
#    (`test_duplicated_feature_split_is_unique_for_ridge_not_lasso`);
# 3. where it stops holding: plain (sub)gradient descent on the L1 penalty never produces an exact zero
#    (`test_subgradient_descent_never_reaches_exact_zero`); the L2 penalty equals `weight_decay` for SGD and Adam
#    (`test_l2_penalty_equals_sgd_weight_decay`), but not for AdamW
#    (`test_adam_weight_decay_is_l2_but_adamw_is_not`); the unsquared L2 norm is a different penalty from
#    ridge (`test_unsquared_l2_norm_penalty_is_not_ridge`); an L1 *penalty* gives no robustness to outliers,
#    an L1 *loss* does (`test_l1_penalty_is_not_robust_to_outliers`); and regularization is not only a
#    penalty term: early-stopped gradient descent is ridge regression in disguise
#    (`test_early_stopping_is_ridge_on_orthonormal_design`).

# %% [markdown]
# ## The two objectives and their solvers
#
# With data $X \in \mathbb{R}^{n\times d}$, $y \in \mathbb{R}^n$ and $\lambda \ge 0$:
#
# $$\text{ridge: } \tfrac12\lVert y - Xw\rVert_2^2 + \tfrac{\lambda}{2}\lVert w\rVert_2^2,
# \qquad \text{lasso: } \tfrac12\lVert y - Xw\rVert_2^2 + \lambda\lVert w\rVert_1 .$$
#
# Ridge is smooth: its minimizer is $(X^\top X + \lambda I)^{-1}X^\top y$. The lasso is not differentiable
# where a coefficient is zero, so we solve it by *proximal gradient descent* (ISTA): a gradient step on the
# squared error followed by soft-thresholding, $S(v, t) = \operatorname{sign}(v)\max(|v| - t, 0)$, which is
# the exact minimizer of $\tfrac12(u - v)^2 + t|u|$. (scikit-learn's `Lasso` divides the squared error by $n$,
# so its `alpha` is our $\lambda / n$.) The ISTA below runs every $\lambda$ of a grid at once, one column each.

# %%
import itertools

import torch

DTYPE = torch.float64  # exact zeros and KKT checks need more than float32


def ridge_closed_form(X, y, lam):
    """argmin ½||y - Xw||² + ½·lam·||w||², by solving the normal equations."""
    d = X.shape[1]
    return torch.linalg.solve(X.T @ X + lam * torch.eye(d, dtype=X.dtype), X.T @ y)


def soft_threshold(v, t):
    return v.sign() * (v.abs() - t).clamp(min=0)


def lasso_ista(X, y, lams, steps=500, step_size=None):
    """argmin ½||y - Xw||² + lam·||w||₁ for each lam in lams (L,), by proximal gradient; returns (d, L)."""
    if step_size is None:
        step_size = 1 / torch.linalg.matrix_norm(X, ord=2) ** 2  # 1 / Lipschitz constant of the gradient
    XtX, Xty = X.T @ X, X.T @ y
    W = torch.zeros(X.shape[1], len(lams), dtype=X.dtype)  # (d, L)
    for _ in range(steps):
        W = soft_threshold(W - step_size * (XtX @ W - Xty[:, None]), step_size * lams)
    return W


def lasso_objective(X, y, w, lam):
    return 0.5 * ((y - w @ X.T) ** 2).sum(-1) + lam * w.abs().sum(-1)  # w: (d,) or (K, d)


# %% [markdown]
# ## A brute-force oracle for the lasso
#
# If we knew which coefficients are non-zero and their signs $s$, the lasso would be a linear system: on
# the support $S$, $X_S^\top(y - X_S w_S) = \lambda s_S$. So we try all $3^d$ sign patterns
# ($-$, $0$, $+$ per coefficient), solve each system, keep the candidates whose signs come out as
# assumed, and take the one with the smallest objective. No soft-thresholding and no iteration: a
# different road to the same answer. All $3^6 = 729$ systems are solved in one batched call.

# %%
def lasso_brute_force(X, y, lam):
    d = X.shape[1]
    signs = torch.tensor(list(itertools.product([-1.0, 0.0, 1.0], repeat=d)), dtype=X.dtype)  # (3^d, d)
    on = (signs != 0).to(X.dtype)  # (3^d, d) 1 on the assumed support
    P = torch.diag_embed(on)  # (3^d, d, d)
    A = P @ (X.T @ X) @ P + torch.diag_embed(1 - on)  # rows off the support just say w_j = 0
    b = on * (X.T @ y - lam * signs)  # (3^d, d)
    W = torch.linalg.solve(A, b)  # (3^d, d)
    consistent = (W.sign() == signs).all(dim=1)
    objectives = lasso_objective(X, y, W, lam).masked_fill(~consistent, float("inf"))
    return W[objectives.argmin()]


# %% [markdown]
# ## Regularization paths
#
# A regression with $n = 40$ samples and $d = 6$ features, of which only the first three matter
# ($w^\star = (3, -2, 1.5, 0, 0, 0)$), plus unit Gaussian noise. We solve both problems on a grid of
# $\lambda$ and count exact zeros. Above $\lambda_{\max} = \lVert X^\top y\rVert_\infty$ the lasso
# solution is entirely zero. Ridge has no exact zeros, and what it shrinks is the norm $\lVert w\rVert_2$:
# single coefficients need not shrink (the small ones here grow for a while, and one crosses zero).

# %%
import matplotlib.pyplot as plt


def make_regression(seed=0, n=40):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=gen, dtype=DTYPE)
    w_true = torch.tensor([3.0, -2.0, 1.5, 0.0, 0.0, 0.0], dtype=DTYPE)
    y = X @ w_true + torch.randn(n, generator=gen, dtype=DTYPE)
    return X, y, w_true


X, y, w_true = make_regression()
lam_max = (X.T @ y).abs().max()
lams = torch.logspace(-1, torch.log10(2 * lam_max).item(), 40, dtype=DTYPE)  # (L,)
lasso_path = lasso_ista(X, y, lams)  # (d, L)
ridge_path = torch.stack([ridge_closed_form(X, y, lam) for lam in lams], dim=1)  # (d, L)

print(f"lambda_max = {lam_max:.1f}")
print(f"{'lambda':>8} {'lasso zeros':>12} {'ridge zeros':>12} {'ridge ||w||':>12} {'ridge w4':>9} {'ridge w6':>9}")
for i in range(0, len(lams), 4):
    lasso_zeros = int((lasso_path[:, i] == 0).sum())
    ridge_zeros = int((ridge_path[:, i] == 0).sum())
    w = ridge_path[:, i]
    print(f"{lams[i]:>8.2f} {lasso_zeros:>12} {ridge_zeros:>12} {w.norm():>12.3f} {w[3]:>+9.4f} {w[5]:>+9.4f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
for ax, path, name in [(axes[0], lasso_path, "L1 (lasso)"), (axes[1], ridge_path, "L2 (ridge)")]:
    for j in range(6):
        ax.plot(lams, path[j], color=f"C{j}", label=f"w{j + 1} (true {w_true[j]:g})")
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xscale="log", xlabel="λ", title=f"{name} regularization path")
axes[0].axvline(lam_max, color="k", ls=":", lw=0.8)
axes[0].text(lam_max, 2.5, "λ_max ", ha="right", fontsize=8)
axes[0].set_ylabel("coefficient")
axes[1].legend(fontsize=7, loc="upper right")
fig.tight_layout()


# %% [markdown]
# ## Claims: the solvers agree with independent oracles
#
# Ridge is also solved by plain gradient descent on the objective as written, with autograd computing the
# gradient; it must land on the closed form. The lasso solution from ISTA must equal the brute-force
# search and satisfy the subgradient optimality (KKT) conditions with residual $r = y - Xw$:
# $X_j^\top r = \lambda\,\operatorname{sign}(w_j)$ where $w_j \ne 0$ and $|X_j^\top r| \le \lambda$ where
# $w_j = 0$. On an orthonormal design ($X^\top X = I$) both problems decouple per coordinate, with
# $z = X^\top y$: lasso gives $S(z, \lambda)$ and ridge $z/(1+\lambda)$.

# %%
def test_ridge_gradient_descent_matches_closed_form():
    """Gradient descent on the ridge objective (autograd gradients) converges to (XᵀX + λI)⁻¹Xᵀy."""
    X, y, _ = make_regression()
    lam = 5.0
    w = torch.zeros(6, dtype=DTYPE, requires_grad=True)
    lr = 1 / (torch.linalg.matrix_norm(X, ord=2) ** 2 + lam).item()
    for _ in range(500):
        loss = 0.5 * ((y - X @ w) ** 2).sum() + 0.5 * lam * (w**2).sum()
        (grad,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w -= lr * grad
    torch.testing.assert_close(w.detach(), ridge_closed_form(X, y, lam), rtol=1e-10, atol=1e-10)


def test_lasso_matches_brute_force():
    """ISTA's lasso solution equals the best of all 3^6 support-and-sign candidates, at four values of λ."""
    X, y, _ = make_regression()
    lams = torch.tensor([1.0, 10.0, 30.0, 60.0], dtype=DTYPE)
    W = lasso_ista(X, y, lams)
    for i, lam in enumerate(lams):
        torch.testing.assert_close(W[:, i], lasso_brute_force(X, y, lam), rtol=1e-9, atol=1e-9)


def test_lasso_satisfies_kkt():
    """At the lasso solution |X_jᵀr| ≤ λ for every zero coefficient and X_jᵀr = λ·sign(w_j) otherwise; λ ≥ ||Xᵀy||∞ gives w = 0."""
    X, y, _ = make_regression()
    lam = 30.0
    w = lasso_ista(X, y, torch.tensor([lam], dtype=DTYPE))[:, 0]
    correlation = X.T @ (y - X @ w)  # (d,) minus the gradient of the squared error
    zero = w == 0
    assert 1 <= zero.sum() <= 5  # both conditions get exercised
    assert (correlation[zero].abs() <= lam + 1e-9).all()
    torch.testing.assert_close(correlation[~zero], lam * w[~zero].sign(), rtol=1e-9, atol=1e-9)

    lam_max = (X.T @ y).abs().max()
    w_at_max = lasso_ista(X, y, torch.stack([lam_max, 0.999 * lam_max]))
    assert (w_at_max[:, 0] == 0).all() and (w_at_max[:, 1] != 0).any()


def test_orthonormal_design_lasso_is_soft_thresholding():
    """With orthonormal columns the lasso solution is soft-thresholding of z = Xᵀy, and ridge is z/(1+λ)."""
    gen = torch.Generator().manual_seed(1)
    Q, _ = torch.linalg.qr(torch.randn(40, 6, generator=gen, dtype=DTYPE))  # QᵀQ = I
    y = Q @ torch.tensor([3.0, -2.0, 1.0, 0.5, -0.3, 0.1], dtype=DTYPE) + 0.1 * torch.randn(40, generator=gen, dtype=DTYPE)
    z = Q.T @ y  # the least-squares solution
    lam = 0.8
    expected = soft_threshold(z, lam)
    assert (expected == 0).sum() == 3
    torch.testing.assert_close(lasso_brute_force(Q, y, lam), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ridge_closed_form(Q, y, lam), z / (1 + lam), rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## Claims: exact zeros, and why
#
# Along the whole path ridge has no zero coefficient while the lasso has many. Ridge does not shrink every
# coefficient either: $\lVert w\rVert_2$ falls monotonically as $\lambda$ grows, but while the large coefficients
# shrink, the small ones can grow for a while or change sign.
#
# The usual explanation of the zeros, "the L1 gradient is larger", does not hold up: at equal $\lambda$ the L2
# pull $\lambda w$ is the larger one for every $|w| > 1$. What matters is the behaviour *at* zero. Ridge stops
# where its pull balances the data, $\lambda w = X^\top r$ with $r = y - Xw$; since the pull fades as $w \to 0$,
# $w_j = 0$ needs $X_j^\top r = 0$ exactly, which happens only for data on a hyperplane (measure zero). The L1
# penalty has a kink whose subgradient is the whole interval $[-\lambda, \lambda]$, so $w_j = 0$ is optimal for
# every $|X_j^\top r| \le \lambda$, an inequality that survives perturbing the data when it holds with room to
# spare, as it does here. The claim builds data on which one ridge coefficient is exactly zero and perturbs it:
# that zero disappears, while the lasso's zeros stay.
#
# With two identical copies of a feature, ridge's objective is strictly convex, so its solution is unique and
# splits the weight equally. The lasso objective is the same for every split with matching signs, so which split
# you get depends on the solver: cyclic coordinate descent puts everything on the first copy, ISTA (started
# from zero, updating both copies alike) splits it evenly, and both are optimal. "L1 selects features" does not
# say which of two correlated features it picks.

# %%
def lasso_coordinate_descent(X, y, lam, sweeps=100):
    """argmin ½||y - Xw||² + lam·||w||₁ by cyclic coordinate descent: each coordinate in turn, exactly."""
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    residual = y.clone()  # (n,) y - Xw
    col_sq = (X**2).sum(dim=0)  # (d,)
    for _ in range(sweeps):
        for j in range(X.shape[1]):
            residual += X[:, j] * w[j]  # take coordinate j out
            w[j] = soft_threshold(X[:, j] @ residual, lam) / col_sq[j]
            residual -= X[:, j] * w[j]
    return w


def test_l1_gives_exact_zeros_l2_does_not():
    """Along a path of 40 values of λ, ridge never has a zero coefficient, while the lasso has zeros at 15 or more and is all zero for λ ≥ λ_max."""
    assert (ridge_path != 0).all()
    lasso_zeros = (lasso_path == 0).sum(dim=0)  # (L,)
    assert (lasso_zeros > 0).sum() >= 15
    assert (lasso_zeros[lams >= lam_max] == 6).all()
    assert lasso_zeros[0] == 0  # small λ: nothing zeroed, close to least squares


def test_ridge_shrinks_the_norm_not_every_weight():
    """Along the ridge path ||w||₂ decreases at every step of λ, yet some coefficients grow in magnitude and one changes sign."""
    norms = ridge_path.norm(dim=0)  # (L,)
    assert (norms[1:] < norms[:-1]).all()
    grows = (ridge_path[:, 1:].abs() > ridge_path[:, :-1].abs()).any(dim=1)  # (d,)
    flips = (ridge_path[:, 1:].sign() != ridge_path[:, :-1].sign()).any(dim=1)  # (d,)
    assert grows.tolist() == [False, False, False, True, True, True]  # the three weakest coefficients
    assert flips.tolist() == [False, False, False, True, False, False]
    assert ridge_path[5].abs().max() > 1.07 * ridge_path[5, 0].abs()  # |w6| grows by over 7% before shrinking


def test_l2_zero_needs_exact_balance_l1_zero_has_slack():
    """Ridge stops where λw = Xᵀr, so data built to give one exact ridge zero lose it under a small perturbation, while the lasso's three zeros (|X_jᵀr| < λ) survive it."""
    X, y, _ = make_regression()
    lam = 30.0
    w = ridge_closed_form(X, y, lam).requires_grad_()
    (data_grad,) = torch.autograd.grad(0.5 * ((y - X @ w) ** 2).sum(), w)  # = -Xᵀr
    torch.testing.assert_close(-data_grad, lam * w.detach(), rtol=1e-10, atol=1e-10)  # stationarity

    # ridge w = A y is linear in y: remove y's component along row 4 of A to make w4 exactly zero
    a = torch.linalg.solve(X.T @ X + lam * torch.eye(6, dtype=DTYPE), X.T)[3]  # (n,)
    y_edge = y - (a @ y) / (a @ a) * a
    assert ridge_closed_form(X, y_edge, lam)[3].abs() < 1e-12

    lasso = lasso_ista(X, y, torch.tensor([lam], dtype=DTYPE))[:, 0]
    zero = lasso == 0
    assert zero.sum() == 3 and (X.T @ (y - X @ lasso))[zero].abs().max() < 0.6 * lam  # slack of over 40%

    gen = torch.Generator().manual_seed(0)
    for noise in 0.1 * torch.randn(10, len(y), generator=gen, dtype=DTYPE):
        assert ridge_closed_form(X, y_edge + noise, lam)[3].abs() > 1e-5  # the ridge zero is gone
        perturbed = lasso_ista(X, y + noise, torch.tensor([lam], dtype=DTYPE))[:, 0]
        assert torch.equal(perturbed == 0, zero)  # the lasso zeros stay


def test_duplicated_feature_split_is_unique_for_ridge_not_lasso():
    """With a feature duplicated, ridge's unique solution splits it evenly, while two lasso solvers reach the brute-force optimum with different splits."""
    X, y, _ = make_regression()
    X_dup = torch.cat([X[:, :1], X], dim=1)  # column 0 appears twice
    ridge = ridge_closed_form(X_dup, y, 1.0)
    torch.testing.assert_close(ridge[0], ridge[1], rtol=1e-10, atol=0)

    lam = 10.0
    best = lasso_objective(X, y, lasso_brute_force(X, y, lam), lam)  # one copy is as good as two: |a|+|b| ≥ |a+b|
    by_ista = lasso_ista(X_dup, y, torch.tensor([lam], dtype=DTYPE))[:, 0]
    by_cd = lasso_coordinate_descent(X_dup, y, lam)
    for w in (by_ista, by_cd):
        torch.testing.assert_close(lasso_objective(X_dup, y, w, lam), best, rtol=1e-10, atol=0)
    torch.testing.assert_close(by_ista[0], by_ista[1], rtol=1e-10, atol=0)  # ISTA: an even split
    assert by_cd[0] > 2.5 and by_cd[1].abs() < 1e-12  # coordinate descent: everything on the first copy


# %% [markdown]
# ## Where it stops holding: plain gradient descent does not give zeros
#
# The lasso's zeros come from the solver, too. Training with the penalty added to the loss and plain
# (sub)gradient steps, as happens in a neural network, moves each coefficient by $\pm\eta\lambda$ from
# the penalty every step: a coefficient that should be zero jumps back and forth across zero and lands on
# exactly 0.0 essentially never. Soft-thresholding with the same step size does produce exact zeros.

# %%
def subgradient_descent(X, y, lam, lr, steps):
    """Gradient steps on ½||y - Xw||² + lam·||w||₁ with autograd (d|w|/dw = sign(w)); returns all iterates (steps, d)."""
    w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    iterates = []
    for _ in range(steps):
        (grad,) = torch.autograd.grad(0.5 * ((y - X @ w) ** 2).sum() + lam * w.abs().sum(), w)
        with torch.no_grad():
            w -= lr * grad
        iterates.append(w.detach().clone())
    return torch.stack(iterates)


lr_sub = 0.2 / (torch.linalg.matrix_norm(X, ord=2) ** 2).item()
iterates = subgradient_descent(X, y, lam=30.0, lr=lr_sub, steps=1000)


def show(w):
    return " ".join("      0" if v == 0 else f"{v:+.4f}" for v in w)  # exact zeros print as 0


print(f"{'lasso by ISTA, λ = 30':<26}", show(lasso_ista(X, y, torch.tensor([30.0], dtype=DTYPE))[:, 0]))
for k in (-3, -2, -1):
    print(f"{f'subgradient, step {1000 + k + 1}':<26}", show(iterates[k]))


# %% [markdown]
# ### The claim
#
# Over the last 100 of 1000 subgradient steps no coefficient is exactly zero, and the three that the
# lasso zeroes change sign again and again, staying within two penalty steps ($2\eta\lambda$) of zero.

# %%
def test_subgradient_descent_never_reaches_exact_zero():
    """Subgradient descent on the lasso leaves no coefficient at exactly 0, and the three that should be zero keep flipping sign."""
    X, y, _ = make_regression()
    lam, lr = 30.0, lr_sub
    last = subgradient_descent(X, y, lam, lr, steps=1000)[-100:]  # (100, d)
    lasso = lasso_ista(X, y, torch.tensor([lam], dtype=DTYPE), step_size=lr, steps=1000)[:, 0]
    should_be_zero = lasso == 0
    assert should_be_zero.sum() == 3  # the proximal method, same step size, finds exact zeros
    assert (last != 0).all()
    sign_flips = (last[1:].sign() != last[:-1].sign()).sum(dim=0)  # (d,)
    assert (sign_flips[should_be_zero] >= 20).all()
    assert (last[:, should_be_zero].abs() <= 2 * lr * lam + 1e-12).all()  # it hovers within a few steps of 0


# %% [markdown]
# ## Where it stops holding: L2 penalty versus weight decay
#
# For SGD, adding $\tfrac{\lambda}{2}\lVert w\rVert^2$ to the loss adds $\lambda w$ to the gradient, which
# is what `weight_decay=λ` does, so the two are the same, momentum included. `torch.optim.Adam`'s
# `weight_decay` is also this L2 term, so it passes through Adam's per-coordinate scaling $1/\sqrt{\hat v}$.
# AdamW instead subtracts $\eta\lambda w$ directly ("decoupled"), outside that scaling, so the L2 penalty on the
# loss does not reproduce it.

# %%
from torch import nn


def _train_linear(make_optimizer, penalty, steps=3):
    gen = torch.Generator().manual_seed(0)
    x, target = torch.randn(16, 4, generator=gen), torch.randn(16, 3, generator=gen)
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    optimizer = make_optimizer(model.parameters())
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss = loss + penalty / 2 * sum((p**2).sum() for p in model.parameters())
        loss.backward()
        optimizer.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_l2_penalty_equals_sgd_weight_decay():
    """Three SGD steps (momentum 0.9) with weight_decay=λ give the same weights as adding λ/2·||w||² to the loss."""
    wd = 0.1
    decayed = _train_linear(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=wd), penalty=0.0)
    penalized = _train_linear(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), penalty=wd)
    plain = _train_linear(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), penalty=0.0)
    torch.testing.assert_close(decayed, penalized, rtol=1e-6, atol=1e-7)
    assert (decayed - plain).abs().max() > 1e-3  # the decay did something


def test_adam_weight_decay_is_l2_but_adamw_is_not():
    """Adam's weight_decay equals an L2 penalty on the loss, but AdamW's decoupled decay gives different weights."""
    wd = 0.1
    adam_decay = _train_linear(lambda ps: torch.optim.Adam(ps, lr=0.1, weight_decay=wd), penalty=0.0)
    adam_penalty = _train_linear(lambda ps: torch.optim.Adam(ps, lr=0.1), penalty=wd)
    adamw = _train_linear(lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=wd), penalty=0.0)
    torch.testing.assert_close(adam_decay, adam_penalty, rtol=1e-5, atol=1e-6)
    assert (adamw - adam_penalty).abs().max() > 1e-2


# %% [markdown]
# ## Where it stops holding: the L2 *norm* is not the ridge penalty
#
# "L2" is used for two things. The norm $\lVert w\rVert_2 = \sqrt{\sum_j w_j^2}$ and the ridge penalty
# $\tfrac{\lambda}{2}\lVert w\rVert_2^2$ behave differently: the unsquared norm has a kink at $w = 0$
# like L1 (its gradient $w/\lVert w\rVert$ has length one everywhere), so it can set the whole vector to
# zero at once, though never a single coordinate. On an orthonormal design its solution is
# $(1 - \lambda/\lVert z\rVert)_+\, z$ (the group lasso with one group), whereas ridge gives $z/(1 + \lambda)$.

# %%
def test_unsquared_l2_norm_penalty_is_not_ridge():
    """With penalty λ·||w||₂ on an orthonormal design, gradient descent reaches (1 - λ/||z||)·z, not ridge's z/(1+λ), and w = 0 wins once λ ≥ ||z||."""
    gen = torch.Generator().manual_seed(2)
    Q, _ = torch.linalg.qr(torch.randn(40, 6, generator=gen, dtype=DTYPE))
    y = Q @ torch.randn(6, generator=gen, dtype=DTYPE) + 0.1 * torch.randn(40, generator=gen, dtype=DTYPE)
    z = Q.T @ y

    def objective(w, lam):  # (..., d) -> (...)
        return 0.5 * ((y - w @ Q.T) ** 2).sum(-1) + lam * w.norm(dim=-1)

    lam = 0.5 * z.norm()
    w = z.clone().requires_grad_()  # start away from the kink at 0
    for _ in range(200):
        (grad,) = torch.autograd.grad(objective(w, lam), w)
        with torch.no_grad():
            w -= 0.5 * grad
    torch.testing.assert_close(w.detach(), (1 - lam / z.norm()) * z, rtol=1e-10, atol=1e-10)
    assert (w.detach() - ridge_closed_form(Q, y, lam)).abs().max() > 0.1

    lam = 1.1 * z.norm()  # now the zero vector is optimal: compare with 10,000 random points
    candidates = torch.randn(10_000, 6, generator=gen, dtype=DTYPE) * torch.logspace(-4, 1, 10_000, dtype=DTYPE)[:, None]
    assert objective(torch.zeros(6, dtype=DTYPE), lam) < objective(candidates, lam).min()
    assert (ridge_closed_form(Q, y, lam) != 0).all()


# %% [markdown]
# ## Where it stops holding: an L1 penalty is not an L1 loss
#
# "L1 is robust to outliers" is a statement about the L1 *loss* $\sum_i |y_i - \hat y_i|$ (median
# regression), not about the L1 *penalty* on the weights: the lasso still fits the data with a squared
# error, so one outlier drags it just like least squares. The simplest case is estimating a single
# location $c$ from 101 points, then from the same points plus one at 5000.

# %%
def test_l1_penalty_is_not_robust_to_outliers():
    """Adding one outlier at 5000 to 101 points moves a lasso location estimate by over 40 but the L1-loss (median) estimate by under 0.1."""
    gen = torch.Generator().manual_seed(0)
    clean = torch.randn(101, generator=gen, dtype=DTYPE)
    dirty = torch.cat([clean, torch.tensor([5000.0], dtype=DTYPE)])
    lam = torch.tensor([2.0], dtype=DTYPE)

    def lasso_location(values):  # a constant model ŷ = c: the design is a column of ones
        ones = torch.ones(len(values), 1, dtype=DTYPE)
        return lasso_ista(ones, values, lam, steps=200)[0, 0]

    def l1_loss_location(values):  # brute force: the L1 loss is minimized at one of the data points
        losses = (values[None, :] - values[:, None]).abs().sum(dim=1)
        return values[losses.argmin()]

    assert (lasso_location(dirty) - lasso_location(clean)).abs() > 40
    assert (l1_loss_location(dirty) - l1_loss_location(clean)).abs() < 0.1
    torch.testing.assert_close(l1_loss_location(clean), clean.median())


# %% [markdown]
# ## Where it stops holding: regularization without a penalty term
#
# Regularization is anything that restrains the fit to reduce overfitting, not only a term added to the
# loss: dropout, data augmentation, AdamW's decoupled decay and early stopping are all regularizers. For
# early stopping the link to ridge is exact on an orthonormal design: $t$ steps of gradient descent from
# zero with step $\eta$ give $w_t = (1 - (1-\eta)^t)\,z$, which is the ridge solution with
# $\lambda = (1-\eta)^t / (1 - (1-\eta)^t)$. Fewer steps mean a larger $\lambda$.

# %%
def test_early_stopping_is_ridge_on_orthonormal_design():
    """Five gradient-descent steps from zero (step 0.3) on an orthonormal design equal ridge with λ = 0.7⁵/(1 - 0.7⁵)."""
    gen = torch.Generator().manual_seed(3)
    Q, _ = torch.linalg.qr(torch.randn(40, 6, generator=gen, dtype=DTYPE))
    y = torch.randn(40, generator=gen, dtype=DTYPE)
    lr, steps = 0.3, 5
    w = torch.zeros(6, dtype=DTYPE, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        (0.5 * ((y - Q @ w) ** 2).sum()).backward()
        optimizer.step()
    lam = (1 - lr) ** steps / (1 - (1 - lr) ** steps)
    torch.testing.assert_close(w.detach(), ridge_closed_form(Q, y, lam), rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## Conclusion
#
# Both penalties shrink, but only L1 sets coefficients exactly to zero, and only when it is solved with a
# method that handles the kink (soft-thresholding, coordinate descent, or an exact solver): the zero
# comes from the subgradient interval $[-\lambda, \lambda]$ at zero, not from a larger gradient. Ridge
# shrinks the norm of the weight vector (not necessarily each coefficient), spreads weight across correlated
# features and has a closed form. In deep
# learning the L2 penalty usually appears as `weight_decay`, which is the same thing for SGD and Adam but
# not for AdamW, and the squared norm, not the norm, is what "L2 regularization" means.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

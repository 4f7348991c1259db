# %% [markdown]
# # L1, L2, Smooth L1 / Huber and hinge losses: the proof
#
# **Question.** Which loss functions are common, how do L1 and L2 losses differ, what do Smooth L1 and Huber add, and
# what is the hinge loss?
#
# This module writes each loss's gradient in closed form and checks it against autograd through PyTorch's loss
# modules, fits a constant to data with an outlier under each loss, and looks at the hinge loss of the SVM. Claims:
#
# 1. the gradients of MSE, L1, Smooth L1 and Huber with respect to the prediction are $2r/N$, $\mathrm{sign}(r)/N$,
#    $\mathrm{clip}(r/\beta, -1, 1)/N$ and $\mathrm{clip}(r, -\delta, \delta)/N$, and Huber is $\delta$ times Smooth L1
#    with $\beta = \delta$ (`test_loss_gradients_match_autograd`);
# 2. the best constant under MSE is the mean, under L1 the median, under Huber something in between; one outlier drags
#    the mean far and the median not at all (`test_best_constant_is_mean_median_or_in_between`);
# 3. the L2 *loss* is a sum (or mean) of squares, not the Euclidean norm: the norm's gradient has length 1 whatever the
#    residual, the loss's shrinks with it (`test_l2_loss_is_not_the_l2_norm`);
# 4. gradient descent with a fixed step on the L1 loss never settles, because its gradient does not shrink; on MSE it
#    converges (`test_l1_gradient_descent_oscillates_mse_converges`);
# 5. the L1 loss makes *residuals* sparse, not weights: the best L1 line passes exactly through two data points and
#    has two nonzero weights (`test_l1_loss_gives_sparse_residuals_not_sparse_weights`);
# 6. the hinge loss $\max(0, 1 - yf)$ is twice `nn.MultiMarginLoss` on the scores $(0, f)$, and its gradient is
#    $-y$ inside the margin and 0 outside (`test_hinge_loss_matches_multi_margin_loss`);
# 7. points outside the margin contribute nothing to the SVM objective's gradient, so removing them changes nothing
#    (`test_points_beyond_the_margin_do_not_affect_the_svm`).

# %% [markdown]
# ## The losses and their gradients
#
# For residuals $r = \hat y - y$ over $N$ values: MSE $\frac1N\sum r^2$; L1 $\frac1N\sum|r|$; Smooth L1 (Fast R-CNN)
# $\frac1N\sum \ell_\beta(r)$ with $\ell_\beta = r^2/(2\beta)$ for $|r| < \beta$ and $|r| - \beta/2$ otherwise; Huber
# $\frac1N\sum h_\delta(r)$ with $h_\delta = r^2/2$ for $|r| \le \delta$ and $\delta(|r| - \delta/2)$ otherwise. The
# hinge loss takes a label $y \in \{-1, +1\}$ and a score $f$: $\max(0, 1 - yf)$. The plot shows each loss and its
# derivative; the robust ones have bounded derivatives.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

r = torch.linspace(-3, 3, 241, dtype=torch.float64)
CURVES = {
    "MSE  r²": (r**2, 2 * r),
    "L1  |r|": (r.abs(), r.sign()),
    "Smooth L1 (β=1)": (F.smooth_l1_loss(r, torch.zeros_like(r), reduction="none"), r.clamp(-1, 1)),
    "Huber (δ=0.5)": (F.huber_loss(r, torch.zeros_like(r), reduction="none", delta=0.5), r.clamp(-0.5, 0.5)),
}
fig, axes = plt.subplots(1, 3, figsize=(11, 3.3))
for name, (loss, derivative) in CURVES.items():
    axes[0].plot(r, loss, label=name)
    axes[1].plot(r, derivative, label=name)
margin = r  # y·f for the classification losses
axes[2].plot(margin, (1 - margin).clamp(min=0), label="hinge max(0, 1 − yf)")
axes[2].plot(margin, F.softplus(-margin) / torch.log(torch.tensor(2.0)), label="logistic / log 2")
axes[2].plot(margin, (margin < 0).double(), label="0-1 loss")
axes[0].set(title="regression loss", xlabel="residual r", ylim=(0, 4))
axes[1].set(title="derivative", xlabel="residual r")
axes[2].set(title="classification loss", xlabel="margin y·f", ylim=(0, 4))
axes[0].legend(fontsize=7)
axes[2].legend(fontsize=7)
fig.tight_layout()


# %% [markdown]
# ## Claims: the gradients

# %%
def test_loss_gradients_match_autograd():
    """Autograd through mse_loss, l1_loss, smooth_l1_loss(β=0.7) and huber_loss(δ=0.7) gives 2r/N, sign(r)/N, clip(r/β,−1,1)/N and clip(r,−δ,δ)/N, and huber_loss = δ·smooth_l1_loss with β = δ."""
    generator = torch.Generator().manual_seed(0)
    prediction = torch.randn(40, dtype=torch.float64, generator=generator, requires_grad=True)
    target = torch.randn(40, dtype=torch.float64, generator=generator)
    residual = (prediction - target).detach()
    cases = {
        "mse": (F.mse_loss(prediction, target), 2 * residual),
        "l1": (F.l1_loss(prediction, target), residual.sign()),
        "smooth_l1": (F.smooth_l1_loss(prediction, target, beta=0.7), (residual / 0.7).clamp(-1, 1)),
        "huber": (F.huber_loss(prediction, target, delta=0.7), residual.clamp(-0.7, 0.7)),
    }
    for name, (loss, expected) in cases.items():
        (grad,) = torch.autograd.grad(loss, prediction)
        torch.testing.assert_close(grad, expected / 40, msg=name)
    torch.testing.assert_close(F.huber_loss(prediction, target, delta=0.7),
                               0.7 * F.smooth_l1_loss(prediction, target, beta=0.7))


# %% [markdown]
# ## Outliers: which constant does each loss choose?
#
# Fit a single number $c$ to data $y_1, \dots, y_n$. MSE's minimizer is the mean (set $\sum 2(c - y_i) = 0$), L1's the
# median (as many points above as below), Huber's a compromise: points within $\delta$ pull linearly, points beyond pull
# with a constant force. We find each minimizer by brute force on a fine grid and compare with the closed forms.

# %%
DATA = torch.tensor([1.0, 1.2, 0.8, 1.1, 0.9, 1.0, 1.3, 0.7, 1.05, 50.0], dtype=torch.float64)  # one outlier


def best_constant(loss_fn, data=DATA):
    """The grid point c minimizing the mean loss of predicting c for every value in data."""
    grid = torch.linspace(-5, 60, 65001, dtype=torch.float64)  # step 0.001
    losses = loss_fn(grid[:, None].expand(-1, len(data)), data.expand(len(grid), -1), reduction="none").mean(1)
    return grid[losses.argmin()].item()


def test_best_constant_is_mean_median_or_in_between():
    """On 9 points near 1 plus an outlier at 50, brute force finds the MSE minimizer at the mean (5.9) and the L1 minimizer in [1.0, 1.05] (the median interval), and Huber (δ=1) within 0.2 of the clean data's mean."""
    assert abs(best_constant(F.mse_loss) - DATA.mean().item()) < 1e-3
    l1 = best_constant(F.l1_loss)
    assert 1.0 - 1e-3 <= l1 <= 1.05 + 1e-3  # any point between the 5th and 6th order statistics
    huber = best_constant(lambda a, b, reduction: F.huber_loss(a, b, reduction=reduction, delta=1.0))
    assert abs(huber - DATA[:-1].mean().item()) < 0.2 and DATA.mean() > 5


# %% [markdown]
# ## L2 loss versus L2 norm, and why L1 does not settle
#
# "L2" can mean the squared loss $\sum r^2$ or the Euclidean norm $\lVert r\rVert_2 = \sqrt{\sum r^2}$. Their minimizers
# coincide when an exact fit exists, but their gradients do not: $\nabla\lVert r\rVert = r/\lVert r\rVert$ has length 1
# however small the error, like L1's $\mathrm{sign}(r)$, while $\nabla\sum r^2 = 2r$ shrinks as the fit improves. A
# gradient that does not shrink makes fixed-step gradient descent overshoot forever: it hops around the minimizer.

# %%
def test_l2_loss_is_not_the_l2_norm():
    """For residual vectors of norms 10, 1 and 0.01 the gradient of ‖r‖₂ has length 1, while the gradient of Σr² has length 2‖r‖."""
    direction = torch.randn(6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for scale in (10.0, 1.0, 0.01):
        residual = (direction / direction.norm() * scale).requires_grad_()
        (norm_grad,) = torch.autograd.grad(residual.norm(), residual)
        (squares_grad,) = torch.autograd.grad(residual.pow(2).sum(), residual)
        assert abs(norm_grad.norm().item() - 1) < 1e-12
        assert abs(squares_grad.norm().item() - 2 * scale) < 1e-10


def test_l1_gradient_descent_oscillates_mse_converges():
    """Fitting a constant to 9 points with gradient descent (step 0.1, 500 steps): on MSE it reaches the mean to 1e-10; on L1 it still jumps by more than 0.01 at every one of the last 20 steps, around the median."""
    data = DATA[:-1]
    trajectories = {}
    for name, loss_fn in (("mse", F.mse_loss), ("l1", F.l1_loss)):
        c = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
        values = []
        for _ in range(500):
            (grad,) = torch.autograd.grad(loss_fn(c.expand_as(data), data), c)
            with torch.no_grad():
                c -= 0.1 * grad
            values.append(c.item())
        trajectories[name] = torch.tensor(values, dtype=torch.float64)
    assert abs(trajectories["mse"][-1] - data.mean()) < 1e-10
    l1_steps = trajectories["l1"][-20:].diff().abs()
    assert l1_steps.min() > 0.01 and (trajectories["l1"][-20:] - data.median()).abs().max() < 0.15


def test_l1_loss_gives_sparse_residuals_not_sparse_weights():
    """For a line fitted to 12 noisy points, the best L1 line over all lines through two data points matches a fine grid search over (slope, intercept), has two zero residuals and two nonzero weights."""
    generator = torch.Generator().manual_seed(2)
    x = torch.linspace(0, 1, 12, dtype=torch.float64)
    y = 2 * x + 1 + 0.2 * torch.randn(12, generator=generator, dtype=torch.float64)

    def l1(slope, intercept):
        return (y - slope * x - intercept).abs().sum(-1)

    pairs = torch.combinations(torch.arange(12), 2)  # every line through two data points
    slopes = (y[pairs[:, 1]] - y[pairs[:, 0]]) / (x[pairs[:, 1]] - x[pairs[:, 0]])
    intercepts = y[pairs[:, 0]] - slopes * x[pairs[:, 0]]
    pair_losses = l1(slopes[:, None], intercepts[:, None])
    best = pair_losses.argmin()
    s_grid, b_grid = torch.meshgrid(torch.linspace(1, 3, 401, dtype=torch.float64),
                                    torch.linspace(0.5, 1.5, 401, dtype=torch.float64), indexing="ij")
    grid_best = l1(s_grid.reshape(-1, 1), b_grid.reshape(-1, 1)).min()
    assert pair_losses[best] <= grid_best + 1e-12  # no line on the grid does better
    residuals = y - slopes[best] * x - intercepts[best]
    assert (residuals.abs() < 1e-12).sum() == 2
    assert slopes[best].abs() > 0.5 and intercepts[best].abs() > 0.5


# %% [markdown]
# ## The hinge loss and the SVM
#
# A linear SVM minimizes $\frac{\lambda}{2}\lVert w\rVert^2 + \sum_n \max(0, 1 - y_n(w^\top x_n + b))$. The hinge is
# zero for points with margin $y f \ge 1$, and so is its gradient: only points on or inside the margin (the support
# vectors, and the misclassified ones) shape the solution. PyTorch has no binary hinge loss under that name;
# `nn.MultiMarginLoss` is its multi-class form, $\frac1C\sum_{j\ne y}\max(0, 1 - x_y + x_j)$, which for two classes with
# scores $(0, f)$ is half the binary hinge.

# %%
def hinge(score, label):  # label in {-1, +1}
    return (1 - label * score).clamp(min=0)


def test_hinge_loss_matches_multi_margin_loss():
    """For scores f and labels ±1, max(0, 1 − yf) equals 2·multi_margin_loss on the class scores (0, f), and autograd's gradient is −y where yf < 1 and 0 where yf > 1."""
    f = torch.linspace(-3, 3, 61, dtype=torch.float64)[torch.linspace(-3, 3, 61).abs().sub(1).abs() > 1e-6]
    f.requires_grad_()
    for label in (-1.0, 1.0):
        class_index = torch.full(f.shape, int(label > 0))
        scores = torch.stack([torch.zeros_like(f), f], 1)  # (n, 2)
        expected = 2 * F.multi_margin_loss(scores, class_index, reduction="none")
        torch.testing.assert_close(hinge(f, label), expected)
        (grad,) = torch.autograd.grad(hinge(f, label).sum(), f)
        inside = (label * f.detach()) < 1
        torch.testing.assert_close(grad, torch.where(inside, -label, 0.0).double())


def test_points_beyond_the_margin_do_not_affect_the_svm():
    """After training a linear SVM by subgradient descent, the objective's gradient over all 100 points equals the gradient over only the points with margin ≤ 1: the others contribute exactly nothing."""
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(100, 2, dtype=torch.float64, generator=generator)
    y = torch.where(x[:, 0] + 0.5 * x[:, 1] + 0.3 * torch.randn(100, generator=generator, dtype=torch.float64) > 0,
                    1.0, -1.0).double()
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)  # (w1, w2, b)

    def objective(w, x, y):
        return 0.05 * w[:2].pow(2).sum() + hinge(x @ w[:2] + w[2], y).sum() / 100

    for step in range(300):
        (grad,) = torch.autograd.grad(objective(w, x, y), w)
        with torch.no_grad():
            w -= 0.5 / (1 + step) ** 0.5 * grad
    margins = (y * (x @ w[:2] + w[2])).detach()
    active = margins <= 1
    assert 10 < active.sum() < 90  # some points on or inside the margin, some well outside
    (full,) = torch.autograd.grad(objective(w, x, y), w)
    (reduced,) = torch.autograd.grad(objective(w, x[active], y[active]), w)
    torch.testing.assert_close(full, reduced, rtol=0, atol=1e-15)


# %% [markdown]
# ## Conclusion
#
# MSE's gradient is proportional to the residual: precise near the optimum, dominated by outliers far from it (its
# best constant is the mean). L1's gradient has constant size: robust to outliers (its best constant is the median),
# but it never settles with a fixed step, and its sparsity is in the residuals, not the weights. Smooth L1 and Huber
# are quadratic near 0 and linear beyond $\beta$ or $\delta$, with clipped gradients. The hinge loss is zero beyond the
# margin, so only the points near the boundary, the support vectors, determine an SVM.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

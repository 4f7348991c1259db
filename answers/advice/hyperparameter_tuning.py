# %% [markdown]
# # Hyperparameter tuning: the proof
#
# **Question.** How do you tune a network's hyperparameters (learning rate, batch size, width), and how do you know
# the setting you found is really good?
#
# Tuning advice is mostly experience, but four pieces of it are measurable on toy problems whose answer is known in
# closed form. Claims:
#
# 1. with the same budget of 9 trials, random search beats a 3×3 grid when only one of two hyperparameters matters,
#    and its mean regret matches the closed-form expectation (`test_random_search_beats_grid_when_one_axis_matters`);
# 2. the best of many noisy trials looks better than it is, by the expected maximum of the noise, and a re-run with
#    fresh seeds falls back to the truth (`test_best_of_noisy_trials_is_optimistic_by_the_expected_max`);
# 3. the validation score of one random split depends on which points it holds out; averaging $k$ folds makes it
#    several times steadier (`test_k_fold_score_varies_less_than_a_single_split`);
# 4. gradient descent on a quadratic loss converges for every learning rate below $2/\lambda_{\max}$ of the Hessian and
#    diverges above it (`test_largest_stable_learning_rate_is_two_over_lambda_max`);
# 5. at a fixed learning rate a larger batch makes less progress per epoch; scaling the learning rate with the batch
#    size restores it (`test_linear_scaling_rule_recovers_large_batch_progress`);
# 6. a 128-unit layer with dropout 0.5 trains about 64 units per step, a different set each time, and at evaluation
#    computes the average over masks, not a 64-unit network (`test_dropout_width_is_an_average_not_a_smaller_net`);
# 7. PyTorch's Transformer layer widens its MLP fourfold, so "layers go from wide to narrow" is no rule
#    (`test_transformer_mlp_expands_then_contracts`).
#
# Where it stops holding:
#
# 8. a learning-rate range test's explosion point overestimates the largest stable learning rate
#    (`test_range_test_explodes_above_the_stable_limit`);
# 9. the linear scaling rule fails once the scaled learning rate crosses $2/\lambda_{\max}$: scaling a small
#    batch's rate up by 128 diverges where scaling by 32 works (`test_linear_scaling_breaks_past_the_stability_limit`).

# %% [markdown]
# ## Random search against grid search
#
# Bergstra and Bengio (2012, "Random Search for Hyper-Parameter Optimization", JMLR) argue that validation error
# usually depends strongly on only a few hyperparameters. A grid of $k \times k$ trials then tests only $k$ distinct
# values of the one that matters; $k^2$ random trials test $k^2$ of them. The toy objective below has two
# hyperparameters in $[0, 1]^2$ and its error is $|x - 0.37|$: the second coordinate is irrelevant. For the best of
# $n$ uniform samples the expected regret has a closed form,
# $\mathbb{E}[\min_i |U_i - x^*|] = \int_0^\infty (1 - m(t))^n\,dt$ with $m(t) = \min(t, x^*) + \min(t, 1 - x^*)$,
# about $1/(2(n+1)) = 0.05$ for $n = 9$, while the grid's best point is $0.13$ away.

# %%
import math

import torch
from torch import nn

X_STAR, N_TRIALS = 0.37, 9
GRID = torch.tensor([1 / 6, 1 / 2, 5 / 6], dtype=torch.float64)  # 3 values per axis: a 3×3 grid has 9 trials


def regret(x):
    """The toy objective's error: only the first hyperparameter matters."""
    return (x - X_STAR).abs()


def random_search_regrets(repeats, seed=0):
    """Best regret of N_TRIALS uniform trials in [0, 1]^2, for `repeats` independent searches."""
    trials = torch.rand(repeats, N_TRIALS, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return regret(trials[..., 0]).min(dim=1).values  # (repeats,)


def expected_best_regret(n, x_star=X_STAR):
    """E[min_i |U_i - x*|] for n uniform U_i, by integrating P(min > t)."""
    t = torch.linspace(0, 1, 100_001, dtype=torch.float64)
    covered = t.clamp(max=x_star) + t.clamp(max=1 - x_star)  # length of [x*-t, x*+t] inside [0, 1]
    return torch.trapezoid((1 - covered).clamp(min=0) ** n, t).item()


grid_regret = regret(GRID).min().item()
random_regrets = random_search_regrets(2000)
print(f"grid 3x3: best regret {grid_regret:.3f}")
print(f"random 9: mean best regret {random_regrets.mean():.4f} (closed form {expected_best_regret(N_TRIALS):.4f}),"
      f" better than the grid in {(random_regrets < grid_regret).double().mean():.0%} of searches")

# %% [markdown]
# ## The learning rate: a stability limit and a range test
#
# For a quadratic loss with Hessian $H$, gradient descent multiplies the error along each eigenvector by
# $1 - \eta\lambda_i$, so it converges exactly when $\eta < 2/\lambda_{\max}$. A learning-rate range test (Smith,
# 2017, "Cyclical Learning Rates for Training Neural Networks") instead raises $\eta$ during one short run and
# watches the loss. Smith's paper raises it linearly; learning-rate finders in libraries usually raise it
# geometrically, as here. On a least-squares problem we can compare both with the eigenvalues.

# %%
import matplotlib.pyplot as plt


def least_squares_problem(n=256, seed=0):
    """A 5-feature linear regression with unequal feature scales (an ill-conditioned Hessian)."""
    g = torch.Generator().manual_seed(seed)
    scales = torch.tensor([3.0, 1.0, 1.0, 0.5, 0.2], dtype=torch.float64)
    X = torch.randn(n, 5, dtype=torch.float64, generator=g) * scales  # (N, 5)
    y = X @ torch.randn(5, dtype=torch.float64, generator=g) + 0.1 * torch.randn(n, dtype=torch.float64, generator=g)
    return X, y


def mse(X, y, w):
    return ((X @ w - y) ** 2).mean().item()


def gradient(X, y, w):
    return 2 * X.T @ (X @ w - y) / len(y)  # gradient of the mean squared error


def gd_final_loss(X, y, lr, steps=100):
    w = torch.zeros(X.shape[1], dtype=torch.float64)
    for _ in range(steps):
        w = w - lr * gradient(X, y, w)
    return mse(X, y, w)


def range_test(X, y, lr_min=1e-4, lr_max=10.0, steps=200):
    """One run whose learning rate grows geometrically from lr_min to lr_max; returns (lrs, losses)."""
    lrs = lr_min * (lr_max / lr_min) ** (torch.arange(steps, dtype=torch.float64) / (steps - 1))
    w, losses = torch.zeros(X.shape[1], dtype=torch.float64), []
    for lr in lrs:
        losses.append(mse(X, y, w))
        w = w - lr * gradient(X, y, w)
    return lrs, torch.tensor(losses)


def explosion_lr(lrs, losses, factor=4.0):
    """The first learning rate at which the loss exceeds `factor` times the best loss seen so far."""
    best_so_far = torch.cummin(losses, 0).values
    k = int(torch.nonzero(losses[1:] > factor * best_so_far[:-1])[0]) + 1
    return lrs[k].item()


X, y = least_squares_problem()
lr_limit = 2 / torch.linalg.eigvalsh(2 * X.T @ X / len(y)).max().item()  # 2 / λ_max of the MSE Hessian
lrs, losses = range_test(X, y)

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
g = torch.Generator().manual_seed(1)
grid_xy = torch.cartesian_prod(GRID, GRID)
random_xy = torch.rand(N_TRIALS, 2, dtype=torch.float64, generator=g)
left.axvline(X_STAR, color="k", lw=0.8, label="optimum (x only matters)")
left.scatter(grid_xy[:, 0], grid_xy[:, 1], marker="s", label="3×3 grid: 3 distinct x")
left.scatter(random_xy[:, 0], random_xy[:, 1], marker="o", label="9 random: 9 distinct x")
left.set(xlim=(0, 1), ylim=(0, 1), xlabel="important hyperparameter x", ylabel="irrelevant hyperparameter")
left.set_title("Same budget, different coverage")
left.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)  # below: no point hidden
right.plot(lrs, losses.clamp(max=1e3), label="range test (one run, growing lr)")
fixed = torch.logspace(-3, 0, 25, dtype=torch.float64)
right.plot(fixed, [min(gd_final_loss(X, y, lr.item()), 1e3) for lr in fixed], "o", ms=3, label="100 steps at fixed lr")
right.axvline(lr_limit, color="C3", ls="--", label="2 / λ_max")
right.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="training MSE")
right.set_title("Learning rate: stability limit vs range test")
right.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# ## Claims
#
# Each claim compares a measured quantity with one obtained independently: a closed-form expectation, the Hessian's
# eigenvalues, Monte Carlo against an integral, or PyTorch's own module.

# %%
def test_random_search_beats_grid_when_one_axis_matters():
    """With 9 trials and one relevant hyperparameter, random search's mean best regret matches its closed form (0.05) and is under half the 3×3 grid's 0.13."""
    actual = random_search_regrets(4000, seed=2).mean().item()
    expected = expected_best_regret(N_TRIALS)
    assert abs(actual - expected) < 0.003  # Monte Carlo standard error is about 0.0008
    assert abs(grid_regret - 0.13) < 1e-12
    assert actual < grid_regret / 2


def expected_max_of_normals(n):
    """E[max of n independent standard normals], by integrating z · n φ(z) Φ(z)^(n-1)."""
    z = torch.linspace(-10, 10, 20_001, dtype=torch.float64)
    density = torch.exp(-z**2 / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    return torch.trapezoid(z * n * density * cdf ** (n - 1), z).item()


def test_best_of_noisy_trials_is_optimistic_by_the_expected_max():
    """When 50 configurations are equally good and each score carries seed noise σ, the winner's score overstates the truth by σ·E[max of 50 normals] ≈ 2.25σ, and a re-run with a fresh seed regresses to the truth."""
    g = torch.Generator().manual_seed(3)
    n_configs, sigma, repeats = 50, 0.01, 2000
    true_score = torch.full((repeats, n_configs), 0.90, dtype=torch.float64)
    observed = true_score + sigma * torch.randn(repeats, n_configs, dtype=torch.float64, generator=g)
    winner = observed.argmax(dim=1, keepdim=True)
    optimism = (observed.gather(1, winner) - true_score.gather(1, winner)).mean().item()
    rerun = true_score.gather(1, winner) + sigma * torch.randn(repeats, 1, dtype=torch.float64, generator=g)
    assert abs(optimism - sigma * expected_max_of_normals(n_configs)) < 0.05 * sigma
    assert abs(rerun.mean().item() - 0.90) < 0.1 * sigma


def split_scores(n=60, noise=0.5, reshuffles=60, k=5, seed=6):
    """Validation MSE of least squares over `reshuffles` random partitions: (first fold only, mean over k folds)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 5, dtype=torch.float64, generator=g)
    y = X @ torch.randn(5, dtype=torch.float64, generator=g) + noise * torch.randn(n, dtype=torch.float64, generator=g)

    def fold_mse(folds, i):
        train = torch.cat([f for j, f in enumerate(folds) if j != i])
        w = torch.linalg.lstsq(X[train], y[train]).solution
        return ((X[folds[i]] @ w - y[folds[i]]) ** 2).mean()

    single, k_fold = [], []
    for _ in range(reshuffles):
        folds = torch.randperm(n, generator=g).chunk(k)
        scores = torch.stack([fold_mse(folds, i) for i in range(k)])
        single.append(scores[0])
        k_fold.append(scores.mean())
    return torch.stack(single), torch.stack(k_fold)


def test_k_fold_score_varies_less_than_a_single_split():
    """Over 60 random partitions of 60 points, a single 48/12 split's validation MSE has over 5 times the standard deviation of the 5-fold average, whose mean is within 10% of the closed form σ²(1 + p/(n_train − p − 1))."""
    single, k_fold = split_scores()
    assert single.std() > 5 * k_fold.std()
    expected = 0.5**2 * (1 + 5 / (48 - 5 - 1))  # expected prediction error of least squares, Gaussian design
    assert abs(k_fold.mean().item() / expected - 1) < 0.1


def test_largest_stable_learning_rate_is_two_over_lambda_max():
    """Gradient descent on least squares converges at 0.95 × 2/λ_max and diverges at 1.05 × 2/λ_max, λ_max from torch.linalg.eigvalsh."""
    X, y = least_squares_problem()
    limit = 2 / torch.linalg.eigvalsh(2 * X.T @ X / len(y)).max().item()
    start = mse(X, y, torch.zeros(5, dtype=torch.float64))
    assert gd_final_loss(X, y, 0.95 * limit, steps=300) < 0.05 * start
    assert gd_final_loss(X, y, 1.05 * limit, steps=300) > 10 * start


def sgd_loss_after_epochs(X, y, batch_size, lr, epochs=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.zeros(X.shape[1], dtype=torch.float64)
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=g)
        for start in range(0, len(y), batch_size):
            batch = order[start : start + batch_size]
            w = w - lr * gradient(X[batch], y[batch], w)
    return mse(X, y, w)


def test_linear_scaling_rule_recovers_large_batch_progress():
    """After two epochs of SGD, batch 32 at the batch-8 learning rate is over twice as far from the optimum, and batch 32 at 4× that learning rate is within 20% of batch 8."""
    X, y = least_squares_problem()
    optimum = mse(X, y, torch.linalg.lstsq(X, y).solution)
    eta = 0.002
    small = sgd_loss_after_epochs(X, y, 8, eta) - optimum
    large_same_lr = sgd_loss_after_epochs(X, y, 32, eta) - optimum
    large_scaled = sgd_loss_after_epochs(X, y, 32, 4 * eta) - optimum
    assert large_same_lr > 2 * small
    assert abs(large_scaled / small - 1) < 0.2


def test_dropout_width_is_an_average_not_a_smaller_net():
    """Dropout(0.5) on 128 units keeps Binomial(128, 0.5) units (mean 64, variance 32), and the eval-mode output of the next linear layer equals the average of its train-mode outputs over masks."""
    torch.manual_seed(4)
    dropout, readout = nn.Dropout(0.5), nn.Linear(128, 1).double()
    h = torch.rand(1, 128, dtype=torch.float64) + 0.5  # a hidden activation, all positive
    masks = dropout(torch.ones(4000, 128, dtype=torch.float64)) != 0  # (draws, units)
    kept = masks.sum(dim=1).double()
    assert abs(kept.mean().item() - 64) < 0.4 and abs(kept.var().item() - 32) < 4  # 4+ standard errors
    with torch.no_grad():
        train_outputs = readout(dropout(h.expand(4000, 128)))  # (draws, 1), a new mask per row
        dropout.eval()
        torch.testing.assert_close(train_outputs.mean(0), readout(dropout(h))[0], rtol=0, atol=0.04)  # 4 standard errors


def test_transformer_mlp_expands_then_contracts():
    """nn.TransformerEncoderLayer(d_model=512) has a 512 → 2048 → 512 feed-forward block, the d_ff = 4 d_model of "Attention Is All You Need"."""
    layer = nn.TransformerEncoderLayer(d_model=512, nhead=8)
    assert (layer.linear1.in_features, layer.linear1.out_features) == (512, 2048)
    assert (layer.linear2.in_features, layer.linear2.out_features) == (2048, 512)
    assert layer.linear1.out_features == 4 * layer.linear1.in_features


# %% [markdown]
# ## Where it stops holding
#
# A range test raises the learning rate every step, so a direction that is already converged needs several steps
# above the limit before its error grows back into view: the loss explodes only well past $2/\lambda_{\max}$, and
# the lowest loss of the sweep also sits past the limit. Pick a learning rate clearly below the explosion point, not
# at it. Likewise the linear scaling rule (Goyal et al., 2017, "Accurate, Large Minibatch SGD") is a small-step
# approximation: once $k\eta$ crosses the stability limit, the large-batch run diverges, which is why that paper
# adds a warm-up.

# %%
def test_range_test_explodes_above_the_stable_limit():
    """On least squares, the range test's lowest loss lies above the stability limit 2/λ_max, its explosion beyond twice that limit, and that rate held fixed diverges."""
    X, y = least_squares_problem()
    limit = 2 / torch.linalg.eigvalsh(2 * X.T @ X / len(y)).max().item()
    lrs, losses = range_test(X, y)
    assert lrs[losses.argmin()].item() > limit
    assert explosion_lr(lrs, losses) > 2 * limit
    assert gd_final_loss(X, y, explosion_lr(lrs, losses)) > 1e6  # that rate, held fixed, diverges


def test_linear_scaling_breaks_past_the_stability_limit():
    """Learning rate 0.002 trains at batch 8 and at batch 2 in 10 epochs; scaled linearly to the full batch of 256, the batch-8 rate (×32) stays below 2/λ_max and converges, while the batch-2 rate (×128) crosses it and diverges."""
    X, y = least_squares_problem()
    limit = 2 / torch.linalg.eigvalsh(2 * X.T @ X / len(y)).max().item()
    eta, start = 0.002, mse(X, y, torch.zeros(5, dtype=torch.float64))
    assert all(sgd_loss_after_epochs(X, y, batch_size, eta, epochs=10) < 0.05 * start for batch_size in (8, 2))
    assert 32 * eta < limit < 128 * eta
    assert sgd_loss_after_epochs(X, y, 256, 32 * eta, epochs=50) < 0.05 * start
    assert sgd_loss_after_epochs(X, y, 256, 128 * eta, epochs=50) > 10 * start


# %% [markdown]
# ## Conclusion
#
# Search the important hyperparameters on a log scale with random rather than grid trials; treat the best score of a
# search as optimistic until a re-run with new seeds confirms it; find the learning rate's stability limit and stay
# clearly below it (a range test overshoots); and when the batch size changes, change the learning rate with it,
# within the stability limit. Width rules such as "wide to narrow" or "double the width and add dropout 0.5" are
# starting points to test, not laws.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

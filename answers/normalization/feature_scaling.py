# %% [markdown]
# # Feature scaling: standardization versus min-max: the proof
#
# **Question.** Why normalize or standardize input features, and how do the common methods (min-max, z-score,
# nonlinear transforms) differ?
#
# Scaling a feature is an affine map $x \mapsto (x - a)/b$. This module checks the two standard choices against
# independent references, shows what an affine map cannot change (the shape of a skewed distribution) and what one
# outlier does to min-max, and then measures the real benefit, faster gradient descent, and where there is none.
# Claims:
#
# 1. z-score standardization equals PyTorch's `BatchNorm1d` without affine parameters (which uses the biased standard
#    deviation), and min-max maps the training set onto $[0, 1]$ (`test_standardization_matches_batchnorm_without_affine`);
# 2. both are affine, so skewness is unchanged: standardized log-normal data has mean 0 and variance 1 but is far
#    from a standard normal; a log transform makes it normal (`test_standardizing_does_not_make_data_normal`);
# 3. one outlier sets min-max's range and squeezes the other values into a sliver of $[0, 1]$, while the
#    standardized values keep most of their spread (`test_min_max_is_dominated_by_one_outlier`);
# 4. on a least-squares problem whose features differ in scale by 100, gradient descent at its largest stable step is
#    still far from the solution after 500 steps, and converges to $10^{-8}$ once the features are standardized, as the
#    condition numbers predict (`test_standardizing_speeds_up_gradient_descent`);
# 5. where it stops mattering: ordinary least squares makes the same predictions with or without scaling, ridge
#    regression does not (`test_scaling_changes_ols_predictions_not_at_all_ridge_predictions_yes`).

# %% [markdown]
# ## The two affine scalings
#
# Min-max: $x' = (x - \min x)/(\max x - \min x)$, onto $[0, 1]$. Standardization (z-score): $x' = (x - \mu)/\sigma$,
# mean 0 and standard deviation 1. Both statistics come from the *training* set and are reused on new data, which can
# therefore fall outside $[0, 1]$. The data below are log-normal, a common shape for prices, counts and durations.

# %%
import math

import torch
from torch import nn


def standardize(x, reference=None):
    reference = x if reference is None else reference
    return (x - reference.mean(0)) / reference.std(0, correction=0)


def min_max(x, reference=None):
    reference = x if reference is None else reference
    low, high = reference.min(0).values, reference.max(0).values
    return (x - low) / (high - low)


def skewness(x):
    centered = x - x.mean()
    return (centered**3).mean() / centered.pow(2).mean() ** 1.5


generator = torch.Generator().manual_seed(0)
LOGNORMAL = torch.exp(torch.randn(5000, dtype=torch.float64, generator=generator))  # skewed, positive
print(f"{'version':24s} {'mean':>7s} {'std':>7s} {'skewness':>9s}")
for name, values in (("raw", LOGNORMAL), ("standardized", standardize(LOGNORMAL)), ("min-max", min_max(LOGNORMAL)),
                     ("log, then standardized", standardize(LOGNORMAL.log()))):
    print(f"{name:24s} {values.mean():7.3f} {values.std(correction=0):7.3f} {skewness(values):9.3f}")


# %% [markdown]
# ## Claims: what the scalings do

# %%
def test_standardization_matches_batchnorm_without_affine():
    """Standardizing 3 features equals nn.BatchNorm1d(3, affine=False) in train mode (biased std, eps 1e-12), and min-max sends each training feature's minimum to 0 and maximum to 1 while test data can leave [0, 1]."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(200, 3, dtype=torch.float64, generator=generator) * torch.tensor([1.0, 10.0, 1000.0]) + 5
    bn = nn.BatchNorm1d(3, affine=False, eps=1e-12, dtype=torch.float64).train()
    torch.testing.assert_close(standardize(x), bn(x), rtol=1e-9, atol=1e-9)
    scaled = min_max(x)
    torch.testing.assert_close(scaled.min(0).values, torch.zeros(3, dtype=torch.float64))
    torch.testing.assert_close(scaled.max(0).values, torch.ones(3, dtype=torch.float64))
    test = torch.randn(2000, 3, dtype=torch.float64, generator=generator) * torch.tensor([1.0, 10.0, 1000.0]) + 5
    assert min_max(test, reference=x).min() < 0 or min_max(test, reference=x).max() > 1


def test_standardizing_does_not_make_data_normal():
    """Standardized log-normal data keeps its skewness (equal to the raw data's, 4.6 here) and has 91% of its mass within one std instead of the normal's 68.3%; after a log transform the skewness is below 0.1."""
    z = standardize(LOGNORMAL)
    assert abs(z.mean()) < 1e-12 and abs(z.std(correction=0) - 1) < 1e-12
    torch.testing.assert_close(skewness(z), skewness(LOGNORMAL))
    torch.testing.assert_close(skewness(min_max(LOGNORMAL)), skewness(LOGNORMAL))
    assert skewness(z) > 4
    within_one = (z.abs() < 1).double().mean().item()
    normal_within_one = math.erf(1 / math.sqrt(2))  # 0.6827
    assert within_one - normal_within_one > 0.15
    assert abs(skewness(LOGNORMAL.log())) < 0.1


def test_min_max_is_dominated_by_one_outlier():
    """With one value 100 times the largest of 999 others, min-max squeezes the 999 into [0, 0.011], while their standardized values still span more than 0.3 units."""
    generator = torch.Generator().manual_seed(2)
    x = torch.rand(999, dtype=torch.float64, generator=generator)
    x_with_outlier = torch.cat([x, 100 * x.max().reshape(1)])
    squeezed = min_max(x_with_outlier)[:-1]
    assert squeezed.max() < 0.011
    spread = standardize(x_with_outlier)[:-1]
    assert spread.max() - spread.min() > 0.3


# %% [markdown]
# ## Why scale: the speed of gradient descent
#
# For least squares $\frac1{2n}\lVert Xw - y\rVert^2$ the Hessian is $H = X^\top X/n$. Gradient descent is stable for
# steps below $2/\lambda_{\max}(H)$, and with the step $1/\lambda_{\max}$ the error along the direction of the smallest
# eigenvalue shrinks only by $1 - \lambda_{\min}/\lambda_{\max} = 1 - 1/\kappa$ per step. Two features with scales 1
# and 100 give $\kappa \approx 10^4$: thousands of steps. Standardized, $\kappa$ is close to 1.

# %%
import matplotlib.pyplot as plt


def regression_problem(seed=3, n=200):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, dtype=torch.float64, generator=generator) * torch.tensor([1.0, 100.0]) + torch.tensor(
        [0.0, 50.0])
    y = x @ torch.tensor([3.0, 0.02], dtype=torch.float64) + 0.1 * torch.randn(n, dtype=torch.float64,
                                                                                generator=generator)
    return x, y


def gradient_descent(x, y, steps=500):
    """Full-batch gradient descent at step 1/λ_max(H) with a bias column; returns the distance to the least-squares solution per step."""
    design = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)
    hessian = design.T @ design / len(x)
    lr = 1 / torch.linalg.eigvalsh(hessian).max()
    solution = torch.linalg.lstsq(design, y[:, None]).solution.squeeze(1)
    w = torch.zeros(design.shape[1], dtype=x.dtype)
    distances = []
    for _ in range(steps):
        w = w - lr * design.T @ (design @ w - y) / len(x)
        distances.append((design @ (w - solution)).norm().item() / math.sqrt(len(x)))  # RMS prediction gap
    return torch.tensor(distances), torch.linalg.cond(hessian).item()


x, y = regression_problem()
fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
for name, features in (("raw (scales 1 and 100)", x), ("standardized", standardize(x))):
    distances, condition = gradient_descent(features, y)
    axes[0].semilogy(distances, label=f"{name}, κ = {condition:.0f}")
axes[0].set(xlabel="gradient step", ylabel="RMS gap to the least-squares fit", title="gradient descent")
axes[0].legend(fontsize=8)
grid = torch.linspace(-3, 6, 200)
axes[1].hist(standardize(LOGNORMAL), bins=80, range=(-3, 6), density=True, alpha=0.6, label="standardized log-normal")
axes[1].hist(standardize(LOGNORMAL.log()), bins=80, range=(-3, 6), density=True, alpha=0.6,
             label="log, then standardized")
axes[1].plot(grid, torch.exp(-grid**2 / 2) / math.sqrt(2 * math.pi), "k--", label="N(0, 1)")
axes[1].set(title="mean 0, std 1, not normal", xlabel="value")
axes[1].legend(fontsize=8)
fig.tight_layout()


# %% [markdown]
# ## Claims: optimization, and where scaling does not matter

# %%
def test_standardizing_speeds_up_gradient_descent():
    """The raw features give a Hessian condition number above 1000 and gradient descent still more than 0.1 away from the least-squares fit after 500 steps; standardized, κ < 3 and the gap is below 1e-8."""
    x, y = regression_problem()
    raw_gap, raw_condition = gradient_descent(x, y)
    scaled_gap, scaled_condition = gradient_descent(standardize(x), y)
    assert raw_condition > 1000 and raw_gap[-1] > 0.1
    assert scaled_condition < 3 and scaled_gap[-1] < 1e-8


def test_scaling_changes_ols_predictions_not_at_all_ridge_predictions_yes():
    """Least squares with a bias gives the same predictions on raw and standardized features (to 1e-9); ridge regression (λ = 10) gives predictions that differ by more than 0.01."""
    x, y = regression_problem()

    def fit_predict(features, lam):
        design = torch.cat([features, torch.ones(len(features), 1, dtype=features.dtype)], 1)
        penalty = lam * torch.diag(torch.tensor([1.0, 1.0, 0.0], dtype=features.dtype))  # no penalty on the bias
        w = torch.linalg.solve(design.T @ design + penalty, design.T @ y)
        return design @ w

    torch.testing.assert_close(fit_predict(x, 0.0), fit_predict(standardize(x), 0.0), rtol=0, atol=1e-9)
    assert (fit_predict(x, 10.0) - fit_predict(standardize(x), 10.0)).abs().max() > 0.01


# %% [markdown]
# ## Conclusion
#
# Min-max and z-score are affine maps fitted on the training set: they fix the range or the first two moments and
# nothing else, so a skewed feature stays skewed (a log transform is what changes the shape), and a single outlier
# can squeeze min-max's range. The benefit is optimization and anything that compares features on one scale: gradient
# descent on badly scaled features is slowed by the Hessian's condition number, and penalties, distances and
# initializations assume comparable scales. A model that is exactly invariant to affine feature maps, such as
# least squares with a bias, gains nothing.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

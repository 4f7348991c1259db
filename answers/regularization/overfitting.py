# %% [markdown]
# # Overfitting: diagnosis, causes and remedies, the proof
#
# **Question.** How do you tell that a model overfits, what causes it, and what prevents it? Does more data
# help, and does it make hyperparameter tuning less important?
#
# Overfitting is a gap: low error on the data the model was fitted to and high error on new data from the same
# distribution. This module fits polynomials of growing degree to noisy samples of $\sin(\pi x)$, where
# everything can be computed exactly, and measures the gap and the effect of each remedy. Claims:
#
# 1. a degree-11 polynomial through 12 noisy points has zero training error and a validation error thousands
#    of times the noise, while a cubic has both near the noise level (`test_high_capacity_memorizes_the_training_set`);
# 1b. the error of a model chosen on a held-out set, read off that same set, is optimistic, which is why the
#    test set must not be used for choosing (`test_choosing_on_the_test_set_is_optimistic`);
# 2. with the same degree-9 model, 500 samples instead of 15 shrink the train-validation gap by over 1000×
#    (`test_more_data_closes_the_gap`);
# 3. gradient descent keeps lowering the training loss while the validation loss turns up: stopping at the
#    validation minimum beats the last step by over 3× (`test_early_stopping_beats_the_last_step`);
# 4. with 15 samples a tuned ridge penalty cuts validation error by orders of magnitude; with 500 samples
#    tuning gains under 1% (`test_tuning_matters_less_with_more_data`);
# 5. where more data does not help: a sample drawn from the wrong part of the input space keeps its test error
#    however large it grows, which is a distribution shift, not overfitting (`test_biased_sample_is_not_fixed_by_more_data`).

# %% [markdown]
# ## A problem where everything is exact
#
# Inputs are uniform on $[-1, 1]$, targets $\sin(\pi x)$ plus Gaussian noise of standard deviation 0.3, so the
# best possible mean squared error is $0.09$. Features are Legendre polynomials (well conditioned on
# $[-1, 1]$), so a fit of degree $d$ is a least-squares or ridge problem with a closed-form solution.

# %%
import matplotlib.pyplot as plt
import torch

DTYPE = torch.float64
NOISE = 0.3


def sample(n, seed, low=-1.0, high=1.0):
    gen = torch.Generator().manual_seed(seed)
    x = low + (high - low) * torch.rand(n, generator=gen, dtype=DTYPE)
    return x, torch.sin(torch.pi * x) + NOISE * torch.randn(n, generator=gen, dtype=DTYPE)


def features(x, degree):
    return torch.stack([torch.special.legendre_polynomial_p(x, k) for k in range(degree + 1)], dim=1)  # (n, degree + 1)


def fit(x, y, degree, lam=0.0):
    F = features(x, degree)
    if lam == 0:
        return torch.linalg.lstsq(F, y[:, None]).solution[:, 0]
    return torch.linalg.solve(F.T @ F + lam * torch.eye(degree + 1, dtype=DTYPE), F.T @ y)  # ridge


def mse(x, y, w):
    return ((features(x, len(w) - 1) @ w - y) ** 2).mean().item()


x_val, y_val = sample(2000, seed=99)  # a large validation set from the same distribution

# %% [markdown]
# ## Training and validation error against capacity
#
# With 12 training points, raising the degree drives the training error to zero (degree 11 interpolates)
# while the validation error first falls, then explodes: the classic U-curve. The right panel trains the
# degree-11 model by gradient descent and records both losses at every step.

# %%
x_train, y_train = sample(12, seed=0)
degrees = list(range(0, 12))
train_err = [mse(x_train, y_train, fit(x_train, y_train, d)) for d in degrees]
val_err = [mse(x_val, y_val, fit(x_train, y_train, d)) for d in degrees]


def gradient_descent_curves(x, y, degree=11, steps=3000):
    F, F_val = features(x, degree), features(x_val, degree)
    lr = 1.0 / torch.linalg.eigvalsh(F.T @ F / len(x)).max().item()
    w = torch.zeros(degree + 1, dtype=DTYPE)
    train, val = [], []
    for _ in range(steps):
        w = w - lr * F.T @ (F @ w - y) / len(x)  # the gradient of the mean squared error / 2
        train.append(((F @ w - y) ** 2).mean().item())
        val.append(((F_val @ w - y_val) ** 2).mean().item())
    return torch.tensor(train), torch.tensor(val)


gd_train, gd_val = gradient_descent_curves(x_train, y_train)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ax1.semilogy(degrees, [max(e, 1e-12) for e in train_err], "o-", label="training")
ax1.semilogy(degrees, val_err, "s-", label="validation")
ax1.axhline(NOISE**2, color="0.6", linestyle=":", label="noise floor 0.09")
ax1.set(xlabel="polynomial degree", ylabel="MSE", title="12 training points")
ax1.legend(fontsize=8)
ax2.loglog(range(1, 3001), gd_train, label="training")
ax2.loglog(range(1, 3001), gd_val, label="validation")
ax2.axvline(int(gd_val.argmin()) + 1, color="0.6", linestyle=":", label="early stop")
ax2.set(xlabel="gradient-descent step", ylabel="MSE", title="degree 11, gradient descent")
ax2.legend(fontsize=8)
fig.tight_layout()

print(f"{'degree':>6} {'train MSE':>10} {'val MSE':>10}")
for d in (1, 3, 5, 9, 11):
    print(f"{d:>6} {train_err[d]:>10.2e} {val_err[d]:>10.2e}")

# %% [markdown]
# ## Claims: the diagnosis
#
# Overfitting shows as a training error far below the validation error. Underfitting shows as both errors high
# and close to each other. The validation set must be separate from the test set, which is touched only once
# at the end.

# %%
def test_high_capacity_memorizes_the_training_set():
    """Through 12 noisy points a degree-11 polynomial has training MSE below 1e-12 and validation MSE over 1000× the noise floor, while a cubic has both within 3× of it."""
    x, y = sample(12, seed=0)
    w11, w3 = fit(x, y, 11), fit(x, y, 3)
    assert mse(x, y, w11) < 1e-12
    assert mse(x_val, y_val, w11) > 1000 * NOISE**2
    for err in (mse(x, y, w3), mse(x_val, y_val, w3)):
        assert NOISE**2 / 3 < err < 3 * NOISE**2


def test_choosing_on_the_test_set_is_optimistic():
    """Choosing among 12 polynomial degrees by their error on a 20-point held-out set reports, averaged over 30 draws, an error over 10% below what the chosen model scores on fresh data."""
    reported, fresh = 0.0, 0.0
    for seed in range(30):
        x, y = sample(15, seed)
        x_held, y_held = sample(20, seed + 1000)
        models = [fit(x, y, d) for d in range(12)]
        best = min(models, key=lambda w: mse(x_held, y_held, w))
        reported += mse(x_held, y_held, best) / 30
        fresh += mse(x_val, y_val, best) / 30
    assert reported < 0.9 * fresh


def test_more_data_closes_the_gap():
    """For a degree-9 polynomial, the validation-minus-training gap, averaged over 10 draws, is over 1000× smaller with 500 samples than with 15."""
    def mean_gap(n):
        gaps = []
        for seed in range(10):
            x, y = sample(n, seed)
            w = fit(x, y, 9)
            gaps.append(mse(x_val, y_val, w) - mse(x, y, w))
        return sum(gaps) / len(gaps)

    small, large = mean_gap(15), mean_gap(500)
    assert 0 < large < 0.1 * NOISE**2
    assert small > 1000 * large


def test_early_stopping_beats_the_last_step():
    """Gradient descent on the degree-11 model lowers the training loss at every step, yet its validation loss at the best step is over 3× lower than at step 3000."""
    x, y = sample(12, seed=0)
    train, val = gradient_descent_curves(x, y)
    assert (train[1:] <= train[:-1]).all()
    assert val.min() * 3 < val[-1]
    assert 0 < int(val.argmin()) < 100  # the minimum comes early


# %% [markdown]
# ## Claims: more data versus tuning
#
# With few samples, the choice of regularization decides everything; with many, the data pins the fit down
# and the same choice barely matters. We compare no penalty with the best of six ridge strengths, chosen on
# the validation set.

# %%
def test_tuning_matters_less_with_more_data():
    """Averaged over 10 draws, the best ridge λ cuts degree-9 validation MSE over 100× with 15 samples but by under 1% with 500."""
    def untuned_and_tuned(n):
        untuned, tuned = 0.0, 0.0
        for seed in range(10):
            x, y = sample(n, seed)
            errs = [mse(x_val, y_val, fit(x, y, 9, lam)) for lam in (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)]
            untuned, tuned = untuned + errs[0] / 10, tuned + min(errs) / 10
        return untuned, tuned

    untuned, tuned = untuned_and_tuned(15)
    assert untuned > 100 * tuned
    untuned, tuned = untuned_and_tuned(500)
    assert untuned < 1.01 * tuned


# %% [markdown]
# ## Where it stops holding: a biased sample is not overfitting
#
# If the training data cover only part of the input space (only negative examples, only $x < 0$), the error
# on the rest is not a variance problem. More data from the same biased source does not reduce it, whereas it
# does cure overfitting. The remedy is data that cover the cases the model will meet.

# %%
def test_biased_sample_is_not_fixed_by_more_data():
    """A cubic fitted only on x in [-1, 0] keeps a test MSE on [0, 1] above 10× the noise floor whether it sees 20 or 5000 samples, while its in-range error reaches the floor."""
    x_right, y_right = sample(2000, seed=98, low=0.0, high=1.0)
    x_left, y_left = sample(2000, seed=97, low=-1.0, high=0.0)
    for n in (20, 5000):
        x, y = sample(n, seed=1, low=-1.0, high=0.0)
        w = fit(x, y, 3)
        assert mse(x_right, y_right, w) > 10 * NOISE**2
    assert mse(x_left, y_left, w) < 1.05 * NOISE**2  # with 5000 samples the in-range fit is at the floor


# %% [markdown]
# ## Conclusion
#
# Compare training and validation error: a large gap is overfitting, two high errors are underfitting. The
# gap comes from capacity that is large relative to the amount of data and the noise in it, so it is closed by
# more data, by less capacity or a penalty on it (weight decay, dropout), by augmentation (more data, made up),
# and by stopping when the validation error turns up. With enough data, tuning these matters little. Data that
# miss part of the input space are a different problem, which no amount of the same data cures.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

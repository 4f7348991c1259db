# %% [markdown]
# # Improving generalization: the proof
#
# **Question.** How do you make a network generalize better, and how do you get beyond ensembling and augmentation
# to actually designing better models?
#
# The usual list (more data, regularization, early stopping, ensembles, a better architecture) is right, but each
# item works for a reason that can be measured. Here the models are small enough that the answers are exact:
# random-feature regression, whose gradient-descent path has a closed form, and a tiny convolution against an MLP.
# Claims:
#
# 1. more data lowers the test error of the same model (`test_more_data_lowers_test_error`);
# 2. gradient descent's iterates have a closed form, and the step chosen on a validation set has a far lower test
#    error than the fully trained, interpolating model (`test_early_stopping_beats_training_to_convergence`);
# 3. for squared error, an ensemble's error equals its members' mean error minus their spread around the ensemble
#    (Krogh and Vedelsby's ambiguity decomposition), so averaging never loses to the average member
#    (`test_ensemble_error_is_mean_error_minus_ambiguity`);
# 4. a design that encodes prior knowledge beats a generic one: a 29-parameter convolution with global max pooling
#    detects a shifted pattern from 64 examples, where a 2177-parameter MLP that fits the same examples perfectly
#    stays below 75% (`test_translation_equivariant_design_generalizes_from_few_examples`);
# 5. initializing with "small random numbers", as one list suggests, is not a generalization method: in a deep ReLU
#    network it shrinks the signal by a closed-form factor per layer until it vanishes
#    (`test_small_random_init_shrinks_the_signal_per_layer`).
#
# Where it stops holding:
#
# 6. an ensemble is guaranteed to beat the average member, not the best one: members fitted to the same data share
#    their errors (`test_ensemble_need_not_beat_its_best_member`).

# %% [markdown]
# ## A regression problem with a known answer
#
# The target is $\sin 3x_1 + x_2^2/2$ on $[-1, 1]^2$, with label noise of standard deviation 0.3. The model is a
# random-feature regression: $P = 40$ fixed features $\cos(x W + b)$, with a trained linear readout. Training
# fits only the readout, so every quantity below can be computed in closed form. With 30 training points and 40
# features, the model can interpolate the noise.

# %%
import math

import torch
from torch import nn

N_FEATURES = 40


def target(x):
    return torch.sin(3 * x[:, 0]) + 0.5 * x[:, 1] ** 2


def regression_data(n, seed, noise=0.3):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, dtype=torch.float64, generator=g) * 2 - 1  # (N, 2)
    return x, target(x) + noise * torch.randn(n, dtype=torch.float64, generator=g)


def features(x, seed):
    """Random Fourier features cos(xW + b); the seed picks the member of an ensemble."""
    g = torch.Generator().manual_seed(1000 + seed)
    W = 2 * torch.randn(2, N_FEATURES, dtype=torch.float64, generator=g)
    b = 2 * math.pi * torch.rand(N_FEATURES, dtype=torch.float64, generator=g)
    return torch.cos(x @ W + b)  # (N, P)


def ridge_fit(x, y, seed, lam=1e-3):
    F = features(x, seed)
    return torch.linalg.solve(F.T @ F / len(y) + lam * torch.eye(N_FEATURES, dtype=torch.float64), F.T @ y / len(y))


def mse_on(w, seed, x_test, y_test):
    return ((features(x_test, seed) @ w - y_test) ** 2).mean().item()


X_TRAIN, Y_TRAIN = regression_data(30, seed=0)
X_VAL, Y_VAL = regression_data(500, seed=1)
X_TEST, Y_TEST = regression_data(2000, seed=2, noise=0.0)  # the clean target: error against the truth

# %% [markdown]
# ## Early stopping, in closed form
#
# Gradient descent on the mean squared error $\frac{1}{n}\|Fw - y\|^2$ (with the factor 2 absorbed into the step),
# started from $w = 0$, moves each eigen-direction of $F^\top F/n$ (eigenvalue $\lambda_i$) towards the least-squares
# solution independently: after $k$ steps of size $\eta$ the coefficient along $v_i$ is
# $\frac{1 - (1 - \eta\lambda_i)^k}{\lambda_i}\, v_i^\top F^\top y / n$. Large-eigenvalue directions (signal) are
# learned first; tiny-eigenvalue directions (where the noise gets fitted) only after very many steps. Stopping early
# keeps them small, much like ridge regression. The figure shows training, validation and test error along the path.

# %%
import matplotlib.pyplot as plt


def gd_path(F, y, steps):
    """Weights after each number of gradient-descent steps in `steps`, at step size 1/λ_max, in closed form."""
    n = len(y)
    lam, V = torch.linalg.eigh(F.T @ F / n)  # (P,), (P, P)
    lr = 1 / lam.max()
    k = torch.as_tensor(steps, dtype=torch.float64).reshape(-1, 1)  # (K, 1)
    safe = lam.clamp(min=1e-300)
    shrink = torch.where(lam > 1e-12, (1 - (1 - lr * lam) ** k) / safe, k * lr)  # (K, P)
    return (shrink * (V.T @ (F.T @ y / n))) @ V.T, lr.item()  # (K, P)


STEPS = torch.logspace(0, 7, 150, dtype=torch.float64).round()
F_TRAIN = features(X_TRAIN, 0)
PATH, _ = gd_path(F_TRAIN, Y_TRAIN, STEPS)


def path_mse(x, y):
    return ((features(x, 0) @ PATH.T - y.unsqueeze(1)) ** 2).mean(0)  # (K,)


train_curve, val_curve, test_curve = path_mse(X_TRAIN, Y_TRAIN), path_mse(X_VAL, Y_VAL), path_mse(X_TEST, Y_TEST)
chosen = int(val_curve.argmin())

fig, ax = plt.subplots(figsize=(6.5, 3.4))
ax.plot(STEPS, train_curve, label="training (noisy labels)")
ax.plot(STEPS, val_curve, label="validation (noisy labels)")
ax.plot(STEPS, test_curve, label="test (against the clean target)")
ax.axvline(STEPS[chosen], color="k", ls="--", lw=0.8, label="step chosen on validation")
ax.set(xscale="log", yscale="log", xlabel="gradient-descent steps", ylabel="mean squared error")
ax.set_title("Early stopping: 40 random features, 30 noisy points")
ax.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# ## Claims: data, early stopping, ensembles

# %%
def test_more_data_lowers_test_error():
    """The same 40-feature ridge model has over 5 times lower test error with 300 training points than with 30."""
    small = mse_on(ridge_fit(*regression_data(30, seed=0), seed=0), 0, X_TEST, Y_TEST)
    large = mse_on(ridge_fit(*regression_data(300, seed=0), seed=0), 0, X_TEST, Y_TEST)
    assert large < small / 5


def test_early_stopping_beats_training_to_convergence():
    """The closed-form gradient-descent path matches 50 explicit steps, and the step chosen on validation data has over 10 times lower test error than 10^7 steps, which fit the noise."""
    path, lr = gd_path(F_TRAIN, Y_TRAIN, [50])
    w = torch.zeros(N_FEATURES, dtype=torch.float64)
    for _ in range(50):
        w = w - lr * F_TRAIN.T @ (F_TRAIN @ w - Y_TRAIN) / len(Y_TRAIN)
    torch.testing.assert_close(path[0], w, rtol=1e-9, atol=1e-9)
    assert train_curve[-1] < 0.2 * train_curve[chosen]  # the long run fits the training noise...
    assert test_curve[-1] > 10 * test_curve[chosen]  # ...and pays for it on the clean target
    assert test_curve[chosen] < 1.05 * test_curve.min()  # validation picked a near-best step for the test set


def ensemble_predictions(lam, members=5):
    return torch.stack([features(X_TEST, s) @ ridge_fit(X_TRAIN, Y_TRAIN, s, lam) for s in range(members)])  # (M, N)


def test_ensemble_error_is_mean_error_minus_ambiguity():
    """For 5 random-feature members, the ensemble's squared error equals the members' mean error minus their mean squared spread around the ensemble, and is below that mean."""
    predictions = ensemble_predictions(lam=1e-3)  # (M, N)
    ensemble = predictions.mean(0)
    actual = ((ensemble - Y_TEST) ** 2).mean()
    member_errors = ((predictions - Y_TEST) ** 2).mean(1)  # (M,)
    ambiguity = ((predictions - ensemble) ** 2).mean()
    torch.testing.assert_close(actual, member_errors.mean() - ambiguity, rtol=1e-10, atol=1e-12)
    assert actual < 0.8 * member_errors.mean()


# %% [markdown]
# ## Designing the model: put the prior into the architecture
#
# Competitions reward ensembles and augmentation, but model design is where prior knowledge goes in. The task:
# a 32-sample signal is positive if a 5-sample pattern appears somewhere in it, at a random position. A convolution
# with global max pooling has the answer's structure built in (the same detector at every position, then "anywhere"),
# with 29 parameters. An MLP must learn the pattern separately at every position, from 64 examples.

# %%
def pattern_data(n, seed, length=32):
    g = torch.Generator().manual_seed(seed)
    x = 0.5 * torch.randn(n, 1, length, generator=g)  # (N, 1, L)
    y = torch.randint(0, 2, (n,), generator=g).float()
    start = torch.randint(0, length - 5, (n,), generator=g)
    pattern = torch.tensor([1.0, -1.0, 2.0, -1.0, 1.0])
    x[:, 0].scatter_add_(1, start.unsqueeze(1) + torch.arange(5), y.unsqueeze(1) * pattern)  # only positives
    return x, y


class PatternDetector(nn.Module):
    """Conv1d detectors at every position, max over positions, then a linear decision."""

    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv1d(1, 4, kernel_size=5), nn.Linear(4, 1)

    def forward(self, x):  # (N, 1, L)
        return self.fc(self.conv(x).relu().amax(dim=-1))  # (N, 1)


def train_classifier(model, x, y, steps=100, lr=0.03):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(model(x).squeeze(-1), y).backward()
        opt.step()
    return model


def accuracy(model, x, y):
    with torch.no_grad():
        return ((model(x).squeeze(-1) > 0).float() == y).float().mean().item()


def test_translation_equivariant_design_generalizes_from_few_examples():
    """Trained on 64 signals, a 29-parameter conv + max-pool detector reaches over 90% test accuracy, while a 2177-parameter MLP fits the training set perfectly and stays under 75%."""
    x_train, y_train = pattern_data(64, seed=0)
    x_test, y_test = pattern_data(2000, seed=1)
    torch.manual_seed(0)
    conv = train_classifier(PatternDetector(), x_train, y_train)
    mlp = train_classifier(nn.Sequential(nn.Flatten(), nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 1)), x_train, y_train)
    assert sum(p.numel() for p in conv.parameters()) == 4 * 5 + 4 + 4 + 1
    assert sum(p.numel() for p in mlp.parameters()) == 32 * 64 + 64 + 64 + 1
    assert accuracy(conv, x_test, y_test) > 0.9
    assert accuracy(mlp, x_train, y_train) == 1.0 and accuracy(mlp, x_test, y_test) < 0.75


# %% [markdown]
# ## Small random initialization is about optimization, and too small hurts it
#
# A ReLU layer with weights of standard deviation $\sigma$ and fan-in $n$ multiplies the signal's root mean square
# by about $\sqrt{n\sigma^2/2}$ (He et al., 2015): the pre-activation has $\mathbb{E}[z^2] = n\sigma^2\,\mathbb{E}[h^2]$,
# and a ReLU keeps half of a symmetric $z$'s second moment. With $n = 256$ and $\sigma = 0.01$ that factor is $0.113$, so ten
# layers shrink the signal about $3 \times 10^{9}$-fold and the gradients with it. He initialization,
# $\sigma = \sqrt{2/n}$, keeps the factor at 1.

# %%
def test_small_random_init_shrinks_the_signal_per_layer():
    """Through 10 ReLU layers of width 256, weights N(0, 0.01²) shrink the signal's RMS by the closed-form factor √(256·0.01²/2) per layer, within 15% after ten layers, while He initialization keeps it within a factor 2."""
    torch.manual_seed(5)
    x = torch.randn(64, 256, dtype=torch.float64)

    def output_rms(std):
        h = x
        for _ in range(10):
            h = torch.relu(h @ (std * torch.randn(256, 256, dtype=torch.float64)))
        return h.pow(2).mean().sqrt().item()

    input_rms = x.pow(2).mean().sqrt().item()
    expected = input_rms * math.sqrt(256 * 0.01**2 / 2) ** 10  # each ReLU halves E[z²] of a symmetric z
    assert abs(output_rms(0.01) / expected - 1) < 0.15
    assert output_rms(0.01) < 1e-8 * input_rms
    assert 0.5 < output_rms(math.sqrt(2 / 256)) / input_rms < 2


# %% [markdown]
# ## Where it stops holding: the ensemble and its best member
#
# The ambiguity decomposition guarantees that the ensemble beats the *average* member. It says nothing about the
# best member: if the members make the same mistakes, for instance because they all fitted the same noisy labels,
# the spread is small and a single lucky member can win. Ensembles pay off when their members' errors differ (other
# data splits, seeds, architectures), which is why winning competition ensembles mix model families.

# %%
def test_ensemble_need_not_beat_its_best_member():
    """With ridge 1e-2 instead of 1e-3 the 5 members' spread around their mean shrinks by over half, and the ensemble, still better than their average, is worse than the best member."""
    predictions = ensemble_predictions(lam=1e-2)
    weaker = ensemble_predictions(lam=1e-3)
    spread, weaker_spread = ((predictions - predictions.mean(0)) ** 2).mean(), ((weaker - weaker.mean(0)) ** 2).mean()
    assert spread < 0.5 * weaker_spread
    member_errors = ((predictions - Y_TEST) ** 2).mean(1)
    ensemble_error = ((predictions.mean(0) - Y_TEST) ** 2).mean()
    assert ensemble_error < member_errors.mean()
    assert ensemble_error > member_errors.min()


# %% [markdown]
# ## Conclusion
#
# More data is the most reliable way to generalize better. After that, stop training where validation error is
# lowest, which here is ten times better than training to convergence, and average several models, which is
# guaranteed to beat the average member by exactly their disagreement but not necessarily the best one. The largest
# gains come from design that builds the task's structure into the model: a 29-parameter convolution that knows the
# pattern can appear anywhere beats an MLP 75 times its size. "Initialize with small random numbers" belongs to
# optimization, and taken literally it makes deep networks untrainable.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

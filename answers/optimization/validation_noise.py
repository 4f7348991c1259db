# %% [markdown]
# # Oscillating validation accuracy: the proof
#
# **Question.** Training accuracy keeps rising while validation accuracy swings up and down from epoch to
# epoch. Is that overfitting, or something else?
#
# Overfitting shows as a *trend*: validation error that bottoms out and rises while training error keeps
# falling. Swings from one epoch to the next have other, common causes: a small validation set, whose accuracy
# is a binomial estimate with a known spread; a learning rate large enough that the weights bounce around the
# minimum; and batch-dependent layers evaluated in training mode. This module measures each. Claims:
#
# 1. the same model's accuracy on validation sets of 100 samples has standard deviation $\sqrt{p(1-p)/n}$, about
#    4 points at $p = 0.84$ (`test_small_validation_set_accuracy_is_binomial`);
# 2. a large learning rate makes validation accuracy on a 5000-sample set swing over 10× more between epochs than
#    a small one, with a model (logistic regression on 2 features) that cannot overfit
#    (`test_large_learning_rate_makes_validation_accuracy_oscillate`);
# 3. a BatchNorm network left in training mode gives the same sample different outputs depending on its batch,
#    while eval mode does not (`test_batch_norm_in_train_mode_makes_predictions_batch_dependent`).

# %% [markdown]
# ## A small validation set is a noisy ruler
#
# If a model's true accuracy is $p$, its accuracy on $n$ independent validation samples is a binomial proportion
# with standard deviation $\sqrt{p(1-p)/n}$: with $n = 100$ and $p = 0.84$, 3.7 points, so swings of ±7 points
# between two evaluations of the *same* model are ordinary. We train one logistic regression and evaluate it on
# 2000 independent validation sets of 100 samples.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

DTYPE = torch.float64


def two_gaussians(n, seed):
    gen = torch.Generator().manual_seed(seed)
    y = (torch.rand(n, generator=gen) < 0.5).to(DTYPE)
    x = torch.randn(n, 2, generator=gen, dtype=DTYPE)
    x[:, 0] += 2 * y - 1  # class means at x1 = ±1: the best accuracy is Φ(1) ≈ 0.84
    return x, y


def accuracy(w, b, x, y):
    return ((x @ w + b > 0).to(DTYPE) == y).double().mean().item()


def train_sgd(lr, epochs=20, batch_size=10, seed=2):
    x, y = two_gaussians(1000, seed=0)
    x_val, y_val = two_gaussians(5000, seed=1)
    gen = torch.Generator().manual_seed(seed)
    w, b = torch.zeros(2, dtype=DTYPE), torch.zeros(1, dtype=DTYPE)
    train_acc, val_acc = [], []
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch_size):
            idx = perm[i : i + batch_size]
            residual = torch.sigmoid(x[idx] @ w + b) - y[idx]  # the logistic-loss gradient, by hand
            w, b = w - lr * x[idx].T @ residual / batch_size, b - lr * residual.mean(0, keepdim=True)
        train_acc.append(accuracy(w, b, x, y))
        val_acc.append(accuracy(w, b, x_val, y_val))
    return torch.tensor(train_acc), torch.tensor(val_acc), (w, b)


small_lr, large_lr = train_sgd(0.05), train_sgd(10.0)
epochs = range(1, 21)
p_model = small_lr[1][-1].item()
band = 2 * math.sqrt(p_model * (1 - p_model) / 100)

fig, ax = plt.subplots(figsize=(6.5, 3.5))
ax.plot(epochs, small_lr[1].numpy(), "o-", markersize=3, label="validation, η = 0.05")
ax.plot(epochs, large_lr[1].numpy(), "s-", markersize=3, label="validation, η = 10")
ax.plot(epochs, large_lr[0].numpy(), ":", label="training, η = 10")
ax.fill_between(epochs, p_model - band, p_model + band, color="0.85", label="±2σ of a 100-sample validation set")
ax.set(xlabel="epoch", ylabel="accuracy", title="logistic regression, 5000 validation samples")
ax.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# ## Claims: sampling noise and step-size noise

# %%
def test_small_validation_set_accuracy_is_binomial():
    """Evaluating one trained model on 2000 independent validation sets of 100 samples gives accuracies with standard deviation √(p(1−p)/100) within 7%."""
    _, _, (w, b) = train_sgd(0.05)
    x_big, y_big = two_gaussians(200_000, seed=3)
    p = accuracy(w, b, x_big, y_big)  # the model's accuracy on the distribution
    x_val, y_val = two_gaussians(2000 * 100, seed=4)
    correct = ((x_val @ w + b > 0).to(DTYPE) == y_val).double().reshape(2000, 100)
    measured = correct.mean(1).std().item()
    torch.testing.assert_close(measured, math.sqrt(p * (1 - p) / 100), rtol=0.07, atol=0)
    assert measured > 0.03  # swings of ±6 points (2σ) are ordinary at n = 100


def test_large_learning_rate_makes_validation_accuracy_oscillate():
    """Over the last 10 epochs, validation accuracy (5000 samples) varies over 10× more with η = 10 than with η = 0.05, while training and validation accuracy stay within 4 points of each other at every epoch."""
    _, val_small, _ = train_sgd(0.05)
    train_large, val_large, _ = train_sgd(10.0)
    assert val_large[-10:].std() > 10 * val_small[-10:].std()
    assert (train_large - val_large).abs().max() < 0.04  # no train-validation gap: nothing to call overfitting


# %% [markdown]
# ## Claims: a forgotten `model.eval()`
#
# In training mode BatchNorm normalizes with the current batch's mean and variance, so a sample's prediction
# depends on which other samples share its batch. Validation run in training mode (or with tiny, unshuffled,
# class-sorted batches) gives numbers that jump with the batch composition. In eval mode the running
# statistics make predictions per-sample.

# %%
def test_batch_norm_in_train_mode_makes_predictions_batch_dependent():
    """A BatchNorm network's output for the same sample changes with its batch-mates in train mode and does not in eval mode."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 1)).to(DTYPE)
    x, _ = two_gaussians(64, seed=5)
    batch_a, batch_b = x[:8], torch.cat([x[:1], x[40:47]])  # the same first sample, different company
    net.train()
    with torch.no_grad():
        differ = (net(batch_a)[0] - net(batch_b)[0]).abs().item()
    net.eval()
    with torch.no_grad():
        torch.testing.assert_close(net(batch_a)[0], net(batch_b)[0], rtol=1e-12, atol=1e-12)
    assert differ > 1e-2


# %% [markdown]
# ## Conclusion
#
# Before calling oscillating validation accuracy overfitting, compute its sampling noise, $\sqrt{p(1-p)/n}$
# (4 points at $n = 100$); look at the trend of validation *loss* over many epochs rather than at single
# jumps; check the learning rate (oscillation that shrinks when the rate decays is step-size noise); and check
# that evaluation runs in `model.eval()` mode. Overfitting is the divergence of the two curves, not the
# jitter of one.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

# %% [markdown]
# # Mislabeled samples versus hard samples: the proof
#
# **Question.** During training, how do you tell a mislabeled sample from a genuinely hard one?
#
# Both have a high loss, so the loss alone cannot be the whole answer. What separates them is *where* they sit:
# a mislabeled sample is usually far on the wrong side of the decision boundary (confidently wrong), a hard
# sample sits close to it (uncertain). This module flips 15% of the labels of a two-class problem and measures
# how well per-sample losses, and a two-component mixture fitted to them (the idea of Arazo et al. 2019,
# "Unsupervised Label Noise Modeling and Loss Correction"), find the flips. Claims:
#
# 1. ranked by loss, flipped samples come before clean ones with an AUC above 0.98
#    (`test_loss_ranks_mislabeled_samples_first`);
# 2. a two-component Gaussian mixture on the log-losses, fitted by EM without labels, flags samples with over
#    90% precision and over 60% recall (`test_loss_mixture_flags_mislabeled_samples`);
# 3. confidently wrong samples have 3× the loss of hard clean ones near the boundary, but flips *near* the
#    boundary are within 1.6× of the hard ones: there the two cannot be told apart (`test_hard_and_mislabeled_differ_only_away_from_the_boundary`);
# 4. a model that memorizes the training set erases the signal: an interpolating fit has zero loss on every
#    sample, while the same model after 30 gradient steps still separates the flips (`test_memorization_erases_the_loss_signal`).

# %% [markdown]
# ## Data with known flips
#
# Two Gaussian classes at $x_1 = \pm 1.5$ with unit variance; 15% of the labels are flipped at random. We keep
# the flip mask as ground truth and fit a logistic regression (Newton's method) to the *noisy* labels, as
# training would.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

DTYPE = torch.float64


def noisy_problem(n=1000, flip_rate=0.15, seed=0):
    gen = torch.Generator().manual_seed(seed)
    y = (torch.rand(n, generator=gen) < 0.5).to(DTYPE)
    x = torch.randn(n, 2, generator=gen, dtype=DTYPE)
    x[:, 0] += 3 * y - 1.5
    flipped = torch.rand(n, generator=gen) < flip_rate
    return x, torch.where(flipped, 1 - y, y), flipped


def design(x):
    return torch.cat([x, torch.ones(len(x), 1, dtype=DTYPE)], dim=1)


def fit_logistic(x, y, steps=15):
    X, theta = design(x), torch.zeros(3, dtype=DTYPE)
    for _ in range(steps):
        p = torch.sigmoid(X @ theta)
        theta = theta - torch.linalg.solve(X.T @ (X * (p * (1 - p))[:, None]), X.T @ (p - y))
    return theta


def per_sample_loss(x, y, theta):
    return F.binary_cross_entropy_with_logits(design(x) @ theta, y, reduction="none")


def auc(scores, positive):  # brute force over all (positive, negative) pairs
    return (scores[positive][:, None] > scores[~positive][None, :]).double().mean().item()


def two_component_mixture(values, iterations=100):
    """EM for a 1-D mixture of two Gaussians; returns each value's posterior of the high-mean component."""
    mu = torch.stack([values.quantile(0.25), values.quantile(0.9)])
    sd, weight = torch.ones(2, dtype=DTYPE), torch.full((2,), 0.5, dtype=DTYPE)
    for _ in range(iterations):
        log_p = weight.log() - sd.log() - 0.5 * ((values[:, None] - mu) / sd) ** 2  # (n, 2)
        resp = log_p.softmax(dim=1)
        nk = resp.sum(0)
        weight, mu = nk / len(values), (resp * values[:, None]).sum(0) / nk
        sd = ((resp * (values[:, None] - mu) ** 2).sum(0) / nk).sqrt()
    return resp[:, 1]


x, y_noisy, flipped = noisy_problem()
theta = fit_logistic(x, y_noisy)
loss = per_sample_loss(x, y_noisy, theta)
noisy_posterior = two_component_mixture(loss.log())

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
bins = torch.linspace(-8, 3, 45)
ax1.hist(loss[~flipped].log(), bins=bins, alpha=0.6, label="clean label")
ax1.hist(loss[flipped].log(), bins=bins, alpha=0.6, label="flipped label")
ax1.set(xlabel="log per-sample loss", ylabel="samples", title="losses after fitting the noisy labels")
ax1.legend(fontsize=8)
margin = design(x) @ theta
ax2.scatter(margin[~flipped], loss[~flipped], s=4, label="clean")
ax2.scatter(margin[flipped], loss[flipped], s=6, label="flipped")
ax2.set(xlabel="logit (signed distance to the boundary)", ylabel="loss", title="hard = near 0, mislabeled = far, wrong side")
ax2.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Claims: the loss finds most flips
#
# The AUC is computed by brute force over all (flipped, clean) pairs. The mixture is fitted to $\log$ loss
# without looking at the flip mask; a sample is flagged when its posterior of the high-loss component exceeds 0.5.

# %%
def test_loss_ranks_mislabeled_samples_first():
    """Ranking 1000 samples by their loss under a model fitted to the noisy labels puts the 15% flipped ones first with AUC above 0.98."""
    x, y, flipped = noisy_problem()
    assert auc(per_sample_loss(x, y, fit_logistic(x, y)), flipped) > 0.98


def test_loss_mixture_flags_mislabeled_samples():
    """A two-Gaussian mixture fitted by EM to the log-losses flags samples with over 90% precision and over 60% recall of the flipped ones."""
    x, y, flipped = noisy_problem()
    flagged = two_component_mixture(per_sample_loss(x, y, fit_logistic(x, y)).log()) > 0.5
    precision = (flagged & flipped).sum() / flagged.sum()
    recall = (flagged & flipped).sum() / flipped.sum()
    assert precision > 0.9 and recall > 0.6


# %% [markdown]
# ## Where it stops holding: near the boundary, and after memorization
#
# A hard sample is one the model is unsure about: its logit is near 0 and its loss near $\log 2 \approx 0.69$,
# whatever its label. A flipped sample near the boundary is in the same place, so its loss is in the same range.
# Only the flips far on the wrong side stand out, and they are the majority when the noise is random.
#
# The second limit is time. A model that can memorize (here, 500 random ReLU features for 200 samples) ends
# at zero training loss on every sample, flips included, and then the loss carries no information. Loss-based
# detection has to use losses from early training, before memorization, as co-teaching and similar methods do.

# %%
def test_hard_and_mislabeled_differ_only_away_from_the_boundary():
    """Median loss of flipped samples with |logit| > 2 is over 3× that of clean samples with |logit| < 0.5, while flipped samples with |logit| < 0.5 are within 1.6× of them."""
    x, y, flipped = noisy_problem()
    theta = fit_logistic(x, y)
    loss, margin = per_sample_loss(x, y, theta), (design(x) @ theta).abs()
    hard_clean = loss[~flipped & (margin < 0.5)].median()
    near_flips = loss[flipped & (margin < 0.5)].median()
    far_flips = loss[flipped & (margin > 2)].median()
    assert far_flips > 3 * hard_clean
    assert near_flips < 1.6 * hard_clean


def test_memorization_erases_the_loss_signal():
    """With 500 random ReLU features and 200 samples, the interpolating fit has loss below 1e-12 on every sample, while 30 gradient steps leave flip-detection AUC above 0.9."""
    x, y, flipped = noisy_problem(n=200, seed=1)
    gen = torch.Generator().manual_seed(2)
    W, b = torch.randn(2, 500, generator=gen, dtype=DTYPE), 6 * torch.rand(500, generator=gen, dtype=DTYPE) - 3
    phi, target = torch.relu(x @ W + b), 2 * y - 1  # (200, 500), labels ±1
    memorized = torch.linalg.pinv(phi) @ target
    assert ((phi @ memorized - target) ** 2).max() < 1e-12
    lr = 1.0 / torch.linalg.eigvalsh(phi.T @ phi / len(x)).max()
    w = torch.zeros(500, dtype=DTYPE)
    for _ in range(30):
        w = w - lr * phi.T @ (phi @ w - target) / len(x)
    assert auc((phi @ w - target) ** 2, flipped) > 0.9


# %% [markdown]
# ## Conclusion
#
# Mislabeled samples are confidently wrong: high loss, far on the wrong side of the boundary, and a loss that
# stays high early in training. Hard samples are uncertain: loss near $\log 2$, close to the boundary, and
# falling slowly. A mixture model on early per-sample losses separates most of them without labels, but not
# the flips that land near the boundary, and not after the network has memorized the noise. In practice,
# combine losses from early epochs, agreement between models or folds (cross-validation predictions, as in
# confident learning), and human review of the flagged samples.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

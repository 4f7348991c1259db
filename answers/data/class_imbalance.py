# %% [markdown]
# # Class imbalance: the proof
#
# **Question.** How do you handle an imbalanced dataset: resampling, class weights, a different loss, or a
# different algorithm?
#
# A toy problem with 95% negatives and 5% positives, two Gaussian classes for which logistic regression is
# the correct model, makes every remedy measurable. Claims:
#
# 1. accuracy rewards ignoring the minority: predicting "negative" always scores 95% with zero recall, and
#    accuracy prefers the model that finds fewer positives (`test_accuracy_rewards_predicting_the_majority`);
# 2. a class weight of $k$ on the positives gives exactly the gradient of duplicating each positive $k$ times,
#    and `BCEWithLogitsLoss(pos_weight=k)` computes it (`test_class_weight_equals_duplicating_the_minority`);
# 3. `WeightedRandomSampler` gives, in expectation, the gradient of the class-weighted loss
#    (`test_weighted_sampler_matches_weighted_loss_in_expectation`);
# 4. for logistic regression, weighting the positives by 19 shifts the intercept by $\log 19$ and leaves the
#    slopes and the ranking (AUC) nearly unchanged: reweighting is moving the threshold
#    (`test_class_weight_moves_the_threshold`);
# 5. a decision stump is not immune to imbalance: unweighted, its minority recall is low too
#    (`test_a_tree_is_not_immune_to_imbalance`);
# 6. focal loss with $\gamma = 0$ is cross-entropy, and with $\gamma = 2$ it shrinks the loss of an easy example
#    ($p_t = 0.9$) 100× (`test_focal_loss_reduces_to_cross_entropy_and_mutes_easy_examples`).

# %% [markdown]
# ## The data and a logistic regression solver
#
# Negatives $\sim \mathcal N((0,0), I)$, positives $\sim \mathcal N((2,2), I)$, 19 negatives per positive. With equal
# covariances the true log-odds are linear in $x$, so logistic regression is the right model, and we fit it
# exactly with Newton's method on a per-sample weighted loss.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

DTYPE = torch.float64


def imbalanced_data(n_neg=1900, n_pos=100, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.cat([torch.randn(n_neg, 2, generator=gen, dtype=DTYPE), 2.0 + torch.randn(n_pos, 2, generator=gen, dtype=DTYPE)])
    y = torch.cat([torch.zeros(n_neg, dtype=DTYPE), torch.ones(n_pos, dtype=DTYPE)])
    return x, y


def design(x):
    return torch.cat([x, torch.ones(len(x), 1, dtype=DTYPE)], dim=1)  # last column: intercept


def fit_logistic(x, y, sample_weight=None, steps=25):
    """Newton's method on the weighted logistic loss; returns (w1, w2, intercept)."""
    X = design(x)
    c = torch.ones(len(y), dtype=DTYPE) if sample_weight is None else sample_weight
    theta = torch.zeros(3, dtype=DTYPE)
    for _ in range(steps):
        p = torch.sigmoid(X @ theta)
        grad = X.T @ (c * (p - y))
        hessian = X.T @ (X * (c * p * (1 - p))[:, None])
        theta = theta - torch.linalg.solve(hessian, grad)
    return theta


def recall_and_accuracy(pred, y):
    return (pred[y == 1] == 1).double().mean().item(), (pred == y).double().mean().item()


def auc(scores, y):  # brute force: the fraction of (positive, negative) pairs ranked correctly
    pos, neg = scores[y == 1], scores[y == 0]
    return ((pos[:, None] > neg[None, :]).double().mean() + 0.5 * (pos[:, None] == neg[None, :]).double().mean()).item()


x, y = imbalanced_data()
k = 19.0
plain = fit_logistic(x, y)
weighted = fit_logistic(x, y, sample_weight=torch.where(y == 1, k, 1.0))

print(f"{'model':<34} {'recall':>7} {'accuracy':>9} {'AUC':>6}")
for name, theta, shift in (("unweighted, threshold 0.5", plain, 0.0), ("positives weighted ×19", weighted, 0.0),
                           ("unweighted, threshold moved", plain, math.log(k))):
    scores = design(x) @ theta
    r, a = recall_and_accuracy((scores + shift > 0).double(), y)
    print(f"{name:<34} {r:>7.2f} {a:>9.3f} {auc(scores, y):>6.3f}")

# %% [markdown]
# ## Decision boundaries
#
# The unweighted boundary sits deep inside the positive cloud, because a false positive costs as much as a
# false negative and negatives are 19 times more common. The weighted boundary is parallel to it, shifted
# toward the negatives, exactly where the unweighted model's boundary lands if its threshold is moved.

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.5))
ax.scatter(x[y == 0, 0], x[y == 0, 1], s=3, color="0.7", label="negative (95%)")
ax.scatter(x[y == 1, 0], x[y == 1, 1], s=8, color="C3", label="positive (5%)")
line = torch.linspace(-3, 5, 2, dtype=DTYPE)
for theta, shift, style, label in ((plain, 0.0, "-", "unweighted"), (weighted, 0.0, "--", "weighted ×19"),
                                   (plain, math.log(k), ":", "unweighted, threshold moved by log 19")):
    ax.plot(line, -(theta[0] * line + theta[2] + shift) / theta[1], style, color="k", label=label)
ax.set(xlim=(-3, 5), ylim=(-3, 5), xlabel="$x_1$", ylabel="$x_2$", title="19:1 imbalance, logistic regression")
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))  # outside: inside it hid points and lines
fig.tight_layout()

# %% [markdown]
# ## Claims: metrics and reweighting

# %%
def balanced_accuracy(pred, y):
    return 0.5 * ((pred[y == 1] == 1).double().mean() + (pred[y == 0] == 0).double().mean()).item()


def test_accuracy_rewards_predicting_the_majority():
    """Always predicting the majority class scores 95% accuracy with zero recall and a balanced accuracy of 0.5, and accuracy ranks the unweighted logistic model above the class-weighted one while balanced accuracy ranks them the other way."""
    x, y = imbalanced_data()
    pred = torch.zeros_like(y)
    recall, accuracy = recall_and_accuracy(pred, y)
    assert accuracy == 0.95 and recall == 0.0
    assert balanced_accuracy(pred, y) == 0.5
    plain_pred = (design(x) @ fit_logistic(x, y) > 0).double()
    weighted_pred = (design(x) @ fit_logistic(x, y, sample_weight=torch.where(y == 1, 19.0, 1.0)) > 0).double()
    assert recall_and_accuracy(plain_pred, y)[1] > recall_and_accuracy(weighted_pred, y)[1]
    assert balanced_accuracy(weighted_pred, y) > balanced_accuracy(plain_pred, y) + 0.05


def test_class_weight_equals_duplicating_the_minority():
    """The mean BCE with pos_weight=19 has the same gradient as the mean BCE on the data with every positive repeated 19 times, up to the ratio of sample counts."""
    x, y = imbalanced_data()
    theta = torch.tensor([0.3, -0.2, -1.0], dtype=DTYPE, requires_grad=True)
    weighted = F.binary_cross_entropy_with_logits(design(x) @ theta, y, pos_weight=torch.tensor(19.0, dtype=DTYPE))
    (g_weighted,) = torch.autograd.grad(weighted, theta)
    x_dup = torch.cat([x[y == 0], x[y == 1].repeat(19, 1)])
    y_dup = torch.cat([y[y == 0], y[y == 1].repeat(19)])
    duplicated = F.binary_cross_entropy_with_logits(design(x_dup) @ theta, y_dup)
    (g_duplicated,) = torch.autograd.grad(duplicated, theta)
    torch.testing.assert_close(g_weighted * len(y), g_duplicated * len(y_dup), rtol=1e-10, atol=1e-10)


def test_weighted_sampler_matches_weighted_loss_in_expectation():
    """Drawing 50,000 samples with WeightedRandomSampler (weight 19 on positives) gives a mean gradient within 3% of the class-weighted loss gradient."""
    from torch.utils.data import WeightedRandomSampler

    x, y = imbalanced_data()
    c = torch.where(y == 1, 19.0, 1.0)
    theta = torch.tensor([0.3, -0.2, -1.0], dtype=DTYPE, requires_grad=True)
    per_sample = F.binary_cross_entropy_with_logits(design(x) @ theta, y, reduction="none")
    (expected,) = torch.autograd.grad((c * per_sample).sum() / c.sum(), theta)
    sampler = WeightedRandomSampler(c, num_samples=50_000, replacement=True, generator=torch.Generator().manual_seed(0))
    idx = torch.tensor(list(sampler))
    (actual,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(design(x[idx]) @ theta, y[idx]), theta)
    torch.testing.assert_close(actual, expected, rtol=0.03, atol=0.003)
    assert abs(y[idx].mean().item() - 0.5) < 0.02  # the classes are now balanced in the stream


def test_class_weight_moves_the_threshold():
    """On 80,000 samples, weighting positives by 19 shifts the logistic intercept by log 19 ± 0.1, keeps the slopes within 3% and the AUC within 0.001."""
    x, y = imbalanced_data(n_neg=76_000, n_pos=4_000, seed=1)  # the ± is about twice the sampling error
    plain = fit_logistic(x, y, steps=12)
    weighted = fit_logistic(x, y, sample_weight=torch.where(y == 1, 19.0, 1.0), steps=12)
    assert abs((weighted[2] - plain[2]).item() - math.log(19)) < 0.1
    torch.testing.assert_close(weighted[:2], plain[:2], rtol=0.03, atol=0)
    x_small, y_small = imbalanced_data()  # ranking measured on 2000 points (brute-force AUC)
    assert abs(auc(design(x_small) @ weighted, y_small) - auc(design(x_small) @ plain, y_small)) < 1e-3


# %% [markdown]
# ## Claims: algorithms and losses
#
# A tree is not immune: a leaf predicts its majority class, and with 19:1 imbalance few regions have a
# positive majority. We search every depth-1 split (a stump) by brute force, minimizing the weighted number of
# errors. Focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection") multiplies cross-entropy by
# $(1-p_t)^\gamma$: it mutes the many *easy* examples, which in detection are mostly background, rather than
# counting classes.

# %%
def best_stump(x, y, c):
    """Brute-force depth-1 tree: the split and leaf labels that minimize the c-weighted number of errors."""
    best = (float("inf"), None)
    for j in range(x.shape[1]):
        for t in torch.unique(x[:, j]):
            left = x[:, j] <= t
            predict = []
            for side in (left, ~left):  # each leaf predicts the class with more weight in it
                predict.append(float((c * side * y).sum() > (c * side * (1 - y)).sum()))
            pred = torch.where(left, predict[0], predict[1])
            err = (c * (pred != y)).sum().item()
            if err < best[0]:
                best = (err, pred)
    return best[1]


def test_a_tree_is_not_immune_to_imbalance():
    """A brute-force decision stump finds under 40% of the positives unweighted, and over 80% with class weight 19."""
    x, y = imbalanced_data(n_neg=380, n_pos=20)
    unweighted = best_stump(x, y, torch.ones_like(y))
    weighted = best_stump(x, y, torch.where(y == 1, 19.0, 1.0))
    assert recall_and_accuracy(unweighted, y)[0] < 0.4
    assert recall_and_accuracy(weighted, y)[0] > 0.8


def focal_loss(logits, y, gamma):
    p = torch.sigmoid(logits)
    p_t = torch.where(y == 1, p, 1 - p)
    return -((1 - p_t) ** gamma * torch.log(p_t))


def test_focal_loss_reduces_to_cross_entropy_and_mutes_easy_examples():
    """Focal loss with γ = 0 equals binary cross-entropy, and with γ = 2 it is 100× smaller for an easy example (p_t = 0.9) but only 4× for a hard one (p_t = 0.5)."""
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(50, generator=gen, dtype=DTYPE)
    y = (torch.rand(50, generator=gen, dtype=DTYPE) < 0.3).double()
    torch.testing.assert_close(focal_loss(logits, y, 0.0), F.binary_cross_entropy_with_logits(logits, y, reduction="none"))
    easy, hard = torch.tensor([math.log(9.0)], dtype=DTYPE), torch.tensor([0.0], dtype=DTYPE)  # p = 0.9 and 0.5
    one = torch.ones(1, dtype=DTYPE)
    torch.testing.assert_close(focal_loss(easy, one, 2.0) / focal_loss(easy, one, 0.0), 0.01 * one)
    torch.testing.assert_close(focal_loss(hard, one, 2.0) / focal_loss(hard, one, 0.0), 0.25 * one)


# %% [markdown]
# ## Conclusion
#
# Start with the metric: accuracy hides the minority, so use recall, precision, F1, balanced accuracy or
# PR-AUC. Then choose where to put the correction. Class weights and resampling act on the loss (weighting by
# $k$ is duplication by $k$, and a weighted sampler gives the same expected gradient); for a well-specified
# probabilistic model they mostly shift the threshold, which you can also do after training. Undersampling
# discards data; oversampling by duplication repeats it (overfitting risk); SMOTE interpolates new minority
# points. Focal loss targets easy-versus-hard imbalance. No algorithm is immune: trees vote by majority too.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

# %% [markdown]
# # Max pooling versus average pooling: the proof
#
# **Question.** Why is max pooling used more often, and when is average pooling the better choice?
#
# Both pool a window to one number and shrink the map by the same factor; the difference is what they keep.
# The max keeps the strongest response and ignores the rest; the mean keeps the total and averages noise away.
# Which is better depends on whether the feature is sparse or spread out. Claims:
#
# 1. a detector that pools by max finds a *sparse* signal (one strong pixel in a 4×4 window) better than one
#    that pools by mean; for a *dense* weak signal the mean wins, at exactly the accuracy its closed form
#    $\Phi(\delta\sqrt{n}/2)$ predicts (`test_max_wins_on_sparse_features_mean_on_dense`);
# 2. average pooling is linear (a fixed strided convolution) and max pooling is not
#    (`test_average_pool_is_a_linear_convolution_max_pool_is_not`);
# 3. both forget where inside a window a value was: shuffling pixels within each window changes neither
#    (`test_both_pools_forget_position_within_a_window`);
# 4. both shrink the map equally and have no parameters; what cuts parameters is a *global* average pool before
#    the classifier, which also frees the input size (`test_global_average_pool_is_what_cuts_parameters`).

# %% [markdown]
# ## A detection experiment
#
# A window holds $n = 16$ pixels of unit Gaussian noise. Half the windows also contain a feature: $m$ pixels
# raised by $4/\sqrt{m}$ each, so the signal energy is the same for every $m$. A detector pools the window (max or
# mean) and thresholds the result at the best threshold. We plot its accuracy as the feature goes from sparse
# ($m = 1$) to dense ($m = 16$).

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from answers._models import resnet18

WINDOW = 16  # pixels in a 4×4 pooling window


def best_threshold_accuracy(negatives, positives):
    """Balanced accuracy of the best threshold "positive if statistic >= t", over all thresholds."""
    values = torch.cat([negatives, positives])
    is_positive = torch.cat([torch.zeros_like(negatives), torch.ones_like(positives)])
    order = values.argsort(descending=True)
    true_positive_rate = is_positive[order].cumsum(0) / len(positives)  # threshold just below each value
    false_positive_rate = (1 - is_positive[order]).cumsum(0) / len(negatives)
    return (0.5 * (1 + true_positive_rate - false_positive_rate)).max().item()


def detection_accuracy(active, amplitude, samples=4000, seed=0):
    """(max-pool accuracy, mean-pool accuracy) for `active` pixels raised by `amplitude` in a 16-pixel window."""
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(2, samples, WINDOW, generator=generator, dtype=torch.float64)
    background, feature = noise[0], noise[1].clone()
    feature[:, :active] += amplitude  # position inside the window does not matter to either pool
    return tuple(
        best_threshold_accuracy(pool(background), pool(feature))
        for pool in (lambda w: w.amax(dim=1), lambda w: w.mean(dim=1))
    )


ACTIVE = [1, 2, 4, 8, 16]
CURVES = [detection_accuracy(m, 4 / math.sqrt(m)) for m in ACTIVE]
fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(ACTIVE, [c[0] for c in CURVES], "o-", label="max pooling")
ax.plot(ACTIVE, [c[1] for c in CURVES], "s-", label="average pooling")
ax.set_xscale("log", base=2)
ax.set_xlabel("pixels the feature occupies (of 16), same total energy")
ax.set_ylabel("detection accuracy")
ax.set_title("Max pooling for sparse features, average for dense ones")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Claims: what each pool keeps
#
# For the mean detector there is a closed form. The mean of $n$ unit-variance pixels has standard deviation
# $1/\sqrt{n}$; a dense shift $\delta$ on every pixel moves it by $\delta$, and the best threshold sits halfway, so
# the accuracy is $\Phi(\delta\sqrt{n}/2)$. With $\delta = 0.5$ and $n = 16$ that is $\Phi(1) = 0.841$.


# %%
def normal_cdf(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def test_max_wins_on_sparse_features_mean_on_dense():
    """One pixel raised by 4 in a 4×4 noise window is found more often by a max detector than a mean detector; a shift of 0.5 on all 16 pixels is found more often by the mean detector, at the closed-form accuracy Φ(0.5·√16/2) = 0.841 (±0.01)."""
    max_sparse, mean_sparse = detection_accuracy(active=1, amplitude=4.0)
    max_dense, mean_dense = detection_accuracy(active=WINDOW, amplitude=0.5)
    assert max_sparse > mean_sparse + 0.1
    assert mean_dense > max_dense + 0.1
    assert abs(mean_dense - normal_cdf(0.5 * math.sqrt(WINDOW) / 2)) < 0.01
    assert abs(mean_sparse - normal_cdf((4.0 / WINDOW) * math.sqrt(WINDOW) / 2)) < 0.01  # the mean dilutes it 16 times


def test_average_pool_is_a_linear_convolution_max_pool_is_not():
    """avg_pool2d(2) equals conv2d with a 1/4 kernel at stride 2 and is additive, while max_pool2d(x + y) differs from max_pool2d(x) + max_pool2d(y)."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    y = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    kernel = torch.full((3, 1, 2, 2), 0.25, dtype=torch.float64)
    torch.testing.assert_close(F.avg_pool2d(x, 2), F.conv2d(x, kernel, stride=2, groups=3), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(F.avg_pool2d(x + y, 2), F.avg_pool2d(x, 2) + F.avg_pool2d(y, 2), rtol=1e-12, atol=1e-12)
    assert (F.max_pool2d(x + y, 2) - F.max_pool2d(x, 2) - F.max_pool2d(y, 2)).abs().max() > 0.5


def test_both_pools_forget_position_within_a_window():
    """Permuting the pixels inside every 2×2 window leaves both max_pool2d and avg_pool2d unchanged, so neither keeps more position than the other."""
    torch.manual_seed(0)
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    windows = x.reshape(1, 2, 3, 2, 3, 2).permute(0, 1, 2, 4, 3, 5).reshape(1, 2, 3, 3, 4)  # (B, C, 3, 3, 4 pixels)
    permutation = torch.randperm(4, generator=torch.Generator().manual_seed(1))
    shuffled = windows[..., permutation].reshape(1, 2, 3, 3, 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(1, 2, 6, 6)
    assert not torch.equal(shuffled, x)
    for pool in (F.max_pool2d, F.avg_pool2d):
        torch.testing.assert_close(pool(shuffled, 2), pool(x, 2), rtol=1e-12, atol=1e-12)


# %% [markdown]
# ## Claims: what reduces parameters
#
# A pooling layer has no parameters, and a $2\times2$ max or average pool produce maps of the same size, so they
# reduce the next layer's cost identically. The big saving comes from a *global* average pool (ResNet, Inception,
# DenseNet heads): it hands the classifier $C$ numbers instead of $C\cdot H\cdot W$, and since the classifier's input no
# longer depends on $H\times W$, the network runs at any input size.


# %%
def test_global_average_pool_is_what_cuts_parameters():
    """2×2 max and average pools give the same shape with zero parameters; ResNet-18's global average pool lets a 513,000-weight classifier replace a 25,089,000-weight flatten head and run at 224 and 320 pixels alike."""
    x = torch.randn(1, 8, 14, 14)
    max_pool, avg_pool = nn.MaxPool2d(2), nn.AvgPool2d(2)
    assert max_pool(x).shape == avg_pool(x).shape == (1, 8, 7, 7)
    assert len(list(max_pool.parameters())) == len(list(avg_pool.parameters())) == 0
    with torch.device("meta"):
        model = resnet18()
    gap_head = sum(p.numel() for p in model.fc.parameters())
    x = torch.empty(1, 3, 224, 224, device="meta")
    with torch.no_grad():
        features = model.layer4(model.layer3(model.layer2(model.layer1(model.maxpool(model.conv1(x))))))
    assert features.shape == (1, 512, 7, 7)  # what the head sees at 224×224 before pooling
    flatten_head = sum(p.numel() for p in nn.Linear(features[0].numel(), 1000, device="meta").parameters())
    assert gap_head == 513_000
    assert flatten_head == 25_089_000
    for size in (224, 320):
        assert model(torch.empty(1, 3, size, size, device="meta")).shape == (1, 1000)


# %% [markdown]
# ## Conclusion
#
# Max pooling is a feature detector's pooling: when a feature fires strongly in a few places, the max passes it on
# undiluted, which is why it suits the sparse, post-ReLU maps inside classification networks. Average pooling is a
# denoiser's pooling: when evidence is spread thinly over the window, the mean adds it up and averages the noise away.
# It is linear, passes gradient to every input, and as a global pool before the classifier it is what removes the huge
# flatten head. Neither keeps more position than the other inside a window.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

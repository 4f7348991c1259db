# %% [markdown]
# # What batch norm does, and BN versus LN versus GN: the proof
#
# **Question.** What problem does batch normalization solve, where is it applied (fully connected versus
# convolutional layers), and how do layer, instance and group normalization differ from it?
#
# All four layers compute $(x - \mu)/\sqrt{\sigma^2 + \epsilon}$ followed by a per-channel $\gamma, \beta$; they differ
# only in the set of values that share one $\mu$ and $\sigma$. This module writes the four from that one idea and checks
# them against PyTorch, then measures what normalization changes in training. Claims:
#
# 1. one function, `normalize(x, dims)`, reproduces `BatchNorm2d`, `LayerNorm`, `InstanceNorm2d` and `GroupNorm` by the
#    choice of pooled axes (`test_one_formula_with_different_axes_matches_pytorch`); `GroupNorm` with one group is
#    layer norm and with $C$ groups instance norm (`test_group_norm_spans_layer_norm_and_instance_norm`);
# 2. `BatchNorm2d` on $(N, C, H, W)$ is `BatchNorm1d` on the $(NHW, C)$ matrix of pixels: every pixel is a sample and
#    every channel a feature (`test_conv_batchnorm_is_fc_batchnorm_over_pixels`);
# 3. only batch norm makes a sample's output depend on the rest of its batch
#    (`test_only_batch_norm_depends_on_the_batch`);
# 4. batch norm makes a layer's output invariant to the scale of its weights, and the weights' gradient shrinks as
#    $1/a$ when they are scaled by $a$ (`test_batchnorm_is_invariant_to_weight_scale`);
# 5. in a deep sigmoid network with large weights, BN keeps the pre-activations where the sigmoid has slope,
#    and the network trains where the plain one stalls (`test_batchnorm_unsaturates_and_trains_a_deep_sigmoid_network`);
#    without BN it is the weights' scale that saturates the sigmoids, at the first layer as much as at the tenth, not
#    the depth (`test_weight_scale_not_depth_saturates_a_sigmoid_network`);
# 6. where it stops holding: the learned $\gamma$ and $\beta$ can put the pre-activations back into saturation, so BN
#    does not guarantee an unsaturated activation (`test_gamma_and_beta_can_resaturate`).

# %% [markdown]
# ## One formula, four sets of axes
#
# For an input of shape $(N, C, H, W)$: batch norm pools $(N, H, W)$ for each channel; layer norm pools $(C, H, W)$
# for each sample; instance norm pools $(H, W)$ for each sample and channel; group norm splits the channels into $G$
# groups and pools $(C/G, H, W)$ for each sample and group. The figure colours, for each layer, the cells of the
# (sample, channel) grid that share one mean and variance (all of $H, W$ always pooled).

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn


def normalize(x, dims, eps=1e-5):
    """(x − mean) / sqrt(biased var + eps), statistics pooled over dims."""
    mean = x.mean(dims, keepdim=True)
    var = x.var(dims, keepdim=True, correction=0)
    return (x - mean) / torch.sqrt(var + eps)


def group_normalize(x, num_groups, eps=1e-5):
    n, c, h, w = x.shape
    grouped = x.reshape(n, num_groups, c // num_groups, h, w)
    return normalize(grouped, (2, 3, 4), eps).reshape(n, c, h, w)


N, C = 3, 6  # 18 cells: each statistic gets its own colour of tab20
labels = {
    "BatchNorm": torch.arange(C).expand(N, C),  # one statistic per channel
    "LayerNorm": torch.arange(N)[:, None].expand(N, C),  # one per sample
    "InstanceNorm": torch.arange(N * C).reshape(N, C),  # one per (sample, channel)
    "GroupNorm (G=2)": (torch.arange(N)[:, None] * 2 + torch.arange(C) // 3),  # one per (sample, group)
}
fig, axes = plt.subplots(1, 4, figsize=(11, 2.6))
for ax, (name, groups) in zip(axes, labels.items()):
    ax.imshow(groups.numpy(), cmap="tab20", vmin=0, vmax=19)
    ax.set(title=name, xlabel="channel C", ylabel="sample N", xticks=[], yticks=[])
fig.suptitle("cells of one colour share one mean and variance (H, W always pooled)", fontsize=9)
fig.tight_layout()


# %% [markdown]
# ## Claims: the axes

# %%
def test_one_formula_with_different_axes_matches_pytorch():
    """normalize(x, dims) over (N,H,W), (C,H,W), (H,W) and per-group equals BatchNorm2d (train), LayerNorm([C,H,W]), InstanceNorm2d and GroupNorm(3, 6), all with default γ = 1, β = 0."""
    x = torch.randn(4, 6, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 3 + 1
    cases = [
        (normalize(x, (0, 2, 3)), nn.BatchNorm2d(6, dtype=torch.float64).train()(x)),
        (normalize(x, (1, 2, 3)), nn.LayerNorm([6, 5, 5], dtype=torch.float64)(x)),
        (normalize(x, (2, 3)), nn.InstanceNorm2d(6)(x)),
        (group_normalize(x, 3), nn.GroupNorm(3, 6, dtype=torch.float64)(x)),
    ]
    for actual, expected in cases:
        torch.testing.assert_close(actual, expected.detach(), rtol=1e-10, atol=1e-10)


def test_group_norm_spans_layer_norm_and_instance_norm():
    """GroupNorm with 1 group equals LayerNorm over (C, H, W), and with C groups equals InstanceNorm2d."""
    x = torch.randn(3, 8, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(nn.GroupNorm(1, 8, dtype=torch.float64)(x),
                                   nn.LayerNorm([8, 4, 4], dtype=torch.float64)(x))
        torch.testing.assert_close(nn.GroupNorm(8, 8, dtype=torch.float64)(x), nn.InstanceNorm2d(8)(x))


def test_conv_batchnorm_is_fc_batchnorm_over_pixels():
    """BatchNorm2d on (N, C, H, W) equals BatchNorm1d applied to the (N·H·W, C) matrix of pixels, and its running variance too."""
    x = torch.randn(4, 5, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    bn2d = nn.BatchNorm2d(5, dtype=torch.float64).train()
    bn1d = nn.BatchNorm1d(5, dtype=torch.float64).train()
    pixels = x.permute(0, 2, 3, 1).reshape(-1, 5)  # (N·H·W, C): one row per pixel
    with torch.no_grad():
        expected = bn1d(pixels).reshape(4, 3, 3, 5).permute(0, 3, 1, 2)
        torch.testing.assert_close(bn2d(x), expected)
    torch.testing.assert_close(bn2d.running_var, bn1d.running_var)


def test_only_batch_norm_depends_on_the_batch():
    """Changing samples 1..3 of a batch changes sample 0's output under BatchNorm2d in train mode, but not under LayerNorm, InstanceNorm2d or GroupNorm."""
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(4, 6, 5, 5, dtype=torch.float64, generator=generator)
    other = x.clone()
    other[1:] = torch.randn(3, 6, 5, 5, dtype=torch.float64, generator=generator) * 5
    layers = {
        "batch": nn.BatchNorm2d(6, dtype=torch.float64).train(),
        "layer": nn.LayerNorm([6, 5, 5], dtype=torch.float64),
        "instance": nn.InstanceNorm2d(6),
        "group": nn.GroupNorm(3, 6, dtype=torch.float64),
    }
    with torch.no_grad():
        changes = {name: (layer(x)[0] - layer(other)[0]).abs().max().item() for name, layer in layers.items()}
    assert changes["batch"] > 0.1
    assert max(changes["layer"], changes["instance"], changes["group"]) == 0


# %% [markdown]
# ## What batch norm does to training
#
# Scaling the weights before a BN by $a > 0$ scales the pre-activations and their batch standard deviation alike, so
# the output is unchanged (up to $\epsilon$) and, by the chain rule, the gradient with respect to the weights is
# divided by $a$. Two consequences: the forward pass no longer depends on the scale of the initialization, and
# weights that grow get automatically smaller effective steps. BN also keeps each pre-activation at mean $\beta$ and
# standard deviation $\gamma$ (0 and 1 at initialization), which, in front of a sigmoid, is where it has slope.
#
# Below, a 10-layer sigmoid MLP whose weights are 8 times too large (the sigmoid saturates) trains for 150 SGD steps
# (with momentum) on a synthetic regression task, plain and with BN before every sigmoid.

# %%
DEPTH, WIDTH = 10, 32


def sigmoid_mlp(variant, seed=0, scale=8.0):
    torch.manual_seed(seed)
    layers, width = [], 8
    for _ in range(DEPTH):
        linear = nn.Linear(width, WIDTH, dtype=torch.float64)
        nn.init.normal_(linear.weight, std=scale / width**0.5)  # scale 8: 8 times the 1/sqrt(fan_in) scale, saturating
        layers.append(linear)
        if variant == "bn":
            layers.append(nn.BatchNorm1d(WIDTH, dtype=torch.float64))
        layers.append(nn.Sigmoid())
        width = WIDTH
    layers.append(nn.Linear(WIDTH, 1, dtype=torch.float64))
    return nn.Sequential(*layers)


def task(seed=0, n=256):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, dtype=torch.float64, generator=generator)
    return x, torch.sin(x[:, :1]) + x[:, 1:2] * x[:, 2:3]


def train(variant, steps=150, lr=0.1):
    model = sigmoid_mlp(variant)
    x, y = task()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        final = nn.functional.mse_loss(model(x), y).item()
    return torch.tensor(losses), final


RUNS = {variant: train(variant) for variant in ("plain", "bn")}
fig, ax = plt.subplots(figsize=(6, 3.3))
for variant, (losses, _) in RUNS.items():
    ax.semilogy(losses, label=variant)
ax.set(xlabel="SGD step", ylabel="training MSE", title="10-layer sigmoid MLP, weights 8× too large")
ax.legend()
fig.tight_layout()


# %% [markdown]
# ## Claims: training

# %%
def test_batchnorm_is_invariant_to_weight_scale():
    """Linear → BatchNorm1d gives the same output with weights W and 10·W (to 1e-6, with eps 1e-12), and the gradient with respect to 10·W is the gradient with respect to W divided by 10."""
    generator = torch.Generator().manual_seed(4)
    x = torch.randn(64, 8, dtype=torch.float64, generator=generator)
    target = torch.randn(64, 4, dtype=torch.float64, generator=generator)
    weight = torch.randn(4, 8, dtype=torch.float64, generator=generator)
    bn = nn.BatchNorm1d(4, eps=1e-12, dtype=torch.float64, affine=False).train()  # eps would break exact invariance
    results = []
    for scale in (1.0, 10.0):
        w = (scale * weight).requires_grad_()
        out = bn(x @ w.T)
        (grad,) = torch.autograd.grad(((out - target) ** 2).mean(), w)
        results.append((out.detach(), grad))
    torch.testing.assert_close(results[1][0], results[0][0], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(results[1][1], results[0][1] / 10, rtol=1e-5, atol=1e-9)


def test_batchnorm_unsaturates_and_trains_a_deep_sigmoid_network():
    """With weights 8 times too large, the plain sigmoid net's deepest pre-activations have mean slope σ' below 0.1, with BN above 0.18; after 150 steps BN's training loss is below a tenth of the plain network's."""
    x, y = task()
    slopes = {}
    for variant in ("plain", "bn"):
        model = sigmoid_mlp(variant)
        h = x
        with torch.no_grad():
            for module in model[:-2]:  # up to the input of the last sigmoid
                h = module(h)
        slopes[variant] = (torch.sigmoid(h) * (1 - torch.sigmoid(h))).mean().item()
    assert slopes["plain"] < 0.1 and slopes["bn"] > 0.18
    assert RUNS["bn"][0][-1] < RUNS["plain"][0][-1] / 10


def sigmoid_slopes(model, x):
    """Mean slope σ'(z) over the batch at the input z of every sigmoid of the model, in order of depth."""
    slopes = []
    with torch.no_grad():
        for module in model:
            if isinstance(module, nn.Sigmoid):
                slopes.append((torch.sigmoid(x) * (1 - torch.sigmoid(x))).mean().item())
            x = module(x)
    return torch.tensor(slopes)


def test_weight_scale_not_depth_saturates_a_sigmoid_network():
    """Without BN, the mean sigmoid slope stays above 0.2 at all 10 layers with weights of std 1/√fan_in, and is below 0.1 at all 10, the first included, with weights 8 times larger: the weight scale saturates, depth does not."""
    x, _ = task()
    right = sigmoid_slopes(sigmoid_mlp("plain", scale=1.0), x)
    large = sigmoid_slopes(sigmoid_mlp("plain", scale=8.0), x)
    assert len(right) == len(large) == DEPTH
    assert right.min() > 0.2 and large.max() < 0.1


# %% [markdown]
# ## Where it stops holding: γ and β can saturate again
#
# BN puts the pre-activations at mean 0 and variance 1 only at initialization. After it come the learned $\gamma$ and
# $\beta$, which set the mean and spread to whatever training prefers, including the sigmoid's flat tails. BN does not
# guarantee that inputs stay in the sensitive region; it makes their location and scale explicit parameters that
# gradient descent controls, instead of a product of all the weights before them.

# %%
def test_gamma_and_beta_can_resaturate():
    """With γ = 8 (or β = 6) after a BatchNorm1d, the sigmoid's mean slope on the normalized pre-activations drops from above 0.2 to below 0.1."""
    x = torch.randn(512, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(5)) * 7 + 3
    bn = nn.BatchNorm1d(16, dtype=torch.float64).train()

    def mean_slope():
        with torch.no_grad():
            s = torch.sigmoid(bn(x))
        return (s * (1 - s)).mean().item()

    assert mean_slope() > 0.2  # γ = 1, β = 0
    with torch.no_grad():
        bn.weight.fill_(8.0)
    assert mean_slope() < 0.1
    with torch.no_grad():
        bn.weight.fill_(1.0)
        bn.bias.fill_(6.0)
    assert mean_slope() < 0.1


# %% [markdown]
# ## Conclusion
#
# Batch, layer, instance and group norm are one formula with different pooled axes: BN per channel over the batch and
# space (for a fully connected layer, per feature over the batch; for a convolution, the pixels act as samples), LN
# per sample over all features, IN per sample and channel, GN per sample and channel group. Only BN couples a sample
# to its batch, which is why it needs running statistics for inference and struggles with small batches, while
# LN and GN do not. In training, BN makes each layer invariant to its weights' scale and keeps pre-activations where
# the activation has slope at initialization, so a badly initialized deep sigmoid network trains; the learned
# $\gamma, \beta$ can still move them anywhere, saturation included.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

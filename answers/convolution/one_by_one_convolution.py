# %% [markdown]
# # Channels and 1×1 convolutions: the proof
#
# **Question.** What do a convolution's input and output channels do, and what is a 1×1 convolution for?
#
# A `Conv2d` weight has shape $(C_\text{out}, C_\text{in}, k, k)$. Each of the $C_\text{out}$ filters is
# a stack of $C_\text{in}$ kernels: it cross-correlates every input channel with its own kernel and *sums*
# the results into one output channel. A $1\times1$ convolution is the case $k=1$: no spatial extent, only
# that sum over channels, which is a linear layer applied at every pixel. Claims:
#
# 1. each output channel is the sum over input channels of single-channel cross-correlations, plus a bias
#    (`test_output_channel_sums_per_channel_correlations`);
# 2. the output channels are independent filters: a layer with $C_\text{out}$ filters is $C_\text{out}$
#    one-filter layers side by side (`test_output_channels_are_independent_filters`);
# 3. a $1\times1$ convolution is a `Linear(C_in, C_out)` applied to every pixel, and sees no neighbour
#    (`test_1x1_conv_is_a_linear_layer_per_pixel`);
# 4. two $1\times1$ convolutions with nothing between them are one $1\times1$ convolution; the non-linearity
#    comes from the activation after it (`test_stacked_1x1_convs_collapse_without_an_activation`);
# 5. in MobileNet v1 the $1\times1$ convolutions do 94.86% of the multiply-adds and hold 74.59% of the
#    parameters, the figures of the paper's Table 2 (`test_1x1_convs_dominate_mobilenet`).

# %% [markdown]
# ## Filters as stacks of kernels
#
# We draw the weights of a $3\to4$ channel $3\times3$ convolution as a grid: row $o$ is filter $o$, column
# $i$ is the kernel it applies to input channel $i$. Output channel $o$ is the sum of the row's $C_\text{in}$
# cross-correlations.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

torch.manual_seed(0)
demo = nn.Conv2d(3, 4, 3)
fig, axes = plt.subplots(4, 3, figsize=(4.5, 5.6))
limit = demo.weight.abs().max().item()
for o in range(4):
    for i in range(3):
        axes[o, i].imshow(demo.weight[o, i].detach().numpy(), cmap="coolwarm", vmin=-limit, vmax=limit)
        axes[o, i].set_xticks([])
        axes[o, i].set_yticks([])
        if o == 0:
            axes[o, i].set_title(f"input ch {i}")
    axes[o, 0].set_ylabel(f"filter {o}")
fig.suptitle("Conv2d(3, 4, 3).weight: 4 filters × 3 kernels")
fig.tight_layout()

# %% [markdown]
# ## Claims: what the channels do


# %%
def test_output_channel_sums_per_channel_correlations():
    """Each output channel o equals Σ_i conv2d(x[:, i], W[o, i]) + b[o], single-channel cross-correlations summed over input channels."""
    torch.manual_seed(0)
    layer = nn.Conv2d(3, 4, 3, padding=1, dtype=torch.float64)
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)  # (B, C_in, H, W)
    expected = torch.stack(
        [
            sum(F.conv2d(x[:, i : i + 1], layer.weight[o : o + 1, i : i + 1], padding=1) for i in range(3))[:, 0]
            + layer.bias[o]
            for o in range(4)
        ],
        dim=1,
    )  # (B, C_out, H, W)
    torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)


def test_output_channels_are_independent_filters():
    """A Conv2d with 4 filters equals 4 single-filter Conv2d layers concatenated, and changing filter 2 changes output channel 2 only."""
    torch.manual_seed(0)
    layer = nn.Conv2d(3, 4, 3, dtype=torch.float64)
    x = torch.randn(2, 3, 7, 7, dtype=torch.float64)
    parts = [F.conv2d(x, layer.weight[o : o + 1], layer.bias[o : o + 1]) for o in range(4)]
    torch.testing.assert_close(layer(x), torch.cat(parts, dim=1), rtol=1e-12, atol=1e-12)
    before = layer(x).detach()
    with torch.no_grad():
        layer.weight[2] += 1.0
    changed = (layer(x).detach() - before).abs().amax(dim=(0, 2, 3))  # (C_out,)
    assert changed[2] > 0.1 and changed[[0, 1, 3]].max() == 0


# %% [markdown]
# ## Claims: the 1×1 convolution
#
# With $k = 1$ the sum over the window disappears and only the sum over channels is left:
# $y[o, h, w] = \sum_i W[o, i]\,x[i, h, w] + b[o]$. Flatten the pixels into rows of a
# $(B H W)\times C_\text{in}$ matrix and this is a fully connected layer, the same one at every pixel.


# %%
def test_1x1_conv_is_a_linear_layer_per_pixel():
    """Conv2d(3, 2, 1) equals Linear(3, 2) with the same weights applied to each pixel's channel vector, and each output pixel depends on its own input pixel only."""
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 2, 1, dtype=torch.float64)
    linear = nn.Linear(3, 2, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(conv.weight[:, :, 0, 0])
        linear.bias.copy_(conv.bias)
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    pixels = x.permute(0, 2, 3, 1).reshape(-1, 3)  # (B·H·W, C_in): one row per pixel
    expected = linear(pixels).reshape(2, 5, 5, 2).permute(0, 3, 1, 2)
    torch.testing.assert_close(conv(x), expected, rtol=1e-12, atol=1e-12)
    # receptive field of one pixel: the gradient of output (1, 3) touches input (1, 3) only
    x.requires_grad_(True)
    conv(x)[0, :, 1, 3].sum().backward()
    support = x.grad[0].abs().sum(dim=0) > 0  # (H, W)
    assert support.nonzero().tolist() == [[1, 3]]


def test_stacked_1x1_convs_collapse_without_an_activation():
    """Two 1×1 convolutions in a row equal one with weight W2·W1 and bias W2·b1 + b2; with a ReLU between them the map is no longer linear."""
    torch.manual_seed(0)
    first = nn.Conv2d(8, 4, 1, dtype=torch.float64)
    second = nn.Conv2d(4, 8, 1, dtype=torch.float64)
    w1, w2 = first.weight[:, :, 0, 0], second.weight[:, :, 0, 0]
    x = torch.randn(2, 8, 5, 5, dtype=torch.float64)
    merged = F.conv2d(x, (w2 @ w1)[:, :, None, None], w2 @ first.bias + second.bias)
    torch.testing.assert_close(second(first(x)), merged, rtol=1e-12, atol=1e-12)
    with_relu = nn.Sequential(first, nn.ReLU(), second)
    y = torch.randn(2, 8, 5, 5, dtype=torch.float64)
    additive_gap = with_relu(x + y) - with_relu(x) - with_relu(y) + with_relu(torch.zeros_like(x))
    assert additive_gap.abs().max() > 0.1  # a linear (affine) map would give exactly 0


# %% [markdown]
# ## Claims: where the 1×1 convolutions carry the cost
#
# MobileNet v1 (Howard et al. 2017, Table 1) is a $3\times3$ convolution followed by 13 depthwise separable
# blocks and a linear classifier. We build its convolutions on the `meta` device and count multiply-adds per
# layer type with `FlopCounterMode` (FLOPs / 2). Table 2 of the paper reports 94.86% of the multiply-adds and
# 74.59% of the parameters in the $1\times1$ layers; the parameter share matches when, as there, the classifier's
# bias is left out. TF-slim's `nets/mobilenet_v1.py` lists parameters and multiply-adds per layer in its docstring;
# we check the first three layers against it.


# %%
MOBILENET_V1 = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5, (1024, 2), (1024, 1)]


def mobilenet_v1_costs():
    """Multiply-adds and weights per layer type of MobileNet v1 at 224×224 (no BN; classifier weights only)."""
    costs = {"1x1": [0, 0], "depthwise": [0, 0], "3x3": [0, 0], "fc": [1024 * 1000, 1024 * 1000], "layers": []}
    with torch.device("meta"):
        layers = [nn.Conv2d(3, 32, 3, 2, 1, bias=False)]
        channels = 32
        for out_channels, stride in MOBILENET_V1:
            layers += [
                nn.Conv2d(channels, channels, 3, stride, 1, groups=channels, bias=False),
                nn.Conv2d(channels, out_channels, 1, bias=False),
            ]
            channels = out_channels
    x = torch.empty(1, 3, 224, 224, device="meta")
    for layer in layers:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            y = layer(x)
        kind = "1x1" if layer.kernel_size == (1, 1) else "depthwise" if layer.groups > 1 else "3x3"
        costs[kind][0] += counter.get_total_flops() // 2
        costs[kind][1] += layer.weight.numel()
        costs["layers"].append((layer.weight.numel(), counter.get_total_flops() // 2))
        x = y
    assert x.shape == (1, 1024, 7, 7)
    return costs


def test_1x1_convs_dominate_mobilenet():
    """In MobileNet v1 the 1×1 convolutions do 94.86% of the 569 M multiply-adds and hold 74.59% of the 4.2 M weights, as in Table 2 of the paper, and the first layers match TF-slim's per-layer table."""
    costs = mobilenet_v1_costs()
    # per layer, (params, MACs) as tabulated in the docstring of TF-slim's nets/mobilenet_v1.py
    assert costs.pop("layers")[:3] == [(864, 10_838_016), (288, 3_612_672), (2_048, 25_690_112)]
    macs = sum(c[0] for c in costs.values())
    weights = sum(c[1] for c in costs.values())
    assert round(macs / 1e6) == 569 and round(weights / 1e6, 1) == 4.2
    assert round(100 * costs["1x1"][0] / macs, 2) == 94.86
    assert round(100 * costs["1x1"][1] / weights, 2) == 74.59
    assert round(100 * costs["depthwise"][0] / macs, 2) == 3.06


# %% [markdown]
# ## Conclusion
#
# Output channels are independent filters, each a stack of per-input-channel kernels whose responses are summed:
# that sum is how a layer combines the patterns of the layer below. A $1\times1$ convolution keeps only the sum,
# so it is a per-pixel linear layer: it mixes channels, changes their number cheaply, and adds non-linearity only
# through the activation after it. In efficient networks those cheap layers end up doing nearly all the work.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

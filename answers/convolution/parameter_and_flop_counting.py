# %% [markdown]
# # Counting parameters and FLOPs: the proof
#
# **Question.** What are a model's parameter count and its FLOPs, and how do you compute them for a
# convolution, a linear layer and a whole network?
#
# A parameter is a tensor entry that the optimizer updates; a FLOP is one floating-point addition or
# multiplication. This module counts both by formula and checks the formulas against PyTorch's own
# counters (`numel()` of `parameters()`, `FlopCounterMode`) and against the shapes PyTorch produces. Claims:
#
# 1. a convolution has $C_\text{out}\cdot\frac{C_\text{in}}{g}\cdot k_h k_w$ weights plus $C_\text{out}$
#    biases, a linear layer $C_\text{in} C_\text{out} + C_\text{out}$ (`test_parameter_formulas_match_numel`);
# 2. batch norm adds $2C$ parameters; its running statistics are buffers, saved but not trained
#    (`test_batch_norm_statistics_are_buffers_not_parameters`);
# 3. the output side is $\lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1$ on every shape tried
#    (`test_output_size_formula_matches_pytorch`);
# 4. a convolution costs $2\,N C_\text{out} H' W' \cdot \frac{C_\text{in}}{g} k^2$ FLOPs, twice its
#    multiply-accumulates, bias not counted (`test_conv_flops_are_twice_the_multiply_accumulates`);
# 5. the note's formula for the S2.4 layer counts multiply-accumulates of one image, and only with `pad` read as
#    the total padding does it get the output side right (`test_note_formula_undercounts_the_s2_4_layer`);
# 6. in VGG-16, 89% of the parameters sit in the three linear layers while 99% of the FLOPs sit in the
#    convolutions (`test_vgg16_parameters_live_in_the_linear_layers`);
# 7. ResNet's 1×1 bottleneck on 256 channels costs about what a basic block on 64 channels does, 17 times
#    less than two 3×3 convolutions on 256 channels (`test_bottleneck_costs_what_a_narrow_basic_block_costs`).

# %% [markdown]
# ## Two counters
#
# `count_parameters` sums `numel()` over `parameters()`, which is exactly what the optimizer sees.
# `count_flops` runs a forward pass under `FlopCounterMode`, which counts the FLOPs of matrix multiplies
# and convolutions (2 per multiply-accumulate) and nothing else. Both work on the `meta` device, where
# tensors have shapes but no data, so even VGG-16 costs no memory.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from answers._models import PUBLISHED, BasicBlock, Bottleneck, count_flops, count_parameters, vgg16


def conv_parameters(in_channels, out_channels, kernel_size, groups=1, bias=True):
    kh, kw = kernel_size
    return out_channels * (in_channels // groups) * kh * kw + (out_channels if bias else 0)


def output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


# %% [markdown]
# ## Where VGG-16 keeps its parameters and spends its FLOPs
#
# We walk VGG-16 layer by layer at 224×224 and record, for each convolution and linear layer, its share of
# the parameters and of the FLOPs. The two shares are almost disjoint: the first linear layer alone holds
# 74% of the weights, while the convolutions at high resolution do nearly all the arithmetic.

# %%
def vgg16_layer_costs():
    with torch.device("meta"):
        model = vgg16()
    x = torch.empty(1, 3, 224, 224, device="meta")  # (B, C, H, W)
    rows = []
    layers = [*model.features, model.avgpool, nn.Flatten(), *model.classifier]
    for layer in layers:
        flops = count_flops(layer, x)
        with torch.no_grad():
            x = layer(x)
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            rows.append((type(layer).__name__, count_parameters(layer), flops))
    return model, rows


VGG16, VGG16_ROWS = vgg16_layer_costs()
total_params = sum(p for _, p, _ in VGG16_ROWS)
total_flops = sum(f for _, _, f in VGG16_ROWS)
fig, ax = plt.subplots(figsize=(10, 3.4))
index = range(len(VGG16_ROWS))
ax.bar([i - 0.2 for i in index], [100 * p / total_params for _, p, _ in VGG16_ROWS], 0.4, label="share of parameters")
ax.bar([i + 0.2 for i in index], [100 * f / total_flops for _, _, f in VGG16_ROWS], 0.4, label="share of FLOPs")
ax.set_xticks(list(index), [f"conv{i + 1}" for i in range(13)] + ["fc1", "fc2", "fc3"], rotation=45)
ax.set_ylabel("% of VGG-16 total")
ax.set_title(f"VGG-16 at 224×224: {total_params:,} parameters, {total_flops / 1e9:.2f} GFLOPs")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Claims: parameters
#
# The formulas count what `numel()` counts. Grouped convolutions divide the input channels each filter
# sees by $g$; biases add one number per output channel.


# %%
def test_parameter_formulas_match_numel():
    """Conv2d holds C_out·(C_in/g)·kh·kw weights plus C_out biases and Linear holds C_in·C_out + C_out, as numel() counts, for biases on and off, groups and non-square kernels."""
    configs = [  # (in_channels, out_channels, kernel_size, groups, bias)
        (3, 64, (3, 3), 1, True),
        (64, 128, (1, 1), 1, False),
        (32, 64, (3, 5), 4, True),
        (16, 16, (7, 7), 16, False),
    ]
    for in_channels, out_channels, kernel_size, groups, bias in configs:
        conv = nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias, device="meta")
        assert count_parameters(conv) == conv_parameters(in_channels, out_channels, kernel_size, groups, bias)
    linear = nn.Linear(25088, 4096, device="meta")
    assert count_parameters(linear) == 25088 * 4096 + 4096
    # the note's "Kh·Kw·Cin·Cout" is right only without bias and groups
    conv = nn.Conv2d(32, 64, 3, groups=4, device="meta")
    assert count_parameters(conv) != 3 * 3 * 32 * 64


def test_batch_norm_statistics_are_buffers_not_parameters():
    """BatchNorm2d(C) trains 2C parameters (γ, β); its running mean and variance are buffers in the state_dict that the optimizer never sees, and a conv before it usually drops its bias."""
    bn = nn.BatchNorm2d(64)
    assert count_parameters(bn) == 2 * 64
    assert {name for name, _ in bn.named_buffers()} == {"running_mean", "running_var", "num_batches_tracked"}
    state_numel = sum(t.numel() for t in bn.state_dict().values())
    assert state_numel == 4 * 64 + 1  # saved: γ, β, mean, var and a step counter
    # torchvision's ResNets put bias=False on every conv followed by BN: β already shifts each channel
    block = BasicBlock(64, 64)
    assert block.conv1.bias is None and block.conv2.bias is None


def test_vgg16_parameters_live_in_the_linear_layers():
    """VGG-16 has torchvision's published 138,357,544 parameters, 89% of them in its three linear layers, while its convolutions do over 99% of its FLOPs."""
    assert count_parameters(VGG16) == PUBLISHED["vgg16"][1] == total_params
    linear_params = sum(p for kind, p, _ in VGG16_ROWS if kind == "Linear")
    conv_flops = sum(f for kind, _, f in VGG16_ROWS if kind == "Conv2d")
    assert linear_params == (25088 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)
    assert 0.89 < linear_params / total_params < 0.90
    assert conv_flops / total_flops > 0.99
    assert count_flops(VGG16, torch.empty(1, 3, 224, 224, device="meta")) == total_flops


# %% [markdown]
# ## Claims: output size and FLOPs
#
# A convolution does one multiply-accumulate (MAC) per weight per output element: a multiply and an add,
# 2 FLOPs. The number of output elements needs the output size, so we check that formula first, on every
# combination of a small grid of sizes, kernels, strides, paddings and dilations.


# %%
def test_output_size_formula_matches_pytorch():
    """H' = floor((H + 2p − d(k−1) − 1)/s) + 1 equals the side of Conv2d's output on 390 shapes, and (H − k + p)/s + 1 with p the per-side padding does not."""
    checked = wrong_by_note = 0
    for size in (5, 7, 8, 13):
        for kernel_size in (1, 2, 3, 5):
            for stride in (1, 2, 3):
                for padding in (0, 1, 2):
                    for dilation in (1, 2, 3):
                        if output_size(size, kernel_size, stride, padding, dilation) < 1:
                            continue
                        conv = nn.Conv2d(1, 1, kernel_size, stride, padding, dilation, device="meta")
                        actual = conv(torch.empty(1, 1, size, size, device="meta")).shape[-1]
                        assert actual == output_size(size, kernel_size, stride, padding, dilation)
                        checked += 1
                        if dilation == 1 and padding > 0:
                            wrong_by_note += actual != (size - kernel_size + padding) // stride + 1
    assert checked == 390
    assert wrong_by_note > 0


def test_conv_flops_are_twice_the_multiply_accumulates():
    """FlopCounterMode counts 2·N·C_out·H'·W'·(C_in/g)·kh·kw FLOPs for a convolution (bias ignored), 2·N·C_in·C_out for a linear layer, and nothing for ReLU or batch norm."""
    cases = [  # (N, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, size)
        (1, 3, 8, 3, 1, 1, 1, 1, 16),
        (4, 16, 32, 5, 2, 2, 1, 4, 15),
        (2, 8, 8, 3, 1, 2, 2, 8, 12),
    ]
    for n, c_in, c_out, k, s, p, d, g, size in cases:
        conv = nn.Conv2d(c_in, c_out, k, s, p, d, g, bias=True, device="meta")
        out = output_size(size, k, s, p, d)
        macs = n * c_out * out * out * (c_in // g) * k * k
        assert count_flops(conv, torch.empty(n, c_in, size, size, device="meta")) == 2 * macs
    assert count_flops(nn.Linear(100, 10, device="meta"), torch.empty(4, 100, device="meta")) == 2 * 4 * 100 * 10
    x = torch.empty(4, 8, 16, 16, device="meta")
    assert count_flops(nn.Sequential(nn.BatchNorm2d(8, device="meta"), nn.ReLU()), x) == 0


def test_note_formula_undercounts_the_s2_4_layer():
    """For the S2.4 layer (n, c_in, w, h) → (n, c_out, w, h) with stride 1, FlopCounterMode counts 2·n·k²·c_in·c_out·w·h, which is 2n times the note's formula with pad read as the total padding k − 1; read as the per-side padding, the note's output side is one pixel short of PyTorch's."""
    n, c_in, c_out, k, w, h = 8, 16, 32, 3, 20, 12
    per_side = (k - 1) // 2  # keeps w × h
    conv = nn.Conv2d(c_in, c_out, k, padding=per_side, device="meta")
    out = conv(torch.empty(n, c_in, w, h, device="meta"))  # (n, c_out, w, h)
    assert out.shape == (n, c_out, w, h)
    actual = count_flops(conv, torch.empty(n, c_in, w, h, device="meta"))
    assert actual == 2 * n * k * k * c_in * c_out * w * h

    def note(pad):  # k·k·c_in·c_out·((w − k + pad)/s + 1)·((h − k + pad)/s + 1), s = 1
        return k * k * c_in * c_out * ((w - k + pad) // 1 + 1) * ((h - k + pad) // 1 + 1)

    total = 2 * per_side
    assert actual == 2 * n * note(total)  # right for one image, in MACs: missing only the batch and the factor 2
    assert (w - k + per_side) + 1 != out.shape[2]  # per-side pad: the output side comes out w − 1
    assert actual > 2 * n * note(per_side)


def test_bottleneck_costs_what_a_narrow_basic_block_costs():
    """At 56×56, ResNet-50's bottleneck on 256 channels (1×1 to 64, 3×3, 1×1 back to 256) costs within 6% of a basic block on 64 channels, as the ResNet paper says, and 17× less than two 3×3 convolutions on 256 channels."""
    x64 = torch.empty(1, 64, 56, 56, device="meta")
    x256 = torch.empty(1, 256, 56, 56, device="meta")
    with torch.device("meta"):
        bottleneck, basic64, basic256 = Bottleneck(256, 64), BasicBlock(64, 64), BasicBlock(256, 256)
    flops = {name: count_flops(block, x) for name, block, x in
             [("bottleneck", bottleneck, x256), ("basic64", basic64, x64), ("basic256", basic256, x256)]}
    assert flops["bottleneck"] == 2 * 56 * 56 * (256 * 64 + 9 * 64 * 64 + 64 * 256)
    assert abs(flops["bottleneck"] / flops["basic64"] - 1) < 0.06
    assert 16.5 < flops["basic256"] / flops["bottleneck"] < 17.5


# %% [markdown]
# ## Where the counts stop being the cost
#
# FLOPs count arithmetic, not time. `FlopCounterMode` gives batch norm, ReLU, pooling and residual additions
# zero FLOPs (`test_conv_flops_are_twice_the_multiply_accumulates`), yet they read and write whole feature maps,
# and on a GPU such memory-bound layers can take a large share of the run time. Parameter count is not
# memory either: during training the activations saved for the backward pass usually outweigh the weights.
# Both counters are proxies; latency has to be measured on the target device.
#
# ## Conclusion
#
# Parameters are the entries of `parameters()`: conv and linear weights and biases, batch norm's $\gamma$ and
# $\beta$, and no running statistics. FLOPs of a convolution are twice its multiply-accumulates,
# $2\,N C_\text{out} H'W' (C_\text{in}/g) k_h k_w$, with the output size taken from the floor formula. The two
# counts live in different places: VGG-16's weights are in its linear layers, its arithmetic in its
# convolutions. A 1×1 bottleneck cuts the cost of a 3×3 layer by shrinking the channels it sees.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

# %% [markdown]
# # Design choices of the classic CNNs: the proof
#
# **Question.** From LeNet to ResNet, what did each classic CNN change, what do "depth" and "width" mean,
# why halve the resolution while doubling the channels, and how do you add layers to a network?
#
# The module counts the classic networks on the shared definitions (`answers/_models.py`) plus a LeNet-5,
# and measures the rules of thumb behind them. Claims:
#
# 1. LeNet-5 has about 60K parameters, as LeCun et al. (1998) report (`test_lenet5_has_about_60k_parameters`);
# 2. halving $H, W$ while doubling $C$ keeps a 3×3 convolution's MACs constant: every C→C convolution of
#    VGG-16's stages 1–4 costs the same 1.85G MACs, while the activation size halves at every stage (`test_halving_and_doubling_keeps_the_cost`);
# 3. scaling every layer's width by 2 multiplies the cost by about 4, doubling the layers per stage by
#    2.3–2.5 (`test_width_scales_cost_quadratically_depth_linearly`);
# 4. a "ResNet-24" is ResNet-18 with three more basic blocks; inserted with their last BN at zero, they
#    leave a pretrained ResNet-18's outputs unchanged (`test_resnet24_by_inserting_identity_blocks`);
# 5. AlexNet's ReLU has derivative 1 on all positive inputs, where a sigmoid's is at most 1/4; at 0 PyTorch
#    uses 0 for ReLU, so "a better derivative at 0" is not the reason (`test_relu_gradient_does_not_saturate`);
# 6. max and average pooling pass back the same total gradient; max pooling sends all of it to one input
#    (`test_max_and_average_pooling_pass_the_same_total_gradient`).

# %% [markdown]
# ## Classic networks, counted
#
# Parameters and multiply-accumulates of each network at its native input size, on the `meta` device.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from answers._models import BasicBlock, ResNet, alexnet, count_parameters, googlenet, resnet18, resnet50, vgg16


def lenet5():
    """LeNet-5 with full C3 connectivity and a Linear output layer (the modern reading, as in d2l)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2),  # (B, 6, 14, 14)
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2),  # (B, 16, 5, 5)
        nn.Flatten(), nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10),
    )


def macs(model, shape):
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.empty(shape, device="meta"))
    return counter.get_total_flops() // 2


NETWORKS = {  # name: (builder, input shape, year)
    "LeNet-5": (lenet5, (1, 1, 28, 28), 1998),
    "AlexNet": (alexnet, (1, 3, 224, 224), 2012),
    "VGG-16": (vgg16, (1, 3, 224, 224), 2014),
    "GoogLeNet": (googlenet, (1, 3, 224, 224), 2014),
    "ResNet-18": (resnet18, (1, 3, 224, 224), 2015),
    "ResNet-50": (resnet50, (1, 3, 224, 224), 2015),
}
COUNTS = {}
for name, (builder, shape, year) in NETWORKS.items():
    with torch.device("meta"):
        model = builder()
    COUNTS[name] = (count_parameters(model), macs(model, shape))

print(f"{'network':<10}  {'year':>4}  {'parameters':>10}  {'MACs':>8}")
for name, (params, m) in COUNTS.items():
    print(f"{name:<10}  {NETWORKS[name][2]:>4}  {params / 1e6:>9.2f}M  {m / 1e9:>7.3f}G")

fig, ax = plt.subplots(figsize=(5, 3.5))
for name, (params, m) in COUNTS.items():
    ax.scatter(params, m)
    left = name == "GoogLeNet"  # its label would sit on ResNet-18's
    ax.annotate(name, (params, m), textcoords="offset points", xytext=(-4 if left else 4, 4),
                ha="right" if left else "left")
ax.set_xscale("log")
ax.set_yscale("log")
ax.margins(0.12)  # room for the VGG-16 label
ax.set_xlabel("parameters")
ax.set_ylabel("MACs per image")
fig.tight_layout()

# %% [markdown]
# ## Claims: the rules of thumb
#
# Counts from `FlopCounterMode` against formulas and published figures.

# %%
def test_lenet5_has_about_60k_parameters():
    """The LeNet-5 above has 61,706 parameters, within 3% of the 60,000 reported by LeCun et al. (1998), and maps 28x28 to 10 logits."""
    params = COUNTS["LeNet-5"][0]
    assert params == (1 * 25 + 1) * 6 + (6 * 25 + 1) * 16 + 401 * 120 + 121 * 84 + 85 * 10 == 61_706
    assert abs(params - 60_000) / 60_000 < 0.03
    torch.manual_seed(0)
    assert lenet5()(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_halving_and_doubling_keeps_the_cost():
    """Every 3x3 conv C->C of VGG-16's stages 1-4 costs 9 C^2 HW = 1.85G MACs (64 at 224 up to 512 at 28); stage 5 keeps 512 at 14 and costs a quarter; activations halve per stage."""
    with torch.device("meta"):
        features = vgg16().features
    per_conv, sizes, x, stage = [[] for _ in range(5)], [], torch.empty(1, 3, 224, 224, device="meta"), 0
    for layer in features:
        if isinstance(layer, nn.Conv2d) and layer.in_channels == layer.out_channels:
            per_conv[stage].append(macs(layer, tuple(x.shape)))
        x = layer(x)
        if isinstance(layer, nn.MaxPool2d):
            sizes.append(x[0].numel())
            stage += 1
    expected = 9 * 64**2 * 224**2  # by hand; C * side is 64 * 224 = 128 * 112 = 256 * 56 = 512 * 28
    assert [set(costs) for costs in per_conv[:4]] == [{expected}] * 4
    assert round(expected / 1e9, 2) == 1.85
    assert set(per_conv[4]) == {expected // 4}  # the doubling stops at 512 channels
    assert [sizes[i] / sizes[i + 1] for i in range(4)] == [2.0, 2.0, 2.0, 4.0]


def plain_net(width, convs_per_stage):
    layers, c_in = [], 3
    for stage in range(3):
        for _ in range(convs_per_stage):
            layers += [nn.Conv2d(c_in, width * 2**stage, 3, padding=1), nn.ReLU()]
            c_in = width * 2**stage
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


def test_width_scales_cost_quadratically_depth_linearly():
    """Doubling every width multiplies a 3-stage net's parameters and MACs by 3.9-4.0; doubling the convs per stage multiplies them by 2.3-2.5."""
    with torch.device("meta"):
        base, wide, deep = plain_net(16, 2), plain_net(32, 2), plain_net(16, 4)
    shape = (1, 3, 32, 32)
    width_params = count_parameters(wide) / count_parameters(base)
    width_macs = macs(wide, shape) / macs(base, shape)
    depth_params = count_parameters(deep) / count_parameters(base)
    depth_macs = macs(deep, shape) / macs(base, shape)
    assert 3.9 < width_params < 4 and 3.9 < width_macs < 4  # the RGB input layer only doubles
    assert 2.3 < depth_params < 2.5 and 2.3 < depth_macs < 2.5  # the added convs are C->C, the costlier kind


def test_resnet24_by_inserting_identity_blocks():
    """ResNet(BasicBlock, [2, 3, 4, 2]) has 24 weighted layers; with ResNet-18's weights and the 3 new blocks' last BN at zero, it gives ResNet-18's outputs."""
    torch.manual_seed(0)
    r18, r24 = resnet18(num_classes=10).eval(), ResNet(BasicBlock, [2, 3, 4, 2], num_classes=10).eval()
    weighted = [n for n, m in r24.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear)) and "downsample" not in n]
    assert len(weighted) == 2 * (2 + 3 + 4 + 2) + 2 == 24
    old = r18.state_dict()
    new = r24.state_dict()
    for key in new:
        if key in old:
            new[key] = old[key]  # same names: layerK.0, layerK.1 exist in both
        elif key.endswith("bn2.weight"):
            new[key] = torch.zeros_like(new[key])  # inserted blocks start as the identity
    r24.load_state_dict(new)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(r24(x), r18(x))


# %% [markdown]
# ## Claims: AlexNet's changes, ReLU and max pooling
#
# Autograd against the closed-form derivatives.

# %%
def test_relu_gradient_does_not_saturate():
    """ReLU's derivative is 1 for every positive input and PyTorch's is 0 at 0; the sigmoid's peaks at 1/4, so 10 sigmoid layers scale a gradient by at most 1/4^10."""
    x = torch.tensor([-2.0, 0.0, 0.5, 3.0, 30.0], requires_grad=True)
    torch.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
    z = torch.linspace(-6, 6, 1201, requires_grad=True)
    torch.sigmoid(z).sum().backward()
    assert torch.isclose(z.grad.max(), torch.tensor(0.25)) and z.grad[600] == 0.25  # at z = 0
    assert z.grad[-1] < 0.0025  # saturated at z = 6
    w = torch.zeros(1, requires_grad=True)
    h = w
    for _ in range(10):
        h = torch.sigmoid(h)
    h.backward()
    assert w.grad.item() <= 0.25**10


def test_max_and_average_pooling_pass_the_same_total_gradient():
    """For non-overlapping 2x2 windows, max and average pooling both pass back a total gradient of 1 per output; max sends it to one input, average 1/4 to each."""
    torch.manual_seed(0)
    x = torch.randn(1, 1, 4, 4, requires_grad=True)
    nn.functional.max_pool2d(x, 2).sum().backward()
    max_grad, x.grad = x.grad.clone(), None
    nn.functional.avg_pool2d(x, 2).sum().backward()
    avg_grad = x.grad
    assert max_grad.sum() == avg_grad.sum() == 4  # 4 outputs
    assert sorted(max_grad.flatten().tolist()) == [0.0] * 12 + [1.0] * 4
    assert torch.all(avg_grad == 0.25)
    assert torch.all(nn.functional.max_pool2d(x, 2) >= nn.functional.avg_pool2d(x, 2))


# %% [markdown]
# ## Conclusion
#
# The classic networks trade parameters and compute in different places: AlexNet's fully connected head,
# VGG's uniform 3×3 stacks with a constant cost per stage, GoogLeNet's 1×1 reductions, ResNet's identity
# shortcuts that let depth grow. Width multiplies cost quadratically and depth linearly; a residual network
# can be deepened without changing its function by inserting blocks that start at the identity.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

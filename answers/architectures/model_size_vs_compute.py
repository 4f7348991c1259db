# %% [markdown]
# # AlexNet vs ResNet-18, parameters vs compute: the proof
#
# **Question.** Why is a ResNet-18 checkpoint five times smaller than AlexNet's, while ResNet-18 needs more
# than twice the compute?
#
# Parameters and FLOPs live in different layers. A fully connected weight is used once per image; a
# convolution weight is reused at every output position. This module counts both, layer by layer, on the
# shared plain-torch definitions (`answers/_models.py`, torchvision's layouts), with PyTorch's
# `FlopCounterMode` on one side and the textbook formulas on the other. Claims:
#
# 1. a float32 checkpoint weighs 4 bytes per parameter plus well under 1% of overhead, measured with
#    `torch.save` (`test_checkpoint_is_four_bytes_per_parameter`);
# 2. AlexNet's three Linear layers hold 96% of its 61.1M parameters, ResNet-18's one Linear 4.4% of 11.7M
#    (`test_parameters_sit_in_alexnets_linear_layers`);
# 3. the convolutions do over 90% of AlexNet's multiply-accumulates and ResNet-18 does 2.5 times as many
#    as AlexNet, counted by `FlopCounterMode` and by hand (`test_compute_sits_in_the_convolutions`);
# 4. MACs per weight is the output's spatial size for a convolution and 1 for a Linear
#    (`test_macs_per_weight_is_the_output_area`);
# 5. ResNet-18's four stages cost about the same, because each halves $H, W$ and doubles $C$
#    (`test_resnet_stages_cost_the_same`);
# 6. where the comparison stops holding: at 448×448 the convolutions cost 4× as much but the
#    parameter count does not move, so the compute ratio depends on the input size
#    (`test_compute_scales_with_input_area_parameters_do_not`).

# %% [markdown]
# ## Counting parameters and multiply-accumulates per layer
#
# Models are built on the `meta` device: shapes without storage, so counting a full-size network costs
# milliseconds. `FlopCounterMode` reports FLOPs $= 2\times$ MACs for convolutions and matmuls, per module.

# %%
import io

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from answers._models import alexnet, count_parameters, resnet18


def on_meta(builder):
    with torch.device("meta"):
        return builder()


def layers_of(model):
    """The Conv2d and Linear layers, named as in the state_dict."""
    return {name: m for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}


def macs_by_flop_counter(model, side=224):
    """MACs per layer name, from FlopCounterMode's per-module totals (FLOPs / 2)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.empty(1, 3, side, side, device="meta"))
    per_module = counter.get_flop_counts()  # keys: "AlexNet.features.0", ...
    prefix = type(model).__name__
    return {name: sum(per_module[f"{prefix}.{name}"].values()) // 2 for name in layers_of(model)}


ALEX, R18 = on_meta(alexnet), on_meta(resnet18)
MACS = {"alexnet": macs_by_flop_counter(ALEX), "resnet18": macs_by_flop_counter(R18)}


def group(name):
    """Layer name -> the group reported in the table: a ResNet stage or an AlexNet layer."""
    return name.split(".")[0] if name.startswith(("layer", "conv1", "fc")) else name


def table(model, macs):
    rows = {}
    for name, layer in layers_of(model).items():
        params = sum(p.numel() for p in layer.parameters())
        g = group(name)
        kind = "Linear" if isinstance(layer, nn.Linear) else "Conv"
        p0, m0, _ = rows.get(g, (0, 0, kind))
        rows[g] = (p0 + params, m0 + macs[name], kind)
    return rows


print(f"{'model':<10}{'layer':<14}{'kind':<8}{'parameters':>10}  {'MACs at 224x224':>15}")
for key, model in (("alexnet", ALEX), ("resnet18", R18)):
    for g, (params, macs, kind) in table(model, MACS[key]).items():
        print(f"{key:<10}{g:<14}{kind:<8}{params / 1e6:>9.2f}M  {macs / 1e6:>14.0f}M")

# %% [markdown]
# ## Where the parameters and the compute sit
#
# Share of each model's parameters and MACs by layer kind: AlexNet's parameters are in its Linear layers,
# its compute in its convolutions; ResNet-18 has almost everything in convolutions.

# %%
def split_by_kind(model, macs):
    out = {"Conv": [0, 0], "Linear": [0, 0]}
    for params, m, kind in table(model, macs).values():
        out[kind][0] += params
        out[kind][1] += m
    return out


fig, axes = plt.subplots(1, 2, figsize=(8, 3))
for ax, (key, model) in zip(axes, (("alexnet", ALEX), ("resnet18", R18))):
    split = split_by_kind(model, MACS[key])
    for i, kind in enumerate(("Conv", "Linear")):
        params, m = split[kind]
        ax.bar([0 + 0.4 * i, 1 + 0.4 * i], [params / 1e6, m / 1e8], width=0.4, label=kind)
    ax.set_xticks([0.2, 1.2], ["parameters (M)", "MACs (100M)"])
    ax.set_title(key)
    ax.set_ylabel("count (unit under each bar)")
    ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Claims: file size and parameters
#
# A checkpoint stores every tensor of the `state_dict` (parameters and, for ResNet, BN's running
# statistics) in float32. Saving ResNet-18 for real (uninitialised storage, so nothing is computed) gives
# the bytes per parameter; AlexNet's file is then 4 bytes × 61.1M ≈ 244 MB (233 MiB), ResNet-18's 47 MB.

# %%
def test_checkpoint_is_four_bytes_per_parameter():
    """torch.save of ResNet-18 writes 4 bytes per parameter plus under 1% overhead (46.8 MB); AlexNet's 61.1M parameters make 244 MB."""
    model = on_meta(resnet18).to_empty(device="cpu")  # storage without initialisation
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    actual = buffer.tell()
    expected = 4 * count_parameters(model)
    assert expected < actual < 1.01 * expected
    alex_bytes = 4 * count_parameters(ALEX)
    assert 240e6 < alex_bytes < 250e6 and alex_bytes / actual > 5  # published .pth files: 233 MiB and 44.7 MiB


def test_parameters_sit_in_alexnets_linear_layers():
    """AlexNet's three Linear layers hold 58.6M of its 61.1M parameters (96%); ResNet-18's fc holds 0.51M of 11.7M (4.4%)."""
    alex, r18 = split_by_kind(ALEX, MACS["alexnet"]), split_by_kind(R18, MACS["resnet18"])
    # by hand, from the layer shapes: 9216 -> 4096 -> 4096 -> 1000, each with a bias
    expected_fc = (9216 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000
    assert alex["Linear"][0] == expected_fc == 58_631_144
    assert round(alex["Linear"][0] / count_parameters(ALEX), 2) == 0.96
    assert r18["Linear"][0] == 512 * 1000 + 1000
    assert round(r18["Linear"][0] / count_parameters(R18), 3) == 0.044


def conv_macs_by_hand(c_in, c_out, k, side_out):
    return c_in * c_out * k * k * side_out * side_out


def test_compute_sits_in_the_convolutions():
    """AlexNet's five convolutions do 656M of its 714M MACs (92%); ResNet-18 does 1.81G MACs, 2.5x AlexNet."""
    alex = split_by_kind(ALEX, MACS["alexnet"])
    # the five convolutions of torchvision's AlexNet, written out: (C_in, C_out, k, output side)
    by_hand = sum(
        conv_macs_by_hand(*spec)
        for spec in [(3, 64, 11, 55), (64, 192, 5, 27), (192, 384, 3, 13), (384, 256, 3, 13), (256, 256, 3, 13)]
    )
    assert alex["Conv"][1] == by_hand
    total_alex = sum(MACS["alexnet"].values())
    total_r18 = sum(MACS["resnet18"].values())
    assert round(by_hand / total_alex, 2) == 0.92
    assert round(total_alex / 1e9, 3) == 0.714 and round(total_r18 / 1e9, 3) == 1.814  # torchvision's "GFLOPS"
    assert 2.4 < total_r18 / total_alex < 2.6


def test_macs_per_weight_is_the_output_area():
    """For every layer, MACs / (weights without bias) equals H_out x W_out for a convolution and 1 for a Linear."""
    for key, model in (("alexnet", ALEX), ("resnet18", R18)):
        outputs = {}
        hooks = [
            m.register_forward_hook(lambda mod, i, o, n=n: outputs.__setitem__(n, o.shape))
            for n, m in layers_of(model).items()
        ]
        with torch.no_grad():
            model(torch.empty(1, 3, 224, 224, device="meta"))
        for h in hooks:
            h.remove()
        for name, layer in layers_of(model).items():
            reuse = MACS[key][name] // layer.weight.numel()
            expected = outputs[name][-1] * outputs[name][-2] if isinstance(layer, nn.Conv2d) else 1
            assert reuse == expected, (key, name)


def test_resnet_stages_cost_the_same():
    """ResNet-18's stem costs 118M MACs and its four stages 462M, 411M, 411M and 411M at 224x224, matching the count by hand."""
    per_stage = {g: m for g, (_, m, _) in table(R18, MACS["resnet18"]).items() if g.startswith("layer")}
    # by hand: a stage at side s with C channels has four 3x3 convs C->C at s x s, except that the first
    # conv of stages 2-4 reads C/2 channels, and a 1x1 projection C/2 -> C runs at s x s
    expected = {"layer1": 4 * conv_macs_by_hand(64, 64, 3, 56)}
    for i, (c, s) in enumerate([(128, 28), (256, 14), (512, 7)], start=2):
        expected[f"layer{i}"] = (
            conv_macs_by_hand(c // 2, c, 3, s) + 3 * conv_macs_by_hand(c, c, 3, s) + conv_macs_by_hand(c // 2, c, 1, s)
        )
    assert per_stage == expected
    assert MACS["resnet18"]["conv1"] == conv_macs_by_hand(3, 64, 7, 112) == 118_013_952  # 7x7/2 stem at 112x112
    assert len(set(list(expected.values())[1:])) == 1  # stages 2-4: identical
    assert max(expected.values()) / min(expected.values()) < 1.15


# %% [markdown]
# ## Where it stops holding
#
# "ResNet-18 costs 2.5× AlexNet" is a statement about 224×224 inputs. Convolution cost scales with the
# output area; parameters do not depend on the input at all, and both models end in an adaptive pooling
# layer, so their Linear layers cost the same at any resolution.

# %%
def test_compute_scales_with_input_area_parameters_do_not():
    """At 448x448 ResNet-18's convolutions do exactly 4x their MACs at 224x224 (AlexNet's total 3.5-4.2x), while Linear MACs and parameter counts do not change."""
    for key, builder in (("alexnet", alexnet), ("resnet18", resnet18)):
        model = on_meta(builder)
        big = macs_by_flop_counter(model, side=448)
        for name, layer in layers_of(model).items():
            factor = 4 if isinstance(layer, nn.Conv2d) else 1
            if key == "alexnet" and isinstance(layer, nn.Conv2d):
                continue  # stride-4 11x11 stem and 3x3/2 pools do not halve exactly: checked in total below
            assert big[name] == factor * MACS[key][name], (key, name)
        assert count_parameters(model) == count_parameters(ALEX if key == "alexnet" else R18)
    alex_big = macs_by_flop_counter(on_meta(alexnet), side=448)
    ratio = sum(alex_big.values()) / sum(MACS["alexnet"].values())
    assert 3.5 < ratio < 4.2


# %% [markdown]
# ## Conclusion
#
# File size follows parameters (4 bytes each in float32); AlexNet's are 96% in its fully connected head,
# where each weight is used once per image. Compute follows weight reuse: a convolution weight does $H_{out}
# W_{out}$ multiply-accumulates, so ResNet-18's 11M convolution weights at 56×56 down to 7×7 do 2.5× the work of
# AlexNet's 2.5M convolution weights. Small file, big compute is the normal case for all-convolutional networks.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

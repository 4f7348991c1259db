# %% [markdown]
# # The Inception block and its 1×1 reductions: the proof
#
# **Question.** How is GoogLeNet's Inception block designed, what do its 1×1 convolutions save, and does
# adding a ResNet shortcut to it make sense?
#
# The module builds GoogLeNet's inception (3a) block in plain torch and counts its parameters and
# multiply-accumulates three ways: from the modules, by `FlopCounterMode`, and against the figures in
# Table 1 of Szegedy et al., "Going deeper with convolutions" (2015). Claims:
#
# 1. the block maps (192, 28, 28) to (256, 28, 28), its four branches giving 64 + 128 + 32 + 32 channels
#    (`test_block_maps_192_to_256_channels`);
# 2. its parameters and MACs match the paper's Table 1 for inception (3a) and (3b): 159K/128M and 380K/304M
#    (`test_counts_match_googlenet_table_1`);
# 3. the 1×1 reductions cut the weights 2.7× against one 3×3 convolution with the same output width and
#    7.5× against a 5×5 one (`test_reductions_cut_parameters`);
# 4. without the reductions (the paper's "naive" block) the same branch widths cost 2.4× the weights and
#    the pooling branch passes all 192 channels on, so the output grows to 416
#    (`test_naive_block_costs_more_and_grows`);
# 5. torchvision's GoogLeNet uses a 3×3 kernel in the "5×5" branch, so its (3a) block has 8,192 fewer weights
#    (`test_torchvision_googlenet_uses_3x3_in_its_5x5_branch`);
# 6. a ResNet shortcut cannot be added to the block as is (192 ≠ 256 channels); Inception-ResNet adds a 1×1
#    projection back to the input width, after which $x + s\,F(x)$ is well defined and starts at the
#    identity when $s = 0$ (`test_residual_inception_needs_a_projection`).

# %% [markdown]
# ## Inception (3a) in plain torch
#
# Four parallel branches on the same input, concatenated along channels: a 1×1 convolution, a 1×1
# reduction followed by a 3×3, a 1×1 reduction followed by a 5×5, and a 3×3 max-pool followed by a 1×1
# projection. Every branch keeps $H \times W$ (padding), so the concatenation is valid.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def conv(c_in, c_out, k):
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=k, padding=k // 2), nn.ReLU())


class Inception(nn.Module):
    """GoogLeNet's Inception block with 1x1 reductions (paper's Figure 2b); reduce=False gives Figure 2a."""

    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, reduce=True):
        super().__init__()
        self.b1 = conv(in_channels, c1, 1)
        if reduce:
            self.b3 = nn.Sequential(conv(in_channels, c3_reduce, 1), conv(c3_reduce, c3, 3))
            self.b5 = nn.Sequential(conv(in_channels, c5_reduce, 1), conv(c5_reduce, c5, 5))
            self.bp = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv(in_channels, pool_proj, 1))
        else:
            self.b3, self.b5 = conv(in_channels, c3, 3), conv(in_channels, c5, 5)
            self.bp = nn.MaxPool2d(3, stride=1, padding=1)  # passes all in_channels on

    def forward(self, x):  # (B, C_in, H, W) -> (B, sum of branch widths, H, W)
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1)


INCEPTION_3A = (192, 64, 96, 128, 16, 32, 32)
INCEPTION_3B = (256, 128, 128, 192, 32, 96, 64)


def weights(model):
    """Parameters without biases, as the paper counts them."""
    return sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))


def macs(model, side=28):
    c_in = next(model.parameters()).shape[1]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.empty(1, c_in, side, side, device="meta"))
    return counter.get_total_flops() // 2


def on_meta(*args, **kwargs):
    with torch.device("meta"):
        return Inception(*args, **kwargs)


# %% [markdown]
# ## The budget with and without reductions
#
# Four ways to turn 192 channels at 28×28 into a wider map: a plain 3×3 or 5×5 convolution to 256 channels,
# the naive block (no 1×1 reductions, 416 channels out), and the real block (256 out).

# %%
CANDIDATES = {
    "3x3 conv 192->256": nn.Conv2d(192, 256, 3, padding=1, device="meta"),
    "5x5 conv 192->256": nn.Conv2d(192, 256, 5, padding=2, device="meta"),
    "naive block (416 out)": on_meta(*INCEPTION_3A, reduce=False),
    "inception 3a (256 out)": on_meta(*INCEPTION_3A),
}
BUDGET = {name: (weights(m), macs(m)) for name, m in CANDIDATES.items()}
print(f"{'layer':<22}{'weights':>10}  {'MACs at 28x28':>13}")
for name, (w, m) in BUDGET.items():
    print(f"{name:<22}{w:>10,}  {m / 1e6:>12.0f}M")

fig, ax = plt.subplots(figsize=(6, 2.6))
ax.barh(list(BUDGET), [w / 1e6 for w, _ in BUDGET.values()])
ax.set_xlabel("weights (millions)")
ax.invert_yaxis()
fig.tight_layout()

# %% [markdown]
# ## Claims
#
# Counts from the modules against counts by hand and the paper's table.

# %%
def test_block_maps_192_to_256_channels():
    """Inception (3a) maps a (1, 192, 28, 28) input to (1, 256, 28, 28): 64 + 128 + 32 + 32 channels, half of them from the 3x3 branch."""
    torch.manual_seed(0)
    block = Inception(*INCEPTION_3A)
    x = torch.randn(1, 192, 28, 28)
    widths = [branch(x).shape[1] for branch in (block.b1, block.b3, block.b5, block.bp)]
    assert widths == [64, 128, 32, 32]
    assert block(x).shape == (1, 256, 28, 28)


def test_counts_match_googlenet_table_1():
    """Inception (3a) has 163,328 weights (the paper's 159K, in units of 1024) and 128M MACs; (3b) 388,096 (380K) and 304M."""
    for spec, paper_k, paper_m in ((INCEPTION_3A, 159, 128), (INCEPTION_3B, 380, 304)):
        c_in, c1, r3, c3, r5, c5, pp = spec
        by_hand = c_in * c1 + c_in * r3 + r3 * c3 * 9 + c_in * r5 + r5 * c5 * 25 + c_in * pp
        block = on_meta(*spec)
        assert weights(block) == by_hand
        assert abs(by_hand / 1024 - paper_k) <= 1  # Table 1's "K" is 1024 (163,328 / 1000 would be 163K)
        assert macs(block) == 28 * 28 * by_hand  # every convolution of the block runs at 28 x 28
        assert round(macs(block) / 1e6) == paper_m


def test_reductions_cut_parameters():
    """The block's 163K weights are 2.7x fewer than a 3x3 conv 192->256 (442K) and 7.5x fewer than a 5x5 one (1.23M)."""
    block = BUDGET["inception 3a (256 out)"][0]
    assert BUDGET["3x3 conv 192->256"][0] == 192 * 256 * 9
    assert BUDGET["5x5 conv 192->256"][0] == 192 * 256 * 25
    assert round(BUDGET["3x3 conv 192->256"][0] / block, 1) == 2.7
    assert round(BUDGET["5x5 conv 192->256"][0] / block, 1) == 7.5


def test_naive_block_costs_more_and_grows():
    """Without 1x1 reductions the same branch widths need 387K weights (2.4x) and the output grows to 416 channels."""
    naive = on_meta(*INCEPTION_3A, reduce=False)
    assert weights(naive) == 192 * 64 + 192 * 128 * 9 + 192 * 32 * 25 == 387_072
    assert round(weights(naive) / BUDGET["inception 3a (256 out)"][0], 1) == 2.4
    with torch.no_grad():
        assert naive(torch.empty(1, 192, 28, 28, device="meta")).shape[1] == 64 + 128 + 32 + 192


# %% [markdown]
# ## The block in torchvision's GoogLeNet
#
# The shared GoogLeNet (`answers/_models.py`, torchvision's layout and its published 6,624,904 parameters)
# uses a 3×3 kernel in the "5×5" branch, a known discrepancy kept for its checkpoints, and batch norm without
# conv biases. Its inception (3a) therefore has $16\cdot 32\cdot(25 - 9) = 8{,}192$ fewer convolution weights.

# %%
def test_torchvision_googlenet_uses_3x3_in_its_5x5_branch():
    """torchvision's inception (3a) has 155,136 convolution weights, the paper's 163,328 minus 16 x 32 x 16 for its 3x3 "5x5" branch, and the same 256 output channels."""
    from answers._models import googlenet

    with torch.device("meta"):
        block = googlenet().inception3a
    conv_weights = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))
    assert conv_weights == weights(on_meta(*INCEPTION_3A)) - 16 * 32 * (25 - 9) == 155_136
    with torch.no_grad():
        assert block(torch.empty(1, 192, 28, 28, device="meta")).shape == (1, 256, 28, 28)


# %% [markdown]
# ## Where it stops holding: adding a ResNet shortcut
#
# A shortcut adds the input to the block's output, so the shapes must match, and a standard Inception block
# widens its input. Inception-ResNet (Szegedy et al., 2017, "Inception-v4, Inception-ResNet and the Impact of
# Residual Connections on Learning") drops the pooling branch, adds a 1×1 convolution without activation
# that maps the concatenation back to the input width, and scales the branch by 0.1–0.3 before the addition.

# %%
class InceptionResidual(nn.Module):
    """x + scale * Proj(concat of branches): a block in the style of Inception-ResNet."""

    def __init__(self, block, concat_channels, in_channels, scale=0.2):
        super().__init__()
        self.block, self.scale = block, scale
        self.project = nn.Conv2d(concat_channels, in_channels, kernel_size=1)  # linear: no ReLU

    def forward(self, x):
        return x + self.scale * self.project(self.block(x))


def test_residual_inception_needs_a_projection():
    """x + Inception(x) raises (192 vs 256 channels); with a 1x1 projection to 192 it runs, costs 49,344 more parameters, and is the identity at scale 0."""
    torch.manual_seed(0)
    block = Inception(*INCEPTION_3A)
    x = torch.randn(1, 192, 8, 8)
    try:
        x + block(x)
        raised = False
    except RuntimeError:
        raised = True
    assert raised
    residual = InceptionResidual(block, 256, 192)
    assert residual(x).shape == x.shape
    assert sum(p.numel() for p in residual.project.parameters()) == 256 * 192 + 192 == 49_344
    residual.scale = 0.0
    torch.testing.assert_close(residual(x), x, rtol=0, atol=0)


# %% [markdown]
# ## Conclusion
#
# The Inception block splits its output width among receptive fields of 1, 3, 5 and a pooled 3, and puts a
# 1×1 convolution before each expensive branch to shrink the channels it reads: (3a) costs 163K weights and
# 128M MACs, as Table 1 says, against 442K for one 3×3 convolution of the same width. The block widens its
# input, so a residual version needs a 1×1 projection back to the input width; that is Inception-ResNet
# (Inception-v4 paper), not Inception-v3, which has no shortcuts.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

# %% [markdown]
# # Grouped convolution and channel shuffle: the proof
#
# **Question.** What is a grouped convolution, what does it save, and why does ShuffleNet shuffle channels
# after it?
#
# `Conv2d(C_in, C_out, k, groups=g)` splits the input channels into $g$ groups of $C_\text{in}/g$ and the
# filters into $g$ groups of $C_\text{out}/g$; each group of filters sees only its own group of inputs.
# Claims:
#
# 1. it is split, convolve each group, concatenate (`test_grouped_conv_is_split_convolve_concatenate`);
# 2. it is a standard convolution whose weight is block-diagonal over channels, so weights and FLOPs fall by
#    $g$ (`test_grouped_conv_is_block_diagonal_and_g_times_cheaper`);
# 3. $g$ must divide both channel counts (`test_groups_must_divide_both_channel_counts`);
# 4. channel shuffle is reshape $(g, C/g)$, transpose, flatten: on the note's example $[0..8]$ with 3 groups
#    it gives $[0\,3\,6\,1\,4\,7\,2\,5\,8]$, as `nn.ChannelShuffle` does, and shuffling with $C/g$ groups undoes it
#    (`test_channel_shuffle_on_the_notes_example`);
# 5. without a shuffle, stacked grouped convolutions never mix groups; with one, every output channel
#    depends on every input channel (`test_shuffle_lets_information_cross_groups`);
# 6. at equal FLOPs, more groups means more memory traffic, ShuffleNet v2's second guideline
#    (`test_more_groups_move_more_memory_at_equal_flops`).

# %% [markdown]
# ## Which inputs reach which outputs
#
# We stack two grouped $1\times1$ convolutions on 12 channels with 3 groups, as in a ShuffleNet unit, and
# read off which input channels each output channel depends on. The layers are linear, so feeding them one
# channel at a time gives the dependency matrix directly.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from answers._models import count_flops
from torch.utils.flop_counter import FlopCounterMode


def channel_shuffle(x, groups):
    """(B, C, H, W) -> (B, C, H, W): channel g·(C/groups) + j moves to position j·groups + g."""
    b, c, h, w = x.shape
    return x.reshape(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


def dependency(layers, channels):
    """(C_out, C_in) boolean matrix: does output channel o change with input channel i?"""
    basis = torch.eye(channels, dtype=torch.float64)[:, :, None, None]  # (C_in, C_in, 1, 1): one channel each
    with torch.no_grad():
        response = layers(basis)[:, :, 0, 0]  # (C_in, C_out)
    return response.T.abs() > 1e-12


torch.manual_seed(0)
first = nn.Conv2d(12, 12, 1, groups=3, bias=False, dtype=torch.float64)
second = nn.Conv2d(12, 12, 1, groups=3, bias=False, dtype=torch.float64)
plain = nn.Sequential(first, second)
shuffled = nn.Sequential(first, nn.ChannelShuffle(3), second)
fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.8))
for ax, (title, layers) in zip(axes, [("two group convs", plain), ("with a channel shuffle between", shuffled)]):
    ax.imshow(dependency(layers, 12).numpy(), cmap="Greys", vmin=0, vmax=1)  # all-True must show black
    ax.set_title(title)
    ax.set_xlabel("input channel")
    ax.set_ylabel("output channel")
fig.tight_layout()

# %% [markdown]
# ## Claims: what a grouped convolution is


# %%
def test_grouped_conv_is_split_convolve_concatenate():
    """Conv2d(8, 12, 3, groups=4) equals splitting the input into 4 groups of 2 channels, convolving each with its 3 filters, and concatenating."""
    torch.manual_seed(0)
    layer = nn.Conv2d(8, 12, 3, padding=1, groups=4, dtype=torch.float64)
    x = torch.randn(2, 8, 6, 6, dtype=torch.float64)  # (B, C_in, H, W)
    assert layer.weight.shape == (12, 2, 3, 3)  # (C_out, C_in / g, k, k)
    pieces = [
        F.conv2d(x[:, 2 * g : 2 * g + 2], layer.weight[3 * g : 3 * g + 3], layer.bias[3 * g : 3 * g + 3], padding=1)
        for g in range(4)
    ]
    torch.testing.assert_close(layer(x), torch.cat(pieces, dim=1), rtol=1e-12, atol=1e-12)


def test_grouped_conv_is_block_diagonal_and_g_times_cheaper():
    """A grouped conv equals a standard conv whose (C_out, C_in) weight blocks are zero off the diagonal, and numel() and FlopCounterMode both show g times fewer weights and FLOPs."""
    torch.manual_seed(0)
    grouped = nn.Conv2d(8, 12, 3, groups=4, bias=False, dtype=torch.float64)
    full = torch.zeros(12, 8, 3, 3, dtype=torch.float64)
    for g in range(4):
        full[3 * g : 3 * g + 3, 2 * g : 2 * g + 2] = grouped.weight[3 * g : 3 * g + 3]
    x = torch.randn(2, 8, 7, 7, dtype=torch.float64)
    torch.testing.assert_close(grouped(x), F.conv2d(x, full), rtol=1e-12, atol=1e-12)
    for groups in (1, 2, 4, 8):
        layer = nn.Conv2d(64, 128, 3, groups=groups, bias=False, device="meta")
        standard = nn.Conv2d(64, 128, 3, bias=False, device="meta")
        assert layer.weight.numel() * groups == standard.weight.numel()
        inputs = torch.empty(1, 64, 16, 16, device="meta")
        assert count_flops(layer, inputs) * groups == count_flops(standard, inputs)


def test_groups_must_divide_both_channel_counts():
    """PyTorch rejects groups that do not divide in_channels or out_channels."""
    for in_channels, out_channels, groups in [(6, 4, 4), (8, 6, 4)]:
        try:
            nn.Conv2d(in_channels, out_channels, 3, groups=groups)
        except ValueError as error:
            assert "divisible by groups" in str(error)
        else:
            raise AssertionError(f"groups={groups} accepted for {in_channels} -> {out_channels}")


# %% [markdown]
# ## Claims: channel shuffle
#
# The note's example: 9 channels in 3 groups, $[0\,1\,2 \mid 3\,4\,5 \mid 6\,7\,8]$. Write them as a $3\times3$
# matrix (one group per row), transpose, and read row by row: each new group takes one channel from every old
# group. PyTorch ships the same operation as `nn.ChannelShuffle`.


# %%
def test_channel_shuffle_on_the_notes_example():
    """Shuffling channels 0..8 in 3 groups gives [0 3 6 1 4 7 2 5 8], equal to nn.ChannelShuffle(3); with 12 channels, shuffling in 3 groups is undone by shuffling in 12/3 = 4 groups."""
    x = torch.arange(9.0).reshape(1, 9, 1, 1)
    expected = [0, 3, 6, 1, 4, 7, 2, 5, 8]
    assert channel_shuffle(x, 3).flatten().tolist() == expected
    assert nn.ChannelShuffle(3)(x).flatten().tolist() == expected
    y = torch.arange(12.0).reshape(1, 12, 1, 1)
    assert channel_shuffle(y, 3).flatten().tolist() != list(range(12))
    assert channel_shuffle(channel_shuffle(y, 3), 4).flatten().tolist() == list(range(12))


def test_shuffle_lets_information_cross_groups():
    """Two 3-group 1×1 convs on 12 channels connect each output to only the 4 inputs of its own group; with a channel shuffle between them every output depends on all 12 inputs."""
    blocks = torch.block_diag(*[torch.ones(4, 4, dtype=torch.bool)] * 3)  # (12, 12): same group only
    assert torch.equal(dependency(plain, 12), blocks)
    assert bool(dependency(shuffled, 12).all())


# %% [markdown]
# ## Where it stops holding: FLOPs are not memory traffic
#
# ShuffleNet v2 (Ma et al. 2018, guideline G2) points out that a grouped $1\times1$ convolution with
# $B = hwc_1c_2/g$ multiply-adds moves $hw(c_1 + c_2) + c_1c_2/g$ numbers. Keeping $B$ fixed while raising $g$
# means widening the output, which raises the traffic. We hold FLOPs fixed (checked with `FlopCounterMode`) and
# count the elements of input, output and weight tensors directly.


# %%
def test_more_groups_move_more_memory_at_equal_flops():
    """With FlopCounterMode's count held fixed, a 1×1 conv on 56×56×128 with g = 1, 2, 4, 8 and c_out = 128·g moves strictly more tensor elements as g grows, matching hw(c1 + c2) + c1·c2/g."""
    x = torch.empty(1, 128, 56, 56, device="meta")
    flops, traffic = [], []
    for groups in (1, 2, 4, 8):
        layer = nn.Conv2d(128, 128 * groups, 1, groups=groups, bias=False, device="meta")
        flops.append(count_flops(layer, x))
        moved = x.numel() + layer(x).numel() + layer.weight.numel()
        assert moved == 56 * 56 * (128 + 128 * groups) + 128 * (128 * groups) // groups  # hw(c1 + c2) + c1·c2/g
        traffic.append(moved)
    assert len(set(flops)) == 1
    assert all(a < b for a, b in zip(traffic, traffic[1:]))
    assert traffic[-1] > 4 * traffic[0]


# %% [markdown]
# ## Conclusion
#
# A grouped convolution is a standard convolution with a block-diagonal channel structure: $g$ times fewer
# weights and FLOPs, and no mixing between groups. Stacked, the groups stay isolated; a channel shuffle, a fixed
# permutation that costs no arithmetic, hands each group a channel from every other group so information flows
# across. The saving is in arithmetic, not in memory traffic, which is why ShuffleNet v2 uses groups sparingly.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

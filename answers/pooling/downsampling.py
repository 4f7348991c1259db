# %% [markdown]
# # Downsampling, and why pooling layers are disappearing: the proof
#
# **Question.** What is downsampling for, how is it done, and why do modern CNNs use fewer pooling layers?
#
# Downsampling shrinks a feature map, by a pooling layer or by a convolution with stride 2. Claims:
#
# 1. halving the resolution quarters the FLOPs of every later convolution, but leaves its parameters unchanged
#    (`test_downsampling_cuts_later_flops_not_conv_parameters`);
# 2. it makes the receptive field grow faster: three $3\times3$ convolutions see $7\times7$, with a $2\times2$
#    pool after the first they see $12\times12$, measured with autograd (`test_downsampling_grows_the_receptive_field`);
# 3. it loses information: a pattern at the finest scale is erased by average pooling and aliased into a
#    fake constant by subsampling (`test_downsampling_erases_or_aliases_fine_detail`);
# 4. a stride-2 convolution is learnable downsampling that contains average pooling as one setting of its
#    weights; trained to match average pooling it finds it, at a cost in parameters and FLOPs that pooling does
#    not have (`test_strided_conv_can_learn_average_pooling_at_a_cost`);
# 5. a pooled map follows a shift of the input only when the shift is a multiple of the stride
#    (`test_pooled_map_follows_only_stride_multiple_shifts`).

# %% [markdown]
# ## Receptive fields with and without a pool
#
# We measure which input pixels reach the centre output of two small stacks, by back-propagating from that one
# output. The gradient is nonzero exactly on the receptive field.

# %%

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from answers._models import count_flops
from torch.utils.flop_counter import FlopCounterMode


def stack(with_pool):
    layers = [nn.Conv2d(1, 1, 3, padding=1)]
    if with_pool:
        layers.append(nn.AvgPool2d(2))  # average, not max: max pooling routes the gradient to one pixel per window
    layers += [nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, padding=1)]
    model = nn.Sequential(*layers).double()
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Conv2d):
                layer.weight.fill_(1.0)  # positive weights: no accidental cancellation
    return model


def receptive_field(model, size=24):
    """(side of the receptive field of the centre output, gradient map) by autograd."""
    x = torch.rand(1, 1, size, size, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x.requires_grad_(True)
    y = model(x)
    y[0, 0, y.shape[-2] // 2, y.shape[-1] // 2].backward()
    rows = (x.grad[0, 0].abs() > 0).any(dim=1).nonzero()
    return int(rows.max() - rows.min() + 1), x.grad[0, 0]


fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.6))
for ax, with_pool in zip(axes, (False, True)):
    side, grad = receptive_field(stack(with_pool))
    ax.imshow((grad.abs() > 0).numpy(), cmap="Greys", vmin=0, vmax=1)  # a mask that is all True must still show black
    ax.set_title(("3 convs" if not with_pool else "conv, 2×2 avg pool, 2 convs") + f": {side}×{side}")
    ax.set(xticks=[], yticks=[], xlabel=f"{grad.shape[-1]}×{grad.shape[-2]} input, black: in the field")  # frame = input
fig.tight_layout()

# %% [markdown]
# ## Claims: what downsampling buys


# %%
def test_downsampling_cuts_later_flops_not_conv_parameters():
    """A 3×3 conv on a 28×28 map costs exactly 1/4 of its FLOPs on 56×56 (FlopCounterMode) with the same 590,080 parameters; only a flatten-then-Linear head shrinks with the map."""
    conv = nn.Conv2d(256, 256, 3, padding=1, device="meta")
    big = count_flops(conv, torch.empty(1, 256, 56, 56, device="meta"))
    small = count_flops(conv, torch.empty(1, 256, 28, 28, device="meta"))
    assert big == 4 * small
    assert sum(p.numel() for p in conv.parameters()) == 9 * 256 * 256 + 256 == 590_080
    def head(side):  # weights of a Linear on the flattened (256, side, side) map, 10 classes
        return nn.Linear(256 * side * side, 10, device="meta").weight.numel()

    assert head(56) == 4 * head(28)


def test_downsampling_grows_the_receptive_field():
    """Three 3×3 convs see 7×7; with a 2×2 stride-2 average pool after the first they see 12×12, as the recurrence r += (k − 1)·jump, jump *= stride predicts."""
    def by_recurrence(layers):  # (kernel_size, stride) per layer
        field, jump = 1, 1
        for kernel_size, stride in layers:
            field += (kernel_size - 1) * jump
            jump *= stride
        return field

    assert receptive_field(stack(False))[0] == by_recurrence([(3, 1)] * 3) == 7
    assert receptive_field(stack(True))[0] == by_recurrence([(3, 1), (2, 2), (3, 1), (3, 1)]) == 12


def test_downsampling_erases_or_aliases_fine_detail():
    """A ±1 checkerboard becomes all zeros under 2×2 average pooling and a constant +1 under stride-2 subsampling or max pooling: the finest pattern is erased or aliased into a fake flat signal."""
    i, j = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    checkerboard = (1.0 - 2.0 * ((i + j) % 2)).double()[None, None]  # (1, 1, 8, 8): +1, -1, ...
    flat = torch.ones(1, 1, 4, 4, dtype=torch.float64)
    torch.testing.assert_close(F.avg_pool2d(checkerboard, 2), torch.zeros_like(flat), rtol=0, atol=0)
    torch.testing.assert_close(checkerboard[..., ::2, ::2], flat, rtol=0, atol=0)  # what a 1×1 stride-2 conv sees
    torch.testing.assert_close(F.max_pool2d(checkerboard, 2), flat, rtol=0, atol=0)
    # two different inputs, one output: the map from input to output is not invertible
    assert not torch.equal(checkerboard, torch.ones_like(checkerboard))
    torch.testing.assert_close(F.max_pool2d(torch.ones_like(checkerboard), 2), flat, rtol=0, atol=0)


# %% [markdown]
# ## Claims: pooling versus strided convolution
#
# Average pooling is a convolution with a fixed kernel of $1/k^2$ per channel and stride $k$. A stride-2 convolution
# can learn that kernel, or any other linear downsampler, so it includes average pooling as a special case. We train a
# depthwise $2\times2$ stride-2 convolution to reproduce average pooling from random inputs and compare its weights
# with $1/4$.


# %%

def test_strided_conv_can_learn_average_pooling_at_a_cost():
    """A depthwise 2×2 stride-2 conv trained 200 steps to mimic avg_pool2d learns weights within 1e-3 of 1/4; a full 3×3 stride-2 conv replacing a pool on 64 channels adds 36,928 parameters and 2·9·64·64 FLOPs per output pixel, where pooling has none and FlopCounterMode counts 0."""
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 4, 2, stride=2, groups=4, bias=False)
    optimizer = torch.optim.SGD(conv.parameters(), lr=0.5)
    for _ in range(200):
        x = torch.randn(8, 4, 8, 8)
        loss = (conv(x) - F.avg_pool2d(x, 2)).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.testing.assert_close(conv.weight.detach(), torch.full((4, 1, 2, 2), 0.25), rtol=0, atol=1e-3)
    x = torch.empty(1, 64, 32, 32, device="meta")
    strided = nn.Conv2d(64, 64, 3, stride=2, padding=1, device="meta")
    assert sum(p.numel() for p in strided.parameters()) == 9 * 64 * 64 + 64 == 36_928
    assert count_flops(strided, x) == 2 * 9 * 64 * 64 * 16 * 16
    assert count_flops(nn.MaxPool2d(2), x) == count_flops(nn.AvgPool2d(2), x) == 0


# %% [markdown]
# ## Where it stops holding: pooling is not shift invariance
#
# Pooling is often credited with making a network insensitive to position. A $2\times2$ stride-2 pool is exactly
# equivariant only to shifts by a multiple of its stride; a one-pixel shift produces a different map, not a shifted one.


# %%
def test_pooled_map_follows_only_stride_multiple_shifts():
    """With circular shifts, 2×2 max pooling of a shifted-by-2 input is the pooled map shifted by 1, but a 1-pixel shift changes over half of the pooled values."""
    torch.manual_seed(0)
    x = torch.randn(1, 4, 16, 16, dtype=torch.float64)
    pooled = F.max_pool2d(x, 2)  # (1, 4, 8, 8)
    by_two = F.max_pool2d(torch.roll(x, shifts=2, dims=3), 2)
    torch.testing.assert_close(by_two, torch.roll(pooled, shifts=1, dims=3), rtol=0, atol=0)
    by_one = F.max_pool2d(torch.roll(x, shifts=1, dims=3), 2)
    changed = min((by_one != torch.roll(pooled, shifts=k, dims=3)).double().mean().item() for k in (0, 1))
    assert changed > 0.5  # no shift of the pooled map explains it


# %% [markdown]
# ## Conclusion
#
# Downsampling trades resolution for cost and context: each halving quarters the arithmetic of the layers that follow
# and makes their receptive fields grow twice as fast, and it throws away the finest detail, or worse, aliases it. It
# does not shrink convolution parameters; only a flattened classifier head depends on the map size. Pooling does the job
# with a fixed rule and no parameters; a strided convolution learns the rule (average pooling is one of the rules it can
# learn) at the price of weights and FLOPs. That, plus heavy data augmentation for robustness to shifts, is why recent
# architectures downsample with strided convolutions and keep a single global pool at the end.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

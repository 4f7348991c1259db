# %% [markdown]
# # Why depthwise convolution is slower than its FLOPs suggest: the proof
#
# **Question.** A depthwise convolution needs a fraction of a standard convolution's FLOPs; why is its measured
# speed-up so much smaller? (And what is the "LLC" that such explanations mention?)
#
# Time is not FLOPs. A kernel is limited either by arithmetic (compute-bound) or by moving data between memory
# and the cores (memory-bound); which one depends on its *arithmetic intensity*, FLOPs per byte moved. A depthwise
# convolution does $2k^2 = 18$ FLOPs per output value while reading and writing about as many bytes as a
# standard convolution, so it is memory-bound and runs far below the hardware's FLOP rate. This module recomputes
# the source note's three example layers and measures the gap on this CPU. Claims:
#
# 1. the note's parameter counts and operation counts are right, and its "computation" is multiply-accumulates
#    (FLOPs are twice that) (`test_note_counts_are_macs_and_parameters`);
# 2. its working sets (inputs + outputs + weights, in elements) are right, and the FLOPs per byte are about 450,
#    35 and 2.2 for the three layers (`test_working_sets_and_arithmetic_intensity`);
# 3. with published H100 figures the roofline puts the depthwise layer at about a tenth of peak FP32 throughput,
#    both standard ones at peak (`test_roofline_bounds_on_an_h100`);
# 4. measured on this CPU, replacing a 64-channel 3×3 convolution by a depthwise one cuts FLOPs 64-fold but time
#    by less than 16-fold (`test_depthwise_speed_up_trails_the_flop_ratio`, slow);
# 5. the note's conv 2 and conv 3 have identical FLOPs, yet the depthwise one takes at least 3 times as long
#    (`test_equal_flops_unequal_time`, slow).

# %% [markdown]
# ## The note's three layers
#
# All three map a 64×64 feature map to one of the same size with 3×3 kernels: conv 1 is a standard convolution
# with 256 channels, conv 2 a depthwise one with 256 channels, conv 3 a standard one with 16 channels. Counting
# is done on the `meta` device, which has shapes but no data.

# %%
import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from answers._timing import best_time

LAYERS = {  # name: (channels, groups)
    "conv 1: standard, 256 ch": (256, 1),
    "conv 2: depthwise, 256 ch": (256, 256),
    "conv 3: standard, 16 ch": (16, 1),
}


def make_layer(channels, groups, device="meta"):
    return nn.Conv2d(channels, channels, 3, padding=1, groups=groups, bias=False, device=device)


def profile(channels, groups, size=64):
    """FLOPs, parameters and working set (elements and fp32 bytes) of one layer on a size×size map."""
    layer = make_layer(channels, groups)
    x = torch.empty(1, channels, size, size, device="meta")
    with FlopCounterMode(display=False) as counter:
        y = layer(x)
    params = layer.weight.numel()
    elements = x.numel() + y.numel() + params
    return {"flops": counter.get_total_flops(), "params": params, "elements": elements, "bytes": 4 * elements}


stats = {name: profile(*config) for name, config in LAYERS.items()}
print(f"{'layer':<28}{'MACs':>14}{'params':>10}{'working set':>14}{'FLOPs/byte':>12}")
for name, s in stats.items():
    print(f"{name:<28}{s['flops'] // 2:>14,}{s['params']:>10,}{s['elements']:>14,}{s['flops'] / s['bytes']:>12.1f}")

# %% [markdown]
# ## A roofline
#
# A kernel with intensity $I$ (FLOPs per byte) on hardware with peak $P$ FLOP/s and memory bandwidth $B$ bytes/s
# can run at most at $\min(P, I \cdot B)$. Below the ridge point $P/B$ it is memory-bound. The plot uses NVIDIA's
# published H100 SXM figures, 67 TFLOP/s FP32 (non-tensor-core) and 3.35 TB/s of HBM3 bandwidth.

# %%
PEAK_FP32, BANDWIDTH = 67e12, 3.35e12  # H100 SXM datasheet


def attainable(intensity):
    return min(PEAK_FP32, intensity * BANDWIDTH)


fig, ax = plt.subplots(figsize=(5.5, 3.2))
grid = [10 ** (k / 20) for k in range(-20, 61)]
ax.loglog(grid, [attainable(i) / 1e12 for i in grid], "k-", lw=1)
for name, s in stats.items():
    intensity = s["flops"] / s["bytes"]
    ax.plot(intensity, attainable(intensity) / 1e12, "o", label=f"{name} ({intensity:.1f} FLOP/B)")
ax.set_xlabel("arithmetic intensity (FLOPs per byte)")
ax.set_ylabel("attainable TFLOP/s (H100, FP32)")
ax.set_title("Roofline: the depthwise layer sits on the memory slope")
ax.legend(fontsize=7, loc="lower right")
fig.tight_layout()

# %% [markdown]
# ## Claims: counting

# %%
def test_note_counts_are_macs_and_parameters():
    """FlopCounter gives 2 × 2.42G, 2 × 9.44M and 2 × 9.44M FLOPs for the note's three layers, and the weights are 590K, 2.3K and 2.3K: the note's 'computation' is MACs."""
    macs = {name: s["flops"] // 2 for name, s in stats.items()}
    assert list(macs.values()) == [64 * 64 * 256 * 9 * 256, 64 * 64 * 256 * 9, 64 * 64 * 16 * 9 * 16]
    assert [round(m / 1e9, 2) for m in macs.values()][:1] == [2.42]
    assert [round(m / 1e6, 2) for m in list(macs.values())[1:]] == [9.44, 9.44]
    assert [s["params"] for s in stats.values()] == [589_824, 2_304, 2_304]


def test_working_sets_and_arithmetic_intensity():
    """The working sets are 2.69M, 2.10M and 133K elements as the note says, and the FLOPs per fp32 byte are about 450, 2.2 and 35."""
    elements = [s["elements"] for s in stats.values()]
    assert [round(elements[0] / 1e6, 2), round(elements[1] / 1e6, 2), round(elements[2] / 1e3)] == [2.69, 2.10, 133]
    intensity = [s["flops"] / s["bytes"] for s in stats.values()]
    assert 440 < intensity[0] < 460 and 2.1 < intensity[1] < 2.3 and 34 < intensity[2] < 36


def test_roofline_bounds_on_an_h100():
    """With 67 TFLOP/s and 3.35 TB/s (ridge at 20 FLOPs per byte), conv 1 and conv 3 can reach peak while the depthwise conv 2 can reach at most about 11% of it."""
    assert PEAK_FP32 / BANDWIDTH == 20
    bounds = [attainable(s["flops"] / s["bytes"]) / PEAK_FP32 for s in stats.values()]
    assert bounds[0] == 1.0 and bounds[2] == 1.0
    assert 0.10 < bounds[1] < 0.12


# %% [markdown]
# ## Claims: measuring
#
# The ratios are measured in one run, best of several repetitions, on one thread. CPUs have a lower ridge point
# than GPUs (fewer FLOPs per byte of bandwidth) and large caches, so the gap is smaller than on a GPU, but it is
# there.

# %%
@pytest.mark.slow
def test_depthwise_speed_up_trails_the_flop_ratio():
    """On a 1×64×32×32 input, the depthwise 3×3 convolution does 1/64 of the standard one's FLOPs but runs less than 16 times faster."""
    torch.manual_seed(0)
    x = torch.randn(1, 64, 32, 32)
    standard, depthwise = make_layer(64, 1, device="cpu"), make_layer(64, 64, device="cpu")
    with torch.no_grad():
        speed_up = best_time(lambda: standard(x), inner=3) / best_time(lambda: depthwise(x), inner=3)
    assert speed_up < 64 / 4


@pytest.mark.slow
def test_equal_flops_unequal_time():
    """The note's conv 2 (depthwise, 256 channels) and conv 3 (standard, 16 channels) have identical FLOPs, yet conv 2 takes at least 3 times as long."""
    torch.manual_seed(0)
    x2, x3 = torch.randn(1, 256, 64, 64), torch.randn(1, 16, 64, 64)
    conv2, conv3 = make_layer(256, 256, device="cpu"), make_layer(16, 1, device="cpu")
    flops = list(stats.values())
    assert flops[1]["flops"] == flops[2]["flops"]
    with torch.no_grad():
        ratio = best_time(lambda: conv2(x2), repeats=3, inner=2) / best_time(lambda: conv3(x3), repeats=3, inner=2)
    assert ratio > 3


# %% [markdown]
# ## Conclusion
#
# FLOPs predict time only for compute-bound kernels. A depthwise convolution moves about as many bytes as the
# standard convolution it replaces while doing a few hundredths of the arithmetic, so it sits far left on the
# roofline: memory-bound, limited by bandwidth and by how well its working set stays in cache (the last-level
# cache, LLC, is the last one before DRAM). Its measured speed-up is therefore a fraction of its FLOP ratio, and two
# layers with equal FLOPs can differ in time many-fold. Fusing the depthwise step with its neighbours, or
# accepting more FLOPs for denser layers (as later efficient architectures do), is how practice responds.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

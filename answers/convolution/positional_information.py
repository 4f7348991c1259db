# %% [markdown]
# # Positional information in a CNN: the proof
#
# **Question.** Can a convolution capture where something is in the image?
#
# Relative position, yes: a convolution is translation equivariant, so each output sits where its input
# window sat, and a deeper layer sees how patterns are arranged inside its window. Absolute position, in
# principle no: the same weights run everywhere, so a pixel's value alone cannot say where it is. In practice
# the border gives it away: zero padding makes pixels near the edge look different, and a stack of layers
# spreads that signal inwards. Claims:
#
# 1. with circular padding (no border) a CNN maps a constant image to a constant map: no position at all
#    (`test_circular_padding_carries_no_position`);
# 2. the same weights with zero padding make the output depend on the distance to the border, up to $L$ pixels
#    in after $L$ layers of $3\times3$, and nowhere further (`test_zero_padding_leaks_distance_to_the_border`);
# 3. trained to output each pixel's column index from random noise, a zero-padded CNN learns it, and a
#    circular one cannot beat a constant guess (`test_zero_padded_cnn_learns_absolute_position`);
# 4. the leak needs the border inside the receptive field: pixels $L$ or more pixels in from every edge get no
#    position signal (`test_position_signal_needs_the_border_in_view`);
# 5. only a global pool discards position: a 2×2 stride-2 max pool changes under a one-pixel shift
#    (`test_only_global_pooling_discards_position`).

# %% [markdown]
# ## Two CNNs that differ only in padding
#
# `make_cnn` stacks $3\times3$ convolutions with ReLUs, all with padding 1, so the map keeps its size. One
# copy pads with zeros, the other wraps around (`padding_mode="circular"`). Both get the same weights.

# %%

import matplotlib.pyplot as plt
import torch
from torch import nn


def make_cnn(padding_mode, layers=4, width=8, seed=0):
    torch.manual_seed(seed)
    modules, channels = [], 1
    for _ in range(layers):
        modules += [nn.Conv2d(channels, width, 3, padding=1, padding_mode=padding_mode), nn.ReLU()]
        channels = width
    modules.append(nn.Conv2d(width, 1, 1))  # (B, 1, H, W): one number per pixel
    return nn.Sequential(*modules)


def column_target(batch, size):
    columns = torch.linspace(-1, 1, size)
    return columns.expand(batch, 1, size, size)  # (B, 1, H, W): each pixel's column, in [-1, 1]


def train_to_find_columns(padding_mode, size=8, steps=60, seed=0):
    """Train a 4-layer CNN to output every pixel's column index from pure noise; returns (model, final loss)."""
    model = make_cnn(padding_mode, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(16, 1, size, size, generator=generator)  # (B, 1, H, W): no positional cue in the data
        loss = (model(x) - column_target(16, size)).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x = torch.randn(64, 1, size, size, generator=generator)
    with torch.no_grad():
        return model, (model(x) - column_target(64, size)).square().mean().item()


ZERO_MODEL, ZERO_LOSS = train_to_find_columns("zeros")
CIRCULAR_MODEL, CIRCULAR_LOSS = train_to_find_columns("circular")
TARGET_VARIANCE = column_target(1, 8).var(unbiased=False).item()  # loss of the best constant guess

# %% [markdown]
# ## What the two trained networks see
#
# Each network gets one fresh noise image and has to paint every pixel with its column index (left −1, right
# +1). The zero-padded network paints a gradient; the circular one, which has no border to measure from,
# paints a flat map: about 0, the mean column index, at every pixel (its noise is far too small to show on
# this colour scale).

# %%
x = torch.randn(1, 1, 8, 8, generator=torch.Generator().manual_seed(1))
panels = [
    ("target: column index", column_target(1, 8)),
    (f"zero padding (MSE {ZERO_LOSS:.3f})", ZERO_MODEL(x).detach()),
    (f"circular padding (MSE {CIRCULAR_LOSS:.3f})", CIRCULAR_MODEL(x).detach()),
]
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
for ax, (title, image) in zip(axes, panels):
    ax.imshow(image[0, 0].numpy(), cmap="coolwarm", vmin=-1, vmax=1)
    ax.set_title(title)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## Claims: no border, no position
#
# With circular padding the network is exactly equivariant to every shift. A constant image is unchanged by
# every shift, so its output must be unchanged too: the same number at every pixel.


# %%
def test_circular_padding_carries_no_position():
    """A 4-layer CNN with circular padding maps a constant image to a constant map (spread < 1e-6), and its output on a shifted noise image is the shifted output."""
    model = make_cnn("circular").double()
    with torch.no_grad():
        out = model(torch.ones(1, 1, 12, 12, dtype=torch.float64))
        assert (out.max() - out.min()).item() < 1e-6
        x = torch.randn(1, 1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        shifted = torch.roll(x, shifts=(2, 5), dims=(2, 3))
        torch.testing.assert_close(model(shifted), torch.roll(model(x), shifts=(2, 5), dims=(2, 3)))


def test_zero_padding_leaks_distance_to_the_border():
    """With zero padding the same weights map a constant 12×12 image to values that vary within L = 4 pixels of the border and are constant in the 4×4 centre, so a pixel's value tells its distance to the edge."""
    model = make_cnn("zeros").double()
    with torch.no_grad():
        out = model(torch.ones(1, 1, 12, 12, dtype=torch.float64))[0, 0]  # (12, 12)
    centre = out[4:8, 4:8]
    assert (centre.max() - centre.min()).item() < 1e-12  # windows of 4 layers (9×9) miss every border
    assert (out.max() - out.min()).item() > 1e-3
    row = out[6]  # a middle row: values differ column by column near the edges, then settle
    distinct_near_edge = {round(v, 9) for v in row[:4].tolist()}
    assert len(distinct_near_edge) == 4


def test_zero_padded_cnn_learns_absolute_position():
    """Trained 60 steps to paint each pixel with its column index from pure noise, a zero-padded 4-layer CNN on 8×8 reaches under a fifth of the best constant guess's error, while a circular one stays above 90% of it."""
    assert ZERO_LOSS < 0.2 * TARGET_VARIANCE
    assert CIRCULAR_LOSS > 0.9 * TARGET_VARIANCE


# %% [markdown]
# ## Where it stops holding
#
# The leak travels one pixel per $3\times3$ layer. A pixel whose receptive field does not reach the border sees
# only shifted copies of the same noise statistics, however the network is padded. On a $16\times16$ image the
# same 4-layer network trained the same way can place only the columns near the edges.


# %%
def test_position_signal_needs_the_border_in_view():
    """On 16×16 images the zero-padded 4-layer CNN places the outer columns well, but on columns 4 to 11, whose 9×9 receptive field misses the border, it does no better than a constant guess."""
    model, _ = train_to_find_columns("zeros", size=16, steps=60)
    x = torch.randn(64, 1, 16, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        error = (model(x) - column_target(64, 16)).square().mean(dim=(0, 1, 2))  # (16,): per column
    target = column_target(1, 16)[0, 0, 0]
    middle = slice(4, 12)  # columns 4..11: their receptive field never reaches the padding
    middle_variance = target[middle].var(unbiased=False)
    assert error[[0, 1, 14, 15]].mean() < 0.05
    # these columns look alike to the network, so no prediction beats their variance (up to sampling noise)
    assert error[middle].mean() > 0.9 * middle_variance


# %% [markdown]
# ## Pooling and position
#
# The common remark that pooling makes a model ignore position is true only for a global pool. A $2\times2$
# stride-2 max pool keeps a coarse map of where things are, and a one-pixel shift changes it.


# %%
def test_only_global_pooling_discards_position():
    """After the circular CNN, a global max pool gives the same output for every shift of a noise image, while a 2×2 stride-2 max pool changes under a one-pixel shift."""
    model = make_cnn("circular").double()
    x = torch.randn(1, 1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        features = model[:-1]  # (B, 8, 12, 12) before the 1×1 head
        base = features(x)
        for shift in [(1, 0), (0, 5), (7, 3)]:
            moved = features(torch.roll(x, shifts=shift, dims=(2, 3)))
            torch.testing.assert_close(moved.amax(dim=(2, 3)), base.amax(dim=(2, 3)), rtol=0, atol=1e-12)
        moved = features(torch.roll(x, shifts=(0, 1), dims=(2, 3)))
        local = torch.nn.functional.max_pool2d
        assert (local(moved, 2) - local(base, 2)).abs().max() > 0.01


# %% [markdown]
# ## Conclusion
#
# A convolution keeps the spatial layout (equivariance), so relative position is preserved. Absolute position is
# not in the weights: with no border (circular padding) a CNN cannot tell pixels apart. Zero padding creates a
# border signal that each $3\times3$ layer carries one pixel further in, and a network can learn to read it. So
# "CNNs know where things are" is true only as far as their receptive fields reach the edge.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

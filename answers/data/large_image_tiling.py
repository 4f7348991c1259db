# %% [markdown]
# # Detecting objects in a very large image by tiling: the proof
#
# **Question.** To run a detector such as a ResNet-based one on a huge image, do you cut the image into tiles,
# and how do you choose the tile size?
#
# Shrinking a huge image to the network's input size wipes out small objects, so large images (aerial,
# satellite, pathology slides) are cut into tiles at full resolution. Two things must be right: the tiles must
# *overlap*, so that every object lies wholly inside some tile and the network's outputs near the cuts are not
# corrupted, and the tile size must fit the objects, the memory and the scale the model was trained at.
# Claims:
#
# 1. shrinking an image 4× by area averaging divides a 2×2-pixel object's peak contrast by at least 4, for every
#    alignment, as the area ratio predicts (`test_downscaling_dilutes_small_objects`);
# 2. a fully convolutional network run on tiles that carry a halo of its receptive-field radius reproduces the
#    full-image output exactly (`test_tiles_with_a_halo_reproduce_the_full_output`);
# 3. without the halo the outputs differ, and only within that radius of the cuts (`test_tiles_without_a_halo_break_at_the_seams`);
# 4. with tiles of size $T$ overlapping by at least the object size $s$, every object position lies wholly in some
#    tile; without overlap only a fraction $(T - s + 1)/T$ per axis does (`test_overlap_keeps_every_object_whole`).

# %% [markdown]
# ## Why not just resize
#
# Resizing a $4096\times4096$ image to $1024\times1024$ averages each $4\times4$ block. A $2\times2$ object of intensity 1
# covers at most a quarter of one block, so its brightest output pixel is at most $0.25$: it fades into the
# background, and a 2-pixel object becomes half a pixel.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn


def test_downscaling_dilutes_small_objects():
    """For all 16 alignments, area-downscaling by 4 turns a 2×2 object of intensity 1 into a peak of at most 0.25, the area fraction, and exactly 0.25 when aligned."""
    peaks = []
    for dy in range(4):
        for dx in range(4):
            img = torch.zeros(1, 1, 16, 16)
            img[..., 4 + dy : 6 + dy, 4 + dx : 6 + dx] = 1.0
            small = F.interpolate(img, scale_factor=0.25, mode="area")  # (1, 1, 4, 4)
            assert torch.isclose(small.sum() * 16, img.sum())  # area averaging keeps the total
            peaks.append(small.max().item())
    assert max(peaks) == 0.25 and min(peaks) == 1 / 16


# %% [markdown]
# ## Tiles with a halo
#
# A stack of three 3×3 convolutions with zero padding has a receptive field of 7×7: each output pixel depends on
# inputs up to 3 pixels away. Cut the image into tiles, extend each tile by a halo of 3 pixels (clipped at the
# image border, where the full image has the same zero padding), run the network, and keep only the tile's own
# output pixels. Every kept pixel then saw exactly the inputs it sees in the full image.

# %%
HALO = 3  # three 3×3 convolutions: receptive-field radius 3


def make_fcn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(8, 1, 3, padding=1)).double()


def tiled_forward(model, img, tile, halo):
    _, _, height, width = img.shape
    out = torch.zeros_like(img)
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            y0, x0 = max(top - halo, 0), max(left - halo, 0)
            y1, x1 = min(top + tile + halo, height), min(left + tile + halo, width)
            pred = model(img[..., y0:y1, x0:x1])
            out[..., top : top + tile, left : left + tile] = pred[..., top - y0 : top - y0 + tile, left - x0 : left - x0 + tile]
    return out


model = make_fcn()
image = torch.rand(1, 1, 48, 48, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
with torch.no_grad():
    full = model(image)
    no_halo_error = (tiled_forward(model, image, 16, 0) - full).abs()[0, 0]
    halo_error = (tiled_forward(model, image, 16, HALO) - full).abs()[0, 0]

fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
for ax, err, title in ((axes[0], no_halo_error, "16×16 tiles, no halo"), (axes[1], halo_error, f"16×16 tiles, halo {HALO}")):
    im = ax.imshow(err.numpy(), cmap="magma", vmin=0, vmax=no_halo_error.max().item())
    ax.set_title(f"{title}: max error {err.max().item():.1e}", fontsize=9)
    ax.axis("off")
fig.colorbar(im, ax=axes, shrink=0.8).set_label("|tiled − full|")  # returns None: no repr printed

# %% [markdown]
# ## Claims: the halo makes tiling exact

# %%
def test_tiles_with_a_halo_reproduce_the_full_output():
    """Running a 3-conv network on 16×16 tiles of a 48×48 image with a 3-pixel halo gives the full-image output to float64 rounding."""
    model = make_fcn()
    img = torch.rand(1, 1, 48, 48, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(tiled_forward(model, img, 16, HALO), model(img), rtol=1e-12, atol=1e-12)


def test_tiles_without_a_halo_break_at_the_seams():
    """Without a halo the tiled output is wrong near the cuts, and every wrong pixel lies within 3 pixels of a cut."""
    model = make_fcn()
    img = torch.rand(1, 1, 48, 48, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        wrong = (tiled_forward(model, img, 16, 0) - model(img)).abs()[0, 0] > 1e-12  # (48, 48)
    coord = torch.arange(48)
    near = torch.zeros(48, dtype=torch.bool)
    for cut in (16, 32):  # the cuts between pixels cut-1 and cut
        near |= (coord >= cut - HALO) & (coord < cut + HALO)
    near_cut = near[:, None] | near[None, :]  # (48, 48): within HALO of a horizontal or vertical cut
    assert wrong.sum() > 100
    assert not (wrong & ~near_cut).any()


# %% [markdown]
# ## Claims: overlap keeps objects whole
#
# With tiles of size $T$ placed every $T - o$ pixels (overlap $o$), consecutive tiles share $o$ pixels, so an
# object of size $s \le o$ always fits wholly in one of them. We check every position by brute force. Without
# overlap, a position fits only if it does not straddle a cut: $T - s + 1$ of every $T$ positions per axis.

# %%
def positions_inside_a_tile(length, tile, stride, size):
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)  # a last tile flush with the border
    return [any(s <= p and p + size <= s + tile for s in starts) for p in range(length - size + 1)]


def test_overlap_keeps_every_object_whole():
    """On a 1024-pixel axis with 256-pixel tiles, an overlap of 40 keeps every 40-pixel object inside some tile; with no overlap the fraction kept matches 4·(T − s + 1)/(L − s + 1)."""
    length, tile, size = 1024, 256, 40
    assert all(positions_inside_a_tile(length, tile, tile - 40, size))
    kept = positions_inside_a_tile(length, tile, tile, size)
    expected = (length // tile) * (tile - size + 1) / (length - size + 1)
    assert abs(sum(kept) / len(kept) - expected) < 1e-12
    assert sum(kept) / len(kept) < 0.9  # over 10% of positions are cut in two
    assert not all(positions_inside_a_tile(length, tile, tile - 30, size))  # overlap smaller than the object fails


# %% [markdown]
# ## Conclusion
#
# Tile when downscaling would make the objects too small for the detector. Choose the tile size from the scale
# the detector was trained at (objects should appear at the sizes it saw), the GPU memory, and context (a tile
# much larger than the objects). Make the tiles overlap by at least the largest object size, plus the
# receptive-field radius if you stitch dense outputs, then merge detections across tiles with non-maximum
# suppression. Aerial-imagery pipelines do exactly this, for example the common DOTA preprocessing into
# 1024×1024 patches that overlap by 200 pixels.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

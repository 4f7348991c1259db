# %% [markdown]
# # view versus reshape: the proof
#
# **Question.** What is the difference between `view` and `reshape` in PyTorch?
#
# A tensor is a storage (a flat block of memory) plus a shape, strides and an offset that say where each
# element lives. `view` only writes new shape and strides over the same storage, and refuses when the new shape
# cannot be expressed with strides. `reshape` does the same when it can and otherwise copies. This module checks
# that with storage pointers and the ATen ops each call runs. Claims:
#
# 1. on a contiguous tensor `reshape` returns a view: same storage, one ATen `view`, and writes go through
#    (`test_reshape_of_contiguous_tensor_is_a_view`);
# 2. on a transposed tensor `view(-1)` raises and `reshape(-1)` copies into new storage, leaving the original
#    untouched (`test_reshape_of_transposed_tensor_copies`);
# 3. whether `view` works depends on strides, not on contiguity: a transposed tensor can still be viewed when
#    only one dimension is split (`test_view_works_on_some_non_contiguous_tensors`);
# 4. picking every other column is itself a view, and whether it can be flattened without a copy depends on
#    the strides (`test_strided_column_slice_is_a_view_and_flattening_depends_on_strides`);
# 5. where it stops holding: writing into the result of `reshape` changes the original for one input and not
#    for another (`test_writing_through_reshape_depends_on_the_input`).

# %% [markdown]
# ## Storage, strides and what a transpose does
#
# A (4, 3) tensor built by `arange` lays its elements out row by row: strides (3, 1). Its transpose has the same
# storage and strides (1, 3), so walking it row by row jumps around memory. The plot shows, for each element,
# its offset in the storage: the transpose reads in column order.

# %%
import matplotlib.pyplot as plt
import torch

from answers._dispatch import DispatchLog


def storage_offsets(t):
    """For each element of t, its position in the underlying storage, computed from shape and strides."""
    index = torch.zeros(t.shape, dtype=torch.long)
    for dim, (size, stride) in enumerate(zip(t.shape, t.stride())):
        shape = [1] * t.dim()
        shape[dim] = size
        index = index + (torch.arange(size) * stride).reshape(shape)
    return index + t.storage_offset()


x = torch.arange(12.0).reshape(4, 3)  # (4, 3), strides (3, 1)
fig, axes = plt.subplots(1, 2, figsize=(6, 2.6))
for ax, (name, t) in zip(axes, [("x  strides (3, 1)", x), ("x.t()  strides (1, 3)", x.t())]):
    offsets = storage_offsets(t)
    ax.imshow(offsets.numpy(), cmap="viridis")
    for i in range(t.shape[0]):
        for j in range(t.shape[1]):
            ax.text(j, i, int(offsets[i, j]), ha="center", va="center", color="w")
    ax.set_title(name, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("storage offset of each element", fontsize=10)
fig.tight_layout()

# %% [markdown]
# ## Claims: when reshape is a view and when it copies
#
# Two tensors share memory when they point into the same storage (`untyped_storage().data_ptr()`). We also log
# the ATen ops: a view is a metadata-only `view`; a copy shows up as `clone`.

# %%
def same_storage(a, b):
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def test_reshape_of_contiguous_tensor_is_a_view():
    """On a contiguous tensor reshape runs a single ATen view, shares the storage, and a write through it changes the original."""
    x = torch.arange(12.0).reshape(4, 3)
    with DispatchLog() as log:
        y = x.reshape(3, 4)
    assert [name for name, _ in log.ops] == ["view"]
    assert same_storage(x, y) and y.stride() == (4, 1)
    y[0, 0] = 100.0
    assert x[0, 0].item() == 100.0


def test_reshape_of_transposed_tensor_copies():
    """On a transposed tensor view(-1) raises, while reshape(-1) clones into new storage in row-major order and leaves the original unchanged."""
    x = torch.arange(12.0).reshape(4, 3)
    t = x.t()  # (3, 4), strides (1, 3)
    try:
        t.view(-1)
        raised = False
    except RuntimeError as error:
        raised = "not compatible with input tensor's size and stride" in str(error)
    assert raised
    with DispatchLog() as log:
        flat = t.reshape(-1)
    assert "clone" in [name for name, _ in log.ops]
    assert not same_storage(flat, x)
    expected = [x[i, j].item() for j in range(3) for i in range(4)]  # row-major order of the transpose, by hand
    assert flat.tolist() == expected
    assert torch.equal(x, torch.arange(12.0).reshape(4, 3))


def test_view_works_on_some_non_contiguous_tensors():
    """A transposed (3, 4) tensor is not contiguous, yet view(3, 2, 2) succeeds without copying because splitting one dimension keeps a stride pattern."""
    t = torch.arange(12.0).reshape(4, 3).t()
    assert not t.is_contiguous()
    v = t.view(3, 2, 2)
    assert same_storage(v, t) and v.stride() == (1, 6, 3)
    assert torch.equal(v, t.contiguous().view(3, 2, 2))  # same values as the copy-then-view route


def test_strided_column_slice_is_a_view_and_flattening_depends_on_strides():
    """Columns 1, 3, 5 of a (4, 5) tensor share its storage and view as (2, 2, 3), but view(-1) raises; of a (4, 6) tensor, view(-1) works because the offsets are evenly spaced."""
    x = torch.arange(20.0).reshape(4, 5)
    cols = x[:, ::2]  # (4, 3), strides (5, 2): offsets 5i + 2j, not evenly spaced
    assert same_storage(cols, x)
    assert cols.view(2, 2, 3).stride() == (10, 5, 2)
    try:
        cols.view(-1)
        raised = False
    except RuntimeError:
        raised = True
    assert raised
    assert cols.reshape(-1).tolist() == [float(v) for v in range(20) if (v % 5) % 2 == 0]
    wide = torch.arange(24.0).reshape(4, 6)[:, ::2]  # strides (6, 2): offsets 6i + 2j = 2(3i + j), one stride of 2
    flat = wide.view(-1)
    assert flat.stride() == (2,) and flat.tolist() == [float(v) for v in range(0, 24, 2)]


# %% [markdown]
# ## Where it stops holding: do not write through reshape
#
# Because `reshape` may return a view or a copy, code that writes into its result behaves differently depending
# on the strides of the input. The PyTorch documentation says not to rely on either behaviour; if you need
# aliasing use `view`, if you need independence use `clone`.

# %%
def test_writing_through_reshape_depends_on_the_input():
    """Writing into x.reshape(-1) changes a contiguous x but leaves a transposed x unchanged."""
    contiguous = torch.zeros(2, 3)
    contiguous.reshape(-1)[0] = 1.0
    transposed = torch.zeros(3, 2).t()
    transposed.reshape(-1)[0] = 1.0
    assert contiguous.sum().item() == 1.0
    assert transposed.sum().item() == 0.0


# %% [markdown]
# ## Conclusion
#
# `view` is a promise of aliasing: it reinterprets the same storage and raises when the requested shape cannot be
# written with strides. `reshape` is a request for a shape: a view when possible (then it is exactly as cheap as
# `view`), a copy otherwise. Neither ever rearranges the original storage. Contiguity is sufficient for `view`, not
# necessary.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

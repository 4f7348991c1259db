# %% [markdown]
# # In-place operations and `nn.init`: the proof
#
# **Question.** What does the trailing underscore in `nn.init.normal_()` or `x.add_()` mean, what do these
# functions return, and when are in-place operations unsafe?
#
# A trailing underscore marks an in-place operation: it writes into the tensor's existing storage instead of
# allocating a new one. It still returns a tensor: the very object it modified. Autograd tracks in-place writes
# with a version counter and refuses the ones that would corrupt a gradient. Claims:
#
# 1. `nn.init.normal_(w)` returns `w` itself, with the same storage and new values
#    (`test_init_normal_returns_the_tensor_it_filled`);
# 2. `x.add_(1)` returns `x` and bumps its version counter, `x.add(1)` returns a new tensor and leaves `x` alone
#    (`test_underscore_method_mutates_and_returns_self`);
# 3. `model.apply(fn)` visits every sub-module, children before parents, which is how `nn.init` is usually applied
#    (`test_apply_visits_children_before_parents`);
# 4. an in-place write to a leaf that requires grad raises, which is why `nn.init` runs under `torch.no_grad()`
#    (`test_in_place_on_a_leaf_parameter_needs_no_grad`);
# 5. where it stops holding: modifying in place a tensor that backward still needs makes `backward()` raise
#    (`test_in_place_on_a_saved_tensor_breaks_backward`).

# %% [markdown]
# ## Initializing a network with `apply` and `nn.init`
#
# The usual pattern: a function that initializes one module if it is a `Linear`, applied to the whole network.
# The plot shows the weights before and after `nn.init.normal_(std=0.01)`: PyTorch's default uniform
# (Kaiming-uniform with $a=\sqrt5$, bound $1/\sqrt{\text{fan\_in}}$) replaced by a narrow Gaussian.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn


def init_normal(module):
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=0.01)
        nn.init.zeros_(module.bias)


torch.manual_seed(0)
net = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 8))
before = net[0].weight.detach().clone().flatten()
net.apply(init_normal)
after = net[0].weight.detach().flatten()

fig, ax = plt.subplots(figsize=(5, 2.6))
ax.hist(before.numpy(), bins=60, alpha=0.6, label="default: U(-1/8, 1/8)")
ax.hist(after.numpy(), bins=60, alpha=0.6, label="after nn.init.normal_(std=0.01)")
ax.set_xlabel("weight value of net[0]")
ax.set_ylabel("count")
ax.set_ylim(top=ax.get_ylim()[1] * 1.35)  # headroom, so the legend clears the tall peak
ax.legend(fontsize=8, loc="upper right")
fig.tight_layout()

# %% [markdown]
# ## Claims

# %%
def test_init_normal_returns_the_tensor_it_filled():
    """`nn.init.normal_(w)` returns the object `w` itself, keeps its storage, and replaces its values by draws with roughly the requested std."""
    torch.manual_seed(0)
    layer = nn.Linear(100, 100)
    w = layer.weight
    old_values, old_ptr = w.detach().clone(), w.data_ptr()
    returned = nn.init.normal_(w, mean=0.0, std=0.01)
    assert returned is w and w.data_ptr() == old_ptr
    assert not torch.equal(w, old_values)
    assert abs(w.std().item() - 0.01) < 0.001  # 10^4 draws: the sample std is within 10% of 0.01


def test_underscore_method_mutates_and_returns_self():
    """`x.add_(1)` returns `x`, changes it and increments `x._version`; `x.add(1)` returns a new tensor and leaves `x` and its version unchanged."""
    x = torch.zeros(3)
    version = x._version
    y = x.add(1)
    assert y is not x and torch.equal(x, torch.zeros(3)) and x._version == version
    z = x.add_(1)
    assert z is x and torch.equal(x, torch.ones(3)) and x._version == version + 1


def test_apply_visits_children_before_parents():
    """net.apply(fn) calls fn on every module, each child subtree before its parent, so the model itself comes last."""
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 2)))
    visited = []
    net.apply(visited.append)

    def postorder(module):
        for child in module.children():
            yield from postorder(child)
        yield module

    assert visited == list(postorder(net))
    assert visited[-1] is net and len(visited) == len(list(net.modules()))


def test_in_place_on_a_leaf_parameter_needs_no_grad():
    """`w.normal_()` on a parameter that requires grad raises `RuntimeError` under autograd, and works inside `torch.no_grad()`, which `nn.init` uses."""
    w = nn.Parameter(torch.zeros(3, 3))
    try:
        w.normal_()
        raised = False
    except RuntimeError as error:
        raised = "leaf Variable that requires grad" in str(error)
    assert raised
    with torch.no_grad():
        w.normal_()
    assert w.abs().sum() > 0 and w.requires_grad


# %% [markdown]
# ## Where it stops holding: in-place writes that backward needs
#
# `sigmoid` saves its *output* for backward ($\sigma' = \sigma(1-\sigma)$). Multiplying that output in place
# changes a tensor that autograd saved; the version counter records the write, and `backward()` refuses to use a
# stale tensor. An out-of-place multiply is fine, and so is an in-place op on a tensor nobody saved.

# %%
def test_in_place_on_a_saved_tensor_breaks_backward():
    """After `y = x.sigmoid()`, `y.mul_(2)` makes backward raise a version error; `y * 2` gives the analytic gradient 2σ(1−σ)."""
    x = torch.randn(4, requires_grad=True, generator=torch.Generator().manual_seed(0))
    y = x.sigmoid()
    y.mul_(2)
    try:
        y.sum().backward()
        raised = False
    except RuntimeError as error:
        raised = "modified by an inplace operation" in str(error)
    assert raised
    x.grad = None
    (x.sigmoid() * 2).sum().backward()
    s = torch.sigmoid(x.detach())
    torch.testing.assert_close(x.grad, 2 * s * (1 - s))


# %% [markdown]
# ## Conclusion
#
# The underscore means "write into this tensor"; the function returns that same tensor, so `w = nn.init.normal_(w)`
# and a bare `nn.init.normal_(w)` do the same thing. In-place writes save an allocation, but autograd forbids them
# on leaves that require grad (use `torch.no_grad()`, as `nn.init` does) and on tensors saved for backward (the
# version counter catches it at `backward()`).

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

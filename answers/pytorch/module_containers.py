# %% [markdown]
# # Module containers and introspection: the proof
#
# **Question.** How does an `nn.Module` keep track of its layers, what do `children()`, `modules()`,
# `parameters()` and `state_dict()` return, and when do you use `nn.Sequential` versus `nn.ModuleList`?
#
# Assigning a module as an attribute registers it in the ordered dict `_modules`; everything else (the
# iterators, `state_dict`, `.to()`, `.train()`) walks that dict. This module checks each iterator against a
# hand-written walk of `_modules`. Claims:
#
# 1. `children()` yields the direct sub-modules of any type, in registration order
#    (`test_children_are_the_direct_submodules_of_any_type`);
# 2. `modules()` is a pre-order depth-first walk that starts with the model itself and yields a shared module once
#    (`test_modules_is_a_preorder_walk_starting_with_self`);
# 3. `state_dict()` holds parameters and persistent buffers, keyed by dotted paths
#    (`test_state_dict_is_parameters_plus_persistent_buffers`);
# 4. indexing `net[2].bias` gives an `nn.Parameter`, whose `.grad` is `None` until a backward pass fills it
#    (`test_indexed_bias_is_a_parameter_with_grad_filled_by_backward`);
# 5. `nn.Sequential` chains its layers in `forward`; `nn.ModuleList` registers them but has no `forward`
#    (`test_sequential_chains_and_modulelist_only_registers`);
# 6. where it stops holding: modules kept in a plain Python list are invisible to `parameters()`,
#    `state_dict()` and `.to()` (`test_plain_list_of_layers_is_not_registered`).

# %% [markdown]
# ## A small model with every kind of child
#
# A convolution, an activation, a nested `Sequential`, a `ModuleList` and a BatchNorm with its buffers. The
# reference walk below uses only `_modules`, the dict that `__setattr__` fills.

# %%
from collections import OrderedDict

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.act = nn.ReLU()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
        self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
        self.bn = nn.BatchNorm1d(2)
        self.register_buffer("scratch", torch.zeros(1), persistent=False)

    def forward(self, x):  # (B, 3, 3, 3)
        x = self.head(self.act(self.conv(x)))  # (B, 2)
        for block in self.blocks:
            x = x + block(x)
        return self.bn(x)


def preorder(module, prefix=""):
    """(name, module) for module and all its descendants, depth first, read from _modules only."""
    yield prefix, module
    for name, child in module._modules.items():
        yield from preorder(child, f"{prefix}.{name}" if prefix else name)


net = Net()
print(f"{'name':<12} type")
for name, module in preorder(net):
    print(f"{name or '(net)':<12} {type(module).__name__}")

# %% [markdown]
# ## Claims
#
# Each iterator is compared with the walk over `_modules`, or with what a backward pass computes.

# %%
def test_children_are_the_direct_submodules_of_any_type():
    """`net.children()` yields the five direct sub-modules (Conv2d, ReLU, Sequential, ModuleList, BatchNorm1d) in registration order, exactly `_modules.values()`."""
    net = Net()
    assert list(net.children()) == list(net._modules.values())
    assert [type(m).__name__ for m in net.children()] == ["Conv2d", "ReLU", "Sequential", "ModuleList", "BatchNorm1d"]
    assert type(net._modules) is dict  # an insertion-ordered dict (Python 3.7+), no longer an OrderedDict


def test_modules_is_a_preorder_walk_starting_with_self():
    """`net.named_modules()` equals a pre-order walk of `_modules` that starts with the model itself, and a module registered twice is yielded once."""
    net = Net()
    assert [(n, m) for n, m in net.named_modules()] == list(preorder(net))
    assert next(iter(net.modules())) is net
    shared = nn.Linear(2, 2)
    tied = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(tied.modules())) == 3  # tied, shared, ReLU: the second `shared` is skipped
    assert len(list(preorder(tied))) == 4


def test_state_dict_is_parameters_plus_persistent_buffers():
    """state_dict() keys are named_parameters() plus named_buffers() minus the non-persistent buffer, and load_state_dict restores them exactly."""
    torch.manual_seed(0)
    net = Net()
    expected = [n for n, _ in net.named_parameters()] + [n for n, _ in net.named_buffers() if n != "scratch"]
    assert sorted(net.state_dict()) == sorted(expected)
    assert {"bn.running_mean", "bn.running_var", "bn.num_batches_tracked"} <= set(net.state_dict())
    other = Net()
    other.load_state_dict(net.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), other.state_dict().values()))


def test_indexed_bias_is_a_parameter_with_grad_filled_by_backward():
    """In a Sequential, `net[2].bias` is an `nn.Parameter` whose `.grad` is None before backward and equals the analytic gradient of `sum(output)` after it."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    bias = net[2].bias
    assert isinstance(bias, nn.Parameter) and isinstance(bias, torch.Tensor) and bias.requires_grad
    assert bias.grad is None
    x = torch.randn(5, 3)
    net(x).sum().backward()
    torch.testing.assert_close(bias.grad, torch.full((2,), 5.0))  # d(sum of 5 rows)/d(bias_j) = 5
    assert torch.equal(net[-1].weight, net[2].weight) and isinstance(net[1:], nn.Sequential)


def test_sequential_chains_and_modulelist_only_registers():
    """`nn.Sequential(a, b, c)(x)` equals `c(b(a(x)))`; `nn.ModuleList([a, b, c])` registers the same parameters but calling it raises `NotImplementedError`."""
    torch.manual_seed(0)
    layers = [nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1)]
    x = torch.randn(4, 3)
    torch.testing.assert_close(nn.Sequential(*layers)(x), layers[2](layers[1](layers[0](x))))
    as_list = nn.ModuleList(layers)
    assert len(list(as_list.parameters())) == 4
    try:
        as_list(x)
        raised = False
    except NotImplementedError:
        raised = True
    assert raised


# %% [markdown]
# ## Where it stops holding: a plain Python list
#
# Registration happens in `nn.Module.__setattr__`, which looks at the type of the value. A Python `list` of
# layers is stored as an ordinary attribute: the layers run in `forward`, but the optimizer, `state_dict()` and
# `.to()` never see them. `nn.ModuleList` exists to fix exactly this.

# %%
class ListNet(nn.Module):
    def __init__(self, container):
        super().__init__()
        self.layers = container([nn.Linear(2, 2), nn.Linear(2, 2)])


def test_plain_list_of_layers_is_not_registered():
    """Layers held in a Python list are missing from parameters(), state_dict() and .to(float64); the same layers in a ModuleList are not."""
    plain, registered = ListNet(list), ListNet(nn.ModuleList)
    assert list(plain.parameters()) == [] and list(plain.state_dict()) == []
    assert sum(p.numel() for p in registered.parameters()) == 2 * (2 * 2 + 2)
    plain.to(torch.float64)
    registered.to(torch.float64)
    assert plain.layers[0].weight.dtype == torch.float32
    assert registered.layers[0].weight.dtype == torch.float64


# %% [markdown]
# ## Conclusion
#
# A module's structure is the dict `_modules`, filled when a module is assigned as an attribute (or added through
# a `Sequential`, `ModuleList` or `ModuleDict`). `children()` is that dict's values, `modules()` a pre-order walk
# from the model itself with duplicates removed, and `state_dict()` the parameters and persistent buffers under
# dotted names. `Sequential` is for a pure chain; `ModuleList` is for layers you call yourself in a custom
# `forward`. A plain list hides layers from everything that walks the tree.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

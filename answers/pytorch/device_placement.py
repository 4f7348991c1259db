# %% [markdown]
# # Device placement and host transfers: the proof
#
# **Question.** How do you avoid scattering `.to(device)` calls through PyTorch code, and how do you avoid (and
# find) needless transfers between the GPU and the CPU, e.g. when logging or plotting?
#
# Tensors should be *born* on the right device: derived from an existing tensor (`zeros_like`, `new_zeros`,
# `device=x.device`), registered in the model as buffers so that `model.to()` moves them, or created under a
# default-device context. Transfers to the host should be batched, because each `.item()` or `.cpu()` of a GPU
# tensor waits for all queued GPU work. This machine has no GPU, so the module uses PyTorch's `meta` device (a
# real second device that stores no data) to check placement, and the ATen op behind `.item()`
# (`_local_scalar_dense`, the call that synchronizes on a GPU) to count host transfers. Claims:
#
# 1. `zeros_like`, `new_zeros` and `device=x.device` follow the source tensor's device; a bare `torch.zeros`
#    does not (`test_factories_derived_from_a_tensor_follow_its_device`);
# 2. `model.to(device)` moves parameters and registered buffers but not tensors stored as plain attributes
#    (`test_model_to_moves_buffers_but_not_plain_attributes`);
# 3. inside `with torch.device(...)` every factory call creates its tensor on that device
#    (`test_default_device_context_places_factories`);
# 4. logging with `loss.item()` every step performs one host read per step; accumulating on the device and
#    reading once gives the same total with one read (`test_accumulating_on_device_reads_the_host_once`);
# 5. where it stops holding: accumulating `total += loss` without `.detach()` keeps every step's autograd graph
#    alive (`test_accumulating_undetached_losses_keeps_every_graph`).

# %% [markdown]
# ## The meta device as a second device
#
# A tensor on `meta` has a shape, a dtype and a device, but no storage. Moving a module to `meta` therefore
# shows which tensors follow `.to()` without any GPU.

# %%
import torch
from torch import nn

from answers._dispatch import DispatchLog

META = torch.device("meta")


class Scaler(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 3)
        self.register_buffer("scale", torch.ones(3))  # moves with the model
        self.offset = torch.zeros(3)  # a plain attribute: does not

    def forward(self, x):
        return self.linear(x) * self.scale + self.offset


# %% [markdown]
# ## Claims

# %%
def test_factories_derived_from_a_tensor_follow_its_device():
    """For x on the meta device, zeros_like(x), x.new_zeros(2) and torch.ones(2, device=x.device) are on meta, while torch.zeros(2) is on the CPU."""
    x = torch.empty(4, 3, device=META, dtype=torch.float64)
    for t in (torch.zeros_like(x), x.new_zeros(2), torch.ones(2, device=x.device)):
        assert t.device == META
    assert torch.zeros_like(x).dtype == torch.float64 and x.new_zeros(2).dtype == torch.float64
    assert torch.zeros(2).device == torch.device("cpu")


def test_model_to_moves_buffers_but_not_plain_attributes():
    """After model.to('meta') the weights and the registered buffer are on meta, the plain tensor attribute is still on the CPU, and forward fails on the device mismatch."""
    model = Scaler().to(META)
    assert model.linear.weight.device == META and model.scale.device == META
    assert model.offset.device == torch.device("cpu")
    try:
        model(torch.empty(2, 3, device=META))
        raised = False
    except RuntimeError:
        raised = True
    assert raised


def test_default_device_context_places_factories():
    """Inside `with torch.device('meta')` a new module's parameters and torch.randn results are on meta; outside they are on the CPU."""
    with torch.device(META):
        layer = nn.Linear(4, 4)
        noise = torch.randn(2)
    assert layer.weight.device == META and noise.device == META
    assert nn.Linear(4, 4).weight.device == torch.device("cpu")


def train_losses(steps=20):
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(x), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():  # plain SGD by hand: torch.optim's first step imports torch._dynamo (seconds)
            for p in model.parameters():
                p -= 0.1 * p.grad
        yield loss


def test_accumulating_on_device_reads_the_host_once():
    """Summing `loss.item()` over 20 steps dispatches 20 `_local_scalar_dense` reads; summing `loss.detach()` on the device and calling `.item()` once dispatches 1, with the same total."""
    with DispatchLog() as log:
        per_step = sum(loss.item() for loss in train_losses())
    reads_per_step = [name for name, _ in log.ops].count("_local_scalar_dense")
    with DispatchLog() as log:
        total = torch.zeros(())
        for loss in train_losses():
            total += loss.detach()
        once = total.item()
    reads_once = [name for name, _ in log.ops].count("_local_scalar_dense")
    assert (reads_per_step, reads_once) == (20, 1)
    assert abs(per_step - once) < 1e-5 * abs(per_step)


# %% [markdown]
# ## Where it stops holding: accumulate the value, not the graph
#
# `total += loss` without `.detach()` makes `total` the output of an addition whose inputs include every step's
# loss, so every step's autograd graph (and the activations it saved) stays reachable. On a GPU that is a memory
# leak that grows with the number of steps. We count the autograd nodes reachable from `total`.

# %%
def graph_size(tensor):
    """Number of autograd nodes reachable from tensor.grad_fn."""
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return len(seen)


def test_accumulating_undetached_losses_keeps_every_graph():
    """After 5 and 10 steps of total += loss the graph reachable from total grows with the step count; with loss.detach() total has no graph at all."""
    sizes = []
    for steps in (5, 10):
        total = 0.0
        for loss in train_losses(steps):
            total = total + loss
        sizes.append(graph_size(total))
    single = graph_size(next(train_losses(1)))  # one step's graph
    assert sizes[1] - sizes[0] >= 5 * (single - 1)  # each extra step keeps its own graph alive
    total = torch.zeros(())
    for loss in train_losses(10):
        total += loss.detach()
    assert total.grad_fn is None and not total.requires_grad


# %% [markdown]
# ## Conclusion
#
# Create tensors where they will be used: from an existing tensor (`*_like`, `new_*`, `device=x.device`), as
# registered buffers (so `model.to(device)` moves them), or inside a default-device context. Read values back to
# the host rarely and in batches: accumulate detached metrics on the device and call `.item()` once per logging
# interval. On a GPU, `torch.cuda.set_sync_debug_mode("warn")` and the profiler show where the remaining
# synchronizations happen.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

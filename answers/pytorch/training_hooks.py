# %% [markdown]
# # Training hooks and configuration-driven initialization: the proof
#
# **Question.** How does the hook mechanism of MMCV/MMEngine work, how do you write a new hook, and what do
# MMEngine's `init_cfg` options do?
#
# A training framework runs a fixed loop and calls *hooks* at named points (`before_run`, `before_train_epoch`,
# `before_train_iter`, `after_train_iter`, ...). A hook is an object with methods of those names; a registry
# builds hooks from config dicts, and the runner calls them in priority order. `init_cfg` is the same idea for
# weight initialization: a list of dicts that says which initializer to apply to which layer type. MMCV is not
# installed here, so the module rebuilds both ideas in about forty lines of plain Python and PyTorch, next to
# PyTorch's own module hooks. Claims:
#
# 1. a PyTorch forward hook captures a layer's output exactly (`test_forward_hook_captures_the_layer_output`);
# 2. the runner calls hooks in priority order (0 = highest), ties in registration order
#    (`test_runner_calls_hooks_in_priority_order`);
# 3. hooks that only observe leave training bit-for-bit unchanged (`test_observing_hooks_do_not_change_training`);
# 4. a loss check every `interval` iterations catches a NaN at the first checked iteration at or after it
#    (`test_invalid_loss_hook_fires_at_the_first_checked_iteration`);
# 5. an `init_cfg`-style list initializes convolutions with Kaiming (fan-out) and linear layers with Xavier,
#    with the standard deviations of the closed forms (`test_init_cfg_applies_initializers_by_layer_type`), and a
#    `Pretrained` entry restores a checkpoint exactly (`test_pretrained_init_loads_the_checkpoint`);
# 6. where it stops holding: a check written as an `assert` disappears under `python -O`
#    (`test_assert_based_loss_check_vanishes_under_optimization`).

# %% [markdown]
# ## PyTorch's own hooks
#
# `nn.Module` has hooks too: `register_forward_pre_hook`, `register_forward_hook` and
# `register_full_backward_hook`, called around a module's forward and backward. They are the standard way to
# read intermediate features without editing `forward`.

# %%
import io
import math

import torch
from torch import nn


def capture_output(module):
    """Register a forward hook on module; return the list it appends outputs to, and the handle."""
    outputs = []
    handle = module.register_forward_hook(lambda mod, args, output: outputs.append(output.detach()))
    return outputs, handle


# %% [markdown]
# ## A registry, a hook base class and a runner
#
# The registry maps a type name to a class, so that `dict(type="CheckInvalidLossHook", interval=5)` can be
# built from a config. The runner keeps its hooks sorted by priority (MMCV's levels: `HIGHEST` 0,
# `NORMAL` 50, `LOWEST` 100) and calls `hook.<point>(runner)` at each point of its loop. Hooks may live in any
# file; what matters is that their module is imported so the decorator runs.

# %%
HOOKS = {}
PRIORITY = {"HIGHEST": 0, "VERY_HIGH": 10, "HIGH": 30, "NORMAL": 50, "LOW": 70, "LOWEST": 100}


def register_hook_class(cls):
    HOOKS[cls.__name__] = cls
    return cls


def build_hook(cfg):
    cfg = dict(cfg)
    return HOOKS[cfg.pop("type")](**cfg)


class Hook:
    """Every hook point is a method that does nothing; a new hook overrides the ones it needs."""

    def before_run(self, runner): ...
    def after_run(self, runner): ...
    def before_train_epoch(self, runner): ...
    def after_train_epoch(self, runner): ...
    def before_train_iter(self, runner): ...
    def after_train_iter(self, runner): ...

    @staticmethod
    def every_n_iters(runner, n):
        return (runner.iter + 1) % n == 0


class Runner:
    def __init__(self, model, optimizer, batches, epochs=1):
        self.model, self.optimizer, self.batches, self.epochs = model, optimizer, batches, epochs
        self.hooks, self.iter, self.outputs = [], 0, {}

    def register_hook(self, hook, priority="NORMAL"):
        hook.priority = PRIORITY[priority] if isinstance(priority, str) else priority
        # insert after every hook of higher or equal priority: ties keep registration order
        position = sum(1 for h in self.hooks if h.priority <= hook.priority)
        self.hooks.insert(position, hook)

    def call_hook(self, name):
        for hook in self.hooks:
            getattr(hook, name)(self)

    def run(self):
        self.call_hook("before_run")
        for _ in range(self.epochs):
            self.call_hook("before_train_epoch")
            for x, y in self.batches:
                self.call_hook("before_train_iter")
                loss = nn.functional.mse_loss(self.model(x), y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.outputs = {"loss": loss.detach()}
                self.call_hook("after_train_iter")
                self.iter += 1
            self.call_hook("after_train_epoch")
        self.call_hook("after_run")


@register_hook_class
class CheckInvalidLossHook(Hook):
    """Raise if the loss is not finite, every `interval` iterations (an explicit raise, not an assert)."""

    def __init__(self, interval=50):
        self.interval = interval

    def after_train_iter(self, runner):
        if self.every_n_iters(runner, self.interval) and not torch.isfinite(runner.outputs["loss"]):
            raise FloatingPointError(f"loss became infinite or NaN at iteration {runner.iter}")


@register_hook_class
class LossRecorderHook(Hook):
    def __init__(self):
        self.losses = []

    def after_train_iter(self, runner):
        self.losses.append(runner.outputs["loss"].item())


class PlainSGD:
    """SGD, p ← p − lr·grad, with torch.optim's interface (torch.optim's first step imports torch._dynamo: seconds)."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        for p in self.params:
            p -= self.lr * p.grad


def make_problem(seed=0, nan_at=None, steps=12):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    g = torch.Generator().manual_seed(seed + 1)
    batches = [(torch.randn(16, 3, generator=g), torch.randn(16, 1, generator=g)) for _ in range(steps)]
    if nan_at is not None:
        batches[nan_at][0][0, 0] = float("nan")  # one bad sample poisons the gradient, then every later loss
    return model, PlainSGD(model.parameters(), lr=0.05), batches


# %% [markdown]
# ## `init_cfg`: initialization as configuration
#
# MMEngine lets a model declare `init_cfg=[dict(type='Kaiming', layer='Conv2d'), dict(type='Xavier',
# layer='Linear')]` and applies it in `init_weights()`. Its documented defaults are `KaimingInit(a=0,
# mode='fan_out', nonlinearity='relu', distribution='normal')` and `XavierInit(gain=1, distribution='normal')`,
# both with bias 0. A `Pretrained` entry loads a checkpoint instead. Below is the same mechanism in plain PyTorch.

# %%
def kaiming(module):
    nn.init.kaiming_normal_(module.weight, a=0, mode="fan_out", nonlinearity="relu")


def xavier(module):
    nn.init.xavier_normal_(module.weight, gain=1)


INITIALIZERS = {"Kaiming": kaiming, "Xavier": xavier}


def init_weights(model, init_cfg):
    for cfg in init_cfg:
        if cfg["type"] == "Pretrained":
            model.load_state_dict(torch.load(cfg["checkpoint"], weights_only=True))
            continue
        layer_type = getattr(nn, cfg["layer"])
        for module in model.modules():
            if isinstance(module, layer_type):
                INITIALIZERS[cfg["type"]](module)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)


class ToyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(32, 64, 3)
        self.bn = nn.BatchNorm2d(64)
        self.fc = nn.Linear(256, 128)


# %% [markdown]
# ## Claims

# %%
def test_forward_hook_captures_the_layer_output():
    """A forward hook on `net[1]` records exactly the output of `net[:2]` on the same input, and after `handle.remove()` it records nothing more."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    x = torch.randn(3, 4)
    expected = net[:2](x)  # before the hook exists, so that this call is not recorded
    outputs, handle = capture_output(net[1])
    net(x)
    torch.testing.assert_close(outputs[0], expected)
    handle.remove()
    net(x)
    assert len(outputs) == 1


def test_runner_calls_hooks_in_priority_order():
    """Hooks registered as NORMAL, HIGHEST, LOW, NORMAL run as HIGHEST, NORMAL (first), NORMAL (second), LOW."""
    model, optimizer, batches = make_problem(steps=1)
    runner = Runner(model, optimizer, batches)
    calls = []

    class Named(Hook):
        def __init__(self, name):
            self.name = name

        def before_run(self, runner):
            calls.append(self.name)

    for name, priority in [("a", "NORMAL"), ("b", "HIGHEST"), ("c", "LOW"), ("d", "NORMAL")]:
        runner.register_hook(Named(name), priority)
    runner.run()
    assert calls == ["b", "a", "d", "c"]


def test_observing_hooks_do_not_change_training():
    """A runner with a loss recorder and a loss check (built from config dicts) ends with the same weights and losses as a plain training loop."""
    model, optimizer, batches = make_problem()
    runner = Runner(model, optimizer, batches)
    recorder = build_hook({"type": "LossRecorderHook"})
    runner.register_hook(recorder)
    runner.register_hook(build_hook({"type": "CheckInvalidLossHook", "interval": 1}), "VERY_HIGH")
    runner.run()

    plain_model, plain_optimizer, plain_batches = make_problem()
    plain_losses = []
    for x, y in plain_batches:
        loss = nn.functional.mse_loss(plain_model(x), y)
        plain_optimizer.zero_grad()
        loss.backward()
        plain_optimizer.step()
        plain_losses.append(loss.item())
    assert recorder.losses == plain_losses
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), plain_model.parameters()))


def test_invalid_loss_hook_fires_at_the_first_checked_iteration():
    """With a NaN injected at iteration 7, the check with interval 1 raises at iteration 7 and with interval 5 at iteration 9, the first i ≥ 7 with (i + 1) % 5 == 0."""
    for interval, expected in [(1, 7), (5, 9)]:
        model, optimizer, batches = make_problem(nan_at=7)
        runner = Runner(model, optimizer, batches)
        runner.register_hook(CheckInvalidLossHook(interval))
        try:
            runner.run()
            stopped_at = None
        except FloatingPointError:
            stopped_at = runner.iter
        assert stopped_at == expected


def test_init_cfg_applies_initializers_by_layer_type():
    """Conv2d weights get std sqrt(2 / fan_out) and Linear weights sqrt(2 / (fan_in + fan_out)) within 5%, biases 0, and BatchNorm keeps its defaults."""
    torch.manual_seed(0)
    net = ToyNet()
    init_weights(net, [{"type": "Kaiming", "layer": "Conv2d"}, {"type": "Xavier", "layer": "Linear"}])
    conv_expected = math.sqrt(2 / (64 * 3 * 3))  # fan_out = out_channels · kH · kW
    linear_expected = math.sqrt(2 / (256 + 128))
    assert abs(net.conv.weight.std().item() / conv_expected - 1) < 0.05
    assert abs(net.fc.weight.std().item() / linear_expected - 1) < 0.05
    assert net.conv.bias.abs().max() == 0 and net.fc.bias.abs().max() == 0
    assert torch.equal(net.bn.weight, torch.ones(64)) and torch.equal(net.bn.bias, torch.zeros(64))


def test_pretrained_init_loads_the_checkpoint():
    """A Pretrained entry after the random initializers leaves every tensor equal to the checkpoint's."""
    torch.manual_seed(1)
    source = ToyNet()
    buffer = io.BytesIO()
    torch.save(source.state_dict(), buffer)
    buffer.seek(0)
    torch.manual_seed(2)
    net = ToyNet()
    init_weights(net, [{"type": "Kaiming", "layer": "Conv2d"}, {"type": "Pretrained", "checkpoint": buffer}])
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), source.state_dict().values()))


# %% [markdown]
# ## Where it stops holding: assert is not a check
#
# The hook in the source note tests the loss with `assert torch.isfinite(loss), runner.logger.info(...)`. Python
# removes `assert` statements when run with `-O` (`__debug__` is False), so the check silently disappears; and
# the message expression is `logger.info(...)`, which returns `None`, so the `AssertionError` carries no message.
# `compile(..., optimize=1)` compiles code as `python -O` would, so we can show both without a subprocess.

# %%
NOTE_STYLE_CHECK = """
def check(loss, log):
    assert torch.isfinite(loss), log('loss become infinite or NaN!')
"""


def test_assert_based_loss_check_vanishes_under_optimization():
    """The note's assert-based check raises an AssertionError whose message is None normally, and raises nothing when compiled as under python -O."""
    logged = []
    for optimize, expect_raise in [(0, True), (1, False)]:
        namespace = {"torch": torch}
        exec(compile(NOTE_STYLE_CHECK, "<hook>", "exec", optimize=optimize), namespace)
        try:
            namespace["check"](torch.tensor(float("nan")), logged.append)
            raised = None
        except AssertionError as error:
            raised = error
        assert (raised is not None) == expect_raise
        if expect_raise:
            assert raised.args == (None,)
    assert logged == ["loss become infinite or NaN!"]


# %% [markdown]
# ## Conclusion
#
# A hook system is a loop with named call sites and a priority-sorted list of objects to call there; a registry
# turns config dicts into those objects. A new hook subclasses `Hook`, overrides the points it needs, is
# registered (decorator), and is listed in the config (`custom_hooks`). Hooks should observe or add behaviour
# (logging, checkpoints, LR schedules, loss checks) rather than rewrite the step, and checks inside them should
# `raise`, not `assert`. `init_cfg` is the configuration form of `model.apply` with `nn.init` functions.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

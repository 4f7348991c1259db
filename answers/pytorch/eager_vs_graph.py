# %% [markdown]
# # Eager execution versus graphs, and getting a graph out for deployment: the proof
#
# **Question.** How do PyTorch and TensorFlow differ (imperative versus symbolic, dynamic versus static
# graphs), and how do you take a PyTorch model to a C++ runtime?
#
# In eager mode every Python line runs as it is reached, and autograd records the operations that actually ran,
# so the graph is rebuilt on every call and follows Python control flow. A graph framework first captures a
# program, then runs it; capturing is what deployment needs, and how it treats control flow is what separates
# the capture methods. This module checks each behaviour on one function with a data-dependent branch. Claims:
#
# 1. eager autograd records the branch that ran, with the right gradient for each input
#    (`test_eager_graph_follows_the_branch_taken`);
# 2. Python side effects in eager code run on every call, in a traced graph only once, at tracing time
#    (`test_trace_runs_python_code_only_while_tracing`);
# 3. tracing freezes the branch taken by the example input and is wrong on the other branch
#    (`test_trace_freezes_the_branch_of_the_example_input`);
# 4. `torch.fx.symbolic_trace` refuses data-dependent control flow
#    (`test_fx_symbolic_trace_rejects_data_dependent_control_flow`);
# 5. a scripted model keeps the branch, and survives a save/load round trip through the archive format that
#    C++ (`torch::jit::load`) reads (`test_scripted_model_keeps_control_flow_through_save_and_load`).

# %% [markdown]
# ## A function with a data-dependent branch
#
# `f` doubles its input when the sum is positive and negates it otherwise. The branch depends on the *values*,
# so no capture that only looks at shapes can know which one to keep.

# %%
import io
import warnings

import torch
import torch.fx

calls = []


def f(x):
    calls.append("called")  # a Python side effect, like a print or a breakpoint
    if x.sum() > 0:
        return x * 2
    return -x


class Branchy(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x * 2
        return -x


def quietly(capture, *args):
    """Run a torch.jit function (trace, script, save, load) without its TracerWarning / DeprecationWarning noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return capture(*args)


positive, negative = torch.ones(3), -torch.ones(3)

# %% [markdown]
# ## Claims

# %%
def test_eager_graph_follows_the_branch_taken():
    """In eager mode the recorded graph is MulBackward for a positive input and NegBackward for a negative one, with gradients 2 and −1 as differentiating each branch gives."""
    grads, nodes = [], []
    for x in (positive, negative):
        x = x.clone().requires_grad_()
        y = f(x)
        nodes.append(type(y.grad_fn).__name__)
        y.sum().backward()
        grads.append(x.grad)
    assert nodes[0].startswith("MulBackward") and nodes[1].startswith("NegBackward")
    assert torch.equal(grads[0], torch.full((3,), 2.0)) and torch.equal(grads[1], torch.full((3,), -1.0))


def test_trace_runs_python_code_only_while_tracing():
    """f's Python side effect runs on each of three eager calls, but for the traced graph only during tracing and never in its three calls."""
    calls.clear()
    for _ in range(3):
        f(positive)
    assert len(calls) == 3
    calls.clear()
    traced = quietly(torch.jit.trace, f, positive)
    after_tracing = len(calls)
    for _ in range(3):
        traced(positive)
    assert after_tracing >= 1 and len(calls) == after_tracing


def test_trace_freezes_the_branch_of_the_example_input():
    """Traced on a positive example, f returns 2x for a negative input too, where eager f returns −x."""
    traced = quietly(torch.jit.trace, f, positive)
    assert torch.equal(traced(positive), f(positive))
    assert torch.equal(traced(negative), negative * 2)
    assert not torch.equal(traced(negative), f(negative))


def test_fx_symbolic_trace_rejects_data_dependent_control_flow():
    """torch.fx.symbolic_trace raises TraceError on the module's `if x.sum() > 0`."""
    try:
        torch.fx.symbolic_trace(Branchy())
        raised = False
    except torch.fx.proxy.TraceError as error:
        raised = "control flow" in str(error)
    assert raised


def test_scripted_model_keeps_control_flow_through_save_and_load():
    """torch.jit.script compiles the if statement; after saving and reloading the archive the model matches eager on both branches."""
    scripted = quietly(torch.jit.script, Branchy())
    buffer = io.BytesIO()
    quietly(torch.jit.save, scripted, buffer)
    buffer.seek(0)
    loaded = quietly(torch.jit.load, buffer)
    for x in (positive, negative):
        assert torch.equal(loaded(x), Branchy()(x))


# %% [markdown]
# ## Conclusion
#
# Eager PyTorch runs Python and records what ran: easy to debug with ordinary Python tools, and control flow is
# just Python. Graph capture is what compilers and C++ runtimes need, and the capture method decides what
# happens to that control flow: tracing silently freezes one path, `torch.fx` refuses it, scripting compiles it.
# `torch.jit` is deprecated in current PyTorch in favour of `torch.export` (with `torch.cond` for branches) and
# `torch.compile`, which capture the same kind of graph with better coverage; the trade-offs shown here are the
# same.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

# %% [markdown]
# # Parameter tying: the proof
#
# **Question.** How do you share (tie) parameters between layers in PyTorch, and what happens to their gradients?
#
# Tying means that two places in the model use *the same* `nn.Parameter` object, either by reusing a layer or by
# assigning one layer's parameter to another (`head.weight = embedding.weight`). This module checks what that
# does to `parameters()`, `state_dict()`, the gradient and the optimizer. Claims:
#
# 1. a layer used twice holds one parameter: identical object, counted once by `parameters()`, but listed under
#    both names in `state_dict()` (`test_shared_layer_is_one_parameter_under_two_names`);
# 2. the gradient of a tied parameter is the sum of the gradients its uses would get if untied
#    (`test_tied_gradient_is_the_sum_of_the_untied_gradients`);
# 3. after optimizer steps the tied layers are still equal, while an untied copy starting from the same values
#    drifts apart (`test_tied_layers_stay_equal_under_training`);
# 4. tying an output projection to the input embedding removes `vocab × dim` parameters
#    (`test_embedding_tying_saves_vocab_times_dim_parameters`);
# 5. where it stops holding: loading a checkpoint whose two tied entries differ keeps only the value loaded last
#    (`test_loading_conflicting_tied_entries_keeps_the_last`).

# %% [markdown]
# ## A model that uses one layer twice
#
# The classic example from the Dive into Deep Learning course: define a layer once and put it into a
# `Sequential` twice. The "untied" twin has two separate layers that start from the same values.

# %%
import copy

import torch
from torch import nn


def tied_and_untied(seed=0):
    torch.manual_seed(seed)
    shared = nn.Linear(4, 4)
    tied = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), shared, nn.ReLU(), shared, nn.Linear(4, 1))
    untied = copy.deepcopy(tied)
    untied[4] = copy.deepcopy(untied[2])  # a separate layer with the same starting values
    return tied, untied


tied, untied = tied_and_untied()
print("parameters():", len(list(tied.parameters())), "tied vs", len(list(untied.parameters())), "untied")
print("state_dict():", len(tied.state_dict()), "tied vs", len(untied.state_dict()), "untied")

# %% [markdown]
# ## Claims

# %%
def test_shared_layer_is_one_parameter_under_two_names():
    """In the tied model `net[2].weight is net[4].weight`, `parameters()` yields it once, and `state_dict()` lists it under both names with one storage."""
    tied, untied = tied_and_untied()
    assert tied[2].weight is tied[4].weight
    assert len(list(tied.parameters())) == len(list(untied.parameters())) - 2
    state = tied.state_dict()
    assert "2.weight" in state and "4.weight" in state
    assert state["2.weight"].data_ptr() == state["4.weight"].data_ptr()


def test_tied_gradient_is_the_sum_of_the_untied_gradients():
    """The gradient of the shared weight equals the sum of the gradients of the two untied copies, computed by autograd on the untied twin."""
    tied, untied = tied_and_untied()
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(1))
    tied(x).square().mean().backward()
    untied(x).square().mean().backward()
    torch.testing.assert_close(tied[2].weight.grad, untied[2].weight.grad + untied[4].weight.grad)
    torch.testing.assert_close(tied[2].bias.grad, untied[2].bias.grad + untied[4].bias.grad)


def test_tied_layers_stay_equal_under_training():
    """After 20 SGD steps the two uses of the tied layer are still one tensor, while the untied copies, equal at the start, differ by more than 1e-3."""
    tied, untied = tied_and_untied()
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(2))
    for model in (tied, untied):
        for _ in range(20):
            model.zero_grad()
            model(x).square().mean().backward()
            with torch.no_grad():  # SGD over parameters(): the shared weight is updated once
                for p in model.parameters():
                    p -= 0.1 * p.grad
    assert tied[2].weight is tied[4].weight
    assert (untied[2].weight - untied[4].weight).abs().max() > 1e-3


class TinyLM(nn.Module):
    def __init__(self, vocab_size, dim, tie):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim)
        self.head = nn.Linear(dim, vocab_size, bias=False)
        if tie:
            self.head.weight = self.embedding.weight  # (vocab, dim) in both layers

    def forward(self, tokens):  # (B, T) -> (B, T, vocab)
        return self.head(self.embedding(tokens))


def test_embedding_tying_saves_vocab_times_dim_parameters():
    """Tying a language model's output layer to its embedding (as in Press & Wolf, 2017) removes exactly vocab_size × dim parameters and still runs."""
    vocab_size, dim = 50, 8
    untied_count = sum(p.numel() for p in TinyLM(vocab_size, dim, tie=False).parameters())
    model = TinyLM(vocab_size, dim, tie=True)
    assert untied_count - sum(p.numel() for p in model.parameters()) == vocab_size * dim
    assert model(torch.tensor([[1, 2, 3]])).shape == (1, 3, vocab_size)


# %% [markdown]
# ## Where it stops holding: checkpoints with conflicting entries
#
# `state_dict()` stores a tied parameter under each of its names. Loading copies every entry into the parameter
# in turn, so if a checkpoint (saved from an untied model, say) has different values for the two names, the last
# one silently wins and the first is lost: the model is not the one that was saved.

# %%
def test_loading_conflicting_tied_entries_keeps_the_last():
    """Loading an untied model's state_dict into the tied model raises no error and sets the shared weight to the later entry, 4.weight."""
    tied, untied = tied_and_untied()
    with torch.no_grad():
        untied[2].weight.fill_(1.0)
        untied[4].weight.fill_(2.0)
    tied.load_state_dict(untied.state_dict())
    assert torch.equal(tied[2].weight, torch.full((4, 4), 2.0))


# %% [markdown]
# ## Conclusion
#
# A tied parameter is one `nn.Parameter` object reachable under several names. `parameters()` counts it once, so
# the optimizer updates it once with the *sum* of the gradients of its uses; `state_dict()` lists every name so
# that checkpoints load regardless of tying. Tying is how language models share the embedding and the output
# layer, and how recurrent or looped blocks reuse weights.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

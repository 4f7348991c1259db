# %% [markdown]
# # Complete binary tree check: the proof
#
# **Question.** How do you check whether a binary tree is complete (LeetCode 958)?
#
# This module enumerates every binary-tree shape with up to 8 nodes (2,056 shapes) and checks the usual
# breadth-first answer against two brute-force definitions, against the note's numbering definition,
# and against the shortcuts that circulate in interview prep. Claims:
#
# 1. the enumeration is exhaustive: it yields the Catalan number of shapes for every size (`test_shape_count_is_catalan`);
# 2. the BFS check agrees with both definitions on every shape (`test_bfs_check_agrees_with_the_definitions_on_every_shape`);
# 3. there is exactly one complete shape per node count (`test_exactly_one_complete_tree_per_size`);
# 4. the note's numbering definition is correct on every shape (`test_note_definition_agrees_on_every_shape`);
# 5. the empty tree and a single node are complete (`test_empty_and_single_node_are_complete`);
# 6. the DFS alternative (largest heap index = node count) agrees, and its indices need an early exit (`test_dfs_max_index_equals_count_agrees`, `test_heap_index_grows_exponentially_without_an_early_exit`),
#    although with wrap-around arithmetic the max-versus-$n$ comparison still comes out right (`test_wrapped_heap_indices_still_reach_above_n`);
# 7. complete is not perfect, and "0 or 2 children" is neither necessary nor sufficient (`test_complete_is_not_perfect`, `test_zero_or_two_children_is_neither_necessary_nor_sufficient`);
# 8. local shortcuts accept incomplete trees (`test_local_shortcuts_accept_incomplete_trees`);
# 9. follow-up, LeetCode 222: the node count of a complete tree in $O(\log^2 n)$ agrees with brute force
#    (`test_count_complete_matches_brute_force`), stays within $2(\lfloor\log_2 n\rfloor + 1)^2$ child accesses up to
#    1.5 million nodes (`test_count_complete_work_is_log_squared`), and miscounts trees that are not complete
#    (`test_count_complete_is_wrong_on_incomplete_trees`).

# %% [markdown]
# ## Trees, shapes and heap numbering
#
# Completeness depends only on the shape, so a tree here is `None` (empty) or a `Node(left, right)`.
# Number the slots of an infinite binary tree as a heap does: the root is 1, and the children of slot
# $i$ are $2i$ and $2i+1$. Reading these numbers level by level, left to right, gives 1, 2, 3, ...; that
# is exactly the note's "number the perfect tree in breadth-first order". `to_leetcode` prints a shape the
# way LeetCode serialises trees, with nodes labelled 1..n in breadth-first order.

# %%
import math
import random
from collections import deque, namedtuple

Node = namedtuple("Node", "left right")


def all_shapes(n):
    """Every binary-tree shape with n nodes: a root, k nodes on the left, n-1-k on the right."""
    if n == 0:
        return [None]
    return [Node(left, right) for k in range(n) for left in all_shapes(k) for right in all_shapes(n - 1 - k)]


def slots(root):
    """Heap slot numbers of the nodes: root 1, children 2i and 2i+1."""
    found, stack = [], [(root, 1)] if root is not None else []
    while stack:
        node, slot = stack.pop()
        found.append(slot)
        stack += [(child, 2 * slot + side) for side, child in enumerate(node) if child is not None]
    return found


def to_leetcode(root):
    """LeetCode's level-order serialisation, nodes labelled 1..n in breadth-first order."""
    out, queue, label = [], deque([root]), 0
    while queue:
        node = queue.popleft()
        if node is None:
            out.append(None)
        else:
            label += 1
            out.append(label)
            queue += [node.left, node.right]
    while out and out[-1] is None:
        out.pop()
    return "[" + ",".join("null" if v is None else str(v) for v in out) + "]"


SHAPES = {n: all_shapes(n) for n in range(9)}  # 1 + 1 + 2 + 5 + ... + 1430 = 2056 shapes

# %% [markdown]
# ## Two brute-force definitions
#
# *By slots:* a tree with $n$ nodes is complete when its nodes occupy exactly the heap slots $1..n$.
# *By levels* (the textbook wording): every level but the last is full, and the nodes of the last level
# are packed to the left, i.e. among the child slots under the second-to-last level, read left to right,
# no filled slot comes after an empty one. The two definitions are written independently, and the claims
# check that they agree.

# %%
def is_complete_by_slots(root):
    """Complete iff the heap slots of the n nodes are exactly 1..n."""
    found = slots(root)
    return sorted(found) == list(range(1, len(found) + 1))


def is_complete_by_levels(root):
    """Complete iff all levels but the last are full and the last one is packed to the left."""
    if root is None:
        return True
    levels = [[root]]
    while True:
        below = [child for node in levels[-1] for child in node if child is not None]
        if not below:
            break
        levels.append(below)
    if any(len(level) != 2**depth for depth, level in enumerate(levels[:-1])):
        return False
    if len(levels) == 1:
        return True
    filled = [child is not None for node in levels[-2] for child in node]  # child slots, left to right
    return filled == sorted(filled, reverse=True)  # all True first, then all False


# %% [markdown]
# ## The interview answer: breadth-first search until the first gap
#
# Walk the tree level by level and enqueue children *including the missing ones* (`None`). In a
# complete tree the breadth-first sequence of slots is 1, 2, ..., n followed only by gaps, so the first
# `None` must never be followed by a real node. One pass, $O(n)$ time, $O(\text{width})$ memory.

# %%
def is_complete_bfs(root):
    """LeetCode 958: after the first missing child in breadth-first order, no real node may appear."""
    queue, seen_gap = deque([root]), False
    while queue:
        node = queue.popleft()
        if node is None:
            seen_gap = True
        elif seen_gap:
            return False
        else:
            queue += [node.left, node.right]
    return True


# %% [markdown]
# ## The note's definition, translated
#
# The note numbers the perfect tree breadth first, numbers the given tree the same way, and calls the
# tree complete when every number matches. Read literally: visit the real nodes breadth first, left to
# right, counting 1, 2, 3, ...; the tree is complete when the $i$-th node visited sits in slot $i$ of the
# perfect tree. (The depth $k$ the note mentions plays no role: slot numbers do not depend on it.)

# %%
def is_complete_by_note(root):
    """The note: the i-th node in breadth-first order must occupy slot i of the perfect tree."""
    order, queue = [], deque([(root, 1)] if root is not None else [])
    while queue:
        node, slot = queue.popleft()
        order.append(slot)
        queue += [(child, 2 * slot + side) for side, child in enumerate(node) if child is not None]
    return all(number == slot for number, slot in enumerate(order, start=1))


# %% [markdown]
# ## The shortcuts in circulation
#
# Four checks that look plausible and are not the definition: "complete means perfect" (every level
# full), "every node has 0 or 2 children" (which is what *full* means in English), "no node has a right
# child without a left child", and "the height is $\lfloor \log_2 n \rfloor$".

# %%
def height(root):
    return -1 if root is None else 1 + max(height(root.left), height(root.right))


def is_perfect(root):
    n = len(slots(root))
    return n + 1 == 2 ** (height(root) + 1)


def has_zero_or_two_children(root):
    if root is None:
        return True
    return (root.left is None) == (root.right is None) and all(map(has_zero_or_two_children, root))


def no_right_without_left(root):
    if root is None:
        return True
    return not (root.left is None and root.right is not None) and all(map(no_right_without_left, root))


def has_minimal_height(root):
    n = len(slots(root))
    return n == 0 or height(root) == n.bit_length() - 1  # floor(log2 n)


# %% [markdown]
# ## Every shape, counted
#
# For each size: how many shapes exist, how many are complete, and how many each shortcut accepts.
# A correct check accepts exactly one shape per size; every shortcut's column drifts away from 1.

# %%
checks = {
    "complete": is_complete_bfs,
    "perfect": is_perfect,
    "0 or 2 children": has_zero_or_two_children,
    "no right w/o left": no_right_without_left,
    "height=floor(log2 n)": has_minimal_height,
}
print(f"{'n':>2}  {'shapes':>6}  " + "  ".join(checks))
for n, shapes in SHAPES.items():
    counts = [sum(map(check, shapes)) for check in checks.values()]
    print(f"{n:>2}  {len(shapes):>6}  " + "  ".join(f"{c:>{len(name)}}" for c, name in zip(counts, checks)))


# %% [markdown]
# ## Claims
#
# The enumeration is checked against the closed-form Catalan number $C_n = \binom{2n}{n}/(n+1)$ first,
# so that "every shape" below really means every shape.

# %%
def test_shape_count_is_catalan():
    """The enumeration yields C_n = binom(2n, n)/(n+1) distinct shapes for n = 0..8, 1430 at n = 8."""
    for n, shapes in SHAPES.items():
        assert len(shapes) == len(set(shapes)) == math.comb(2 * n, n) // (n + 1)
    assert len(SHAPES[8]) == 1430


def test_bfs_check_agrees_with_the_definitions_on_every_shape():
    """The BFS first-gap check agrees with the slot definition and the level definition on all 2056 shapes with up to 8 nodes."""
    disagreements = [
        to_leetcode(root)
        for shapes in SHAPES.values()
        for root in shapes
        if not is_complete_bfs(root) == is_complete_by_slots(root) == is_complete_by_levels(root)
    ]
    assert disagreements == []
    assert sum(len(shapes) for shapes in SHAPES.values()) == 2056


def test_exactly_one_complete_tree_per_size():
    """For each n there is exactly one complete shape, the one whose nodes fill slots 1..n."""
    for n, shapes in SHAPES.items():
        complete = [root for root in shapes if is_complete_by_slots(root)]
        assert len(complete) == 1
        labels = ",".join(map(str, range(1, n + 1)))
        assert to_leetcode(complete[0]) == f"[{labels}]"


def test_note_definition_agrees_on_every_shape():
    """The note's definition (the i-th node in breadth-first order sits in slot i) is correct on all 2056 shapes."""
    for shapes in SHAPES.values():
        for root in shapes:
            assert is_complete_by_note(root) == is_complete_by_slots(root), to_leetcode(root)


def test_empty_and_single_node_are_complete():
    """The empty tree and a single node are complete under every definition and the BFS check."""
    for root in (None, Node(None, None)):
        assert is_complete_bfs(root) and is_complete_by_slots(root)
        assert is_complete_by_levels(root) and is_complete_by_note(root)
    assert not is_complete_bfs(Node(None, Node(None, None)))  # the smallest incomplete tree: [1,null,2]


# %% [markdown]
# ## A second correct answer: DFS with heap indices
#
# Since the $n$ slots are distinct positive integers, they are exactly $1..n$ if and only if none exceeds
# $n$ (equivalently, the largest is $n$). So count the nodes, then walk depth first and fail at the first
# slot above $n$. The catch is that slots double at
# every level: along a chain of 100 nodes (LeetCode allows 100) the last slot is $2^{99}$, far beyond a
# 64-bit integer. Stopping at the first slot above $n$ keeps every slot that is ever computed at most
# $2n + 1$, since only nodes in slots $\le n$ get their children numbered.
#
# What happens without the early exit depends on the language. Python's integers do not overflow, so it
# is harmless. In C++ signed overflow is undefined behaviour (LeetCode's sanitizer stops with "runtime
# error: signed integer overflow"). In Java, `int` and `long` wrap around silently, and the
# "largest slot equals $n$" answer still comes out right for $n \le 100$. A tree at most 6 levels below
# the root has slots up to 127, so nothing wraps; a deeper one has a node at depth 7, whose slot, between
# 128 and 255, exceeds $n$ and is computed before anything wraps. That is luck, not design: the
# wrapped slots themselves are garbage (the first one to wrap is negative), so any check that uses them, as an array
# index or in a sum, breaks.

# %%
def count(root):
    return 0 if root is None else 1 + count(root.left) + count(root.right)


def is_complete_dfs(root, visited=None):
    """Complete iff no heap slot exceeds the node count n; stops at the first slot above n."""
    n = count(root)
    stack = [(root, 1)] if root is not None else []
    while stack:
        node, slot = stack.pop()
        if visited is not None:
            visited.append(slot)  # for the claim below: which slots were computed
        if slot > n:
            return False  # n distinct slots, all <= n, would be exactly 1..n
        stack += [(child, 2 * slot + side) for side, child in enumerate(node) if child is not None]
    return True


def chain(n):
    root = None
    for _ in range(n):
        root = Node(root, None)  # a left-leaning chain
    return root


# %% [markdown]
# ## Claims: the DFS variant
#
# The DFS check is compared with BFS on every shape, and run on the worst case for its indices, a chain.

# %%
def test_dfs_max_index_equals_count_agrees():
    """The DFS check (no heap slot above the node count) agrees with the BFS check on all 2056 shapes."""
    for shapes in SHAPES.values():
        for root in shapes:
            assert is_complete_dfs(root) == is_complete_bfs(root), to_leetcode(root)


def test_heap_index_grows_exponentially_without_an_early_exit():
    """On a 100-node chain the heap slots reach 2^99, beyond int64 (undefined behaviour in C++); the DFS that stops at the first slot above n never computes one above 2n+1."""
    root, n = chain(100), 100
    assert max(slots(root)) == 2**99 > 2**63 - 1
    visited = []
    assert not is_complete_dfs(root, visited)
    assert max(visited) == 128 <= 2 * n + 1  # 1, 2, 4, ..., 128: the first slot above 100 ends the search


def wrapped_slots(root, bits):
    """Heap slots computed without an early exit in `bits`-bit two's-complement arithmetic, as Java's int or long."""
    half = 2 ** (bits - 1)
    wrap = lambda value: (value + half) % 2**bits - half  # noqa: E731  two's complement
    found, stack = [], [(root, 1)] if root is not None else []
    while stack:
        node, slot = stack.pop()
        found.append(slot)
        stack += [(child, wrap(2 * slot + side)) for side, child in enumerate(node) if child is not None]
    return found


def random_trees(seed=0):
    """For each n in 1..100: the complete tree, a left chain, a random zig-zag chain and a random recursive split."""
    rng = random.Random(seed)

    def split(n):
        if n == 0:
            return None
        k = rng.randrange(n)
        return Node(split(k), split(n - 1 - k))

    def zigzag(n):
        root = None
        for _ in range(n):
            root = Node(root, None) if rng.random() < 0.5 else Node(None, root)
        return root

    def complete(n, slot=1):  # built from slots 1..n, independently of the checks
        return None if slot > n else Node(complete(n, 2 * slot), complete(n, 2 * slot + 1))

    return [(n, tree) for n in range(1, 101) for tree in (complete(n), chain(n), zigzag(n), split(n))]


def test_wrapped_heap_indices_still_reach_above_n():
    """With Java-style int32 or int64 wrap-around and no early exit, "largest slot equals n" still agrees with BFS on 400 trees of up to 100 nodes, although some deep nodes get wrapped slots of zero or below."""
    trees = random_trees()
    for bits in (32, 64):
        wrapped_somewhere = 0
        for n, root in trees:
            found = wrapped_slots(root, bits)
            assert (max(found) == n) == is_complete_bfs(root), (bits, to_leetcode(root))
            if found != slots(root):
                wrapped_somewhere += 1
                assert min(found) <= 0  # garbage: the first slot to wrap is negative, and no real slot is below 1
                assert max(found) >= 128 > n  # the node at depth 7 was computed before any wrap
        assert wrapped_somewhere > 0  # the wrap really happened on some trees
    # on the 100-node left chain the slot at depth d is 2^d: 2^63 wraps to -2^63 and every later one to 0
    assert wrapped_slots(chain(100), 64) == [2**d for d in range(63)] + [-(2**63)] + [0] * 36
    assert wrapped_slots(chain(100), 32) == [2**d for d in range(31)] + [-(2**31)] + [0] * 68


# %% [markdown]
# ## Where the shortcuts fail
#
# Each shortcut is compared with the definition on every shape; the smallest counterexample is reported
# in LeetCode notation and checked against the one found by hand.

# %%
def smallest_counterexamples(check):
    """Smallest shapes (by node count, then enumeration order) where check disagrees with completeness."""
    accepted_incomplete, rejected_complete = None, None
    for shapes in SHAPES.values():
        for root in shapes:
            if check(root) and not is_complete_by_slots(root) and accepted_incomplete is None:
                accepted_incomplete = to_leetcode(root)
            if not check(root) and is_complete_by_slots(root) and rejected_complete is None:
                rejected_complete = to_leetcode(root)
    return accepted_incomplete, rejected_complete


def test_complete_is_not_perfect():
    """Every perfect tree is complete, but a complete tree is perfect only when n = 2^h - 1 (n = 0, 1, 3, 7 up to 8)."""
    sizes_with_perfect_complete = [
        n for n, shapes in SHAPES.items() if any(is_perfect(r) and is_complete_by_slots(r) for r in shapes)
    ]
    assert sizes_with_perfect_complete == [n for n in range(9) if (n + 1) & n == 0]  # n + 1 a power of two
    assert all(is_complete_by_slots(r) for shapes in SHAPES.values() for r in shapes if is_perfect(r))
    assert smallest_counterexamples(is_perfect) == (None, "[1,2]")


def test_zero_or_two_children_is_neither_necessary_nor_sufficient():
    """'Every node has 0 or 2 children' (a full tree) rejects the complete tree [1,2] and accepts the incomplete [1,2,3,null,null,4,5]."""
    assert smallest_counterexamples(has_zero_or_two_children) == ("[1,2,3,null,null,4,5]", "[1,2]")


def test_local_shortcuts_accept_incomplete_trees():
    """'No right child without a left child' accepts the chain [1,2,null,3], and 'height = floor(log2 n)' accepts [1,null,2]."""
    assert smallest_counterexamples(no_right_without_left) == ("[1,2,null,3]", None)
    assert smallest_counterexamples(has_minimal_height) == ("[1,null,2]", None)
    # combined they still fail: [1,2,3,null,null,4] passes both and leaves slots 4 and 5 empty
    both = lambda root: no_right_without_left(root) and has_minimal_height(root)  # noqa: E731
    assert smallest_counterexamples(both) == ("[1,2,3,null,null,4]", None)


# %% [markdown]
# ## Follow-up: counting the nodes of a complete tree in $O(\log^2 n)$
#
# LeetCode 222 asks for the node count of a tree that is *known* to be complete. Walk down the leftmost
# and the rightmost spine of the root: if both have the same length $h$, the tree is perfect and has
# $2^h - 1$ nodes. Otherwise recurse into both subtrees. At most one of the two subtrees is not perfect, so
# only one recursion goes deeper than one call at each level, and each call walks two spines of length
# $O(\log n)$: $O(\log^2 n)$ in total.
#
# To measure that on large trees without building them, `LazyComplete(n)` is a complete tree with $n$
# nodes whose children are computed from heap slots on demand, counting every child access.

# %%
import matplotlib.pyplot as plt


def count_complete(root):
    """Node count of a complete tree: 2^h - 1 when both spines have length h, else recurse."""
    if root is None:
        return 0
    left, right, h_left, h_right = root, root, 0, 0
    while left is not None:
        left, h_left = left.left, h_left + 1
    while right is not None:
        right, h_right = right.right, h_right + 1
    if h_left == h_right:
        return 2**h_left - 1
    return 1 + count_complete(root.left) + count_complete(root.right)


class LazyComplete:
    """Node in heap slot `slot` of the complete tree with n nodes; children built on access, and counted."""

    def __init__(self, n, slot=1, accesses=None):
        self.n, self.slot, self.accesses = n, slot, accesses if accesses is not None else [0]

    def _child(self, slot):
        self.accesses[0] += 1
        return LazyComplete(self.n, slot, self.accesses) if slot <= self.n else None

    @property
    def left(self):
        return self._child(2 * self.slot)

    @property
    def right(self):
        return self._child(2 * self.slot + 1)


def accesses_to_count(n):
    root = LazyComplete(n)
    assert count_complete(root) == n
    return root.accesses[0]


def complete_tree(n, slot=1):
    """The complete shape with n nodes, built from slots 1..n."""
    return None if slot > n else Node(complete_tree(n, 2 * slot), complete_tree(n, 2 * slot + 1))


SIZES = [2**k + offset for k in range(1, 21) for offset in (-1, 0, 2 ** (k - 1))]
ACCESSES = [accesses_to_count(n) for n in SIZES]

fig, ax = plt.subplots(figsize=(5, 3))
ax.loglog(SIZES, SIZES, ":", label="brute force: n nodes visited")
ax.loglog(SIZES, ACCESSES, "o", markersize=3, label="spines + recursion: child accesses")
ax.loglog(SIZES, [2 * n.bit_length() ** 2 for n in SIZES], "-", label="bound 2 (floor(log2 n) + 1)^2")
ax.set_xlabel("n (nodes in the tree)")
ax.set_ylabel("nodes visited / child accesses")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Claims: counting nodes
#
# The count against brute force on every complete tree up to 300 nodes, the work against the bound, and the
# algorithm on trees that are not complete.

# %%
def test_count_complete_matches_brute_force():
    """On the complete tree of every size 0..300, the O(log^2 n) count equals the brute-force node count."""
    for n in range(301):
        root = complete_tree(n)
        assert count_complete(root) == count(root) == n


def test_count_complete_work_is_log_squared():
    """Counting a complete tree of up to 2^20 + 2^19 nodes makes at most 2 (floor(log2 n) + 1)^2 child accesses: under 900 for up to 1.5 million nodes."""
    for n, accesses in zip(SIZES, ACCESSES):
        h = n.bit_length()  # floor(log2 n) + 1 levels
        assert accesses <= 2 * h * h, (n, accesses)
    assert max(ACCESSES) < 900 and max(SIZES) > 1_500_000  # brute force would visit every node


def test_count_complete_is_wrong_on_incomplete_trees():
    """On trees that are not complete the shortcut can miscount, e.g. [1,2,3,4,null,null,5] (5 nodes) is counted as 7."""
    wrong = [root for shapes in SHAPES.values() for root in shapes if count_complete(root) != count(root)]
    assert wrong and not any(is_complete_bfs(root) for root in wrong)
    example = Node(Node(Node(None, None), None), Node(None, Node(None, None)))
    assert to_leetcode(example) == "[1,2,3,4,null,null,5]"
    assert count(example) == 5 and count_complete(example) == 7


# %% [markdown]
# ## Conclusion
#
# A tree is complete when its $n$ nodes fill heap slots $1..n$; the note's numbering definition says the
# same thing, and the breadth-first "no node after the first gap" check decides it in one pass. All three,
# and the depth-first "largest slot equals $n$" variant, agree on every one of the 2,056 shapes with at
# most 8 nodes, which all together contain exactly one complete shape per size. Perfect, full ("0 or 2
# children"), "no right child without a left one" and "minimal height" are different properties, and
# each one misclassifies a tree of at most 7 nodes. Knowing a tree is complete is worth something: its node
# count takes $O(\log^2 n)$ child accesses instead of $n$, and the same shortcut miscounts trees that are not
# complete.

# %%
if __name__ == "__main__":
    from qed.claims import run_claims

    run_claims(globals())

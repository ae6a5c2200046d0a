"""tree.py — twin of workloads/tree.c: GCBench (Boehm, after Ellis and Kovac).

Contract (the C's, step for step):
  1. a stretch tree of depth `stretch`, built bottom-up and dropped at once;
  2. a long-lived tree of depth `longlived`, built top-down, kept to the end;
  3. a long-lived array of `array` doubles (array.array('d'): no GC container,
     a raw payload, as the C's double[]), half filled with 1/i;
  4. for d = min, min+2, ... <= max: iters(d) trees of depth d built top-down
     (GCBench's Populate: a node, then its children) and iters(d) bottom-up
     (MakeTree: children first), each dropped right after it is built, with
     iters(d) = 2·size(stretch) // size(d), size(d) = 2^(d+1) − 1;
  5. the long-lived tree counted (back pointers checked) and array[probe] checked.
With parent=1 every child points back at its parent (two-object cycles
everywhere). ops = tree nodes allocated; counters tree_nodes, trees_built.

Object work: one Node instance (Node(left, right[, parent])) per tree node and
nothing else in the builders (module-level functions: no closure, so no
function or cell cycle of the twin's own) — recursion makes no heap frame in
3.11+ (3.10 allocates a frame object per call, which its gen0 count sees).
"""
from array import array

from twinlib import COUNT, BadInput, WorkloadError

# workloads/tree.c's WL_TREE_MAX_DEPTH (4 GiB of nodes), WL_TREE_MAX_ARRAY, WL_TREE_ARRAY_PROBE.
MAX_DEPTH = 26
MAX_ARRAY = 100000000
ARRAY_PROBE = 1000
KNOBS = (
    ("stretch", COUNT, "18", 1, MAX_DEPTH),
    ("longlived", COUNT, "16", 1, MAX_DEPTH),
    ("min", COUNT, "4", 1, MAX_DEPTH),
    ("max", COUNT, "16", 1, MAX_DEPTH),
    ("array", COUNT, "500000", 0, MAX_ARRAY),
    ("parent", COUNT, "0", 0, 1),
)


def size(d):
    """Nodes in a complete binary tree of depth d (a leaf has depth 0)."""
    return (1 << (d + 1)) - 1


def iters(d, stretch):
    """GCBench's NumIters."""
    return 2 * size(stretch) // size(d)


def check(k):
    if not k["min"] <= k["max"] <= k["stretch"]:
        raise BadInput("knobs must satisfy min <= max <= stretch (got min=%d max=%d stretch=%d)"
                       % (k["min"], k["max"], k["stretch"]))


def prepare(k, ctx):
    attrs = ("left", "right", "parent") if k["parent"] else ("left", "right")
    return ctx.make_class("Node", attrs)


def make(depth, Node):
    """Bottom-up (GCBench's MakeTree): both subtrees, then their parent."""
    if depth <= 0:
        return Node()
    return Node(make(depth - 1, Node), make(depth - 1, Node))


def make_parent(depth, Node):
    """make() with back pointers: each child then points at its new parent."""
    if depth <= 0:
        return Node()
    left = make_parent(depth - 1, Node)
    right = make_parent(depth - 1, Node)
    node = Node(left, right)
    left.parent = node
    right.parent = node
    return node


def populate(node, depth, Node):
    """Top-down (GCBench's Populate): `node` exists; its two children are made
    and linked, then each populated."""
    if depth <= 0:
        return
    left = Node()
    node.left = left
    right = Node()
    node.right = right
    populate(left, depth - 1, Node)
    populate(right, depth - 1, Node)


def populate_parent(node, depth, Node):
    """populate() with back pointers, set as each child is made."""
    if depth <= 0:
        return
    left = Node(None, None, node)
    node.left = left
    right = Node(None, None, node)
    node.right = right
    populate_parent(left, depth - 1, Node)
    populate_parent(right, depth - 1, Node)


def count(node, parent, with_parent):
    """Nodes under `node`; False instead when a back pointer is wrong."""
    if node is None:
        return 0
    if with_parent and node.parent is not parent:
        return False
    a = count(node.left, node, with_parent)
    b = count(node.right, node, with_parent)
    if a is False or b is False:
        return False
    return 1 + a + b


def probe_index(n):
    """The array element checked: GCBench's 1000, kept inside the filled half."""
    last_filled = n // 2 - 1
    if last_filled > ARRAY_PROBE:
        return ARRAY_PROBE
    return last_filled if last_filled > 0 else 0


def run(k, ctx, Node):
    stretch, longlived_depth = k["stretch"], k["longlived"]
    min_depth, max_depth, n_array = k["min"], k["max"], k["array"]
    with_parent = bool(k["parent"])
    build_down, build_up = (populate_parent, make_parent) if with_parent else (populate, make)
    nodes = trees = 0
    # 1. stretch the heap
    temp = build_up(stretch, Node)
    temp = None
    nodes += size(stretch)
    trees += 1
    # 2. the long-lived tree, top-down
    longlived = Node()
    build_down(longlived, longlived_depth, Node)
    nodes += size(longlived_depth)
    trees += 1
    # 3. the long-lived array, half filled (from 1: no 1/0)
    a = array("d", bytes(8 * n_array))
    for i in range(1, n_array // 2):
        a[i] = 1.0 / i
    # 4. short-lived trees
    for d in range(min_depth, max_depth + 1, 2):
        it = iters(d, stretch)
        for _ in range(it):
            temp = Node()
            build_down(temp, d, Node)
            temp = None
        for _ in range(it):
            temp = build_up(d, Node)
            temp = None
        nodes += 2 * it * size(d)
        trees += 2 * it
    # 5. the long-lived objects survived every collection intact
    counted = count(longlived, None, with_parent)
    probe = probe_index(n_array)
    ctx.ops = nodes
    ctx.counter("tree_nodes", nodes)
    ctx.counter("trees_built", trees)
    if counted is False or counted != size(longlived_depth):
        raise WorkloadError("long-lived tree has %s nodes%s, expected %d"
                            % ("?" if counted is False else counted,
                               " and broken parent links" if counted is False else "",
                               size(longlived_depth)))
    if probe > 0 and a[probe] != 1.0 / probe:
        raise WorkloadError("long-lived array[%d] = %g, expected 1/%d" % (probe, a[probe], probe))
    longlived = a = None

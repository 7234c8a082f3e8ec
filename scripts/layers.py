#!/usr/bin/env python3
"""The include graph of the agent's sources, by module and by folder.

A module is a .c and its .h (collector/pipeline/spool.{c,h} is one node). Prints
the folders ("rooms"), their order when the folder graph is a DAG, and every
cycle: between modules (a file-level circle) and between folders (an include
that runs back up). Exit status 1 when a module-level cycle exists, a module is in no layer, or
more than one include runs from a lower layer up to a higher one.
"""
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOPS = ("collector", "outputs", "parsers")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def modules():
    files = []
    for top in TOPS:
        for d, _, names in os.walk(os.path.join(ROOT, top)):
            files += [os.path.relpath(os.path.join(d, n), ROOT) for n in names
                      if n.endswith((".c", ".h"))]
    return sorted(files)


# Layers, lowest first: a module may include its own layer and those below.
# The two top-level files of collector/ are low (the loop and the plugin
# interface); collector/agent/ (registry, agent, check-config, main) is the top.
LAYERS = [
    ("core", ["collector/core", "parsers"]),
    ("loop", ["collector/loop"]),
    ("pipeline", ["collector/pipeline", "collector/plugin"]),
    ("clients", ["collector/aws", "collector/cloudwatch", "collector/docker",
                 "collector/metrics"]),
    ("modules", ["collector/inputs", "outputs", "collector/import"]),
    ("services", ["collector/status", "collector/bundle"]),
    ("agent", ["collector/agent"]),
    ("main", ["collector/agent/main"]),
]


def layer(mod):
    best, depth = None, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (mod == p or mod.startswith(p + "/")) and len(p) > depth:
                best, depth = i, len(p)
    return best


def node(path):
    return os.path.splitext(path)[0]


def folder(path):
    d = os.path.dirname(path)
    return d


def graph(files):
    g = defaultdict(set)
    known = {node(f) for f in files}
    for f in files:
        with open(os.path.join(ROOT, f), errors="replace") as fh:
            for inc in INCLUDE.findall(fh.read()):
                n = node(inc)
                if n in known and n != node(f):
                    g[node(f)].add(n)
        g.setdefault(node(f), set())
    return g


def sccs(g):
    """Tarjan's strongly connected components, iterative."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter[0]; counter[0] += 1
        stack.append(root); on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1
                    stack.append(w); on.add(w)
                    work.append((w, iter(sorted(g.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop(); on.discard(w); comp.append(w)
                        if w == v:
                            break
                    out.append(sorted(comp))
    return out


def main():
    files = modules()
    g = graph(files)
    bad = [c for c in sccs(g) if len(c) > 1]
    fg = defaultdict(set)
    for a, bs in g.items():
        for b in bs:
            if folder(a) != folder(b):
                fg[folder(a)].add(folder(b))
        fg.setdefault(folder(a), set())
    rooms = sorted(fg)
    lines = defaultdict(int)
    for f in files:
        with open(os.path.join(ROOT, f), errors="replace") as fh:
            lines[folder(f)] += sum(1 for _ in fh)
    total = sum(lines.values())
    print(f"{len(rooms)} folders, {len(files)} files, {total} lines")
    for r in rooms:
        print(f"  {r:28} {lines[r]:6} lines ({100 * lines[r] / total:4.1f} %)  -> "
              + ", ".join(sorted(fg[r])))
    fcyc = [c for c in sccs(fg) if len(c) > 1]
    for c in fcyc:
        members = set(c)
        back = sorted((a, b) for a in c for b in fg[a] if b in members)
        print("folder cycle: " + " <-> ".join(c))
        for a, b in back:
            why = sorted(f"{x} -> {y}" for x in g for y in g[x]
                         if folder(x) == a and folder(y) == b)
            print(f"    {a} -> {b}: " + "; ".join(why))
    for c in bad:
        print("module cycle: " + " <-> ".join(c))
    up = sorted((a, b) for a in g for b in g[a]
                if layer(a) is not None and layer(b) is not None and layer(b) > layer(a))
    for a, b in up:
        print(f"upward include: {a} ({LAYERS[layer(a)][0]}) -> {b} ({LAYERS[layer(b)][0]})")
    unplaced = sorted(m for m in g if layer(m) is None)
    for m in unplaced:
        print(f"not in a layer: {m}")
    print(f"module cycles: {len(bad)}, folder cycles: {len(fcyc)}, upward includes: {len(up)}")
    return 1 if bad or fcyc or unplaced or up else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a circle.

Reads every `.rs` file under a crate's `src/`, takes the module paths it names (`crate::a::b`,
`super::x`, `self::y`, and bare child paths in `use` lines), and finds the strongly connected
components of the module graph (Tarjan). A module may name its own descendants without that counting
as an import: a parent declares and assembles its children (the crate root builds the router from
every module, `api/mod.rs` mounts its handlers). Every other edge counts, so a helper module that
reaches back into a route, or two routes calling each other, show as a circle.

Usage: python3 scripts/module-graph.py crates/web/src [crates/store/src …]
"""
import os
import re
import sys


def module_of(root, path):
    rel = os.path.relpath(path, root)[:-3]
    parts = rel.split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def expand(prefix, body):
    """The paths of a `use` tree's braces: `a::{b, c::{d, e}}` gives a::b, a::c::d, a::c::e."""
    items, depth, cur = [], 0, ""
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    out = []
    for item in items:
        item = re.sub(r"\s+", "", item).split(" as ")[0]
        if not item:
            continue
        if "{" in item:
            head, rest = item.split("{", 1)
            out += expand(prefix + [x for x in head.split("::") if x], rest[: rest.rfind("}")])
        else:
            out.append(prefix + [x for x in item.split("::") if x])
    return out


def paths_in(text):
    """Every `crate::…`, `super::…` and `self::…` path of a file, brace groups expanded."""
    found = []
    for m in re.finditer(r"\b(crate|super|self)((?:::\w+)*)::\{", text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        prefix = [m.group(1)] + [x for x in m.group(2).split("::") if x]
        found += expand(prefix, text[m.end() : i - 1])
    for start, rest in re.findall(r"\b(crate|super|self)((?:::\w+)+)", text):
        found.append([start] + rest.strip(":").split("::"))
    return found


def graph(root):
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith(".rs"):
                p = os.path.join(d, n)
                files[module_of(root, p)] = p
    modules = set(files)

    def longest_module(path):
        # The longest prefix of `path` that is a module of the crate (the rest names an item).
        for k in range(len(path), 0, -1):
            if tuple(path[:k]) in modules:
                return tuple(path[:k])
        return None

    edges = {m: set() for m in modules}
    for m, p in files.items():
        text = strip_comments(open(p, encoding="utf-8").read())
        # The module a `super::` resolves from: a `mod.rs`/`lib.rs` file is its own module.
        for path in paths_in(text):
            start, names = path[0], [n for n in path[1:] if n != "*"]
            if start == "crate":
                base = ()
            elif start == "super":
                base = m[:-1]
                while names and names[0] == "super":
                    base, names = base[:-1], names[1:]
            else:
                base = m
            target = longest_module(list(base) + names)
            if target is None or target == m:
                continue
            # A parent naming its descendants assembles them; not an import.
            if target[: len(m)] == m:
                continue
            edges[m].add(target)
        # `use super::*;` depends on the parent module.
        if re.search(r"\buse\s+super::\*", text) and m:
            edges[m].add(m[:-1])
    # Every module also depends on the root only through `crate::Name` items, which resolve to ()
    # when the name is not a module: the root is the composition root (AppState, router), which
    # names every module, so edges to it are not counted.
    for m in edges:
        edges[m].discard(())
    return modules, edges


def tarjan(nodes, edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main():
    roots = sys.argv[1:] or ["crates/web/src"]
    failed = False
    for root in roots:
        nodes, edges = graph(root)
        circles = [c for c in tarjan(nodes, edges) if len(c) > 1]
        name = lambda m: "::".join(m) or "crate"
        count = sum(len(e) for e in edges.values())
        print(f"{root}: {len(nodes)} modules, {count} imports between them, {len(circles)} circle(s)")
        for c in circles:
            failed = True
            members = sorted(c)
            print("  circle: " + " <-> ".join(name(m) for m in members))
            for a in members:
                for b in sorted(edges[a]):
                    if b in c:
                        print(f"    {name(a)} -> {name(b)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

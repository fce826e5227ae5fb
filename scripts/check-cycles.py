#!/usr/bin/env python3
"""Finds import cycles between the modules of each crate (a module is a file; `mod.rs` stands for
its folder). A reference is any `crate::…`, `super::…` or `self::…` path in a file, in `use`
trees as well as in code; it points at the longest module path it names. Prints each cycle and
exits 1 if there is one. Tests (`tests/`, `#[cfg(test)]` blocks are not skipped: they live in the
module they test) are outside `src/` and not read."""

import re
import sys
from pathlib import Path


def module_of(src: Path, f: Path) -> tuple:
    parts = list(f.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def expand(tree: str) -> list:
    """`a::{b, c::{d, e}}` → ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix: str, t: str):
        depth, start, items = 0, 0, []
        for i, ch in enumerate(t):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(t[start:i])
                start = i + 1
        items.append(t[start:])
        for item in items:
            if not item:
                continue
            m = re.match(r"^(.*?)\{(.*)\}$", item)
            if m:
                walk(prefix + m.group(1), m.group(2))
            else:
                out.append(prefix + item)

    walk("", tree)
    return out


def references(text: str) -> list:
    text = re.sub(r"//[^\n]*", "", text)
    refs = []
    for m in re.finditer(r"\buse\s+((?:crate|super|self)\b[^;]*);", text, re.S):
        refs.extend(expand(m.group(1)))
    refs.extend(re.findall(r"\b((?:crate|super)(?:::\w+)+)", text))
    return refs


def resolve(ref: str, here: tuple, is_mod_file: bool, modules: set):
    parts = [p.split(" as ")[0] for p in ref.split("::")]
    base = list(here) if is_mod_file else list(here[:-1]) if here else []
    if parts[0] == "crate":
        path, rest = [], parts[1:]
    elif parts[0] == "self":
        path, rest = list(here), parts[1:]
    else:
        path, rest = base, parts
        while rest and rest[0] == "super":
            path = path[:-1]
            rest = rest[1:]
    best = None
    for i in range(len(rest) + 1):
        cand = tuple(path + rest[:i])
        if cand in modules:
            best = cand
    return best


def sccs(graph: dict) -> list:
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
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
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            strong(v)
    return out


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    found = 0
    for src in sorted(root.glob("crates/*/src")):
        files = {module_of(src, f): f for f in src.rglob("*.rs")}
        modules = set(files)
        graph = {}
        for mod, f in files.items():
            is_mod_file = f.name in ("mod.rs", "lib.rs", "main.rs")
            targets = set()
            for ref in references(f.read_text(encoding="utf-8")):
                t = resolve(ref, mod, is_mod_file, modules)
                # A module may use its own children and the crate root's re-exports freely.
                if t is None or t == mod or t == () or t[: len(mod)] == mod:
                    continue
                targets.add(t)
            graph[mod] = targets
        for comp in sccs(graph):
            found += 1
            names = ", ".join("::".join(m) for m in comp)
            print(f"{src.parent.name}: modules in a cycle: {names}")
    if found == 0:
        print("no import cycles between modules")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Import cycles between the source files of `src/` (stdlib only).

Builds the file-level import graph of the crate and prints every strongly
connected component with more than one file, largest first, then the total
number of files in such components.

Usage: scripts/import-cycles.py [--siblings] [--with-tests] [--edges] [SRC_DIR]
       (SRC_DIR defaults to src; --edges also prints the graph)

How a path becomes an edge (the rule, kept simple on purpose):

* Files are modules: `src/lib.rs` is `crate`, `src/a/mod.rs` and `src/a.rs`
  are `crate::a`, `src/a/b.rs` is `crate::a::b`. `src/main.rs` is another
  crate (it reaches the library as `cachestorm::…`) and is left out. Inline
  `mod x { … }` blocks (tests) belong to their file.
* Paths counted: every `use` tree (braces expanded, `pub use` included) and
  every inline path that starts with `crate::`, `super::`, `self::`, with a
  child module of the current module, or with a name a `use` brought in that
  names a module (`use super::client;` … `client::pipe::call`).
* A path is resolved segment by segment: while the next segment names a module
  (a file or an inline module) we descend; the first segment that is not a
  module is an item of the module reached. A path into a folder module
  therefore resolves to its `mod.rs`, unless it names a child file (or an item
  of one): `crate::sim::client::pipe::call` → `sim/client/pipe.rs`.
* Re-exports are followed: when the item is brought into that module by a
  `pub use` (e.g. `crate::metrics::NodeGauge`, re-exported by
  `metrics/mod.rs` from `recorder.rs`), the edge goes to the file that the
  re-export names, since that is the code the importer depends on. The
  re-export itself is an edge of `mod.rs`.
* Test code is left out: a `#[cfg(test)]` module's body (`use super::*` in a
  test makes a child depend on its parent without the code doing so). Pass
  `--with-tests` to count it.
* `--siblings` leaves out the edges between a folder's `mod.rs` and the files
  inside that folder (a parent that defines what its children share, and
  names them in an enum, is the usual pattern; the review behind issue 11
  measured that way). Without it every edge counts.
* `mod x;` declarations are not edges (a parent owning its children is not a
  dependency on them); external crates and `std` are ignored; an edge from a
  file to itself is ignored.
"""
import os
import re
import sys
from collections import defaultdict

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments_and_strings(text):
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 40]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append('""')
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 12]):
            m = re.match(r"'(\\[^']*|[^\\'])'", text[i:])
            out.append("' '")
            i += len(m.group(0)) if m else 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_test_modules(text):
    """Blanks the bodies of `#[cfg(test)] mod x { … }` (newlines kept)."""
    out, last = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+" + IDENT + r"\s*\{", text):
        if m.start() < last:
            continue
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        out.append(text[last:m.end()])
        out.append(re.sub(r"[^\n]", " ", text[m.end():j - 1]))
        last = j - 1
    out.append(text[last:])
    return "".join(out)


def file_module(src, path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel == ["lib"]:
        return ()
    if rel[-1] == "mod":
        rel = rel[:-1]
    return tuple(rel)


def expand_use(tree):
    """`a::{b, c::{d, e as f}, self}` → [['a','b'], ['a','c','d'], ['a','c','e'], ['a']]."""
    tree = re.sub(r"\s+", "", tree)

    def parse(s, i, prefix):
        paths = []
        seg = []
        cur = ""
        while i < len(s):
            ch = s[i]
            if ch == "{":
                inner, i = parse(s, i + 1, prefix + seg)
                paths.extend(inner)
                seg = None
                cur = ""
            elif ch == "}":
                if seg is not None:
                    paths.append(prefix + seg + ([cur] if cur else []))
                return paths, i + 1
            elif ch == ",":
                if seg is not None:
                    paths.append(prefix + seg + ([cur] if cur else []))
                seg, cur = [], ""
                i += 1
            elif s.startswith("::", i):
                if seg is not None:
                    seg.append(cur)
                cur = ""
                i += 2
            else:
                cur += ch
                i += 1
        if seg is not None and (seg or cur):
            paths.append(prefix + seg + ([cur] if cur else []))
        return paths, i

    paths, _ = parse(tree, 0, [])
    return [p[:-1] if p and p[-1] == "self" else p for p in paths]


def use_trees(text):
    """Every `use …;` statement: (tree text, span)."""
    for m in re.finditer(r"\b(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", text):
        yield m.group(1), m.span()


def main():
    args = sys.argv[1:]
    show_edges = "--edges" in args
    siblings = "--siblings" in args
    with_tests = "--with-tests" in args
    args = [a for a in args if not a.startswith("--")]
    src = args[0] if args else "src"
    files = []
    for root, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                files.append(os.path.join(root, name))
    files = sorted(f for f in files if os.path.relpath(f, src) != "main.rs")
    modules = {}  # module path -> file
    texts = {}
    inline = {}  # module path of inline mods -> file
    for f in files:
        mod = file_module(src, f)
        modules[mod] = f
        text = strip_comments_and_strings(open(f, encoding="utf-8").read())
        texts[f] = text if with_tests else strip_test_modules(text)
    # Inline modules with their byte spans, to know the module at a position.
    spans = {}
    for f, text in texts.items():
        base = file_module(src, f)
        found = []
        for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*\{", text):
            depth, j = 1, m.end()
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            found.append((m.start(), j, m.group(1)))
        spans[f] = found
        for s, e, name in found:
            outer = [n for (s2, e2, n) in found if s2 < s and e <= e2]
            inline[base + tuple(outer) + (name,)] = f
    all_mods = dict(modules)
    all_mods.update(inline)

    def module_at(f, pos):
        base = file_module(src, f)
        inner = [n for (s, e, n) in spans[f] if s <= pos < e]
        return base + tuple(inner)

    def children(mod):
        return {m[-1] for m in all_mods if len(m) == len(mod) + 1 and m[:-1] == mod}

    # Re-exports per module: name -> absolute path it stands for.
    uses = defaultdict(dict)  # module -> {local name: absolute path}
    reexports = defaultdict(dict)

    def absolute(mod, path):
        if not path:
            return None
        head = path[0]
        if head == "crate":
            return list(path[1:]), ()
        if head == "self":
            return list(path[1:]), mod
        if head == "super":
            m, rest = mod, list(path)
            while rest and rest[0] == "super":
                m, rest = m[:-1], rest[1:]
            if rest and rest[0] == "self":
                rest = rest[1:]
            return rest, m
        if head in children(mod):
            return list(path), mod
        if head in uses[mod]:
            target = uses[mod][head]
            return list(target) + list(path[1:]), ()
        return None

    def use_entries(text):
        for tree, span in use_trees(text):
            raw = re.sub(r"\s+", " ", tree)
            aliased = re.sub(r"(\w+) as (\w+)", r"\1@\2", raw)
            for p in expand_use(aliased.replace(" ", "")):
                names = [x.split("@")[0] for x in p]
                alias = p[-1].split("@")[1] if p and "@" in p[-1] else (names[-1] if names else None)
                pub = text[max(0, span[0] - 12):span[0] + 4].strip().startswith("pub") or text[span[0]:span[0] + 3] == "pub"
                yield names, alias, pub, span[0]

    # First pass: collect `use` names per module (for aliases and re-exports).
    for f, text in texts.items():
        for names, alias, pub, pos in use_entries(text):
            mod = module_at(f, pos)
            ab = absolute(mod, names)
            if ab is None or not names or names[-1] == "*":
                continue
            rest, base = ab
            full = tuple(base) + tuple(rest)
            uses[mod][alias] = full
            if pub:
                reexports[mod][alias] = full

    def resolve(full, depth=0):
        """Absolute module path + item segments → defining file."""
        mod = ()
        rest = list(full)
        while rest and (mod + (rest[0],)) in all_mods:
            mod = mod + (rest[0],)
            rest = rest[1:]
        if rest and depth < 8 and rest[0] in reexports.get(mod, {}):
            target = reexports[mod][rest[0]]
            return resolve(tuple(target) + tuple(rest[1:]), depth + 1)
        return all_mods.get(mod)

    edges = defaultdict(set)

    def add_edge(f, pos, segs):
        """An edge from `f` to the file defining path `segs` written at `pos`."""
        ab = absolute(module_at(f, pos), segs)
        if ab is None:
            return
        rest, base = ab
        target = resolve(tuple(base) + tuple(rest))
        if target and target != f:
            edges[f].add(target)

    path_re = re.compile(r"(?<![A-Za-z0-9_:])((?:" + IDENT + r"::)+" + IDENT + r")")
    for f, text in texts.items():
        use_spans = []
        for names, alias, pub, pos in use_entries(text):
            add_edge(f, pos, [n for n in names if n != "*"])
        for _, span in use_trees(text):
            use_spans.append(span)
        for m in path_re.finditer(text):
            if any(s <= m.start() < e for s, e in use_spans):
                continue
            add_edge(f, m.start(), m.group(1).split("::"))

    if siblings:
        def parent_child(a, b):
            ma, mb = file_module(src, a), file_module(src, b)
            ia, ib = os.path.basename(a) == "mod.rs", os.path.basename(b) == "mod.rs"
            return (ia and len(mb) == len(ma) + 1 and mb[:-1] == ma) or (
                ib and len(ma) == len(mb) + 1 and ma[:-1] == mb)
        for f in list(edges):
            edges[f] = {t for t in edges[f] if not parent_child(f, t)}

    # Tarjan's strongly connected components.
    index, low, on, stack, comps = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
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
            comps.append(sorted(comp))

    for f in files:
        if f not in index:
            strong(f)
    cyclic = sorted((c for c in comps if len(c) > 1), key=lambda c: (-len(c), c))
    if show_edges:
        for f in files:
            for t in sorted(edges[f]):
                print(f"{os.path.relpath(f, src)} -> {os.path.relpath(t, src)}")
        print()
    for c in cyclic:
        print(f"cycle of {len(c)} files:")
        for f in c:
            print(f"  {os.path.relpath(f, src)}")
    total = sum(len(c) for c in cyclic)
    largest = len(cyclic[0]) if cyclic else 0
    print(f"total: {total} files in {len(cyclic)} cycles; largest {largest}")


if __name__ == "__main__":
    main()

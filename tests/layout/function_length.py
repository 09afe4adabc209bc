#!/usr/bin/env python3
"""No function of the project's code (outside tests/) is longer than 80 lines.

Counts from the line that opens a function body (a line ending in `) {`, `) const {` and
the like) to the line of its closing brace, over every .cc and .h of the component
folders, with comments and string literals blanked first. A measured hot loop may stay
whole only with `// long-function: <why>` on the line before it.

Usage: function_length.py <repository root> | --self-test
"""
import pathlib
import re
import sys

LIMIT = 80
OPENS = re.compile(r'\)\s*(const)?\s*(noexcept)?\s*(override)?\s*(->\s*[\w:<>, ]+)?\s*\{\s*$')


def long_functions(text):
    """(first line, length) of every function body over LIMIT lines."""
    lines = text.split("\n")
    found, depth, start = [], 0, None
    for i, line in enumerate(lines):
        code = re.sub(r'"(\\.|[^"\\])*"', '""', re.sub(r"//.*", "", line))
        for ch in code:
            if ch == "{":
                depth += 1
                if start is None and OPENS.search(code):
                    start = (i, depth)
            elif ch == "}":
                if start and depth == start[1]:
                    n = i - start[0] + 1
                    excused = start[0] > 0 and "long-function:" in lines[start[0] - 1]
                    if n > LIMIT and not excused:
                        found.append((start[0] + 1, n))
                    start = None
                depth -= 1
    return found


def main(root):
    root = pathlib.Path(root)
    wrong = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.suffix not in (".cc", ".h") or rel.parts[0] in ("tests", "build") or rel.parts[0].startswith("build"):
            continue
        for line, n in long_functions(path.read_text(encoding="utf-8", errors="replace")):
            wrong.append(f"{rel}:{line}: a function of {n} lines (at most {LIMIT})")
    print("\n".join(wrong + [f"{len(wrong)} functions over {LIMIT} lines"]))
    return 1 if wrong else 0


def self_test():
    body = "int f(int x) {\n" + "  x += 1;\n" * LIMIT + "  return x;\n}\n"
    assert long_functions(body) == [(1, LIMIT + 3)], long_functions(body)
    assert long_functions("// long-function: measured\n" + body) == []
    short = "int g() {\n  const char* s = \"{\";\n  return 0;\n}\n"
    assert long_functions(short) == []
    print("self-test passed")
    return 0


if __name__ == "__main__":
    sys.exit(self_test() if sys.argv[1:] == ["--self-test"] else main(sys.argv[1]))

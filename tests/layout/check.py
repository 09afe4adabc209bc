#!/usr/bin/env python3
"""The shape of the code: which folder may use which.

Reads every #include "folder/..." line of each component folder's .h and .cc files and
every yuqing::<folder> of its CMakeLists.txt, and fails on an arrow the table below does
not allow (upward or sideways). A new folder must be added here with what it may use.

Usage: check.py <repository root>
"""
import pathlib
import re
import sys

# folder -> the folders it may use (its own is always allowed). Bottom first.
MAY_USE = {
    "config": [],
    "common": ["config"],
    "metrics": [],
    "segment": ["config"],
    "matchers": ["config", "common", "segment"],
    "storage": ["config", "common", "metrics"],
    "kafka": ["config", "common"],
    "http": ["config", "common", "metrics"],
    # Not matchers: the alert rules are alerting's own (rules.h); Hyperscan stays out.
    "alerting": ["config", "common", "metrics", "storage", "kafka", "http"],
    "ingest": ["config", "common", "metrics", "matchers", "storage", "kafka", "alerting"],
    "sets": ["config", "common", "metrics", "matchers", "storage", "alerting"],
    "mailbox": ["config", "common", "metrics", "matchers", "storage", "alerting", "ingest"],
    "precision": ["config", "common", "matchers", "storage"],
    "risk": ["config", "common", "matchers", "storage"],
    "briefing": ["config", "common"],
    "console": [],
    "daemon": ["config", "common", "metrics", "segment", "matchers", "storage", "kafka", "http",
               "alerting", "ingest", "sets", "mailbox", "precision", "risk", "briefing", "console"],
    "ctl": ["config", "common", "matchers", "storage", "kafka", "http", "alerting", "sets",
            "mailbox", "precision", "briefing"],
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.M)
LINK = re.compile(r'yuqing::([a-z_]+)')


def arrows(folder):
    """(used folder, file, what) for every include and link line of a folder."""
    for path in sorted(folder.glob("*")):
        if path.suffix in (".h", ".cc"):
            for used in INCLUDE.findall(path.read_text(encoding="utf-8")):
                yield used, path, "#include"
        elif path.name == "CMakeLists.txt":
            for used in LINK.findall(path.read_text(encoding="utf-8")):
                yield used, path, "links"


def main(root):
    root = pathlib.Path(root)
    wrong = []
    for name, allowed in MAY_USE.items():
        folder = root / name
        if not folder.is_dir():
            continue
        for used, path, what in arrows(folder):
            if used == name or used not in MAY_USE:  # itself, or not a component (tests/)
                continue
            if used not in allowed:
                wrong.append(f"{path.relative_to(root)}: {what} {used}/, but {name}/ may use only "
                             f"{', '.join(allowed) or 'nothing'}")
    unknown = [p.name for p in root.iterdir()
               if p.is_dir() and (p / "CMakeLists.txt").exists() and p.name not in MAY_USE
               and p.name not in ("tests", "deploy")]
    for name in unknown:
        wrong.append(f"{name}/: a component folder the layout table does not know (tests/layout/check.py)")
    for line in wrong:
        print(line)
    print(f"{len(MAY_USE)} folders checked, {len(wrong)} arrows the layout forbids")
    return 1 if wrong else 0


def self_test():
    """The check fails on an upward include and a sideways link, and passes a clean tree."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        root = pathlib.Path(d)
        (root / "storage").mkdir()
        (root / "storage" / "store.cc").write_text('#include "storage/store.h"\n#include "config/config.h"\n')
        clean = main(root)
        (root / "storage" / "store.cc").write_text('#include "daemon/app.h"\n')
        (root / "ingest").mkdir()
        (root / "ingest" / "CMakeLists.txt").write_text("target_link_libraries(x PUBLIC yuqing::mailbox)\n")
        upward = main(root)
    print("self-test:", "ok" if (clean, upward) == (0, 1) else f"FAILED ({clean}, {upward})")
    return 0 if (clean, upward) == (0, 1) else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))

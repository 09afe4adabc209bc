#!/usr/bin/env python3
"""Turns the bureau's plan (seeds/jiangmen-psb-2022-openness-plan.txt) into seeds/plan.yaml.

Run once when the original changes; the unit test `plan data matches the original`
checks the committed YAML against the original text.
"""
import re
import sys
from pathlib import Path

here = Path(__file__).resolve().parent.parent
lines = [l.strip() for l in (here / "jiangmen-psb-2022-openness-plan.txt").read_text("utf-8").splitlines()]
title = lines[0]

# Lead units that are one name although they contain 、
WHOLE = ["政策措施牵头起草、组织实施单位"]


def split_units(s):
    for i, w in enumerate(WHOLE):
        s = s.replace(w, f"@{i}@")
    out = []
    for u in s.split("、"):
        u = u.strip()
        m = re.fullmatch(r"@(\d+)@", u)
        out.append(WHOLE[int(m.group(1))] if m else u)
    return [u for u in out if u]


items, section, sub = [], "", ""
i = 0
while i < len(lines):
    l = lines[i]
    if re.match(r"^[一二三四五六]、", l):
        section = l
    elif re.match(r"^（[一二三四五六]）", l):
        sub = l
    else:
        m = re.match(r"^(\d+)\.(.*)$", l)
        if m:
            j = i + 1
            while not lines[j]:
                j += 1
            units = lines[j].rstrip("。")
            lead, _, coop = units.partition("负责")
            coop = coop.lstrip("，").removesuffix("配合")
            items.append(dict(number=int(m.group(1)), section=section, subsection=sub,
                              text=m.group(2), lead=split_units(lead), cooperating=split_units(coop)))
            i = j
    i += 1

assert [it["number"] for it in items] == list(range(1, 31)), [it["number"] for it in items]


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


out = ["# The plan as data, made from jiangmen-psb-2022-openness-plan.txt by tools/plan_from_text.py.",
       f"title: {q(title)}", "items:"]
for it in items:
    out.append(f"  - number: {it['number']}")
    out.append(f"    section: {q(it['section'])}")
    out.append(f"    subsection: {q(it['subsection'])}")
    out.append(f"    text: {q(it['text'])}")
    out.append("    lead: [" + ", ".join(q(u) for u in it["lead"]) + "]")
    out.append("    cooperating: [" + ", ".join(q(u) for u in it["cooperating"]) + "]")
(here / "plan.yaml").write_text("\n".join(out) + "\n", "utf-8")
print(f"{len(items)} items", file=sys.stderr)

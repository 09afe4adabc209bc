#!/usr/bin/env python3
"""Deterministic benchmark data from jieba's dictionary (Debian package python3-jieba).

Writes into OUT_DIR:
  corpus.txt        messages of about 400 bytes, one per line, words drawn by their
                    dictionary frequency with some Chinese punctuation; at least --mb MB
  corpus.jsonl      the same messages as {"id": "b<n>", "content": ...} (pipeline benchmarks)
  words-1k.txt      keyword lists (one per line) of 1k, 10k and 100k words: CJK-only
  words-10k.txt     words of 2+ characters drawn uniformly from the dictionary. Each list
  words-100k.txt    contains the smaller.

Same seed, same files: the generator uses its own seeded PRNG, never the clock.
"""
import argparse
import itertools
import json
import os
import random

DICT = "/usr/lib/python3/dist-packages/jieba/dict.txt"
PUNCT = ["，", "。", "、", "！", "？", "；", "：", " "]


def is_cjk(word):
    return all("\u4e00" <= c <= "\u9fff" for c in word)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--mb", type=int, default=50, help="corpus size in MB (default 50)")
    ap.add_argument("--seed", type=int, default=20221121)
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    words, freqs = [], []
    with open(DICT, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                words.append(parts[0])
                freqs.append(int(parts[1]))
    rng = random.Random(args.seed)
    cum = list(itertools.accumulate(freqs))

    # Keywords: drawn uniformly from the dictionary's CJK words of 2+ characters, as a
    # keyword list is mostly words that are rare in everyday text. (Drawing them by
    # frequency instead makes every message hit dozens of keywords: a stress test of match
    # reporting, see README.md.)
    eligible = [w for w in words if len(w) >= 2 and is_cjk(w)]
    rng.shuffle(eligible)
    ordered = eligible
    for n, name in [(1000, "1k"), (10000, "10k"), (100000, "100k")]:
        with open(os.path.join(args.out_dir, f"words-{name}.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(ordered[:n]) + "\n")

    target = args.mb * 1000 * 1000
    written = 0
    n = 0
    with open(os.path.join(args.out_dir, "corpus.txt"), "w", encoding="utf-8") as txt, \
         open(os.path.join(args.out_dir, "corpus.jsonl"), "w", encoding="utf-8") as js:
        while written < target:
            picks = rng.choices(words, cum_weights=cum, k=90)
            msg, size = [], 0
            for w in picks:
                msg.append(w)
                size += len(w.encode("utf-8"))
                if rng.random() < 0.12:
                    p = rng.choice(PUNCT)
                    msg.append(p)
                    size += len(p.encode("utf-8"))
                if size >= 400:
                    break
            line = "".join(msg).replace("\n", " ")
            txt.write(line + "\n")
            js.write(json.dumps({"id": f"b{n}", "content": line}, ensure_ascii=False) + "\n")
            written += len(line.encode("utf-8")) + 1
            n += 1
    print(f"{n} messages, {written / 1e6:.1f} MB, keyword lists 1k/10k/100k in {args.out_dir}")


if __name__ == "__main__":
    main()

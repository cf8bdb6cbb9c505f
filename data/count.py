#!/usr/bin/env python3
"""Count and validate the labeled prompt files in data/ (stdlib only).

Usage:
    python data/count.py            # print markdown count tables for every data/*.jsonl
    python data/count.py --check    # also validate; exit 1 on any problem

Validation: every line parses as a JSON object; it has id, task, tier, language,
source and exactly one of prompt (non-empty string) / messages (non-empty list of
{role, content} whose last user turn exists); task and tier take known values;
ids are unique across all files.
"""
from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

TASKS = ["coding", "math", "reasoning", "translation", "summarization",
         "extraction", "creative_writing", "general"]
TIERS = ["SIMPLE", "MEDIUM", "COMPLEX", "REASONING"]
ROLES = {"system", "user", "assistant", "tool", "developer"}
DATA = Path(__file__).resolve().parent


def load(path: Path, problems: list[str]) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: not JSON ({exc})")
                continue
            if not isinstance(row, dict):
                problems.append(f"{where}: not an object")
                continue
            for key in ("id", "task", "tier", "language", "source"):
                if not isinstance(row.get(key), str) or not row[key]:
                    problems.append(f"{where}: missing/empty {key!r}")
            if row.get("task") not in TASKS:
                problems.append(f"{where}: bad task {row.get('task')!r}")
            if row.get("tier") not in TIERS:
                problems.append(f"{where}: bad tier {row.get('tier')!r}")
            has_p, has_m = "prompt" in row, "messages" in row
            if has_p == has_m:
                problems.append(f"{where}: needs exactly one of prompt/messages")
            elif has_p and (not isinstance(row["prompt"], str) or not row["prompt"].strip()):
                problems.append(f"{where}: empty prompt")
            elif has_m:
                msgs = row["messages"]
                ok = isinstance(msgs, list) and msgs and all(
                    isinstance(m, dict) and m.get("role") in ROLES
                    and isinstance(m.get("content"), str) and m["content"].strip()
                    for m in msgs)
                if not ok or not any(m.get("role") == "user" for m in msgs):
                    problems.append(f"{where}: malformed messages")
            rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    c = collections.Counter((r.get("task"), r.get("tier")) for r in rows)
    out = ["| task | " + " | ".join(TIERS) + " | total |",
           "|---|" + "---:|" * (len(TIERS) + 1)]
    for t in TASKS:
        vals = [c[(t, tier)] for tier in TIERS]
        out.append(f"| {t} | " + " | ".join(map(str, vals)) + f" | {sum(vals)} |")
    tot = [sum(c[(t, tier)] for t in TASKS) for tier in TIERS]
    out.append("| **total** | " + " | ".join(map(str, tot)) + f" | {sum(tot)} |")
    return "\n".join(out)


def main() -> int:
    check = "--check" in sys.argv
    problems: list[str] = []
    files = sorted(DATA.glob("*.jsonl"))
    per_file = {p.name: load(p, problems) for p in files}
    ids = collections.Counter(r.get("id") for rows in per_file.values() for r in rows)
    problems += [f"duplicate id {i!r} ({n}x)" for i, n in ids.items() if n > 1]

    allrows = [r for rows in per_file.values() for r in rows]
    print("### Files\n")
    print("| file | rows | languages | multi-turn | SIMPLE | MEDIUM | COMPLEX | REASONING |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for name, rows in per_file.items():
        langs = collections.Counter(r.get("language") for r in rows)
        tiers = collections.Counter(r.get("tier") for r in rows)
        mt = sum("messages" in r for r in rows)
        lang_s = ", ".join(f"{k} {v}" for k, v in sorted(langs.items()))
        print(f"| {name} | {len(rows)} | {lang_s} | {mt} | "
              + " | ".join(str(tiers[t]) for t in TIERS) + " |")
    print(f"| **all** | {len(allrows)} | | {sum('messages' in r for r in allrows)} | "
          + " | ".join(str(sum(r.get('tier') == t for r in allrows)) for t in TIERS) + " |")

    print("\n### Task × tier, all files\n")
    print(table(allrows))
    langs = collections.Counter(r.get("language") for r in allrows)
    print("\n### Rows per language\n")
    print("| language | rows |\n|---|---:|")
    for k, v in sorted(langs.items()):
        print(f"| {k} | {v} |")
    for lang in sorted(langs):
        sub = [r for r in allrows if r.get("language") == lang]
        print(f"\n### Task × tier, language = {lang}\n")
        print(table(sub))

    if check:
        print()
        if problems:
            for p in problems:
                print("PROBLEM:", p, file=sys.stderr)
            print(f"{len(problems)} problem(s) found", file=sys.stderr)
            return 1
        print(f"OK: {len(allrows)} rows in {len(files)} files, all valid, ids unique")
    return 0


if __name__ == "__main__":
    sys.exit(main())

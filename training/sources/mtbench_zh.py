"""Chinese categorised questions "mt_bench_zh" (Ziya test data, 185) — *eval* (licence unverified).

Reads ``question.jsonl`` (``{question_id, category, turns: [str]}``; single-turn).

Task from the Chinese ``category`` (``CATEGORY_TASK``): 写作类 writing -> creative_writing;
角色扮演 roleplay -> creative_writing; 推理类 reasoning -> reasoning; 数学题 math -> math;
问答 QA and 常识类 common sense -> general; 自然语言理解 NLU (classify/analyse given
text) -> extraction; 代码 code -> coding; 翻译 -> translation.

Tier: ``None`` — no difficulty signal, and the categories mix easy and hard items
(数学题 ranges from arithmetic to olympiad-style), so a per-category guess would put
noise into the tier evaluation. Language ``zh`` for every row. No outcome data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.examples import Example
from training.sources._common import (
    SourceFormatError,
    field,
    read_jsonl,
    require_file,
    turns_to_prompt,
)

NAME = "mtbench_zh"
USE = "eval"

CATEGORY_TASK: dict[str, str] = {
    "写作类": "creative_writing",
    "角色扮演": "creative_writing",
    "推理类": "reasoning",
    "数学题": "math",
    "问答": "general",
    "常识类": "general",
    "自然语言理解": "extraction",
    "代码": "coding",
    "翻译": "translation",
}


def _row(row: dict[str, Any], file: Path, n: int) -> Example:
    category = str(field(row, "category", file, n))
    if category not in CATEGORY_TASK:
        raise SourceFormatError(f"{file}:{n}: unknown category {category!r}")
    text, messages = turns_to_prompt(list(field(row, "turns", file, n)))
    return Example(
        id=f"{NAME}/{row.get('question_id', n)}",
        text=text,
        messages=messages,
        task=CATEGORY_TASK[category],
        tier=None,
        language="zh",
        source=NAME,
        use=USE,
        group=NAME,
    )


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), "question.jsonl")
    return [_row(row, file, n) for n, row in enumerate(read_jsonl(file), 1)]

"""Chinese categorised questions "mt_bench_zh" (Ziya test data, 185) — *eval* (licence unverified).

Reads ``question.jsonl`` (``{question_id, category, turns: [str]}``; single-turn).

Task from the Chinese ``category`` (``CATEGORY_TASK``): 写作类 writing -> creative_writing,
except the functional non-fiction in ``WRITING_GENERAL`` -> general;
角色扮演 roleplay -> creative_writing; 推理类 reasoning -> reasoning; 数学题 math -> math;
问答 QA and 常识类 common sense -> general; 自然语言理解 NLU (classify/analyse given
text) -> extraction; 代码 code -> coding; 翻译 -> translation.

写作类 mixes both sides of the guide's rule 12. Until issue 14 all 35 were
creative_writing; by the rule as clarified for issue 14 (functional messages are
general, composed prose is creative_writing), the 16 letters, notices, official reports
and requests, work reports, a resolution, a cover letter, social-media posts (朋友圈,
小红书, 微博), a short literature review, advice on ad copy and a "give examples of …"
question are ``general``. Poems, couplets, lyrics, jokes, crosstalk and stand-up, stories
and novels, a slogan-style ad line, baby names, a witty punch line, the exam essay (作文
on given material, 800 words) and the two long articles written for their own sake (a
10,000-character piece on how ChatGPT works, 131; an aesthetics paper, 132) are
creative_writing. The eval hand labels (``data/labels/eval/``) override these per item
and list the other task in ``also`` where both fit.
角色扮演 asks for in-character replies: role-play, creative_writing.

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

# 写作类 questions that ask for functional non-fiction (guide rule 12): general.
WRITING_GENERAL: frozenset[int] = frozenset(
    {101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 115, 129, 135}
)


def _task(category: str, question_id: object) -> str:
    if category == "写作类" and question_id in WRITING_GENERAL:
        return "general"
    return CATEGORY_TASK[category]


def _row(row: dict[str, Any], file: Path, n: int) -> Example:
    category = str(field(row, "category", file, n))
    if category not in CATEGORY_TASK:
        raise SourceFormatError(f"{file}:{n}: unknown category {category!r}")
    text, messages = turns_to_prompt(list(field(row, "turns", file, n)))
    return Example(
        id=f"{NAME}/{row.get('question_id', n)}",
        text=text,
        messages=messages,
        task=_task(category, row.get("question_id")),
        tier=None,
        language="zh",
        source=NAME,
        use=USE,
        group=NAME,
    )


def load(path: Path) -> list[Example]:
    file = require_file(Path(path), "question.jsonl")
    return [_row(row, file, n) for n, row in enumerate(read_jsonl(file), 1)]

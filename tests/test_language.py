"""Language detection: ISO 639-1 codes for the languages the router is tuned for."""

from __future__ import annotations

import pytest

from router import Router


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("How do I reverse a linked list in place?", "en"),
        ("请用Python写一个快速排序函数。", "zh"),
        ("Pythonでフィボナッチ数列を計算する関数を書いてください。", "ja"),
        ("東京都の人口統計について簡単に説明してください。", "ja"),
        ("파이썬으로 퀵소트 함수를 작성해 주세요.", "ko"),
        ("Докажите, что корень из двух иррационален.", "ru"),
        ("Erkläre mir bitte, wie ein Dieselmotor funktioniert.", "de"),
        ("¿Cómo puedo mejorar mi currículum para un puesto de datos?", "es"),
        ("Você pode me explicar como funciona a inflação?", "pt"),
        ("Pourquoi le ciel est-il bleu ? Explique simplement.", "fr"),
        ("اشرح لي كيف تعمل الشبكات العصبية بطريقة بسيطة", "ar"),
        ("Поясніть, будь ласка, що таке інфляція.", "uk"),
    ],
)
def test_detects_the_main_language(rules_router: Router, text: str, language: str) -> None:
    """Scripts decide most languages; function words tell Latin-script ones apart."""
    assert rules_router.classify(text).language == language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (
            "翻译成中文：The meeting has been moved to Thursday afternoon because the client " * 3,
            "zh",
        ),
        ("번역해 줘: I'm running a bit late, be there in 10 minutes.", "ko"),
        ("Translate to English: 我今天很开心，因为天气很好，我们去公园散步了。", "en"),
        ("Übersetz: „Break a leg!“", "de"),
    ],
)
def test_the_instruction_decides_over_the_passage(
    rules_router: Router, text: str, language: str
) -> None:
    """A lead-in instruction sets the language even when the passage after it is longer."""
    assert rules_router.classify(text).language == language


def test_project_data_languages_are_detected(rules_router: Router) -> None:
    """On the project's own labeled prompts, detection agrees with the label almost always."""
    import json
    from pathlib import Path

    rows = []
    for path in sorted((Path(__file__).resolve().parents[1] / "data").glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if len(rows) < 500:
        pytest.skip("project data not present")
    wrong = sum(
        rules_router.classify(row.get("messages") or row["prompt"]).language != row["language"]
        for row in rows
    )
    assert wrong / len(rows) < 0.01

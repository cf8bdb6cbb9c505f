"""Validation of the keyword tables in router/data/keywords/*.yaml.

Every language file must have exactly the categories of en.yaml, hold clean
entries that the matcher can actually find, and classify a few real prompts of
its language the way a reader would.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from router._resources import load_keyword_tables
from router.decision.text import KeywordIndex

KEYWORDS_DIR = Path(__file__).resolve().parents[1] / "router" / "data" / "keywords"
FILES = sorted(KEYWORDS_DIR.glob("*.yaml"))
LANGS = [path.stem for path in FILES]

# Scripts matched as substrings of runs of text (no spaces inside a keyword).
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
_SUBSTRING_CHAR = re.compile(f"[{_CJK}{_HANGUL}]")
_SUBSTRING_KEYWORD = re.compile(f"[{_CJK}{_HANGUL}]+")
# Arabic is matched by whole word (behind the article and proclitics).
_ARABIC_CHAR = re.compile("[\u0600-\u06ff\u0750-\u077f]")
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")  # harakat, dagger alif, tatweel

# Function words that occur in almost every prompt of their language; as a
# keyword they would fire everywhere (negation words are deliberately absent).
_FUNCTION_WORDS = frozenset(
    [
        "и",
        "в",
        "во",
        "на",
        "с",
        "со",
        "к",
        "по",
        "за",
        "из",
        "у",
        "о",
        "а",
        "но",
        "что",
        "как",
        "это",
        "этот",
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "und",
        "oder",
        "ein",
        "eine",
        "einen",
        "ist",
        "sind",
        "zu",
        "mit",
        "von",
        "für",
        "auf",
        "el",
        "la",
        "los",
        "las",
        "un",
        "una",
        "unos",
        "y",
        "o",
        "que",
        "de",
        "del",
        "en",
        "es",
        "por",
        "para",
        "con",
        "se",
        "lo",
        "su",
        "o",
        "os",
        "as",
        "um",
        "uma",
        "e",
        "é",
        "que",
        "de",
        "do",
        "da",
        "dos",
        "das",
        "em",
        "na",
        "para",
        "com",
        "por",
        "se",
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "du",
        "et",
        "ou",
        "que",
        "de",
        "en",
        "est",
        "au",
        "aux",
        "dans",
        "pour",
        "avec",
        "sur",
        "ce",
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "is",
        "and",
        "or",
    ]
)


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


TABLES = {path.stem: _load(path) for path in FILES}
CATEGORIES = set(TABLES["en"])


@pytest.fixture(scope="module")
def index() -> KeywordIndex:
    return KeywordIndex(load_keyword_tables(KEYWORDS_DIR))


def test_all_languages_present() -> None:
    assert {"en", "zh", "ja", "ko", "ru", "de", "es", "pt", "fr", "ar"} <= set(LANGS)


@pytest.mark.parametrize("lang", LANGS)
def test_same_categories_as_english(lang: str) -> None:
    table = TABLES[lang]
    assert isinstance(table, dict)
    assert set(table) == CATEGORIES


@pytest.mark.parametrize("lang", LANGS)
def test_entries_are_clean(lang: str) -> None:
    for category, keywords in TABLES[lang].items():
        assert isinstance(keywords, list) and keywords, f"{lang}.{category} is empty"
        for keyword in keywords:
            assert isinstance(keyword, str), f"{lang}.{category}: {keyword!r} is not a string"
            assert keyword.strip(), f"{lang}.{category}: empty entry"
            assert keyword == keyword.strip(), f"{lang}.{category}: {keyword!r} has spaces around"
            assert keyword == keyword.lower(), f"{lang}.{category}: {keyword!r} is not lower-case"
        duplicates = {k for k in keywords if keywords.count(k) > 1}
        assert not duplicates, f"{lang}.{category}: duplicates {sorted(duplicates)}"


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_no_repeats_of_english(lang: str) -> None:
    # The tables are merged, so an English word repeated here adds nothing.
    for category, keywords in TABLES[lang].items():
        repeated = set(keywords) & set(TABLES["en"][category])
        assert not repeated, f"{lang}.{category} repeats en.yaml: {sorted(repeated)}"


@pytest.mark.parametrize("lang", LANGS)
def test_substring_keywords_are_specific(lang: str) -> None:
    for category, keywords in TABLES[lang].items():
        for keyword in keywords:
            if _SUBSTRING_CHAR.search(keyword):
                # Runs of CJK/Hangul text are matched without spaces or Latin
                # letters, so a keyword mixing them could never be found.
                assert _SUBSTRING_KEYWORD.fullmatch(keyword), (
                    f"{lang}.{category}: {keyword!r} mixes scripts or contains a space"
                )
                assert len(keyword) >= 2, f"{lang}.{category}: {keyword!r} is one character"
            if _ARABIC_CHAR.search(keyword):
                assert not _ARABIC_MARKS.search(keyword), (
                    f"{lang}.{category}: {keyword!r} carries diacritics users rarely type"
                )
                for word in keyword.split():
                    assert len(word) >= 2, f"{lang}.{category}: {keyword!r} has a one-letter word"


@pytest.mark.parametrize("lang", LANGS)
def test_no_function_words(lang: str) -> None:
    for category, keywords in TABLES[lang].items():
        bad = [k for k in keywords if k in _FUNCTION_WORDS]
        assert not bad, f"{lang}.{category}: function words fire on every prompt: {bad}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_keyword_matches_itself(lang: str, index: KeywordIndex) -> None:
    # A keyword the matcher cannot find in its own text is dead weight.
    for category, keywords in TABLES[lang].items():
        for keyword in keywords:
            hits = index.scan(keyword.lower()).hits.get(category, ())
            assert hits, f"{lang}.{category}: {keyword!r} does not match itself"


SENTENCES = [
    # Chinese
    ("zh", "请用Python写一个快速排序函数", {"code", "imperative"}),
    ("zh", "证明根号2是无理数", {"proof", "math"}),
    ("zh", "把这段话翻译成英文", {"translation", "reference"}),
    ("zh", "请总结这篇文章的要点", {"summarization"}),
    ("zh", "为什么天空是蓝色的？", {"question_deep"}),
    ("zh", "不要使用任何第三方库，必须在O(n)时间内完成", {"negation", "constraint"}),
    # Japanese
    ("ja", "証明してください", {"proof"}),
    ("ja", "√2が無理数であることを証明せよ", {"proof", "math"}),
    ("ja", "この文章を英語に翻訳してください", {"translation", "reference"}),
    ("ja", "以下の記事を三行で要約して", {"summarization", "reference"}),
    ("ja", "Pythonでクイックソートの関数を書いて", {"code", "imperative"}),
    ("ja", "なぜ空は青いのですか", {"question_deep"}),
    # Korean
    ("ko", "루트 2가 무리수임을 증명하시오", {"proof", "math"}),
    ("ko", "다음 문장을 영어로 번역해 주세요", {"translation"}),
    ("ko", "이 기사를 세 줄로 요약해 줘", {"summarization"}),
    ("ko", "파이썬으로 퀵정렬 함수를 구현해줘", {"code", "imperative"}),
    ("ko", "두 방식의 장단점을 비교해 주세요", {"question_deep"}),
    # Russian
    ("ru", "Докажите, что корень из двух иррационален", {"proof", "math"}),
    ("ru", "Напиши функцию на Python для сортировки массива", {"code", "imperative"}),
    ("ru", "Переведи этот текст на английский", {"translation", "reference"}),
    ("ru", "Кратко изложи основные моменты статьи", {"summarization"}),
    ("ru", "Почему небо голубое?", {"question_deep"}),
    ("ru", "Сначала установи зависимости, затем запусти тесты", {"multistep", "agentic"}),
    # German
    ("de", "Beweise, dass es unendlich viele Primzahlen gibt", {"proof", "math"}),
    ("de", "Schreibe eine Funktion, die eine Liste sortiert", {"code", "imperative"}),
    ("de", "Übersetze diesen Absatz ins Englische", {"translation"}),
    ("de", "Fasse den folgenden Text zusammen", {"summarization", "reference"}),
    ("de", "Warum ist der Himmel blau?", {"question_deep"}),
    ("de", "Erzähle eine Gutenachtgeschichte über einen Drachen", {"creative"}),
    # Spanish
    ("es", "Resume este texto", {"summarization"}),
    ("es", "Demuestra que la raíz cuadrada de 2 es irracional", {"proof", "math"}),
    ("es", "Traduce este párrafo al inglés", {"translation"}),
    ("es", "Escribe una función en Python que ordene una lista", {"code", "imperative"}),
    ("es", "Extrae todas las fechas y nombres del documento", {"extraction", "reference"}),
    ("es", "Hola, ¿qué es un agujero negro?", {"simple"}),
    # Portuguese
    ("pt", "Prove que existem infinitos números primos", {"proof", "math"}),
    ("pt", "Traduza este texto para o inglês", {"translation", "reference"}),
    ("pt", "Resuma o artigo abaixo em tópicos", {"summarization", "reference", "format"}),
    ("pt", "Escreva uma função em Python", {"code", "imperative"}),
    ("pt", "Por que o céu é azul?", {"question_deep"}),
    # French
    ("fr", "Traduis ce paragraphe en anglais", {"translation"}),
    ("fr", "Prouvez que la racine carrée de 2 est irrationnelle", {"proof", "math"}),
    ("fr", "Résume ce texte en trois points clés", {"summarization", "reference"}),
    ("fr", "Écris une fonction Python qui trie une liste", {"code", "imperative"}),
    ("fr", "Pourquoi le ciel est-il bleu ?", {"question_deep"}),
    ("fr", "Écris un poème sur la mer", {"creative"}),
    # Arabic
    ("ar", "ترجم هذه الجملة إلى الإنجليزية", {"translation"}),
    ("ar", "أثبت أن الجذر التربيعي للعدد 2 عدد غير نسبي", {"proof", "math"}),
    ("ar", "لخص المقال التالي في خمس نقاط", {"summarization", "reference", "format"}),
    ("ar", "اكتب دالة بايثون لفرز قائمة", {"code", "imperative"}),
    ("ar", "لماذا السماء زرقاء؟", {"question_deep"}),
    ("ar", "اكتب قصة قصيرة عن تنين", {"creative"}),
]


def test_sentences_cover_every_language() -> None:
    for lang in LANGS:
        if lang == "en":
            continue
        rows = [expected for code, _, expected in SENTENCES if code == lang]
        assert len(rows) >= 3, f"{lang}: fewer than three example sentences"
        assert len(set().union(*rows)) >= 3, f"{lang}: examples cover too few categories"


@pytest.mark.parametrize(("lang", "sentence", "expected"), SENTENCES)
def test_sentence_hits(lang: str, sentence: str, expected: set[str], index: KeywordIndex) -> None:
    text = unicodedata.normalize("NFC", sentence).lower()
    hits = index.scan(text).hits
    missing = expected - set(hits)
    assert not missing, f"{lang}: {sentence!r} missed {sorted(missing)}; hits: {dict(hits)}"

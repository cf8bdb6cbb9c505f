"""Dataset loaders: real data vs SOURCE.md, synthetic copies, the licence rule."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from training.examples import Example
from training.sources import (
    ENV_VAR,
    SOURCES,
    alpaca_eval,
    arena_bench_v1_outcomes,
    arena_hard,
    default_shared_root,
    elyza_outcomes,
    gsm8k,
    humaneval,
    load_all,
    load_available,
    load_source,
    math_hendrycks,
    mbppplus,
    mgsm,
    mifeval_outcomes,
    mmlu_pro_outcomes,
    mtbench_zh,
    natural_instructions,
    project_data,
    routellm_outcomes,
    routerbench,
    self_instruct,
    vicuna_bench,
    wizardlm,
    zeroeval_outcomes,
)
from training.sources.project_data import ProjectDataError

# Where the training code looks: $TIERROUTER_DATASETS, else ../shared/datasets beside the checkout.
SHARED = Path(
    os.environ.get(ENV_VAR) or Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
)
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"public datasets not present at {SHARED}"
)


@pytest.fixture(scope="module")
def real() -> dict[str, list[Example]]:
    return {name: load_source(name, SHARED) for name in SOURCES}


def _count(rows: list[Example], attr: str) -> dict[object, int]:
    return dict(Counter(getattr(r, attr) for r in rows))


# ---------------------------------------------------------------- real shared data

EXPECTED_ROWS = {
    "math_hendrycks": 5000,
    "humaneval": 164,
    "self_instruct": 252,
    "vicuna_bench": 80,
    # 1,130 rows after merging resubmitted prompts: 886, plus the 47 longer conversations
    # whose first turn alone was rated
    "arena_hard": 886 + 47,
    "routellm_outcomes": 1319 - 12 + 14042 - 5,  # minus RouteLLM's contaminated prompts
    "gsm8k": 1319,
    "mgsm": 2750,
    "natural_instructions": 139,
    "mtbench_zh": 185,
    "wizardlm": 218,
    "alpaca_eval": 805 - 80 - 252,  # vicuna + selfinstruct subsets are train sources
    "mbppplus": 399,
    "routerbench": 3178,
    "mifeval_outcomes": 1063,
    "zeroeval_outcomes": 800 + 704,
    "arena_bench_v1_outcomes": 297,
    "mmlu_pro_outcomes": 5212,
    "elyza_outcomes": 100,
}


@needs_shared
@pytest.mark.parametrize("name", list(SOURCES))
def test_real_rows_and_invariants(real: dict[str, list[Example]], name: str) -> None:
    rows = real[name]
    assert len(rows) == EXPECTED_ROWS[name]
    assert len({r.id for r in rows}) == len(rows)
    assert all(r.prompt_text().strip() for r in rows)
    if SOURCES[name].use != "mixed":
        assert {r.use for r in rows} == {SOURCES[name].use}


@needs_shared
def test_real_label_distributions(real: dict[str, list[Example]]) -> None:
    # MATH levels per SOURCE.md: L1 437, L2 894, L3 1131, L4 1214, L5 1324.
    assert _count(real["math_hendrycks"], "tier") == {
        "SIMPLE": 437,
        "MEDIUM": 894 + 1131,
        "COMPLEX": 1214,
        "REASONING": 1324,
    }
    # Vicuna: 7 categories x 10, coding 7, math 3; writing is general but for 5 composed
    # pieces (2 scripts, a blog post, 2 reviews: rule 12).
    assert _count(real["vicuna_bench"], "task") == {
        "general": 40 + 5,
        "creative_writing": 10 + 5,
        "reasoning": 10,
        "coding": 7,
        "math": 3,
    }
    # mt_bench_zh: 写作 35 (16 functional messages -> general) + 角色扮演 5,
    # 问答 30 + 常识 25, NLU 15, code 10, translation 5.
    assert _count(real["mtbench_zh"], "task") == {
        "creative_writing": 40 - 16,
        "reasoning": 30,
        "math": 30,
        "general": 55 + 16,
        "extraction": 15,
        "coding": 10,
        "translation": 5,
    }
    # WizardLM difficulty 1-3: 57, 4-6: 74, 7-10: 87 (3 of them math/reasoning at 9-10).
    tiers = _count(real["wizardlm"], "tier")
    assert (tiers["SIMPLE"], tiers["MEDIUM"]) == (57, 74)
    assert tiers["COMPLEX"] + tiers["REASONING"] == 87
    # NI: 6 translation tasks = 81 instances, samsum 10, cedr 20, xcsr 14 + 14.
    assert _count(real["natural_instructions"], "task") == {
        "translation": 81,
        "summarization": 10,
        "extraction": 20,
        "general": 28,
    }
    assert _count(real["mgsm"], "language") == dict.fromkeys(
        ["bn", "de", "en", "es", "fr", "ja", "ru", "sw", "te", "th", "zh"], 250
    )
    assert None not in _count(real["mgsm"], "tier")  # all 250 English items match GSM8K
    # Winogrande's commonsense fill-in-the-blank is general by the guide (routerbench.py).
    # AlpacaEval's 473 eval prompts: hand labels (alpaca_eval._LABELS), general otherwise.
    assert _count(real["alpaca_eval"], "task") == {
        "general": 359,
        "creative_writing": 47,
        "coding": 32,
        "math": 23,
        "reasoning": 8,
        "extraction": 3,
        "translation": 1,
    }
    assert _count(real["routerbench"], "task") == {
        "general": 445 + 1039 + 380 + 887,
        "coding": 128 + 299,
    }


@needs_shared
def test_real_arena_scores(real: dict[str, list[Example]]) -> None:
    rated = [r for r in real["arena_hard"] if r.tier is not None]
    assert len(rated) == 404  # 475 rated rows, distinct prompts
    assert len({r.prompt_text() for r in real["arena_hard"]}) == len(real["arena_hard"])


@needs_shared
def test_real_routellm_outcomes(real: dict[str, list[Example]]) -> None:
    rows = real["routellm_outcomes"]
    mmlu = [r for r in rows if "/mmlu/" in r.source]
    gsm = [r for r in rows if r.source.endswith("/gsm8k")]
    assert {r.use for r in gsm} == {"eval"}
    assert len({r.source for r in mmlu}) == 57
    eval_subjects = {r.source.rsplit("/", 1)[1] for r in mmlu if r.use == "eval"}
    assert eval_subjects == routellm_outcomes.EVAL_SUBJECTS
    # SOURCE.md accuracies (GPT-4 11,315, Mixtral 9,560 of 14,042) less the 5 dropped rows.
    strong = sum(bool(r.outcome and r.outcome["strong_correct"]) for r in mmlu)
    weak = sum(bool(r.outcome and r.outcome["weak_correct"]) for r in mmlu)
    assert 11315 - 5 <= strong <= 11315
    assert 9560 - 5 <= weak <= 9560
    assert sum(bool(r.outcome and r.outcome["strong_correct"]) for r in gsm) <= 1130


@needs_shared
def test_real_routerbench_outcome_shape(real: dict[str, list[Example]]) -> None:
    row = real["routerbench"][0]
    assert row.outcome is not None
    models = row.outcome["models"]
    assert len(models) == 11
    assert set(next(iter(models.values()))) == {"correct", "cost"}


def _pattern(rows: list[Example]) -> tuple[int, int, int, int]:
    """(both right, only strong, only weak, neither) over rows with a pair outcome."""
    pairs = [(r.outcome["strong_correct"], r.outcome["weak_correct"]) for r in rows if r.outcome]
    return (
        pairs.count((True, True)),
        pairs.count((True, False)),
        pairs.count((False, True)),
        pairs.count((False, False)),
    )


@needs_shared
def test_real_new_outcome_sets_match_source_md(real: dict[str, list[Example]]) -> None:
    # Each SOURCE.md's own both / only strong / only weak / neither counts for the pair used.
    crux = [r for r in real["zeroeval_outcomes"] if r.source.endswith("/crux")]
    math_l5 = [r for r in real["zeroeval_outcomes"] if r.source.endswith("/math_l5")]
    assert _pattern(crux) == (587, 109, 20, 84)
    assert _pattern(math_l5) == (287, 98, 75, 244)
    assert _pattern(real["mmlu_pro_outcomes"]) == (2891, 775, 421, 1108)
    mifeval_en = [r for r in real["mifeval_outcomes"] if r.language == "en"]
    assert _pattern(mifeval_en)[:3] == (415, 40, 20)
    by_lang = _count(real["mifeval_outcomes"], "language")
    assert by_lang == {"en": 541, "es": 115, "fr": 235, "ja": 172}
    # arena-bench-v1: 290 prompts graded for both; gpt-4-1106 >= 8 on 247, Mixtral on 156.
    arena = [r for r in real["arena_bench_v1_outcomes"] if r.outcome]
    assert len(arena) == 290
    assert sum(r.outcome["strong_correct"] for r in arena) == 247  # type: ignore[index]
    assert sum(r.outcome["weak_correct"] for r in arena) == 156  # type: ignore[index]
    # ELYZA: gpt-4o >= 4 on 82 tasks, Llama-3.1-8B on 42; every model's grade is kept.
    elyza = real["elyza_outcomes"]
    assert _pattern(elyza)[0] + _pattern(elyza)[1] == 82
    assert sum(bool(r.outcome and r.outcome["weak_correct"]) for r in elyza) == 42
    assert all(len(r.outcome["models"]) == 8 for r in elyza if r.outcome)
    assert {r.language for r in elyza} == {"ja"}
    assert _count(elyza, "task") == {
        "general": 49,
        "creative_writing": 16,
        "extraction": 14,
        "reasoning": 14,
        "math": 4,
        "summarization": 2,
        "translation": 1,
    }
    assert _count(real["mmlu_pro_outcomes"], "task") == {"math": 4010, "general": 1202}


@needs_shared
def test_real_overlaps_are_grouped_with_their_twin(real: dict[str, list[Example]]) -> None:
    # arena-bench-v1 prompts are Arena prompts already in arena_hard, same question ids:
    # the hold-out unit (group) is arena_hard's, so a held-out fold holds both copies out.
    arena_ids = {r.id.split("/", 1)[1] for r in real["arena_hard"]}
    bench = real["arena_bench_v1_outcomes"]
    assert {r.group for r in bench} == {"arena_hard"}
    original = SHARED / "arena_hard_proto_2023" / "question_original.jsonl"
    all_ids = {json.loads(line)["question_id"] for line in original.open(encoding="utf-8")}
    assert {r.id.split("/", 1)[1] for r in bench} <= all_ids
    assert len({r.id.split("/", 1)[1] for r in bench} & arena_ids) > 200
    # MATH-L5 problems are MATH test problems (math_hendrycks): same unit.
    math_texts = {" ".join(r.prompt_text().split()) for r in real["math_hendrycks"]}
    math_l5 = [r for r in real["zeroeval_outcomes"] if r.source.endswith("/math_l5")]
    assert {r.group for r in math_l5} == {"math_hendrycks"}
    assert all(" ".join(r.prompt_text().split()) in math_texts for r in math_l5)


@needs_shared
def test_licence_rule_train_only() -> None:
    train = load_all(SHARED, use="train")
    train_sets = {n for n, s in SOURCES.items() if s.use in ("train", "mixed")}
    assert {r.use for r in train} == {"train"}
    assert {r.group for r in train} <= train_sets
    assert not any(r.source.startswith(("gsm8k", "mgsm", "routellm_outcomes/gsm8k")) for r in train)
    assert not any(r.source.startswith(("elyza_outcomes", "alpaca_eval")) for r in train)
    gsm_questions = {" ".join(r.prompt_text().split()) for r in load_source("gsm8k", SHARED)}
    assert not any(" ".join(r.prompt_text().split()) in gsm_questions for r in train)


@needs_shared
def test_load_all_reads_every_set() -> None:
    rows = load_all(SHARED)
    assert len(rows) == sum(EXPECTED_ROWS.values())


def test_missing_root_names_path_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=rf"nowhere.*{ENV_VAR}"):
        default_shared_root()
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert default_shared_root() == tmp_path
    with pytest.raises(FileNotFoundError, match="humaneval: folder not found"):
        load_source("humaneval")


def test_load_available_names_what_is_missing(tmp_path: Path) -> None:
    _jsonl(
        tmp_path / "alpaca_eval_805" / "alpaca_eval_instructions.jsonl",
        [{"idx": 0, "dataset": "oasst", "instruction": "What is a good name for a cat?"}],
    )
    rows, missing = load_available(tmp_path, use="eval")
    assert [r.source for r in rows] == ["alpaca_eval/oasst"]
    assert rows[0].outcome is None
    assert "alpaca_eval has no outcomes" in missing["alpaca_eval_matrix"]
    assert "gsm8k not measured" in missing["gsm8k_test"]
    assert "alpaca_eval_805" not in missing
    # Train sets are not even looked for when only eval sets are asked for.
    assert "math_hendrycks" not in missing and "elyza_outcomes" in missing


# ---------------------------------------------------------------- synthetic copies


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_synthetic_math_and_code(tmp_path: Path) -> None:
    _jsonl(
        tmp_path / "m" / "math_test_5000.jsonl",
        [
            {"problem": "1+1?", "level": "Level 1", "type": "Algebra", "solution": "", "idx": 0},
            {"problem": "Hard", "level": "Level 5", "type": "Geometry", "solution": "", "idx": 1},
            {"problem": "Odd", "level": "Level ?", "type": "Geometry", "solution": "", "idx": 2},
        ],
    )
    assert [r.tier for r in math_hendrycks.load(tmp_path / "m")] == ["SIMPLE", "REASONING", None]
    _jsonl(
        tmp_path / "m5" / "math500_test.jsonl",
        [
            {"problem": "p", "level": 4, "subject": "Algebra", "unique_id": "a/1.json"},
        ],
    )
    assert math_hendrycks.load(tmp_path / "m5")[0].tier == "COMPLEX"
    _jsonl(
        tmp_path / "h" / "HumanEval.jsonl",
        [
            {
                "task_id": "HumanEval/0",
                "prompt": "def f():\n",
                "canonical_solution": "    return 1\n",
            },
            {"task_id": "HumanEval/1", "prompt": "def g():\n", "canonical_solution": "x\n" * 9},
        ],
    )
    rows = humaneval.load(tmp_path / "h")
    assert [r.tier for r in rows] == ["SIMPLE", "MEDIUM"]
    assert "```python\ndef f():" in rows[0].prompt_text()
    _write(tmp_path / "p" / "mbppplus.json", json.dumps({"Mbpp/2": "Write a function."}))
    assert mbppplus.load(tmp_path / "p")[0].task == "coding"


def test_synthetic_instruction_sets(tmp_path: Path) -> None:
    _jsonl(
        tmp_path / "s" / "user_oriented_instructions.jsonl",
        [
            {
                "id": "t0",
                "motivation_app": "Leetcode",
                "instruction": "Provide a solution.",
                "instances": [{"input": "two sum", "output": ""}],
            },
            {
                "id": "t1",
                "motivation_app": "Google Meet",
                "instruction": "Summarize the notes.",
                "instances": [{"input": "", "output": ""}],
            },
        ],
    )
    rows = self_instruct.load(tmp_path / "s")
    assert [(r.task, r.tier) for r in rows] == [("coding", "MEDIUM"), ("summarization", "SIMPLE")]
    assert rows[0].prompt_text() == "Provide a solution.\n\ntwo sum"
    _jsonl(
        tmp_path / "v" / "question.jsonl",
        [
            {"question_id": 1, "category": "fermi", "turns": ["How many?"]},
            {"question_id": 2, "category": "writing", "turns": ["Write.", "Shorter."]},
        ],
    )
    _jsonl(
        tmp_path / "v2" / "question.jsonl",
        [
            {"question_id": 71, "category": "writing", "turns": ["Draft an email."]},
            {"question_id": 76, "category": "writing", "turns": ["A video script."]},
        ],
    )
    email, script = vicuna_bench.load(tmp_path / "v2")
    assert (email.task, script.task) == ("general", "creative_writing")  # guide rule 12
    rows = vicuna_bench.load(tmp_path / "v")
    assert (rows[0].task, rows[0].tier) == ("reasoning", "MEDIUM")
    assert rows[1].messages is not None and rows[1].prompt_text() == "Write.\n\nShorter."
    _jsonl(
        tmp_path / "z" / "question.jsonl",
        [
            {"question_id": 1, "category": "翻译", "turns": ["把这句话翻译成英文"]},
        ],
    )
    assert [(r.task, r.tier, r.language) for r in mtbench_zh.load(tmp_path / "z")] == [
        ("translation", None, "zh")
    ]
    _jsonl(
        tmp_path / "z2" / "question.jsonl",
        [
            {"question_id": 103, "category": "写作类", "turns": ["写一个加班通知"]},
            {"question_id": 118, "category": "写作类", "turns": ["写一首藏头诗"]},
        ],
    )
    assert [r.task for r in mtbench_zh.load(tmp_path / "z2")] == ["general", "creative_writing"]
    _jsonl(
        tmp_path / "w" / "WizardLM_testset.jsonl",
        [
            {"idx": 1, "Skill": "Math", "Difficulty": 10, "Instruction": "Prove it."},
            {"idx": 2, "Skill": "Law", "Difficulty": 10, "Instruction": "Explain."},
            {"idx": 3, "Skill": "Writting", "Difficulty": 2, "Instruction": "A poem."},
            {"idx": 52, "Skill": "Writting", "Difficulty": 2, "Instruction": "Thank my tutor."},
            {"idx": 214, "Skill": "Academic Writing", "Difficulty": 5, "Instruction": "Table?"},
        ],
    )
    assert [(r.task, r.tier) for r in wizardlm.load(tmp_path / "w")] == [
        ("math", "REASONING"),
        ("general", "COMPLEX"),
        ("creative_writing", "SIMPLE"),
        ("general", "SIMPLE"),  # per-item: a thank-you note is general (rule 12)
        ("coding", "MEDIUM"),  # per-item: a LaTeX table
    ]


def test_synthetic_arena_merges_duplicates(tmp_path: Path) -> None:
    base = {"winner": "tie", "language": "English"}
    _jsonl(
        tmp_path / "a" / "rated_question.jsonl",
        [
            {**base, "question_id": "q1", "turns": ["Solve this riddle"], "mean_score": 1},
            {**base, "question_id": "q2", "turns": ["solve  this riddle"], "mean_score": 3},
            {**base, "question_id": "q3", "turns": ["Hi"], "mean_score": 9},
        ],
    )
    _jsonl(
        tmp_path / "a" / "question_original.jsonl",
        [
            {**base, "question_id": "q3", "turns": ["Hi", "and more"]},
            {**base, "question_id": "q4", "turns": ["Tell me about Rome"]},
        ],
    )
    rows = {r.id: r for r in arena_hard.load(tmp_path / "a")}
    # q3 was rated on its first turn only: the whole conversation is another request.
    assert set(rows) == {"arena_hard/q1", "arena_hard/q3", "arena_hard/q3:full", "arena_hard/q4"}
    assert (rows["arena_hard/q1"].task, rows["arena_hard/q1"].tier) == ("reasoning", "REASONING")
    assert rows["arena_hard/q3"].tier == "SIMPLE"
    assert rows["arena_hard/q3:full"].tier is None
    assert rows["arena_hard/q3:full"].messages is not None
    assert rows["arena_hard/q4"].tier is None


def _label(source: str, sid: str, task: str, tier: str, **extra: object) -> dict[str, object]:
    return {"source": source, "source_id": sid, "task": task, "tier": tier, "also": [],
            "language": "en", "notes": "", **extra}  # fmt: skip


def test_hand_labels_join_train_and_eval_rows(tmp_path: Path) -> None:
    from training.sources import labels

    folder = tmp_path / "labels"
    _jsonl(
        folder / "arena.jsonl",
        [
            _label("arena_hard_proto_2023", "q3", "general", "SIMPLE", language="de"),
            _label("arena_hard_proto_2023", "q1", "reasoning", "MEDIUM", skip=True),
            _label("arena_hard_proto_2023", "q3", "coding", "COMPLEX", also=["general"]),
        ],
    )
    _jsonl(folder / "eval" / "e.jsonl", [_label("wizardlm_testset", "7", "math", "SIMPLE")])
    table = labels.read_labels(folder)
    rows = [
        Example("arena_hard/q1", "riddle", None, "reasoning", "REASONING", "en", "arena_hard",
                "train", "arena_hard", weight=0.5),
        Example("arena_hard/q3", "hi", None, "general", "SIMPLE", "en", "arena_hard", "train",
                "arena_hard", weight=0.5),
        Example("arena_hard/q3:full", None, [{"role": "user", "content": "x"}], "general", None,
                "en", "arena_hard", "train", "arena_hard"),
        Example("arena_hard/q9", "other", None, "general", None, "en", "arena_hard", "train",
                "arena_hard"),
    ]  # fmt: skip
    joined = {r.id: r for r in labels.join("arena_hard", "arena_hard_proto_2023", "train", rows,
                                           table)}  # fmt: skip
    assert "arena_hard/q1" not in joined  # skip: not a usable request
    first, full = joined["arena_hard/q3"], joined["arena_hard/q3:full"]
    assert (first.task, first.tier, first.language, first.weight) == ("general", "SIMPLE", "de", 1)
    assert first.hand_labelled
    assert (full.task, full.tier, full.also) == ("coding", "COMPLEX", ("general",))
    assert not joined["arena_hard/q9"].hand_labelled  # no label: the loader's mapping stays
    # A twin set takes the task only; its tier comes from its own outcomes.
    twin = Example("arena_bench_v1_outcomes/q3:full", "hi", None, "general", "MEDIUM", "en",
                   "arena_bench_v1_outcomes", "train", "arena_hard")  # fmt: skip
    (twin_joined,) = labels.join(
        "arena_bench_v1_outcomes", "arena_bench_v1_outcomes", "train", [twin], table
    )
    assert (twin_joined.task, twin_joined.tier, twin_joined.hand_labelled) == (
        "coding", "MEDIUM", False,
    )  # fmt: skip
    # Eval labels replace the task of eval rows only, and never mark them for training.
    ev = Example("wizardlm/7", "2+2", None, "general", "COMPLEX", "en", "wizardlm", "eval",
                 "wizardlm")  # fmt: skip
    (ev_joined,) = labels.join("wizardlm", "wizardlm_testset", "eval", [ev], table)
    assert (ev_joined.task, ev_joined.tier, ev_joined.hand_labelled) == ("math", "COMPLEX", False)
    assert labels.join("wizardlm", "wizardlm_testset", "train", [ev], table) == [ev]


def test_hand_label_errors_name_file_and_field(tmp_path: Path) -> None:
    from training.sources import labels

    _jsonl(tmp_path / "l" / "x.jsonl", [_label("vicuna_bench", "1", "poetry", "SIMPLE")])
    with pytest.raises(labels.LabelError, match=r"x\.jsonl:1: field 'task'"):
        labels.read_labels(tmp_path / "l")


@needs_shared
def test_real_hand_labels_join_every_row() -> None:
    from training.sources import labels

    table = labels.read_labels()
    train = load_all(SHARED, use="train")
    hand = [r for r in train if r.hand_labelled]
    # 3,078 label rows, none skipped: every one joins a train row.
    assert len(hand) == sum(len(v) for ids in table.train.values() for v in ids.values())
    assert not any(r.use != "train" for r in hand)
    evaluation = load_all(SHARED, use="eval")
    assert not any(r.hand_labelled for r in evaluation)


def test_synthetic_gsm8k_and_mgsm(tmp_path: Path) -> None:
    long = "\n".join(f"step {i}" for i in range(6)) + "\n#### 5"
    _jsonl(
        tmp_path / "gsm8k_test" / "test.jsonl",
        [
            {"question": "Q one?", "answer": "a\nb\n#### 1"},
            {"question": "Q two?", "answer": long},
        ],
    )
    assert [r.tier for r in gsm8k.load(tmp_path / "gsm8k_test")] == ["SIMPLE", "MEDIUM"]
    _write(tmp_path / "mgsm" / "mgsm_en.tsv", 'Q one?\t1\nQ "two"?\t5\n')
    _write(tmp_path / "mgsm" / "mgsm_de.tsv", "Frage eins?\t1\nFrage zwei?\t5\n")
    rows = mgsm.load(tmp_path / "mgsm")
    by_id = {r.id: r for r in rows}
    assert by_id["mgsm/0/de"].tier == "SIMPLE" and by_id["mgsm/0/de"].language == "de"
    assert by_id["mgsm/1/en"].tier is None  # no verbatim GSM8K match
    assert all(r.use == "eval" for r in rows)


def test_synthetic_natural_instructions(tmp_path: Path) -> None:
    _jsonl(
        tmp_path / "n" / "ni_tasks.jsonl",
        [
            {
                "task": "t_tr",
                "categories": ["Translation"],
                "input_language": ["Japanese"],
                "definition": "Translate to English.",
            },
        ],
    )
    _jsonl(tmp_path / "n" / "ni_instances.jsonl", [{"task": "t_tr", "i": 0, "input": "猫"}])
    (row,) = natural_instructions.load(tmp_path / "n")
    assert (row.task, row.language) == ("translation", "ja")
    assert row.prompt_text() == "Translate to English.\n\nInput: 猫"


def test_synthetic_outcome_sources(tmp_path: Path) -> None:
    strong, weak = routellm_outcomes.STRONG, routellm_outcomes.WEAK
    header = f"prompt,{weak},{strong}\n"
    _write(
        tmp_path / "r" / "gsm8k" / "gsm8k_responses.csv", header + "Q1,True,True\nQ2,False,False\n"
    )
    _jsonl(tmp_path / "r" / "gsm8k" / "contaminated_prompts.jsonl", [{"eval_prompt": "Q2"}])
    responses = tmp_path / "r" / "mmlu" / "responses"
    _write(responses / "mmlu_formal_logic.csv", header + "L1,False,False\n")
    _write(responses / "mmlu_nutrition.csv", header + "N1,False,True\n")
    rows = {r.prompt_text(): r for r in routellm_outcomes.load(tmp_path / "r")}
    assert set(rows) == {"Q1", "L1", "N1"}
    assert (rows["Q1"].use, rows["Q1"].tier) == ("eval", "SIMPLE")
    assert (rows["L1"].use, rows["L1"].tier, rows["L1"].weight) == ("eval", "REASONING", 0.5)
    assert (rows["N1"].use, rows["N1"].tier, rows["N1"].task) == ("train", "MEDIUM", "general")
    assert rows["N1"].outcome == {
        "strong_correct": True,
        "weak_correct": False,
        "strong_model": strong,
        "weak_model": weak,
    }
    models = [routerbench.STRONG, routerbench.WEAK]
    cols = ",".join(models + [f"{m}|total_cost" for m in models])
    _write(
        tmp_path / "b" / "mbpp_test.csv",
        f",sample_id,prompt,eval_name,{cols}\n"
        "0,mbpp.1,\"['Write a function.']\",mbpp,1.0,0.0,0.01,0.001\n"
        "1,mbpp.2,\"['Other.']\",mbpp,1.0,,0.01,0.001\n",
    )
    first, second = routerbench.load(tmp_path / "b")
    assert (first.task, first.tier, first.text) == ("coding", "MEDIUM", "Write a function.")
    assert first.outcome == {
        "models": {
            routerbench.STRONG: {"correct": 1.0, "cost": 0.01},
            routerbench.WEAK: {"correct": 0.0, "cost": 0.001},
        }
    }
    assert second.tier is None


def test_synthetic_alpaca_eval(tmp_path: Path) -> None:
    _jsonl(
        tmp_path / "alpaca_eval_805" / "alpaca_eval_instructions.jsonl",
        [
            {"idx": 0, "dataset": "oasst", "instruction": "What is Rome?"},
            {"idx": 1, "dataset": "vicuna", "instruction": "Train prompt"},
        ],
    )
    _write(
        tmp_path / "alpaca_eval_matrix" / alpaca_eval.MATRIX_FILE,
        "idx,annotator,results_dir,model,preference\n"
        f"0,{alpaca_eval.ANNOTATOR},x,{alpaca_eval.STRONG},2.0\n"
        f"0,{alpaca_eval.ANNOTATOR},x,{alpaca_eval.WEAK},1.0\n",
    )
    (row,) = alpaca_eval.load(tmp_path / "alpaca_eval_805")
    assert (row.task, row.tier, row.use) == ("general", "MEDIUM", "eval")
    assert len(alpaca_eval.load(tmp_path / "alpaca_eval_805", include_train_overlap=True)) == 2


def test_synthetic_mifeval(tmp_path: Path) -> None:
    strong, weak = mifeval_outcomes.STRONG, mifeval_outcomes.WEAK
    other = "tiny-model"
    _jsonl(
        tmp_path / "mi" / "mifeval_outcomes.jsonl",
        [
            {
                "id": "mifeval-fr-1",
                "lang": "fr",
                "key": 1,
                "prompt": "Écris trois phrases sans virgule.",
                "instruction_id_list": ["fr:punctuation:no_comma"],
                "strict": {strong: True, weak: False, other: False},
                "loose": {strong: True, weak: True, other: False},
            },
            {
                "id": "mifeval-ja-2",
                "lang": "ja",
                "key": 2,
                "prompt": "ひらがなだけで答えてください。",
                "instruction_id_list": ["ja:letters:hiragana_only"],
                "strict": {strong: False, weak: False},
                "loose": {strong: False, weak: False},
            },
        ],
    )
    fr, ja = mifeval_outcomes.load(tmp_path / "mi")
    assert (fr.task, fr.tier, fr.language, fr.use) == (None, "MEDIUM", "fr", "train")
    assert fr.outcome is not None and fr.outcome["models"][other] == {"correct": 0.0}
    assert (fr.outcome["strong_correct"], fr.outcome["weak_correct"]) == (True, False)  # strict
    assert (ja.tier, ja.weight, ja.source) == ("COMPLEX", 0.5, "mifeval_outcomes/ja")


def test_synthetic_zeroeval(tmp_path: Path) -> None:
    strong, weak = zeroeval_outcomes.STRONG, zeroeval_outcomes.WEAK
    _jsonl(
        tmp_path / "z" / "crux.jsonl",
        [
            {"id": "crux-test-#0", "task": "crux", "source_id": "crux-test-#0",
             "prompt": "def f(x):\n    return x[::-1]\nassert f('ab') == ??",
             "matched": {strong: False, weak: False}},
            {"id": "crux-test-#1", "task": "crux", "source_id": "crux-test-#1",
             "prompt": "def g():\n    return 1\nassert g() == ??", "matched": {weak: True}},
        ],
    )  # fmt: skip
    _jsonl(
        tmp_path / "z" / "math_l5.jsonl",
        [{"id": "math-l5-0", "task": "math-l5", "source_id": 0,
          "prompt": "Find all primes p such that p + 2 is prime and p < 12.",
          "matched": {strong: True, weak: False}}],
    )  # fmt: skip
    crux0, crux1, math0 = zeroeval_outcomes.load(tmp_path / "z")
    assert (crux0.task, crux0.tier, crux0.weight) == ("coding", "REASONING", 0.5)
    assert (crux1.outcome, crux1.tier) == (None, None)  # no strong verdict: no outcome
    assert (math0.task, math0.tier, math0.group) == ("math", "MEDIUM", "math_hendrycks")
    with pytest.raises(ValueError, match=r"expected crux\.jsonl or math_l5\.jsonl"):
        zeroeval_outcomes.load(tmp_path)


def test_synthetic_arena_bench_v1(tmp_path: Path) -> None:
    strong, weak = arena_bench_v1_outcomes.STRONG, arena_bench_v1_outcomes.WEAK
    _jsonl(
        tmp_path / "ab" / "arena_bench_v1_scores.jsonl",
        [
            {"id": "q1", "prompt": "Write a python script that renames files.",
             "score": {strong: 9, weak: 7, "other": 2}},
            {"id": "q2", "prompt": "What should I cook tonight?",
             "score": {strong: 8, weak: 8}},
            {"id": "q3", "prompt": "Solve this riddle about three doors.",
             "score": {strong: 3, weak: None}},
        ],
    )  # fmt: skip
    code, chat, riddle = arena_bench_v1_outcomes.load(tmp_path / "ab")
    # 8 is the pass mark: 9 passes, 7 fails, 8 passes.
    assert (code.task, code.tier, code.group) == ("coding", "MEDIUM", "arena_hard")
    assert code.outcome is not None and code.outcome["models"]["other"] == {
        "correct": 0.0,
        "score": 2.0,
    }
    assert (chat.task, chat.tier) == ("general", "SIMPLE")
    assert (riddle.task, riddle.outcome, riddle.tier) == ("reasoning", None, None)


def test_synthetic_mmlu_pro(tmp_path: Path) -> None:
    strong, weak = mmlu_pro_outcomes.STRONG, mmlu_pro_outcomes.WEAK
    base = {"question_id": 1, "src": "stemez-Synthetic", "text_revised": False}
    _jsonl(
        tmp_path / "mp" / "mmlu_pro_non_mmlu.jsonl",
        [
            {**base, "id": "mmlupro-1", "question": "A 2 kg mass moves at 3 m/s. Its KE?",
             "options": ["9 J", "6 J", "3 J"], "category": "physics",
             "correct": {strong: False, weak: False}},
            {**base, "id": "mmlupro-2", "question": "Define operant conditioning.",
             "options": ["a", "b"], "category": "psychology",
             "correct": {strong: True, weak: None}},
        ],
    )  # fmt: skip
    phys, psych = mmlu_pro_outcomes.load(tmp_path / "mp")
    lines = ["A 2 kg mass moves at 3 m/s. Its KE?", "A. 9 J", "B. 6 J", "C. 3 J", "Answer:"]
    assert phys.prompt_text() == "\n".join(lines)
    assert (phys.task, phys.tier, phys.source) == ("math", "REASONING", "mmlu_pro_outcomes/physics")
    assert (psych.task, psych.outcome, psych.tier) == ("general", None, None)
    _jsonl(
        tmp_path / "bad" / "mmlu_pro_non_mmlu.jsonl",
        [{**base, "id": "x", "question": "q", "options": ["a"], "category": "law", "correct": {}}],
    )
    with pytest.raises(ValueError, match=r"mmlu_pro_non_mmlu\.jsonl:1: unknown category 'law'"):
        mmlu_pro_outcomes.load(tmp_path / "bad")


def test_synthetic_elyza(tmp_path: Path) -> None:
    strong, weak = elyza_outcomes.STRONG, elyza_outcomes.WEAK
    _jsonl(
        tmp_path / "e" / "elyza_tasks_100_scores.jsonl",
        [
            {"id": "elyza-tasks-100-1", "task_no": 1, "prompt": "春の俳句を一つ作ってください。",
             "score": {strong: 5, weak: 4, "gpt-4o-mini": 5}},
            {"id": "elyza-tasks-100-2", "task_no": 2, "prompt": "次の文を要約してください。",
             "score": {strong: 4, weak: 3}},
            {"id": "elyza-tasks-100-3", "task_no": 3, "prompt": "この論理パズルを解いてください。",
             "score": {strong: 3, weak: 0}},
        ],
    )  # fmt: skip
    haiku, summary, puzzle = elyza_outcomes.load(tmp_path / "e")
    # Tasks are hand labels keyed by task_no (1 is an advice list in the real set).
    assert (haiku.tier, haiku.use, haiku.language) == ("SIMPLE", "eval", "ja")
    assert haiku.task == "general"
    assert haiku.outcome is not None and haiku.outcome["models"]["gpt-4o-mini"]["score"] == 5.0
    assert summary.tier == "MEDIUM"  # 4 passes, 3 does not
    assert (puzzle.outcome, puzzle.tier) == (None, None)  # 0 = unparsed grade, not a fail


def test_loader_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"expected HumanEval\.jsonl"):
        humaneval.load(tmp_path)
    _jsonl(tmp_path / "v" / "question.jsonl", [{"question_id": 1, "category": "x", "turns": ["a"]}])
    with pytest.raises(ValueError, match=r"question\.jsonl:1: unknown category 'x'"):
        vicuna_bench.load(tmp_path / "v")


# ---------------------------------------------------------------- project data

GOOD = {
    "id": "en_a-1",
    "prompt": "Hi",
    "task": "general",
    "tier": "SIMPLE",
    "language": "en",
    "source": "tierrouter/en_a",
}


def test_project_data_loads_files_and_folders(tmp_path: Path) -> None:
    chat = {**GOOD, "id": "en_a-2", "messages": [{"role": "user", "content": "Yo"}]}
    del chat["prompt"]
    path = _jsonl(tmp_path / "data" / "en_a.jsonl", [GOOD, chat])
    rows = project_data.load(tmp_path / "data")
    assert [r.prompt_text() for r in rows] == ["Hi", "Yo"]
    assert {(r.use, r.group) for r in rows} == {("train", "tierrouter/en_a")}
    assert project_data.load(path) == rows


def test_project_data_reads_agent_transcripts_like_the_router(tmp_path: Path) -> None:
    # A row may hold what an agent sends (developer prompt, tool results): the roles
    # Router.classify reads and data/count.py accepts, so --check and train agree.
    transcript = [
        {"role": "developer", "content": "You are a coding agent."},
        {"role": "user", "content": "Fix the failing test"},
        {"role": "assistant", "content": "Running pytest."},
        {"role": "tool", "content": "1 failed: test_parse"},
        {"role": "user", "content": "Now explain the bug"},
    ]
    chat = {**GOOD, "id": "en_a-2", "messages": transcript}
    del chat["prompt"]
    _jsonl(tmp_path / "data" / "en_a.jsonl", [GOOD, chat])
    rows = project_data.load(tmp_path / "data")
    assert rows[1].messages == transcript
    robot = {**chat, "id": "en_a-3", "messages": [{"role": "robot", "content": "x"}]}
    _jsonl(tmp_path / "data" / "en_a.jsonl", [GOOD, robot])
    with pytest.raises(ProjectDataError, match=r"messages\[0\]\.role' must be one of"):
        project_data.load(tmp_path / "data")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"tier": "HARD"},
            r"en_a\.jsonl:2: field 'tier' must be one of SIMPLE, MEDIUM, "
            r"COMPLEX, REASONING, got 'HARD'",
        ),
        ({"task": "chat"}, r"en_a\.jsonl:2: field 'task' must be one of coding, .*got 'chat'"),
        ({"language": "English"}, r"en_a\.jsonl:2: field 'language' must be an ISO 639-1"),
        ({"messages": []}, r"en_a\.jsonl:2: exactly one of fields 'prompt' and 'messages'"),
        ({"prompt": ""}, r"en_a\.jsonl:2: field 'prompt' must be a non-empty string"),
        ({"id": "en_a-1"}, r"en_a\.jsonl#2: field 'id' 'en_a-1' repeats .*en_a\.jsonl#1"),
    ],
)
def test_project_data_errors(tmp_path: Path, change: dict[str, object], message: str) -> None:
    _jsonl(tmp_path / "data" / "en_a.jsonl", [GOOD, {**GOOD, "id": "en_a-2", **change}])
    with pytest.raises(ProjectDataError, match=message):
        project_data.load(tmp_path / "data")


def test_project_data_bad_json_and_missing_path(tmp_path: Path) -> None:
    _write(tmp_path / "x.jsonl", "{not json\n")
    with pytest.raises(ProjectDataError, match=r"x\.jsonl:1: invalid JSON"):
        project_data.load(tmp_path / "x.jsonl")
    with pytest.raises(FileNotFoundError, match="project data not found"):
        project_data.load(tmp_path / "missing")

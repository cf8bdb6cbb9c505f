"""Writes the three notebooks from the cell sources below (run: python notebooks/_build.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent

SETUP = """import sys, pathlib
ROOT = pathlib.Path.cwd().resolve()
ROOT = ROOT.parent if ROOT.name == "notebooks" else ROOT
for p in (ROOT, ROOT / "tests"):
    sys.path.insert(0, str(p))"""

FAKE = """# A real HTTP server on 127.0.0.1 speaking the OpenAI, Anthropic and Gemini formats:
# everything below runs offline. With real keys, use Router(keys={...}) instead.
from fake_providers import FakeProviders
from log_helpers import tiered_catalog
fake = FakeProviders().start()
KEYS = {"oa": "sk-test-oa-0123456789", "an": "sk-test-an-0123456789", "gg": "test-gg-0123456789"}
def offline(**kw):
    return Router(catalog=tiered_catalog(fake), keys=KEYS, env={}, strategy="cheapest", **kw)"""

NB = {
    "01_quickstart.ipynb": [
        ("md", "# tierrouter quickstart\nClassify prompts, read why, and route a call "
               "(against a local fake provider, so this runs offline)."),
        ("code", SETUP),
        ("code", "from router import Router\nrouter = Router()\n"
                 "d = router.classify('Prove that the square root of 2 is irrational')\n"
                 "d.task, d.tier, d.language, round(d.confidence, 2), d.source"),
        ("md", "## Why that tier?\n`reasons` says it in words; `features` gives each signal's "
               "value and contribution."),
        ("code", "print(*d.reasons, sep='\\n')\n"
                 "top = sorted(d.features.items(), key=lambda kv: -abs(kv[1].contribution))[:5]\n"
                 "[(name, round(f.value, 2), round(f.contribution, 2)) for name, f in top]"),
        ("code", "for p in ['hi!', 'Translate \"good night\" into French',\n"
                 "          'Design a sharded rate limiter for a multi-region API']:\n"
                 "    x = router.classify(p)\n"
                 "    print(f'{x.tier.value:10} {x.task.value:14} {p}')"),
        ("md", "## Route a call\nThe cheapest model good enough for the tier answers; the reply "
               "carries the decision, cost and savings against the baseline model."),
        ("code", FAKE),
        ("code", "r = offline()\nreply = r.chat('What is the capital of France?')\n"
                 "reply.content, reply.model_used, reply.cost, reply.decision.savings"),
        ("code", "plan = r.route('Design a sharded rate limiter for a multi-region API')\n"
                 "plan.decision.tier, [m.id for m in plan.chain]"),
        ("code", "r.close(); fake.stop()"),
    ],
    "02_training_and_eval.ipynb": [
        ("md", "# Training and evaluation\nTrain on a small slice of the bundled data (seconds), "
               "then compare the cost–quality curve of the model, the rules and random routing "
               "on held-out labelled prompts. `tierrouter train` / `tierrouter eval` run the "
               "full versions (public benchmarks included)."),
        ("code", SETUP),
        ("code", "from training.sources import project_data\n"
                 "from training.train import TrainConfig, train, save\n"
                 "from training.log_labels import split\n"
                 "rows = project_data.load(ROOT / 'data')\n"
                 "train_rows, test_rows = split(rows, held_out=0.3, seed=1)\n"
                 "train_rows = train_rows[::2]  # a small slice keeps this quick\n"
                 "len(train_rows), len(test_rows)"),
        ("code", "import tempfile, pathlib\n"
                 "result = train(train_rows, cfg=TrainConfig(c_grid=(1.0,), holdout_folds=2))\n"
                 "out = pathlib.Path(tempfile.mkdtemp()) / 'small'\n"
                 "save(result, out)\n"
                 "v = result.meta['metrics']['validation']\n"
                 "round(v['task']['accuracy'], 3), round(v['tier']['accuracy'], 3)"),
        ("md", "## Cost–quality curve\nOn labelled prompts we know which need a strong model: say a "
               "cheap model answers SIMPLE and MEDIUM prompts well, a strong model all of them. "
               "Sweeping the share sent to the strong model by each router's `score` gives the "
               "RouteLLM curve (APGR: area under it, 0.5 = random)."),
        ("code", "import numpy as np\nfrom router import Router\n"
                 "from training.metrics import routing_summary\n"
                 "need = np.array([ex.tier in ('COMPLEX', 'REASONING') for ex in test_rows])\n"
                 "strong, weak = np.ones(len(test_rows)), (~need).astype(float)\n"
                 "texts = [ex.prompt_text() for ex in test_rows]\n"
                 "trained, rules = Router(model=out.with_suffix('.json')), Router(model=False)\n"
                 "scores = {\n"
                 "    'trained here': np.array([trained.classify(t).score for t in texts]),\n"
                 "    'rules': np.array([rules.classify(t).score for t in texts]),\n"
                 "    'random': np.random.default_rng(0).random(len(texts)),\n"
                 "}\n"
                 "summary = {k: routing_summary(s, strong, weak) for k, s in scores.items()}\n"
                 "{k: round(v['apgr'], 3) for k, v in summary.items()}"),
        ("code", "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                 "%matplotlib inline\n"
                 "fig, ax = plt.subplots(figsize=(5, 4))\n"
                 "for name, s in summary.items():\n"
                 "    c = s['curve']\n"
                 "    ax.plot([100 * x for x in c['strong_share']], c['quality'], label=f\"{name} ({s['apgr']:.2f})\")\n"
                 "ax.set_xlabel('% of calls to the strong model'); ax.set_ylabel('share answered well')\n"
                 "ax.legend(); plt.show()"),
        ("md", "With the public benchmarks downloaded (`TIERROUTER_DATASETS`), "
               "`training.evaluate.evaluate(rows, model)` reports the same curves on GSM8K, MMLU "
               "and RouterBench outcomes."),
    ],
    "03_retraining_loop.ipynb": [
        ("md", "# The retraining loop\nLog routed calls, give feedback, train a challenger on the "
               "logs, compare it with the champion, promote it, and watch routing and spend change. "
               "Everything is local: a fake provider, a temporary log and model registry."),
        ("code", SETUP + "\nimport os, tempfile, pathlib\nWORK = pathlib.Path(tempfile.mkdtemp())\n"
                 "os.environ['TIERROUTER_MODEL_DIR'] = str(WORK / 'models')  # keep your real registry untouched"),
        ("code", "from router import Router\n" + FAKE),
        ("md", "## 1. Route with logging on\n`store_prompts` keeps prompt text (redacted), which "
               "retraining needs."),
        ("code", "from log_helpers import k8s_prompts\n"
                 "router = offline(log={'path': str(WORK / 'decisions.db'), 'store_prompts': True})\n"
                 "replies = [router.chat(p) for p in k8s_prompts(40)]\n"
                 "replies[0].decision.tier, replies[0].model_used"),
        ("md", "## 2. Feedback: for this family a cheaper model is fine"),
        ("code", "for reply in replies:\n"
                 "    router.feedback(reply.decision.id, verdict='cheaper_ok')\n"
                 "router.close()"),
        ("code", "from typer.testing import CliRunner\nfrom router.cli.app import app\n"
                 "print(CliRunner().invoke(app, ['stats', '--log', str(WORK / 'decisions.db')]).output)"),
        ("md", "## 3. Train a challenger on bundled data + the logs\n"
               "`tierrouter train --logs decisions.db` does this with the full data; here a small "
               "slice keeps it quick."),
        ("code", "from training.retrain import train_with_logs, print_result\n"
                 "from training.sources import project_data\n"
                 "from training.train import TrainConfig\n"
                 "from rich.console import Console\n"
                 "base = project_data.load(ROOT / 'data' / 'en_a.jsonl', ROOT / 'data' / 'de.jsonl')[::2]\n"
                 "result = train_with_logs(WORK / 'decisions.db', base_rows=base,\n"
                 "                         cfg=TrainConfig(c_grid=(1.0,), holdout_folds=2))\n"
                 "print_result(result, Console())"),
        ("md", "## 4. The promoted model routes the family cheaper"),
        ("code", "after = offline(log={'path': str(WORK / 'decisions.db')})\n"
                 "replies2 = [after.chat(p) for p in k8s_prompts(40)]\n"
                 "after.close()\n"
                 "before_cost = sum(r.cost for r in replies); after_cost = sum(r.cost for r in replies2)\n"
                 "replies2[0].decision.tier, replies2[0].model_used, f'{before_cost:.6f} -> {after_cost:.6f} USD'"),
        ("code", "print(CliRunner().invoke(app, ['models', 'list']).output)\n"
                 "print(CliRunner().invoke(app, ['stats', '--log', str(WORK / 'decisions.db'),\n"
                 "                               '--plot', str(WORK / 'stats.png')]).output)"),
        ("code", "from IPython.display import Image\nImage(str(WORK / 'stats.png'))"),
        ("md", "`tierrouter models rollback` returns to the previous model; `router.reload_model()` "
               "picks a promotion up in a running process."),
        ("code", "fake.stop()"),
    ],
}


def build() -> None:
    for name, cells in NB.items():
        nb = nbf.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [
            nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
            for kind, src in cells
        ]
        nbf.write(nb, HERE / name)


if __name__ == "__main__":
    build()

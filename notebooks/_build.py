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
                 "from training.config import TrainConfig\n"
                 "from training.export import save\n"
                 "from training.train import train\n"
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
        ("md", "# The retraining loop\nLog routed calls, give feedback, fit a user layer on the "
               "outcomes, compare it with the champion on held-out calls, promote it, and watch "
               "routing change; then the learning curve of one simulated user. Everything is "
               "local: a fake provider, a temporary log and model registry."),
        ("code", SETUP + "\nimport os, tempfile, pathlib\nWORK = pathlib.Path(tempfile.mkdtemp())\n"
                 "os.environ['TIERROUTER_MODEL_DIR'] = str(WORK / 'models')  # keep your real registry untouched"),
        ("code", "from router import Router\n" + FAKE),
        ("md", "## 1. Route with logging on\n`store_prompts` keeps prompt text (redacted), which "
               "the user layer reads."),
        ("code", "from log_helpers import k8s_prompts\n"
                 "countries = ['France', 'Peru', 'Japan', 'Kenya', 'Norway', 'Chile', 'Egypt', 'Canada',\n"
                 "             'India', 'Spain', 'Ghana', 'Nepal', 'Cuba', 'Italy', 'Laos', 'Mali',\n"
                 "             'Oman', 'Chad', 'Fiji', 'Iran']\n"
                 "facts = [f'What is the capital of {c}?' for c in countries] + \\\n"
                 "        [f'Which currency does {c} use?' for c in countries] + \\\n"
                 "        [f'What language is spoken in {c}?' for c in countries]\n"
                 "router = offline(log={'path': str(WORK / 'decisions.db'), 'store_prompts': True})\n"
                 "k8s = [router.chat(p) for p in k8s_prompts(60)]\n"
                 "trivia = [router.chat(p) for p in facts]\n"
                 "k8s[0].decision.tier, k8s[0].model_used, trivia[0].decision.tier, trivia[0].model_used"),
        ("md", "## 2. Feedback\nThis user's cheap model handles the Kubernetes requests, but misses "
               "short factual questions (say, it is a small local model with stale knowledge): "
               "the opposite of what the bundled model expects."),
        ("code", "for reply in k8s:\n"
                 "    router.feedback(reply.decision.id, verdict='cheaper_ok')\n"
                 "for reply in trivia:\n"
                 "    router.feedback(reply.decision.id, verdict='needed_stronger')\n"
                 "router.close()"),
        ("code", "from typer.testing import CliRunner\nfrom router.cli.app import app\n"
                 "print(CliRunner().invoke(app, ['stats', '--log', str(WORK / 'decisions.db')]).output)"),
        ("md", "## 3. Fit a user layer and compare\n"
               "`tierrouter train --logs decisions.db` does the same: a logistic correction of "
               "`Decision.score` fitted on the outcomes in about a second, judged against the "
               "champion on held-out calls by APGR with a paired-bootstrap interval."),
        ("code", "from training.retrain import print_result\n"
                 "from training.retrain_layer import train_layer_with_logs\n"
                 "from rich.console import Console\n"
                 "result = train_layer_with_logs(WORK / 'decisions.db')\n"
                 "print_result(result, Console(width=120))"),
        ("md", "## 4. The promoted layer routes this user's traffic their way"),
        ("code", "after = offline()\n"
                 "for probe in ['Write a Kubernetes deployment manifest for the ledger service with 3 replicas.',\n"
                 "              'What is the capital of Portugal?']:\n"
                 "    old, new = router.classify(probe), after.classify(probe)\n"
                 "    print(f'{probe[:40]:<40} score {old.score:.2f} -> {new.score:.2f}, '\n"
                 "          f'{old.tier.value} -> {new.tier.value}')\n"
                 "print(new.reasons[-1])"),
        ("code", "print(CliRunner(env={'COLUMNS': '160'}).invoke(app, ['models', 'list']).output)\n"
                 "print(CliRunner().invoke(app, ['stats', '--log', str(WORK / 'decisions.db'),\n"
                 "                               '--plot', str(WORK / 'stats.png')]).output)"),
        ("code", "from IPython.display import Image\nImage(str(WORK / 'stats.png'))"),
        ("md", "`tierrouter models rollback` returns to the previous model; `router.reload_model()` "
               "picks a promotion up in a running process."),
        ("code", "fake.stop()"),
        ("md", "## 5. The learning curve of one simulated user\n"
               "`benchmarks/bench_learning_curve.py` replays a public outcome set as a user's "
               "traffic: N logged prompts with the feedback their real outcome implies, "
               "`train --logs`, promotion, then APGR of the deployed model on held-back future "
               "prompts. Here M-IFEval (instruction following, en/es/fr/ja), one split; it needs "
               "the public datasets (`TIERROUTER_DATASETS`)."),
        ("code", "import importlib.util\nfrom training.sources.location import locate\n"
                 "spec = importlib.util.spec_from_file_location('curve', ROOT / 'benchmarks' / 'bench_learning_curve.py')\n"
                 "curve = importlib.util.module_from_spec(spec); spec.loader.exec_module(curve)\n"
                 "where = locate()\n"
                 "if where.exists and (where.root / 'mifeval_outcomes').is_dir():\n"
                 "    run = curve.simulate('mifeval', 0, (0, 250, 1000), 1200, print)\n"
                 "else:\n"
                 "    run = None\n"
                 "    print('public datasets not found: set TIERROUTER_DATASETS to see the curve')"),
        ("code", "import matplotlib.pyplot as plt\n"
                 "if run:\n"
                 "    ns = [p['n'] for p in run['points']]\n"
                 "    fig, ax = plt.subplots(figsize=(6, 3.5))\n"
                 "    ax.plot(ns, [p['apgr'] for p in run['points']], 'o-', label='deployed model')\n"
                 "    ax.axhline(run['baselines']['length'], ls='--', c='grey', label='prompt length')\n"
                 "    ax.axhline(run['baselines']['random'], ls=':', c='grey', label='random')\n"
                 "    ax.set_xlabel('logged outcomes N'); ax.set_ylabel('APGR on future prompts')\n"
                 "    ax.legend(); plt.show()"),
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

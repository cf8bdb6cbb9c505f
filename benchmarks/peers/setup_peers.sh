#!/usr/bin/env bash
# Create a throw-away venv holding the peer routers that bench_classify.py --peers compares against.
#
# The peers are installed here ONLY: they are never dependencies of tierrouter.
#
#   bash benchmarks/peers/setup_peers.sh                 # venv at /tmp/tierrouter-peers-venv
#   PEERS_VENV=/some/where bash benchmarks/peers/setup_peers.sh
#   PYTHON=python3.12 bash benchmarks/peers/setup_peers.sh
set -euo pipefail

PEERS_VENV="${PEERS_VENV:-/tmp/tierrouter-peers-venv}"
PYTHON="${PYTHON:-python3}"

# Pinned: the numbers in benchmarks/README.md were measured with exactly these.
PEERS=(
    "smart-llm-router==0.1.2"
    "byok-router==0.2.1"
)

if [[ ! -x "$PEERS_VENV/bin/python" ]]; then
    echo "creating $PEERS_VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$PEERS_VENV"
fi
"$PEERS_VENV/bin/python" -m pip install --quiet --upgrade pip
"$PEERS_VENV/bin/python" -m pip install --quiet "${PEERS[@]}"

# A smoke check: both decision calls import and answer without network or keys.
"$PEERS_VENV/bin/python" - <<'PY'
from smart_llm_router.router import DEFAULT_ROUTING_CONFIG, route
from smart_llm_router.router.types import RouterOptions
from tokenrouter import TokenRouter

d = route("hello", None, 4096, RouterOptions(config=DEFAULT_ROUTING_CONFIG))
c = TokenRouter().classify([{"role": "user", "content": "hello"}])
print(f"smart-llm-router ok: tier={d.tier}; byok-router ok: task={c.task_type} complexity={c.complexity}")
PY
echo "peers venv ready: $PEERS_VENV"

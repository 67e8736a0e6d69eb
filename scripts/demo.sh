#!/usr/bin/env bash
# Set up (idempotent), then run the built-in demo: bash scripts/demo.sh [args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
# shellcheck source=scripts/env.sh
. scripts/env.sh
exec "$VUER_ROS_VENV/bin/vuer-ros" demo "$@"

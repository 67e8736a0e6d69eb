#!/usr/bin/env bash
# The project's test command: set up (idempotent), then run pytest.
# Extra arguments go to pytest, e.g.  bash scripts/test.sh -k tf -x
#                                     bash scripts/test.sh test/test_ros_env.py
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
# shellcheck source=scripts/env.sh
. scripts/env.sh

# Keep DDS traffic on this host, and off other ROS graphs on it.
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( (RANDOM % 100) + 1 ))}"

# Default to the whole test/ tree; if paths are given (test/x.py, test/x.py::t),
# run just those.
targets=(test)
for a in "$@"; do
    case "$a" in -*) continue ;; esac
    if [ -e "${a%%::*}" ]; then targets=(); break; fi
done

# The whole suite also runs the static checks (ruff.toml, mypy.ini); a subset does not.
if [ ${#targets[@]} -ne 0 ]; then
    echo "[test] ruff check ."
    "$VUER_ROS_VENV/bin/ruff" check . || { echo "[test] ruff found problems (above)" >&2; exit 1; }
    echo "[test] mypy (strict: protocol/, view/, cdr/)"
    "$VUER_ROS_PYTHON" -m mypy || { echo "[test] mypy found problems (above)" >&2; exit 1; }
fi

set +e
"$VUER_ROS_PYTHON" -m pytest "${targets[@]}" -q "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "[test] pytest collected no tests: that is a failure here" >&2
fi
exit "$rc"

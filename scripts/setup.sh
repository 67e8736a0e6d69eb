#!/usr/bin/env bash
# Idempotent developer/CI setup for vuer_ros. Safe to run repeatedly; a rerun
# with nothing changed does no work (stamp files in .setup-stamps/ keyed on a
# hash of each step's inputs).
#
#   a) apt: chromium, cmake, g++, make (only the missing ones)
#   b) .venv/ from Python 3.11 + pip install -r requirements.txt
#   c) tf2_msgs and map_msgs (tools/<pkg>) generated and installed into the venv prefix
#   d) web client: npm ci && npm run build  (only if web/package.json exists)
#   e) pip install -e . (this package, no deps)
#
# Env knobs: PYTHON=/path/to/python3.11 (interpreter for the venv),
#            VUER_ROS_SKIP_APT=1 (never call apt-get),
#            VUER_ROS_SKIP_WEB=1 (leave web/ and vuer_ros/client_build/ alone).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMPS="$ROOT/.setup-stamps"
PYV=3.11
SITE="$VENV/lib/python$PYV/site-packages"

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1
export DEBIAN_FRONTEND=noninteractive

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p "$STAMPS"
# One setup at a time (test.sh and demo.sh may start together).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$STAMPS/.lock"
    flock 9
fi

# ---------------------------------------------------------------- helpers
# sha256 over the names and contents of the given paths (missing ones count
# as "absent"), one line of output.
hash_paths() {
    local p
    for p in "$@"; do
        if [ -f "$p" ]; then
            printf '%s ' "$p"
            sha256sum <"$p" | cut -d' ' -f1
        else
            printf '%s absent\n' "$p"
        fi
    done | sha256sum | cut -d' ' -f1
}
# Files under a directory, gitignore-aware when in a git work tree.
list_files() {
    local dir="$1"
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -co --exclude-standard -- "$dir" | LC_ALL=C sort
    else
        find "$dir" -path "$dir/node_modules" -prune -o -type f -print | LC_ALL=C sort
    fi
}
hash_tree() { # dir -> hash of all its (non-ignored) files
    local files
    mapfile -t files < <(list_files "$1")
    hash_paths "${files[@]}"
}
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_set() { printf '%s\n' "$2" >"$STAMPS/$1"; }
stamp_get() { cat "$STAMPS/$1" 2>/dev/null || echo none; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root (or sudo) to run: $*"; fi
}
APT_UPDATED=0
apt_install() {
    [ "${VUER_ROS_SKIP_APT:-0}" = 1 ] && die "missing system packages ($*) and VUER_ROS_SKIP_APT=1"
    command -v apt-get >/dev/null 2>&1 || die "missing system packages ($*) and no apt-get: install them by hand"
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
# pip, minus the noise of this machine's local find-links/extra-index config.
pip_q() {
    "$VENV/bin/python" -m pip "$@" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
}

# ---------------------------------------------------------------- a) apt
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-liberation)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
if [ -f web/package.json ] && ! command -v npm >/dev/null 2>&1; then
    log "WARNING: npm not found; installing Debian's nodejs/npm (node 20 is the tested version)"
    missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}"
fi

# ---------------------------------------------------------------- b) venv
pick_python() {
    local cand v
    for cand in "${PYTHON:-}" python3 "python$PYV"; do
        [ -n "$cand" ] || continue
        command -v "$cand" >/dev/null 2>&1 || continue
        v="$("$cand" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" || continue
        if [ "$v" = "$PYV" ]; then
            command -v "$cand"
            return 0
        fi
    done
    return 1
}
venv_python_ok() {
    [ -x "$VENV/bin/python" ] && grep -Eq "^version(_info)? *= *$PYV\." "$VENV/pyvenv.cfg" 2>/dev/null
}

VENV_KEY="$(hash_paths requirements.txt)"
if venv_python_ok && stamp_ok venv "$VENV_KEY"; then
    log "venv up to date"
else
    if ! venv_python_ok; then
        PY="$(pick_python)" || die "Python $PYV is required (the ROS 2 Jazzy wheels are cp311 only). \
Found: $(python3 --version 2>&1 || echo 'no python3'). Install python$PYV or set PYTHON=/path/to/python$PYV."
        rm -rf "$VENV"
        log "creating .venv from $PY ($("$PY" --version 2>&1))"
        if ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
            rm -rf "$VENV"
            # Debian splits venv/ensurepip into python3-venv.
            case "$PY" in
                /usr/bin/*) apt_install "python$PYV-venv" ;;
                *) die "'$PY -m venv' failed (is the venv/ensurepip module installed?)" ;;
            esac
            "$PY" -m venv "$VENV" || die "'$PY -m venv' failed"
        fi
    fi
    # Packaging tools first (pinned in requirements.txt), so every later
    # install builds with the same pip/setuptools/wheel whatever the base Python.
    mapfile -t BOOT < <(grep -E '^(pip|setuptools|wheel)==' requirements.txt | sed 's/[[:space:]]*#.*//')
    [ ${#BOOT[@]} -eq 0 ] || pip_q install -q "${BOOT[@]}"
    log "pip install -r requirements.txt (a fresh venv takes about a minute)"
    pip_q install -q -r requirements.txt
    stamp_set venv "$VENV_KEY"
    rm -f "$STAMPS/tf2_msgs" "$STAMPS/map_msgs" "$STAMPS/pkg"   # they build against this venv
fi

# ---------------------------------------------------------------- c) tf2_msgs, map_msgs
# Message packages the PyPI wheels lack, generated from tools/<pkg>/ (one .msg each).
msgs_built() { # pkg py_module -> 0 when its Python module and Fast DDS typesupport are there
    [ -f "$SITE/$1/msg/$2.py" ] && compgen -G "$SITE/$1/$1_s__rosidl_typesupport_fastrtps_c*.so" >/dev/null
}
MSGS_PREPARED=0
prepare_msgs_build() { # once: Python headers, and the wheels' CMake exports pointed at this machine
    [ "$MSGS_PREPARED" = 1 ] && return 0
    MSGS_PREPARED=1
    # Python headers are needed to compile the message's C extension.
    "$VENV/bin/python" - <<'PY' || NEED_PYDEV=1
import os, sys, sysconfig
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)
PY
    if [ "${NEED_PYDEV:-0}" = 1 ]; then
        base="$("$VENV/bin/python" -c 'import sys; print(sys.base_prefix)')"
        [ "$base" = /usr ] || die "Python.h missing for $base: install the Python $PYV development headers"
        apt_install "python$PYV-dev"
    fi
    # The wheels' exported CMake targets hard-code the wheel builder's paths
    # (/opt/python/cp311-cp311/include/python3.11 and its numpy include dir):
    # point them at this machine's Python and numpy include dirs.
    "$VENV/bin/python" - "$VENV" <<'PY'
import glob, os, re, sys, sysconfig
import numpy
venv = sys.argv[1]
py_inc = sysconfig.get_paths()["include"]
np_inc = numpy.get_include()
pat_py = re.compile(r"/opt/python/cp3\d+-cp3\d+/include/python3\.\d+")
pat_np = re.compile(r"/opt/python/cp3\d+-cp3\d+/lib/python3\.\d+/site-packages/numpy/(?:_core|core)/include")
n = 0
for path in glob.glob(os.path.join(venv, "share", "*", "cmake", "*Export*.cmake")):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if "/opt/python/" not in text:
        continue
    new = pat_np.sub(lambda m: np_inc, pat_py.sub(lambda m: py_inc, text))
    if new != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        n += 1
print("[setup] patched %d exported CMake file(s) with local include dirs" % n)
PY
}
build_msgs() { # pkg msg_file py_module check_python
    local pkg="$1" msg="$2" module="$3" check="$4"
    local src="tools/$pkg" build="$ROOT/tools/$pkg/build" blog="$STAMPS/$pkg-build.log" key
    key="$(hash_paths "$src/CMakeLists.txt" "$src/package.xml" "$src/msg/$msg")-$(stamp_get venv)"
    if stamp_ok "$pkg" "$key" && msgs_built "$pkg" "$module"; then
        log "$pkg up to date"
        return 0
    fi
    log "generating $pkg into the venv (cmake + rosidl, ~10-30 s)"
    prepare_msgs_build
    rm -rf "$build"
    (
        export AMENT_PREFIX_PATH="$VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
        export CMAKE_PREFIX_PATH="$VENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
        export PATH="$VENV/bin:$PATH"
        cmake -S "$src" -B "$build" \
            -DCMAKE_BUILD_TYPE=Release \
            -DCMAKE_INSTALL_PREFIX="$VENV" \
            -DCMAKE_PREFIX_PATH="$VENV" \
            -DPython3_EXECUTABLE="$VENV/bin/python" \
            -DPython3_FIND_VIRTUALENV=ONLY \
            -DBUILD_TESTING=OFF >"$blog" 2>&1 \
        && cmake --build "$build" -j "$(nproc)" >>"$blog" 2>&1 \
        && cmake --install "$build" >>"$blog" 2>&1
    ) || { tail -40 "$blog" >&2; die "$pkg build failed (full log: $blog)"; }
    AMENT_PREFIX_PATH="$VENV" "$VENV/bin/python" -c "$check" \
        || die "$pkg was built but does not import/serialize (see $blog)"
    stamp_set "$pkg" "$key"
    log "$pkg OK"
}
build_msgs tf2_msgs TFMessage.msg _tf_message '
from tf2_msgs.msg import TFMessage
from geometry_msgs.msg import TransformStamped
m = TFMessage(transforms=[TransformStamped()])
assert type(m).__module__.startswith("tf2_msgs.msg"), type(m).__module__
from rclpy.serialization import serialize_message, deserialize_message
assert len(deserialize_message(serialize_message(m), TFMessage).transforms) == 1
'
build_msgs map_msgs OccupancyGridUpdate.msg _occupancy_grid_update '
from map_msgs.msg import OccupancyGridUpdate
m = OccupancyGridUpdate(width=2, height=1, data=[-1, 100])
from rclpy.serialization import serialize_message, deserialize_message
assert list(deserialize_message(serialize_message(m), OccupancyGridUpdate).data) == [-1, 100]
'

# ---------------------------------------------------------------- d) web client
if [ "${VUER_ROS_SKIP_WEB:-0}" = 1 ]; then
    log "VUER_ROS_SKIP_WEB=1: skipping the web client build"
elif [ -f web/package.json ]; then
    DEPS_KEY="$(hash_paths web/package.json web/package-lock.json)"
    if stamp_ok web-deps "$DEPS_KEY" && [ -d web/node_modules ]; then
        log "web deps up to date"
    else
        if [ -f web/package-lock.json ]; then
            log "npm ci (web/)"
            (cd web && npm ci --no-audit --no-fund --loglevel=error)
        else
            log "npm install (web/, no package-lock.json)"
            (cd web && npm install --no-audit --no-fund --loglevel=error)
            DEPS_KEY="$(hash_paths web/package.json web/package-lock.json)"
        fi
        stamp_set web-deps "$DEPS_KEY"
        rm -f "$STAMPS/web-build"
    fi
    BUILD_KEY="$(hash_tree web)-$DEPS_KEY"
    if stamp_ok web-build "$BUILD_KEY" && [ -d vuer_ros/client_build ]; then
        log "web client build up to date"
    else
        log "npm run build (web/ -> vuer_ros/client_build/)"
        (cd web && npm run build --if-present --silent)
        [ -d vuer_ros/client_build ] || log "WARNING: web build produced no vuer_ros/client_build/"
        # Keyed on the tree as it is after the build, so build outputs that
        # land in web/ do not force a rebuild on every run.
        stamp_set web-build "$(hash_tree web)-$DEPS_KEY"
    fi
else
    log "no web/package.json yet: skipping the web client build"
fi

# ---------------------------------------------------------------- e) this package
mapfile -t PKG_INPUTS < <(printf '%s\n' setup.py setup.cfg package.xml "resource/vuer_ros" \
    vuer_ros/__init__.py launch/*.py config/*.yaml | grep -v '\*' || true)
PKG_KEY="$(hash_paths "${PKG_INPUTS[@]}")-$(stamp_get venv)"
if stamp_ok pkg "$PKG_KEY" && compgen -G "$SITE/vuer_ros-*.dist-info" >/dev/null; then
    log "vuer_ros editable install up to date"
else
    log "pip install -e . (vuer_ros, editable, no deps)"
    # --use-pep517: a PEP 660 editable install puts console scripts in .venv/bin;
    # the legacy 'setup.py develop' path would honour setup.cfg's
    # script_dir=$base/lib/vuer_ros (meant for colcon) instead.
    pip_q install -q --no-deps --no-build-isolation --use-pep517 -e .
    stamp_set pkg "$PKG_KEY"
fi
# An editable wheel carries no data_files: register the package in the venv's
# ament index by symlinks (like colcon --symlink-install), so that
# get_package_share_directory('vuer_ros') finds package.xml, launch/, config/.
SHARE="$VENV/share/vuer_ros"
mkdir -p "$SHARE" "$VENV/share/ament_index/resource_index/packages"
ln -sfn "$ROOT/resource/vuer_ros" "$VENV/share/ament_index/resource_index/packages/vuer_ros"
ln -sfn "$ROOT/package.xml" "$SHARE/package.xml"
ln -sfn "$ROOT/launch" "$SHARE/launch"
ln -sfn "$ROOT/config" "$SHARE/config"

log "done (python: .venv/bin/python; env: source scripts/env.sh)"

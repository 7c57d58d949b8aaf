# Shared set-up for scripts/test and scripts/demo (sourced, not run): find Python >= 3.11,
# make .venv if missing, install the project into it, and install missing Debian packages.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

say() { printf '\033[1m%s\033[0m\n' "$*" >&2; }

find_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# apt_need PACKAGE CHECK...: install the Debian PACKAGE unless CHECK (a command name, or dpkg:NAME) is present.
APT_UPDATED=0
apt_need() {
    local package="$1" check="$2"
    if [[ "$check" == dpkg:* ]]; then
        dpkg -s "${check#dpkg:}" >/dev/null 2>&1 && return 0
    else
        command -v "$check" >/dev/null 2>&1 && return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "warning: $package is missing and this is not a Debian/Ubuntu machine; install it yourself"
        return 0
    fi
    local sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            say "warning: $package is missing and installing it needs root"; return 0
        fi
    fi
    if [[ $APT_UPDATED -eq 0 ]]; then
        say "apt-get update"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    say "apt-get install $package"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
}

ensure_venv() {
    local extras="$1" python
    if [[ ! -x "$VENV/bin/python" ]]; then
        if ! python="$(find_python)"; then
            say "Takt needs Python 3.11 or newer (apt-get install python3 python3-venv)"
            exit 1
        fi
        say "creating $VENV with $python"
        if ! "$python" -m venv "$VENV" 2>/dev/null; then
            apt_need python3-venv dpkg:python3-venv
            "$python" -m venv "$VENV"
        fi
    fi
    say "installing takt${extras} into .venv"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT$extras"
}

# reference_fetch CONSEQUENCE: install the pinned reference data (takt reference fetch) unless every set is there;
# from $TAKT_REFERENCE_MIRROR when set (a plant's mirror), else upstream. When it cannot, say once what is missing.
reference_fetch() {
    local consequence="$1" log="$VENV/reference-fetch.log" missing
    "$VENV/bin/takt" reference status --quiet >/dev/null 2>&1 && return 0
    say "installing reference data: takt reference fetch${TAKT_REFERENCE_MIRROR:+ --mirror $TAKT_REFERENCE_MIRROR}"
    if "$VENV/bin/takt" reference fetch ${TAKT_REFERENCE_MIRROR:+--mirror "$TAKT_REFERENCE_MIRROR"} --timeout 20 \
        >"$log" 2>&1; then
        return 0
    fi
    missing="$("$VENV/bin/takt" reference status --quiet 2>/dev/null | awk '/^[A-Z]/ {print $2}' | paste -sd, - || true)"
    say "reference data missing (${missing:-see $log}): $consequence. The download failed (details: $log); install" \
        "them with \`takt reference fetch --mirror URL\` (a copy of the same layout), or run again with" \
        "TAKT_REFERENCE_MIRROR=URL"
}

#!/usr/bin/env bash
# The modeler check (`make test-modeler`): every BPMN file sopflow ships or compiles must
# open in bpmn-js without warnings, lint clean with bpmnlint:recommended, and survive an
# untouched and an edited round trip through the bpmn-js modeler (docs/modeler.md).
#
#   bash modeler/check.sh              bpmn/*.bpmn, plus every bpmn/tables/*.toml and
#                                      tests/fixtures/tables/*.toml compiled
#   bash modeler/check.sh FILE.bpmn... only these files
#
# Exit status: 0 all passed, 1 a file failed a stage (or would not compile), 2 usage error,
# 3 a tool is missing (node, npm, chromium, sopflow): said in one line on stderr.
# Environment: SOPFLOW_CHROMIUM (default /usr/bin/chromium; when the default is missing and
# this runs as root with apt-get, Debian's chromium is installed), SOPFLOW (default
# .venv/bin/sopflow), SOPFLOW_MODELER_OUT (default build/modeler).
set -uo pipefail

# Only bash builtins until the tool checks below, so a bare PATH still gets its one line.
script="${BASH_SOURCE[0]}"
[[ "$script" == */* ]] || script="./$script"
here="$(cd "${script%/*}" && pwd)"
root="${here%/*}"

missing() {
    echo "modeler check: $*" >&2
    exit 3
}

case "${1:-}" in
    -h|--help)
        sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "modeler check: unknown option $1 (usage: bash modeler/check.sh [FILE.bpmn ...])" >&2
        exit 2
        ;;
esac

command -v node >/dev/null 2>&1 \
    || missing "node not found: install Node.js >= 18 (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 \
    || missing "npm not found: install npm (Debian: apt-get install npm)"

chromium="${SOPFLOW_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ] && [ -z "${SOPFLOW_CHROMIUM:-}" ] \
        && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # CI runs as root on Debian: take the distribution's browser, never a downloaded build.
    echo "modeler check: installing Debian's chromium with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq chromium; } >/dev/null \
        || missing "apt-get install chromium failed"
fi
[ -x "$chromium" ] \
    || missing "chromium not found at $chromium: install Debian's chromium (apt-get install chromium) or set SOPFLOW_CHROMIUM"

sopflow="${SOPFLOW:-$root/.venv/bin/sopflow}"
[ -x "$sopflow" ] \
    || missing "sopflow not found at $sopflow: run 'make test-modeler' (installs it into .venv) or set SOPFLOW"

# Pinned npm packages (package-lock.json); the browser itself is never downloaded.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -f "$here/node_modules/.package-lock.json" ] \
        || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    echo "modeler check: npm ci in modeler/"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
        || missing "npm ci failed in $here"
fi

out="${SOPFLOW_MODELER_OUT:-$root/build/modeler}"
mkdir -p "$out"

status=0
files=()
if [ "$#" -gt 0 ]; then
    files=("$@")
else
    shopt -s nullglob
    for file in "$root"/bpmn/*.bpmn; do
        files+=("${file#"$PWD"/}")
    done
    # What `sopflow compile` makes of the table files must pass the same check: the
    # shipped tables, and the test fixtures whose rows are joint (pelaksana = [..]),
    # per item (untuk_setiap) or calls (panggil).
    mkdir -p "$out/compiled" "$out/compiled/fixtures"
    for table in "$root"/bpmn/tables/*.toml "$root"/tests/fixtures/tables/*.toml; do
        name="$(basename "$table" .toml)"
        target="$out/compiled/$name.bpmn"
        case "$table" in
            "$root"/tests/*) target="$out/compiled/fixtures/$name.bpmn" ;;
        esac
        if message="$("$sopflow" compile "$table" -o "$target" 2>&1)"; then
            echo "ok   compile   ${table#"$PWD"/}  (-> ${target#"$PWD"/})"
            files+=("${target#"$PWD"/}")
        else
            echo "FAIL compile   ${table#"$PWD"/}: $(printf '%s\n' "$message" | tail -n 1)"
            status=1
        fi
    done
    shopt -u nullglob
    if [ "${#files[@]}" -eq 0 ]; then
        echo "modeler check: no BPMN files under $root/bpmn and no tables compiled" >&2
        exit 1
    fi
fi

node "$here/check.js" --out "$out" --sopflow "$sopflow" --chromium "$chromium" "${files[@]}"
node_status=$?
if [ "$node_status" -ne 0 ]; then
    status=$node_status
fi
if [ "$#" -eq 0 ]; then
    # The element template "Langkah SOP (Mutu Baku)": applied, filled, saved, read back.
    node "$here/template-check.js" --out "$out" --sopflow "$sopflow" --chromium "$chromium" \
        --screenshot "$out/element-template-langkah-sop.png" || status=1
fi
exit "$status"

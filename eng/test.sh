#!/usr/bin/env bash
# Project test command: bash eng/test.sh
# Optional: TEST_FILTER="FullyQualifiedName~Foo" bash eng/test.sh
set -euo pipefail

# Prerequisites used by the tests (Debian/Ubuntu packages). Extend here.
# nodejs: the npm `ws` peers (npm comes with NodeSource's nodejs; Debian's needs the separate `npm`, added below).
# squid, nginx: the tunnelling tests' CONNECT proxy and plain reverse proxy (started by the tests on free ports).
# chromium: the WebSocket sample's page, driven by Playwright through /usr/bin/chromium (no browser download).
APT_PACKAGES="curl socat nghttp2-client netcat-openbsd python3-h2 python3-prometheus-client nodejs chromium squid nginx nghttp2-proxy"
REQUIRED_COMMANDS="curl socat nghttp nc node npm chromium squid nginx nghttpx"
NODE_PEERS_DIR="test/Yarp.Tunnels.FunctionalTests/Interop/node"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# --- prerequisites (idempotent) ---------------------------------------------
missing_prereqs() {
  local missing="" cmd
  for cmd in $REQUIRED_COMMANDS; do
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
  done
  if ! /usr/bin/python3 -c 'import h2' >/dev/null 2>&1; then
    missing="$missing python3-h2"
  fi
  if ! /usr/bin/python3 -c 'from prometheus_client.parser import text_string_to_metric_families' >/dev/null 2>&1; then
    missing="$missing python3-prometheus-client"
  fi
  echo "${missing# }"
}

missing="$(missing_prereqs)"
if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing test prerequisites (missing: $missing)..."
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_PACKAGES
    if ! command -v npm >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm
    fi
  else
    echo "WARNING: missing test prerequisites: $missing (install: $APT_PACKAGES); some tests may fail." >&2
  fi
fi

# --- npm packages of the interop peers (idempotent: npm ci again only when the lock file changed) ---------
if command -v npm >/dev/null 2>&1; then
  if ! cmp -s "$NODE_PEERS_DIR/package-lock.json" "$NODE_PEERS_DIR/node_modules/.installed-package-lock.json"; then
    echo "Installing the npm packages of $NODE_PEERS_DIR (npm ci)..."
    (cd "$NODE_PEERS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$NODE_PEERS_DIR/package-lock.json" "$NODE_PEERS_DIR/node_modules/.installed-package-lock.json"
  fi
else
  echo "WARNING: npm is missing; the npm ws interop tests will fail." >&2
fi

# --- run tests --------------------------------------------------------------
RESULTS_DIR="artifacts/test-results"
rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"

test_args=(
  test Yarp.Tunnels.sln -c Release
  --logger "trx;LogFilePrefix=results"
  --results-directory "$RESULTS_DIR"
  --blame-hang --blame-hang-timeout 5m
)
if [ -n "${TEST_FILTER:-}" ]; then
  test_args+=(--filter "$TEST_FILTER")
fi

set +e
dotnet "${test_args[@]}" </dev/null
dotnet_rc=$?
set -e

# --- summarize TRX results (last line: "N passed, N failed[, N skipped]") ---
set +e
/usr/bin/python3 - "$RESULTS_DIR" <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ET

ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
root = sys.argv[1]
passed = failed = skipped = 0
failures = []
for path in sorted(glob.glob(os.path.join(root, "**", "*.trx"), recursive=True)):
    try:
        tree = ET.parse(path)
    except ET.ParseError as e:
        print(f"WARNING: could not parse {path}: {e}")
        continue
    for r in tree.iter(ns + "UnitTestResult"):
        outcome = r.get("outcome", "")
        if outcome == "Passed":
            passed += 1
        elif outcome in ("Failed", "Error", "Timeout", "Aborted"):
            failed += 1
            msg = r.findtext(f"{ns}Output/{ns}ErrorInfo/{ns}Message") or ""
            first = next((l.strip() for l in msg.splitlines() if l.strip()), "")
            failures.append((r.get("testName", "?"), outcome, first))
        elif outcome == "NotExecuted":
            skipped += 1

if failures:
    print()
    print(f"Failed tests ({len(failures)}):")
    for name, outcome, first in failures:
        suffix = f": {first}" if first else ""
        print(f"  [{outcome}] {name}{suffix}")
if passed == 0:
    print("no tests ran")
summary = f"{passed} passed, {failed} failed"
if skipped > 0:
    summary += f", {skipped} skipped"
print(summary, flush=True)
sys.exit(1 if failed > 0 or passed == 0 else 0)
PY
summary_rc=$?
set -e

if [ "$dotnet_rc" -ne 0 ] || [ "$summary_rc" -ne 0 ]; then
  exit 1
fi
exit 0

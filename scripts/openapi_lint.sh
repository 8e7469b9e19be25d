#!/bin/sh
# Lints the OpenAPI documents of docs/ with Redocly's CLI (the rules: docs/redocly.yaml).
# Never reaches the network: it uses `redocly` from PATH, else the CLI npx already holds (offline)
# (install it once with `npm install -g @redocly/cli`, or run `npx --yes @redocly/cli --version`).
# Exit 77 (ctest: skipped) when neither is there.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
if command -v redocly >/dev/null 2>&1; then
  set -- redocly
elif command -v npx >/dev/null 2>&1 &&
     npm_config_offline=true npx --yes @redocly/cli --version >/dev/null 2>&1; then
  set -- env npm_config_offline=true npx --yes @redocly/cli
else
  echo "openapi_lint: no Redocly CLI installed (npm install -g @redocly/cli); skipped"
  exit 77
fi
cd "$root" || exit 1
exec "$@" lint --config docs/redocly.yaml docs/smsr-openapi.yaml docs/smdp-openapi.yaml

#!/usr/bin/env bash
# Runs the console's unit tests and checks that the committed bundle (web/dist, embedded into
# trailsql) is what web/src builds: it installs the locked dependencies, builds (type check
# included), tests, and fails when web/dist differs.
# Run it after changing web/src, then commit web/dist.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
npm test
cd ..
if ! git diff --exit-code --stat -- web/dist || [ -n "$(git status --porcelain -- web/dist)" ]; then
	echo "web/dist differs from what web/src builds: run 'cd web && npm ci && npm run build' and commit web/dist" >&2
	git status --short -- web/dist >&2
	exit 1
fi
echo "web/dist is what web/src builds"

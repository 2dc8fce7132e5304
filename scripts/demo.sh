#!/usr/bin/env bash
# The main job on a fresh machine: install everything, start a local S3 server
# unless S3_ENDPOINT is set, and run the demo (encrypted multipart upload of a
# generated file, ranged reads, verification, timings). DEMO_MB sets the size.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pnpm >/dev/null 2>&1 || npm install -g pnpm@10 >/dev/null
pnpm install --frozen-lockfile --reporter=silent
pnpm run build >/dev/null
if [ -z "${S3_ENDPOINT:-}" ]; then
  bash scripts/s3-server.sh up
  eval "$(bash scripts/s3-server.sh env)"
fi
NODE_NO_WARNINGS=1 pnpm --silent --filter @encrypted-stream/s3 demo

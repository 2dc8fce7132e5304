#!/usr/bin/env bash
# Runs inside the LocalStack container once its services are ready.
set -euo pipefail
awslocal s3 mb s3://encrypted-stream-dev

#!/usr/bin/env bash
# Lints the AWS deployment files; fails on any cfn-lint error or warning:
#   1. deploy/template.yaml as written (cfn-lint checks SAM resources natively);
#   2. the same template after the SAM transform (aws-sam-translator), so cfn-lint
#      also sees the resources SAM generates: roles, permissions, the bucket's
#      notification. This is what catches a circular dependency between the bucket
#      and the coordinator, or a reference to a missing resource inside a policy;
#   3. the Dockerfile with hadolint.
# The tools live in target/tools-venv, which `scripts/install-deps.sh --test` installs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/tools-venv/bin
if [ ! -x "$bin/cfn-lint" ] || [ ! -x "$bin/hadolint" ] || ! "$bin/python" -c 'import samtranslator' 2>/dev/null; then
  echo "lint-deploy: the linters are missing from target/tools-venv; run scripts/install-deps.sh --test" >&2
  exit 1
fi

"$bin/cfn-lint" deploy/template.yaml

out=target/deploy-lint
mkdir -p "$out"
AWS_DEFAULT_REGION=us-east-1 "$bin/python" - deploy/template.yaml "$out/template.json" <<'PY'
import json
import sys

from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no AWS managed policy by name: nothing to look up."""

    def load(self):
        return {}

    def get_managed_policy_map(self):
        return {}


src, dst = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    template = yaml_parse(f.read())
# Sample values for the parameters that have no default.
params = {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/slicecast:lint"}
try:
    out = transform(template, params, NoManagedPolicies())
except InvalidDocumentException as e:
    for cause in e.causes:
        print(f"{src}: SAM transform: {cause.message}", file=sys.stderr)
    sys.exit(1)
with open(dst, "w", encoding="utf-8") as f:
    json.dump(out, f, indent=1)
PY
"$bin/cfn-lint" "$out/template.json"

"$bin/hadolint" --no-color Dockerfile
echo "lint-deploy: deploy/template.yaml (as written and transformed) and Dockerfile are clean"

#!/usr/bin/env bash
# Lints the AWS deployment files; fails on any cfn-lint error or warning:
#   1. deploy/template.yaml as written (cfn-lint checks SAM resources natively);
#   2. the same template after the SAM transform (aws-sam-translator), so cfn-lint
#      also sees the resources SAM generates: roles, permissions, the bucket's
#      notification. This is what catches a circular dependency between the bucket
#      and the coordinator, or a reference to a missing resource inside a policy;
#   3. the security rules cfn-lint does not know (the Python below): no default
#      for the auth and CORS parameters, no API_KEY in any environment, and each
#      function's S3 access scoped to the prefixes it uses (the segment worker:
#      write-only, no list, no delete; only the api and the coordinator delete);
#   4. the Dockerfile with hadolint.
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
params = {
    "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/slicecast:lint",
    "AllowedOrigin": "https://videos.example.com",
    "ApiKeyParameterName": "/slicecast/api-key",
}
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

"$bin/python" - deploy/template.yaml "$out/template.json" <<'PY'
"""Security rules of the deployment, on the template and on its SAM transform."""
import json
import re
import sys

from samtranslator.yaml_helper import yaml_parse

src, transformed = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    template = yaml_parse(f.read())
with open(transformed, encoding="utf-8") as f:
    out = json.load(f)
problems = []

# 1. Auth and CORS parameters: required (no default) and pattern-checked.
params = template["Parameters"]
for name, p in params.items():
    if re.search(r"origin|key|auth|cors", name, re.I) and "Default" in p:
        problems.append(f"parameter {name} controls auth or CORS but has a default")
if "ApiKey" in params:
    problems.append("parameter ApiKey puts the key itself in the stack; name an SSM parameter")
origin = re.compile(params["AllowedOrigin"]["AllowedPattern"])
for bad in ["", "*", "http://example.com", "https://example.com/", "https://a.com,*",
            "https://*.example.com", "https://a.com, https://b.com"]:
    if origin.fullmatch(bad):
        problems.append(f"AllowedOrigin accepts {bad!r}")
for good in ["self", "https://videos.example.com",
             "https://a.example.com,https://b.example.com:8443"]:
    if not origin.fullmatch(good):
        problems.append(f"AllowedOrigin refuses {good!r}")

# 2. No API_KEY (the key itself) in any Environment block; a public URL needs the key.
def environments(t):
    yield "Globals", t.get("Globals", {}).get("Function", {}).get("Environment", {})
    for rid, r in t["Resources"].items():
        yield rid, r.get("Properties", {}).get("Environment", {})


for where, env in environments(template):
    if "API_KEY" in (env or {}).get("Variables", {}):
        problems.append(f"{where}: API_KEY in the environment (use API_KEY_PARAMETER)")
api = template["Resources"]["ApiFunction"]["Properties"]
key_param = api["Environment"]["Variables"].get("API_KEY_PARAMETER")
if api["FunctionUrlConfig"]["AuthType"] != "AWS_IAM" and key_param != {"Ref": "ApiKeyParameterName"}:
    problems.append("ApiFunction: a public Function URL without the required key parameter")


# 3. Each function's S3 access, read from the roles SAM generates.
def listed(v):
    return v if isinstance(v, list) else [v]


def statements(function):
    role = out["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    props = out["Resources"][role]["Properties"]
    for arn in props.get("ManagedPolicyArns", []):
        if "AWSLambdaBasicExecutionRole" not in json.dumps(arn):
            problems.append(f"{function}: managed policy {arn}")
    for policy in props.get("Policies", []):
        for st in listed(policy["PolicyDocument"]["Statement"]):
            if isinstance(st, dict) and "Fn::If" in st:
                st = st["Fn::If"][1]
            if isinstance(st, dict) and st.get("Effect") == "Allow":
                yield st


BUCKET = "arn:${AWS::Partition}:s3:::${AWS::StackName}-${AWS::AccountId}-${AWS::Region}"


def keys(st):
    """The object-key patterns a statement's resources name ('*': not scoped)."""
    for r in listed(st.get("Resource", [])):
        r = r.get("Fn::Sub", r) if isinstance(r, dict) else r
        if isinstance(r, str) and r.startswith(BUCKET + "/"):
            yield r[len(BUCKET) + 1:]
        elif r != BUCKET:
            yield "*"


def s3_access(function):
    """A function's S3 object actions ({action: key patterns}) and its ListBucket statements."""
    access, lists = {}, []
    for st in statements(function):
        for action in listed(st["Action"]):
            if action in ("*", "s3:*") or (action.startswith("s3:") and "*" in action):
                problems.append(f"{function}: wildcard action {action}")
            if action == "s3:ListBucket":
                lists.append(st)
            elif action.startswith("s3:"):
                access.setdefault(action, set()).update(keys(st))
    return access, lists


worker, worker_lists = s3_access("SegmentWorkerFunction")
if set(worker) != {"s3:PutObject"} or worker_lists:
    problems.append(f"SegmentWorkerFunction: S3 actions {sorted(worker)} (only s3:PutObject, no list)")
allowed = {"processed/*/video/*", "processed/*/audio/*", "processed/*/work/*"}
if worker.get("s3:PutObject", set()) - allowed:
    problems.append(f"SegmentWorkerFunction: writes {sorted(worker['s3:PutObject'] - allowed)}")

assembler, assembler_lists = s3_access("AssemblerFunction")
if any(a.startswith("s3:Delete") for a in assembler) or assembler_lists:
    problems.append("AssemblerFunction: may delete or list")
if any(not k.startswith("processed/") for ks in assembler.values() for k in ks):
    problems.append(f"AssemblerFunction: reaches outside processed/: {assembler}")

for function in ("CoordinatorFunction", "ApiFunction"):
    access, lists = s3_access(function)
    if any(k == "*" for ks in access.values() for k in ks):
        problems.append(f"{function}: S3 access to the whole bucket")
    for st in lists:
        prefixes = st.get("Condition", {}).get("StringLikeIfExists", {}).get("s3:prefix")
        if not prefixes or any(p in ("*", "") for p in listed(prefixes)):
            problems.append(f"{function}: ListBucket without a prefix condition")

for p in problems:
    print(f"{src}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY

"$bin/hadolint" --no-color Dockerfile
echo "lint-deploy: deploy/template.yaml (as written, transformed and its security rules) and Dockerfile are clean"

"""The IAM policy shipped in deploy/ against the calls the agent made.

Every fake_aws a test starts appends to $COLLECTOR_FAKE_OPS_LOG each signed
operation the agent (User-Agent collector/...) called of it, once. After a
full run, tests/run_tests.py compares that set with the task role's policy
in deploy/cloudformation.yaml, for the services the policy grants (logs,
cloudwatch): a call the policy does not allow fails in production with
AccessDenied; a permission nothing calls is more than least privilege.
(sts:AssumeRole, made only when role_arn is configured, is granted by the
assumed role's trust and the operator's own policy, not this one.)"""
import os

from tests.integration.test_deploy import DEPLOY, load_cfn

POLICY_SERVICES = ("logs", "cloudwatch")


def policy_actions():
    """The task role's allowed actions in deploy/cloudformation.yaml."""
    with open(os.path.join(DEPLOY, "cloudformation.yaml")) as f:
        cfn = load_cfn(f.read())
    actions = set()
    for policy in cfn["Resources"]["TaskRole"]["Properties"]["Policies"]:
        for st in policy["PolicyDocument"]["Statement"]:
            acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            actions.update(acts)
    return actions


def recorded_actions(path):
    with open(path) as f:
        return {line.strip() for line in f if line.strip()}


def compare(path):
    """(ok, text): the policy's logs/cloudwatch actions equal the agent's calls."""
    called = {a for a in recorded_actions(path) if a.split(":")[0] in POLICY_SERVICES}
    granted = {a for a in policy_actions() if a.split(":")[0] in POLICY_SERVICES}
    missing, unused = sorted(called - granted), sorted(granted - called)
    text = (f"IAM policy vs the agent's calls in this run: {len(called)} operations called "
            f"({', '.join(sorted(called))})")
    if missing:
        text += f"; called but not granted by deploy/cloudformation.yaml: {', '.join(missing)}"
    if unused:
        text += f"; granted but never called: {', '.join(unused)}"
    return not missing and not unused and bool(called), text

"""Embedded Metric Format validation for the fake CloudWatch Logs.

CloudWatch stores a malformed EMF event as a plain log event and extracts no
metric from it, silently; so the fake checks every EMF event against the
published specification (/work/shared/spec/cloudwatch.md section 4, from
CloudWatch_Embedded_Metric_Format_Specification) and records each problem,
and the test that caused one fails (fake_aws_ctl.FakeAWS.stop).

Pure functions, standard library only; written from the specification, not
from the agent's emitter.
"""

import json
import math
import time

# Figures from the specification, not from the agent.
NAMESPACE_MAX = 255
NAME_MAX = 255
DIMENSION_KEY_MAX = 255
METRICS_PER_DIRECTIVE_MAX = 100
DIMENSIONS_PER_SET_MAX = 30
VALUES_PER_METRIC_MAX = 100
STORAGE_RESOLUTIONS = (1, 60)
# PutMetricData's Timestamp window (spec section 2), which metric extraction keeps
METRIC_MAX_AGE_MS = 14 * 86400 * 1000
METRIC_MAX_AHEAD_MS = 2 * 3600 * 1000
UNITS = (
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
    "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
    "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
    "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
    "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None")


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def is_emf(message):
    """Does this event carry metrics to extract: a JSON object with an _aws
    member, or with a top-level CloudWatchMetrics (the Container Insights
    performance-log form, /work/shared/spec/cloudwatch.md section 5)? Other
    events, even under the json/emf header, are plain log events."""
    text = message.lstrip()
    if not text.startswith("{") or ('"_aws"' not in text and '"CloudWatchMetrics"' not in text):
        return False
    try:
        root = json.loads(text)
    except ValueError:
        return False
    return isinstance(root, dict) and ("_aws" in root or "CloudWatchMetrics" in root)


def check_string(value, maximum, where, problems):
    if not isinstance(value, str) or not 1 <= len(value) <= maximum:
        problems.append(f"{where} must be a string of 1 to {maximum} characters, got {value!r:.80}")
        return False
    return True


def check_directive(root, d, i, problems):
    where = f"_aws.CloudWatchMetrics[{i}]"
    if not isinstance(d, dict):
        problems.append(f"{where} is not an object")
        return
    check_string(d.get("Namespace"), NAMESPACE_MAX, where + ".Namespace", problems)
    dims = d.get("Dimensions")
    if not isinstance(dims, list) or not dims:
        problems.append(f"{where}.Dimensions must be a non-empty array of dimension sets")
    else:
        for j, dset in enumerate(dims):
            w = f"{where}.Dimensions[{j}]"
            if not isinstance(dset, list):
                problems.append(f"{w} is not an array")
                continue
            if len(dset) > DIMENSIONS_PER_SET_MAX:
                problems.append(f"{w} has {len(dset)} keys, more than {DIMENSIONS_PER_SET_MAX}")
            for key in dset:
                if not check_string(key, DIMENSION_KEY_MAX, w + " key", problems):
                    continue
                if key not in root:
                    problems.append(f"{w}: dimension {key!r} is not a member of the root")
                elif not isinstance(root[key], str):
                    problems.append(f"{w}: dimension {key!r} is not a string member")
    metrics = d.get("Metrics")
    if not isinstance(metrics, list):
        problems.append(f"{where}.Metrics must be an array")
        return
    if len(metrics) > METRICS_PER_DIRECTIVE_MAX:
        problems.append(f"{where}.Metrics has {len(metrics)} metrics, more than "
                        f"{METRICS_PER_DIRECTIVE_MAX}")
    for j, m in enumerate(metrics):
        w = f"{where}.Metrics[{j}]"
        if not isinstance(m, dict):
            problems.append(f"{w} is not an object")
            continue
        name = m.get("Name")
        if check_string(name, NAME_MAX, w + ".Name", problems):
            check_target(root, name, w, problems)
        if "Unit" in m and m["Unit"] not in UNITS:
            problems.append(f"{w}.Unit {m['Unit']!r} is not a CloudWatch unit")
        if "StorageResolution" in m and m["StorageResolution"] not in STORAGE_RESOLUTIONS:
            problems.append(f"{w}.StorageResolution must be 1 or 60")


def check_target(root, name, where, problems):
    if name not in root:
        problems.append(f"{where}: metric {name!r} is not a member of the root")
        return
    value = root[name]
    if isinstance(value, list):
        if not value or len(value) > VALUES_PER_METRIC_MAX or not all(map(is_number, value)):
            problems.append(f"{where}: metric {name!r} must be 1 to {VALUES_PER_METRIC_MAX} "
                            f"numbers, got {value!r:.80}")
    elif not is_number(value):
        problems.append(f"{where}: metric {name!r} is not a number: {value!r:.80}")


def emf_problems(message):
    """Every way one event breaks the EMF specification ([] when valid)."""
    try:
        root = json.loads(message)
    except ValueError as e:
        return [f"not one JSON object: {e}"]
    if not isinstance(root, dict):
        return ["not a JSON object"]
    problems = []
    if "_aws" not in root and "CloudWatchMetrics" in root:
        # Container Insights' form: the directives at the top level
        if not isinstance(root["CloudWatchMetrics"], list):
            return ["CloudWatchMetrics must be an array"]
        for i, d in enumerate(root["CloudWatchMetrics"]):
            check_directive(root, d, i, problems)
        return problems
    aws = root.get("_aws")
    if not isinstance(aws, dict):
        return ["no _aws object"]
    ts = aws.get("Timestamp")
    if not isinstance(ts, int) or isinstance(ts, bool) or ts < 0:
        problems.append(f"_aws.Timestamp must be epoch milliseconds (an integer), got {ts!r:.40}")
    else:
        # CloudWatch drops metrics more than two weeks old or two hours ahead
        # (silently, for EMF): seconds where milliseconds belong land in 1970
        now_ms = time.time() * 1000
        if ts < now_ms - METRIC_MAX_AGE_MS or ts > now_ms + METRIC_MAX_AHEAD_MS:
            problems.append(f"_aws.Timestamp {ts} is outside what CloudWatch accepts for "
                            "metrics (two weeks back, two hours ahead)")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        problems.append("_aws.CloudWatchMetrics must be an array")
        return problems
    for i, d in enumerate(directives):
        check_directive(root, d, i, problems)
    return problems

"""Seeds the AWS stand-ins with a backdated history and serves them on loopback for the ingest tests.

moto (FIS and S3) and MiniStack (CloudWatch over the Smithy RPC v2 CBOR protocol) run inside this
process, so the seeding can set what their APIs cannot: FIS experiments' past times and final
states, and alarm state changes at past times.

Usage: python aws_seed.py SCENARIO.json
Prints `seeded {"experiment": id, "key": scenario key}` per experiment, then
`ready <moto port> <ministack port>`, and serves until stdin closes. While serving, a line
`{"experiments": [...]}` on stdin adds experiments (printed as above, then `added`).

SCENARIO.json (times are unix seconds; points up to 455 days old are kept and answered at the
periods CloudWatch keeps for their age, see `answer_with_cloudwatch_retention`):
{
  "region": "eu-west-1",
  "templates": [{"key", "name", "tags", "actions", "targets", "stopConditions",
                 "logConfiguration", "experimentReportConfiguration"}],
  "experiments": [{"key", "template", "status", "reason", "start", "end",
                   "error": {"code", "location"},                  # FIS's state.error
                   "options": {"actionsMode": "skip-all"},         # experimentOptions
                   "actions": {"name": {"start", "end", "status"}},  # status: else the run's
                   "log_actions_to_s3": {"bucket", "prefix"}}],   # times go to S3, not to FIS
  "metrics": [{"namespace", "metric", "dimensions": {}, "points": [[ts, value], ...]}],
  "alarms": [{"name", "namespace", "metric", "dimensions", "statistic", "period", "threshold",
              "comparison"}],
  "alarm_history": [{"alarm", "ts", "to", "reason"}],
  "dashboards": [{"name", "body"}],
  "buckets": ["name"]
}
"""

import asyncio
import json
import os
import socket
import sys
import threading
import time
from datetime import datetime, timezone

os.environ.setdefault("SERVICES", "cloudwatch")
os.environ.setdefault("IOT_MTLS_ENABLED", "false")
os.environ.setdefault("LOG_LEVEL", "ERROR")

import logging  # noqa: E402

import boto3  # noqa: E402
from moto.fis.models import Experiment, fis_backends  # noqa: E402
from moto.moto_api import state_manager  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

ACCOUNT = "123456789012"


def _sync_state_keeping_seeded_times(self):
    # moto stamps every action with the experiment's end time when it reaches a final status;
    # a seeded history keeps the action times the scenario gives (or none, when S3 logs have them).
    status = self.status or "pending"
    for action in self.actions.values():
        if status in ("pending", "initiating"):
            continue
        own = action.get("seeded_status", status)
        action["state"] = {"status": own, "reason": self.STATUS_REASONS.get(own, own)}
    return status


Experiment._sync_state = _sync_state_keeping_seeded_times
_moto_to_dict = Experiment.to_dict


def _to_dict_with_seeded_error(self, tags=None):
    # moto's state has no `error`; FIS writes one (code, location) when a run fails.
    dct = _moto_to_dict(self, tags)
    error = getattr(self, "seeded_error", None)
    if error:
        dct["state"]["error"] = error
    for action in dct.get("actions", {}).values():
        action.pop("seeded_status", None)
    return dct


Experiment.to_dict = _to_dict_with_seeded_error


# CloudWatch's retention, by the age of a request's StartTime: points of a period under 60 s live
# 3 hours, of 60 s 15 days, of 300 s 63 days, of 3600 s 455 days. Asked for a period finer than it
# keeps at that age, GetMetricData answers with no points at all ("Complete", empty), which is what
# makes old history come back empty at 1 minute. MiniStack keeps raw points 14 days and answers any
# period; this keeps them 455 days and answers as CloudWatch does.
KEPT_PERIODS = [(3 * 3600, 1), (15 * 86400, 60), (63 * 86400, 300), (455 * 86400, 3600)]


def period_kept(age_s: float):
    for oldest, period in KEPT_PERIODS:
        if age_s <= oldest:
            return period
    return None


def answer_with_cloudwatch_retention() -> None:
    from ministack.services import cloudwatch as ministack_cloudwatch

    ministack_cloudwatch.TWO_WEEKS_SECONDS = KEPT_PERIODS[-1][0]
    get_metric_data = ministack_cloudwatch._get_metric_data

    def get_metric_data_as_kept(params, cbor_data, is_cbor, is_json=False):
        start = ministack_cloudwatch._parse_ts(cbor_data.get("StartTime"))
        kept = period_kept(time.time() - start) if start is not None else 1
        for query in cbor_data.get("MetricDataQueries", []):
            stat = query.get("MetricStat")
            if stat and (kept is None or int(stat.get("Period", 60)) % kept):
                # No longer kept at this period: a metric that has no points answers the same.
                stat["Metric"] = {"Namespace": "checkup-test/not-kept", "MetricName": "none"}
        return get_metric_data(params, cbor_data, is_cbor, is_json)

    ministack_cloudwatch._get_metric_data = get_metric_data_as_kept


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ministack(port: int) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config
    from ministack.app import app

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.loglevel = "ERROR"
    async def forever():
        # A shutdown trigger keeps hypercorn from installing signal handlers, which only the
        # main thread may do; the process ends when stdin closes.
        await asyncio.Event().wait()

    thread = threading.Thread(
        target=lambda: asyncio.run(serve(app, config, shutdown_trigger=forever)), daemon=True
    )
    thread.start()
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("ministack did not start")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_records(experiment_id: str, template_id: str, actions: dict) -> str:
    lines = []
    for name, times in actions.items():
        lines.append({
            "id": experiment_id, "log_type": "action-start", "event_timestamp": iso(times["start"]),
            "version": "2",
            "details": {"account_id": ACCOUNT, "experiment_template_id": template_id,
                        "action_name": name, "action_start_time": iso(times["start"])},
        })
        if times.get("end") is not None:
            lines.append({
                "id": experiment_id, "log_type": "action-end", "event_timestamp": iso(times["end"]),
                "version": "2",
                "details": {"account_id": ACCOUNT, "action_name": name,
                            "action_end_time": iso(times["end"]),
                            "action_state": {"status": "completed", "reason": "Action was completed."}},
            })
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def seed_experiments(experiments, fis, s3, backend, template_ids) -> None:
    """Starts each experiment of the scenario and sets its past times, status and actions."""
    for experiment in experiments:
        template_id = template_ids[experiment["template"]]
        options = {"experimentOptions": experiment["options"]} if experiment.get("options") else {}
        started = fis.start_experiment(
            experimentTemplateId=template_id, tags=experiment.get("tags", {}), **options
        )["experiment"]
        model = backend.experiments[started["id"]]
        model.creation_time = experiment["start"]
        model.start_time = experiment["start"]
        model.status = experiment["status"]
        if experiment.get("reason"):
            model.STATUS_REASONS = {**model.STATUS_REASONS, experiment["status"]: experiment["reason"]}
        model.end_time = experiment.get("end")
        if experiment.get("error"):
            model.seeded_error = experiment["error"]
        actions = experiment.get("actions", {})
        to_s3 = experiment.get("log_actions_to_s3")
        for name in model.actions:
            model.actions[name].pop("startTime", None)
            model.actions[name].pop("endTime", None)
        if to_s3:
            s3.put_object(
                Bucket=to_s3["bucket"],
                Key=f"{to_s3['prefix']}{started['id']}.log",
                Body=log_records(started["id"], template_id, actions).encode(),
            )
        else:
            for name, times in actions.items():
                if times.get("start") is not None:
                    model.actions[name]["startTime"] = times["start"]
                if times.get("end") is not None:
                    model.actions[name]["endTime"] = times["end"]
                if times.get("status"):
                    model.actions[name]["seeded_status"] = times["status"]
        seeded = {"experiment": started["id"], "key": experiment.get("key", "")}
        print(f"seeded {json.dumps(seeded)}", flush=True)


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    scenario = json.load(open(sys.argv[1]))
    region = scenario.get("region", "eu-west-1")
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    moto.start()
    _, moto_port = moto.get_host_and_port()
    ministack_port = free_port()
    answer_with_cloudwatch_retention()
    start_ministack(ministack_port)

    keys = dict(region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
    fis = boto3.client("fis", endpoint_url=f"http://127.0.0.1:{moto_port}", **keys)
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{moto_port}", **keys)
    cloudwatch = boto3.client("cloudwatch", endpoint_url=f"http://127.0.0.1:{ministack_port}", **keys)

    # Experiments must not move on by themselves: the scenario sets every status.
    state_manager.set_transition(
        model_name="fis::experiment", transition={"progression": "manual", "times": 10**9}
    )
    for bucket in scenario.get("buckets", []):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})

    template_ids = {}
    for template in scenario["templates"]:
        extra = {k: template[k] for k in ("logConfiguration", "experimentReportConfiguration")
                 if k in template}
        created = fis.create_experiment_template(
            clientToken=template["key"],
            description=template.get("description", template["name"]),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/fis",
            stopConditions=template.get("stopConditions", [{"source": "none"}]),
            targets=template.get("targets", {}),
            actions=template["actions"],
            tags={"Name": template["name"], **template.get("tags", {})},
            **extra,
        )
        template_ids[template["key"]] = created["experimentTemplate"]["id"]

    backend = fis_backends[ACCOUNT][region]
    seed_experiments(scenario["experiments"], fis, s3, backend, template_ids)

    for metric in scenario.get("metrics", []):
        dimensions = [{"Name": k, "Value": v} for k, v in metric.get("dimensions", {}).items()]
        data = [
            {"MetricName": metric["metric"], "Dimensions": dimensions,
             "Timestamp": datetime.fromtimestamp(ts, tz=timezone.utc), "Value": value}
            for ts, value in metric["points"]
        ]
        for i in range(0, len(data), 500):
            cloudwatch.put_metric_data(Namespace=metric["namespace"], MetricData=data[i:i + 500])

    for alarm in scenario.get("alarms", []):
        cloudwatch.put_metric_alarm(
            AlarmName=alarm["name"],
            Namespace=alarm["namespace"],
            MetricName=alarm["metric"],
            Dimensions=[{"Name": k, "Value": v} for k, v in alarm.get("dimensions", {}).items()],
            Statistic=alarm.get("statistic", "Sum"),
            Period=alarm.get("period", 60),
            EvaluationPeriods=1,
            Threshold=alarm["threshold"],
            ComparisonOperator=alarm["comparison"],
        )

    # Alarm state changes at past times: each is made through SetAlarmState, then its history
    # entry is moved to the scenario's time (the API stamps "now").
    from ministack.services import cloudwatch as ministack_cloudwatch

    seeded = set()
    for change in scenario.get("alarm_history", []):
        cloudwatch.set_alarm_state(
            AlarmName=change["alarm"], StateValue=change["to"],
            StateReason=change.get("reason", "seeded"),
        )
        for entries in ministack_cloudwatch._alarm_history._data.values():
            for entry in reversed(entries):
                if entry["AlarmName"] == change["alarm"] and id(entry) not in seeded:
                    entry["Timestamp"] = iso(change["ts"])
                    seeded.add(id(entry))
                    break

    for dashboard in scenario.get("dashboards", []):
        cloudwatch.put_dashboard(DashboardName=dashboard["name"], DashboardBody=dashboard["body"])

    print(f"ready {moto_port} {ministack_port}", flush=True)
    # While serving, each line on stdin may add experiments ({"experiments": [...]}, templates by
    # the scenario's keys), as an account gains new runs between two ingests.
    for line in sys.stdin:
        if line.strip():
            seed_experiments(json.loads(line)["experiments"], fis, s3, backend, template_ids)
            print("added", flush=True)
    moto.stop()


if __name__ == "__main__":
    main()

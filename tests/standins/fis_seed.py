"""Seeds moto's FIS with a backdated history and serves it on loopback for the ingest tests.

Usage: python fis_seed.py SCENARIO.json
Prints `ready <port>` on stdout once the server answers, then serves until stdin closes.

SCENARIO.json: {"region": "...", "templates": [{"key": "...", "name": "...", "tags": {...},
"actions": {...}, "targets": {...}, "stopConditions": [...]}], "experiments": [{"template": key,
"status": "completed|stopped|failed|running", "reason": "...", "start": unix_seconds,
"end": unix_seconds|null, "actions": {"name": {"start": s, "end": s}}}]}
"""

import json
import sys

import boto3
from moto.fis.models import Experiment, fis_backends
from moto.moto_api import state_manager
from moto.server import ThreadedMotoServer

ACCOUNT = "123456789012"


def _sync_state_keeping_seeded_times(self):
    # moto stamps every action with the experiment's end time when it reaches a final status;
    # a seeded history keeps the action times the scenario gives.
    status = self.status or "pending"
    for action in self.actions.values():
        if status in ("pending", "initiating"):
            continue
        action.setdefault("startTime", self.start_time)
        action["state"] = {"status": status, "reason": self.STATUS_REASONS.get(status, status)}
        if status in self.TERMINAL_STATUSES:
            action.setdefault("endTime", self.end_time)
    return status


Experiment._sync_state = _sync_state_keeping_seeded_times


def main() -> None:
    scenario = json.load(open(sys.argv[1]))
    region = scenario.get("region", "eu-west-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    # Experiments must not move on by themselves: the scenario sets every status.
    state_manager.set_transition(
        model_name="fis::experiment", transition={"progression": "manual", "times": 10**9}
    )
    client = boto3.client(
        "fis",
        region_name=region,
        endpoint_url=f"http://{host}:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    template_ids = {}
    for template in scenario["templates"]:
        created = client.create_experiment_template(
            clientToken=template["key"],
            description=template.get("description", template["name"]),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/fis",
            stopConditions=template.get("stopConditions", [{"source": "none"}]),
            targets=template.get("targets", {}),
            actions=template["actions"],
            tags={"Name": template["name"], **template.get("tags", {})},
        )
        template_ids[template["key"]] = created["experimentTemplate"]["id"]
    backend = fis_backends[ACCOUNT][region]
    for experiment in scenario["experiments"]:
        started = client.start_experiment(
            experimentTemplateId=template_ids[experiment["template"]],
            tags=experiment.get("tags", {}),
        )["experiment"]
        model = backend.experiments[started["id"]]
        model.creation_time = experiment["start"]
        model.start_time = experiment["start"]
        model.status = experiment["status"]
        model.end_time = experiment.get("end")
        for name, times in experiment.get("actions", {}).items():
            model.actions[name]["startTime"] = times["start"]
            if times.get("end") is not None:
                model.actions[name]["endTime"] = times["end"]
        print(json.dumps({"experiment": started["id"], "template": experiment["template"]}), flush=True)
    print(f"ready {port}", flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reads what Tandem wrote to an MLflow server with MLflow's own client (mlflow.MlflowClient), written
independently of Tandem, and prints one JSON document of findings.

usage: mlflow_client_check.py TRACKING_URI MODEL VERSION ALIAS [--move-alias-to N] [--add-version]
  - the registered model, the version's run_id, source and tandem.* tags;
  - the run's params, a metric's full history and the mlflow.source.git.* tags;
  - the run's artifacts (list_artifacts);
  - models:/MODEL/VERSION and models:/MODEL@ALIAS downloaded with mlflow.artifacts.download_artifacts, and the
    SHA-256 of each file they hold;
  - with --move-alias-to N: moves ALIAS to version N, as a user of MLflow's UI or client would;
  - with --add-version: registers a version of MODEL from the same source and run, without any tandem.* tag.
"""
import hashlib, json, os, sys, tempfile

import mlflow
from mlflow import MlflowClient


def digests(folder):
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


def main():
    uri, model, version, alias = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    rest = sys.argv[5:]
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    found = {}
    mv = client.get_model_version(model, version)
    found["registered_model"] = client.get_registered_model(model).name
    found["source"] = mv.source
    found["run_id"] = mv.run_id
    found["tags"] = dict(mv.tags)
    run = client.get_run(mv.run_id)
    found["params"] = dict(run.data.params)
    found["run_tags"] = {k: v for k, v in run.data.tags.items() if k.startswith("mlflow.source.git")}
    metric = next((k for k in sorted(run.data.metrics) if "loss" in k), next(iter(sorted(run.data.metrics)), None))
    found["metric"] = metric
    found["metric_history"] = len(client.get_metric_history(mv.run_id, metric)) if metric else 0
    found["run_artifacts"] = sorted(a.path for a in client.list_artifacts(mv.run_id)) + sorted(
        a.path for a in client.list_artifacts(mv.run_id, "model"))
    for key, target in (("by_version", f"models:/{model}/{version}"), ("by_alias", f"models:/{model}@{alias}")):
        with tempfile.TemporaryDirectory() as d:
            local = mlflow.artifacts.download_artifacts(artifact_uri=target, dst_path=d)
            found[key] = digests(local) if os.path.isdir(local) else {os.path.basename(local): digests(os.path.dirname(local))[os.path.basename(local)]}
    if "--move-alias-to" in rest:
        client.set_registered_model_alias(model, alias, rest[rest.index("--move-alias-to") + 1])
        found["moved"] = True
    if "--add-version" in rest:
        added = client.create_model_version(model, mv.source, run_id=mv.run_id)
        found["added_version"] = int(added.version)
    print(json.dumps(found, sort_keys=True))


if __name__ == "__main__":
    main()

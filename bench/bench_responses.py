"""Benchmark: the per-worker quality table on 300,000 worker responses (issue 11).

Usage (from the repository root)::

    .venv/bin/python -m bench.bench_responses --repeat 3          # 100,000 objects x 3 workers
    .venv/bin/python -m bench.bench_responses --repeat 3 --ingest # and the job folder's ingest
    .venv/bin/python -m bench.bench_responses --objects 10000 --box-share 0.5

Generates a job's responses the way the readers store them (``TeamData.responses``, one row per
answer, ``answer`` as canonical JSON), its consolidated labels (``TeamData.consolidated``) and a
gold set, builds a ``TeamData`` (``team_data_from_tables``, what ``load_team_data`` does after
reading Parquet) and times ``worker_quality`` (every number of ``export workers``' new columns,
the quality flag included) ``--repeat`` times, with the best and every time (wall and CPU), the
load average at the start and the process's peak memory. Writes ``bench/results/responses.json``.
CPU time (``time.process_time``) is reported beside wall time: on a shared machine it is the
better guide.

Two cases by default (issue 11 target: under 1 s each on the full size): every object image
classification, and half of them bounding boxes (a second job, ``--box-share 0.5``; give
``--box-share`` once or more to choose the cases). The synthetic box answers repeat (a few
distinct texts, each read once); real ones are all distinct: ``--distinct-boxes`` moves every box
by a fraction of a pixel so that each answer and label is read on its own.

``--ingest`` also writes the same responses as a job output folder, the way ``aws s3 sync`` of
``s3://<S3OutputPath>/<job>/`` leaves it (one worker-response file per response under
``annotations/worker-response/iteration-1/<object index>/``, and
``manifests/output/output.manifest``), and times ``ingest_paths`` (the public ingest function)
on it in a fresh process into an empty store: files per second of wall and of CPU time (issue 11
target: at least 10,000/s) and that process's peak memory. A tree whose ingest does not read job
output folders reports that instead of a figure.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.dataset import table_schema, team_data_from_tables
from analytics.ingest.run import ingest_paths
from analytics.metrics.quality import worker_quality
from analytics.store.store import Store
from bench.machine import describe_machine, peak_rss_mb, write_results

START_MS = 1_790_000_000_000  # 2026-09-21
CLASSES = ["cat", "dog", "bird", "fish"]


def _canonical(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def synthetic_tables(
    n_objects: int,
    workers_per_object: int,
    n_workers: int,
    seed: int,
    box_share: float = 0.0,
    distinct_boxes: bool = False,
) -> dict[str, pa.Table]:
    """Responses, consolidated labels and gold answers of a classification job and, for
    ``box_share`` of the objects, a bounding-box job (``distinct_boxes``: every box moved by a
    fraction of a pixel, so that no two answers or labels are the same text, as in real jobs)."""
    rng = np.random.default_rng(seed)
    n = n_objects * workers_per_object
    object_index = np.repeat(np.arange(n_objects), workers_per_object)
    first_box = n_objects - int(n_objects * box_share)
    is_boxes = object_index >= first_box
    job = np.where(is_boxes, "boxes-job", "classes-job")
    # Each object's workers are distinct: consecutive workers from a random start.
    first = rng.integers(0, n_workers, n_objects)
    worker = (
        np.repeat(first, workers_per_object) + np.tile(np.arange(workers_per_object), n_objects)
    ) % n_workers
    truth = rng.integers(0, len(CLASSES), n_objects)
    agrees = rng.random(n) < 0.85
    given = np.where(agrees, truth[object_index], rng.integers(0, len(CLASSES), n))
    # Whole pixels (ints in the JSON) unless distinct_boxes: the figures of before stay comparable.
    jitter = rng.uniform(-2, 2, n).tolist() if distinct_boxes else [0] * n
    label_jitter = rng.uniform(-1, 1, n_objects).tolist() if distinct_boxes else [0] * n_objects
    answers = []
    for position in range(n):
        name = CLASSES[given[position]]
        if is_boxes[position]:
            shift = (0 if agrees[position] else 30) + jitter[position]
            answers.append(
                _canonical(
                    {
                        "boundingBox": {
                            "boundingBoxes": [
                                {
                                    "height": 20,
                                    "label": name,
                                    "left": 10 + shift,
                                    "top": 10,
                                    "width": 20,
                                }
                            ],
                            "inputImageProperties": {"height": 100, "width": 100},
                        }
                    }
                )
            )
        else:
            answers.append(_canonical({"crowd-image-classifier": {"label": name}}))
    submitted = START_MS + np.sort(rng.integers(0, 30 * 86_400_000, n))
    wall_ms = rng.lognormal(np.log(40_000), 0.5, n).astype(np.int64)
    active = wall_ms / 1000 * rng.uniform(0.5, 1.0, n)
    subs = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(n_workers)]
    responses = pa.table(
        {
            "labeling_job_name": job,
            "iteration": np.ones(n, dtype=np.int32),
            "object_index": object_index.astype(np.int64),
            "worker_id": [f"private.us-east-1.{w:020x}" for w in worker],
            "sub": [subs[w] for w in worker],
            "identity_provider_type": ["Cognito"] * n,
            "issuer": ["https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool"] * n,
            "acceptance_time": pa.array((submitted - wall_ms).astype("datetime64[ms]")),
            "submission_time": pa.array(submitted.astype("datetime64[ms]")),
            "active_seconds": active,
            "answer": answers,
            "source": [
                f"{j}/annotations/worker-response/iteration-1/{o}/x.json"
                for j, o in zip(job, object_index, strict=True)
            ],
        }
    ).cast(table_schema("responses"))
    objects = np.arange(n_objects)
    object_is_boxes = objects >= first_box
    class_map = {str(i): name for i, name in enumerate(CLASSES)}
    labels, metadata, types = [], [], []
    for index in objects.tolist():
        class_id = int(truth[index])
        if object_is_boxes[index]:
            types.append("groundtruth/object-detection")
            labels.append(
                _canonical(
                    {
                        "annotations": [
                            {
                                "class_id": class_id,
                                "height": 20,
                                "left": 10 + label_jitter[index],
                                "top": 10,
                                "width": 20,
                            }
                        ],
                        "image_size": [{"depth": 3, "height": 100, "width": 100}],
                    }
                )
            )
            metadata.append(
                _canonical(
                    {
                        "class-map": class_map,
                        "objects": [{"confidence": 0.8}],
                        "type": "groundtruth/object-detection",
                    }
                )
            )
        else:
            types.append("groundtruth/image-classification")
            labels.append(_canonical(class_id))
            metadata.append(
                _canonical(
                    {
                        "class-name": CLASSES[class_id],
                        "confidence": 0.81,
                        "creation-date": f"2026-09-21T00:00:{index % 60:02d}.000000",
                        "type": "groundtruth/image-classification",
                    }
                )
            )
    consolidated = pa.table(
        {
            "labeling_job_name": np.where(object_is_boxes, "boxes-job", "classes-job"),
            "object_index": objects.astype(np.int64),
            "label_attribute": np.where(object_is_boxes, "boxes-job", "classes-job"),
            "task_type": types,
            "label": labels,
            "metadata": metadata,
            "source": ["output.manifest"] * n_objects,
        }
    ).cast(table_schema("consolidated"))
    gold_objects = objects[~object_is_boxes][:1000]
    gold = pa.table(
        {
            "labeling_job_name": ["classes-job"] * len(gold_objects),
            "object_index": gold_objects.astype(np.int64),
            "label": [CLASSES[int(truth[i])] for i in gold_objects],
            "loaded_at": pa.array(np.full(len(gold_objects), START_MS).astype("datetime64[ms]")),
        }
    ).cast(table_schema("gold"))
    return {"responses": responses, "consolidated": consolidated, "gold": gold}


def _iso(epoch_ms: int) -> str:
    seconds, ms = divmod(int(epoch_ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{ms:03d}Z"


def write_job_folders(tables: dict[str, pa.Table], root: Path) -> int:
    """The responses and consolidated labels as job output folders under ``root``; returns the
    number of worker-response files written."""
    responses = tables["responses"].to_pylist()
    for number, row in enumerate(responses):
        job = root / row["labeling_job_name"]
        folder = job / "annotations" / "worker-response" / "iteration-1" / str(row["object_index"])
        folder.mkdir(parents=True, exist_ok=True)
        answer = {
            "acceptanceTime": _iso(row["acceptance_time"].timestamp() * 1000),
            "answerContent": orjson.loads(row["answer"]),
            "submissionTime": _iso(row["submission_time"].timestamp() * 1000),
            "timeSpentInSeconds": row["active_seconds"],
            "workerId": row["worker_id"],
            "workerMetadata": {
                "identityData": {
                    "identityProviderType": row["identity_provider_type"],
                    "issuer": row["issuer"],
                    "sub": row["sub"],
                }
            },
        }
        name = f"{_iso(row['submission_time'].timestamp() * 1000)[:19]}-{number}.json"
        (folder / name).write_bytes(orjson.dumps({"answers": [answer]}))
    lines: dict[str, list[bytes]] = {}
    for row in tables["consolidated"].to_pylist():
        job = row["labeling_job_name"]
        lines.setdefault(job, []).append(
            orjson.dumps(
                {
                    "source-ref": f"s3://bucket/{row['object_index']}.jpg",
                    job: orjson.loads(row["label"]),
                    f"{job}-metadata": orjson.loads(row["metadata"]),
                }
            )
        )
    for job, rows in lines.items():
        manifest = root / job / "manifests" / "output" / "output.manifest"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_bytes(b"\n".join(rows) + b"\n")
    return len(responses)


def _timed_ingest(folders: list[str], store_root: str) -> dict[str, Any]:
    """Ingest ``folders`` into a new store (in a fresh process): seconds, responses, peak MB."""
    store = Store(Path(store_root))
    load_at_start = os.getloadavg()
    wall, cpu = time.perf_counter(), time.process_time()
    report = ingest_paths(store, [Path(f) for f in folders])
    return {
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "load_average_at_start": load_at_start,
        "responses_new": getattr(report, "responses_new", None),
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_ingest(tables: dict[str, pa.Table]) -> dict[str, Any]:
    """Write the job folders, then time their ingest in a fresh process."""
    work = Path(tempfile.mkdtemp(prefix="bench-responses-"))
    try:
        started = time.perf_counter()
        files = write_job_folders(tables, work / "outputs")
        write_seconds = time.perf_counter() - started
        folders = [str(p) for p in sorted((work / "outputs").iterdir())]
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            result: dict[str, Any] = pool.apply(_timed_ingest, (folders, str(work / "store")))
        result["files"] = files
        result["write_seconds"] = write_seconds
        if not result["responses_new"]:
            result["note"] = "this tree's ingest does not read job output folders"
        else:
            result["files_per_second"] = files / result["seconds"]
            result["files_per_cpu_second"] = files / result["cpu_seconds"]
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def time_quality(tables: dict[str, pa.Table], repeat: int) -> dict[str, Any]:
    """``worker_quality`` on ``tables`` ``repeat`` times: every run's wall and CPU seconds."""
    load_at_start = os.getloadavg()
    started = time.perf_counter()
    data = team_data_from_tables(pa.table({}), tables=tables)
    load_seconds = time.perf_counter() - started
    runs = []
    table = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        table = worker_quality(data)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    assert table is not None
    return {
        "load_average_at_start": load_at_start,
        "responses": len(data.responses),
        "workers": len(table),
        "responses_scored": int(table["responses_scored"].sum()),
        "team_data_seconds": load_seconds,
        "worker_quality_runs": [{"wall_seconds": w, "cpu_seconds": c} for w, c in runs],
        "worker_quality_best_seconds": min(w for w, _ in runs),
        "worker_quality_best_cpu_seconds": min(c for _, c in runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--workers-per-object", type=int, default=3)
    parser.add_argument("--workers", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--box-share",
        type=float,
        action="append",
        help="share of the objects that are bounding boxes; repeat the option for several "
        "cases (default: 0 and 0.5)",
    )
    parser.add_argument(
        "--distinct-boxes",
        action="store_true",
        help="every box answer and consolidated box label a distinct text (as in real jobs)",
    )
    parser.add_argument(
        "--ingest",
        action="store_true",
        help="also time ingest_paths on a job output folder (of the first --box-share)",
    )
    args = parser.parse_args(argv)
    shares = args.box_share or [0.0, 0.5]
    cases = []
    ingest = None
    for number, share in enumerate(shares):
        started = time.perf_counter()
        tables = synthetic_tables(
            args.objects,
            args.workers_per_object,
            args.workers,
            args.seed,
            share,
            args.distinct_boxes,
        )
        generate_seconds = time.perf_counter() - started
        if args.ingest and number == 0:
            ingest = measure_ingest(tables)
        case = {
            "box_share": share,
            "distinct_boxes": args.distinct_boxes,
            "generate_seconds": generate_seconds,
        }
        case.update(time_quality(tables, args.repeat))
        cases.append(case)
        del tables
    results = {
        "machine": describe_machine(),
        "objects": args.objects,
        "cases": cases,
        "peak_rss_mb": peak_rss_mb(),
        "ingest": ingest,
    }
    path = write_results("responses", results)
    print(
        f"### Quality table on {cases[0]['responses']:,} responses ({args.objects:,} objects)\n\n"
        "| Bounding boxes | Load at start (1, 5, 15 min) | `worker_quality` best wall "
        "| best CPU | every run, wall (CPU) |\n| --- | --- | --- | --- | --- |"
    )
    distinct = ", every one distinct" if args.distinct_boxes else ""
    for case in cases:
        load = ", ".join(f"{value:.1f}" for value in case["load_average_at_start"])
        every = ", ".join(
            f"{run['wall_seconds']:.2f} ({run['cpu_seconds']:.2f})"
            for run in case["worker_quality_runs"]
        )
        print(
            f"| {case['box_share']:.0%}{distinct} | {load} "
            f"| {case['worker_quality_best_seconds']:.2f} s "
            f"| {case['worker_quality_best_cpu_seconds']:.2f} s | {every} |"
        )
    print(f"\nPeak memory {results['peak_rss_mb']:.0f} MB. Target: under 1 s.\n\nResults: {path}")
    if ingest is not None:
        if "note" in ingest:
            print(f"\nIngest of the job folder: {ingest['note']}.")
        else:
            load = ", ".join(f"{value:.1f}" for value in ingest["load_average_at_start"])
            print(
                f"\nIngest of the job folder ({ingest['files']:,} worker-response files, "
                f"{shares[0]:.0%} bounding boxes, written in {ingest['write_seconds']:.1f} s; "
                f"load at start {load}): {ingest['seconds']:.1f} s wall, "
                f"{ingest['cpu_seconds']:.1f} s CPU: {ingest['files_per_second']:,.0f} files/s "
                f"wall, {ingest['files_per_cpu_second']:,.0f} files/s of CPU; peak memory "
                f"{ingest['peak_rss_mb']:.0f} MB. Target: at least 10,000 files/s."
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

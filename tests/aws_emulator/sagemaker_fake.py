"""A small fake of the SageMaker JSON 1.1 protocol for work teams and labeling jobs.

moto does not implement these operations. The fake answers them as SageMaker does: the same
``X-Amz-Target`` (``SageMaker.<Operation>``), response members, ``NextToken`` pagination with
``MaxResults`` (default 10), timestamps as epoch seconds, and errors as
``{"__type": ..., "Message": ...}`` with status 400.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any

from analytics.sources._convert import as_utc

OPERATIONS = (
    "ListWorkteams",
    "DescribeWorkteam",
    "ListLabelingJobs",
    "DescribeLabelingJob",
    "ListLabelingJobsForWorkteam",
)
_TIME_KEYS = {"CreateDate", "LastUpdatedDate", "CreationTime", "LastModifiedTime"}
_SUMMARY_KEYS = (
    "LabelingJobName",
    "LabelingJobArn",
    "CreationTime",
    "LastModifiedTime",
    "LabelingJobStatus",
    "LabelCounters",
    "PreHumanTaskLambdaArn",
    "FailureReason",
    "LabelingJobOutput",
    "InputConfig",
)


class SageMakerError(Exception):
    """An error answered with status 400 and the SageMaker error shape."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _wire(value: Any, key: str | None = None) -> Any:
    """A value as it travels: times as epoch seconds, recursively."""
    if key in _TIME_KEYS and value is not None:
        moment = as_utc(value)
        return moment.timestamp() if moment else None
    if isinstance(value, Mapping):
        return {k: _wire(v, k) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def _page(items: list[Any], params: Mapping[str, Any], member: str) -> dict[str, Any]:
    max_results = int(params.get("MaxResults") or 10)
    if not 1 <= max_results <= 100:
        raise SageMakerError("ValidationException", "MaxResults must be between 1 and 100")
    token = params.get("NextToken")
    try:
        offset = int(token) if token else 0
    except ValueError as exc:
        raise SageMakerError("ValidationException", "Invalid pagination token") from exc
    body: dict[str, Any] = {member: items[offset : offset + max_results]}
    if offset + max_results < len(items):
        body["NextToken"] = str(offset + max_results)
    return body


class SageMakerFake:
    """Work teams and labeling jobs, seeded by tests with API-shaped dicts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.workteams: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.jobs_for_workteam: dict[str, list[dict[str, Any]]] = {}

    def reset(self) -> None:
        with self._lock:
            self.workteams.clear()
            self.jobs.clear()
            self.jobs_for_workteam.clear()

    # ------------------------------------------------------------------ seeding
    def add_workteam(self, workteam: Mapping[str, Any]) -> None:
        """Add a team (a DescribeWorkteam ``Workteam`` or a ListWorkteams entry)."""
        with self._lock:
            self.workteams[workteam["WorkteamName"]] = copy.deepcopy(dict(workteam))

    def add_labeling_job(self, description: Mapping[str, Any]) -> None:
        """Add a job as DescribeLabelingJob describes it."""
        clean = {k: v for k, v in description.items() if k != "ResponseMetadata"}
        with self._lock:
            self.jobs[description["LabelingJobName"]] = copy.deepcopy(clean)

    def set_jobs_for_workteam(self, workteam_arn: str, summaries: list[Mapping[str, Any]]) -> None:
        """Set what ListLabelingJobsForWorkteam answers for ``workteam_arn``."""
        with self._lock:
            self.jobs_for_workteam[workteam_arn] = [copy.deepcopy(dict(s)) for s in summaries]

    # ------------------------------------------------------------------ protocol
    def handle(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The response body of ``operation``; raises :class:`SageMakerError`."""
        with self._lock:
            body = getattr(self, f"_{operation}")(params)
        return _wire(body)

    def _ListWorkteams(self, params: Mapping[str, Any]) -> dict[str, Any]:
        teams = list(self.workteams.values())
        if params.get("NameContains"):
            teams = [t for t in teams if params["NameContains"] in t["WorkteamName"]]
        key = "CreateDate" if params.get("SortBy") == "CreateDate" else "WorkteamName"
        teams.sort(
            key=lambda t: str(as_utc(t.get(key))) if key == "CreateDate" else t[key],
            reverse=params.get("SortOrder") == "Descending",
        )
        return _page(teams, params, "Workteams")

    def _DescribeWorkteam(self, params: Mapping[str, Any]) -> dict[str, Any]:
        name = params.get("WorkteamName", "")
        if name not in self.workteams:
            raise SageMakerError("ResourceNotFound", f"Workteam {name} does not exist.")
        return {"Workteam": self.workteams[name]}

    def _ListLabelingJobs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        jobs = list(self.jobs.values())
        if params.get("StatusEquals"):
            jobs = [j for j in jobs if j.get("LabelingJobStatus") == params["StatusEquals"]]
        if params.get("NameContains"):
            jobs = [j for j in jobs if params["NameContains"] in j["LabelingJobName"]]
        for key, field, later in (
            ("CreationTimeAfter", "CreationTime", True),
            ("CreationTimeBefore", "CreationTime", False),
            ("LastModifiedTimeAfter", "LastModifiedTime", True),
            ("LastModifiedTimeBefore", "LastModifiedTime", False),
        ):
            if params.get(key) is not None:
                bound = dt.datetime.fromtimestamp(float(params[key]), tz=dt.UTC)
                jobs = [j for j in jobs if (as_utc(j[field]) > bound) == later]  # type: ignore[operator]
        sort_key = "LabelingJobName" if params.get("SortBy") == "Name" else "CreationTime"
        jobs.sort(
            key=lambda j: str(as_utc(j[sort_key])) if sort_key == "CreationTime" else j[sort_key],
            reverse=params.get("SortOrder") == "Descending",
        )
        summaries = []
        for job in jobs:
            summary = {k: job[k] for k in _SUMMARY_KEYS if k in job}
            task = job.get("HumanTaskConfig") or {}
            summary["WorkteamArn"] = task.get("WorkteamArn")
            consolidation = task.get("AnnotationConsolidationConfig") or {}
            if consolidation.get("AnnotationConsolidationLambdaArn"):
                summary["AnnotationConsolidationLambdaArn"] = consolidation[
                    "AnnotationConsolidationLambdaArn"
                ]
            summaries.append(summary)
        return _page(summaries, params, "LabelingJobSummaryList")

    def _DescribeLabelingJob(self, params: Mapping[str, Any]) -> dict[str, Any]:
        name = params.get("LabelingJobName", "")
        if name not in self.jobs:
            raise SageMakerError("ResourceNotFound", f"Could not find labeling job '{name}'.")
        return self.jobs[name]

    def _ListLabelingJobsForWorkteam(self, params: Mapping[str, Any]) -> dict[str, Any]:
        arn = params.get("WorkteamArn", "")
        if arn not in {t["WorkteamArn"] for t in self.workteams.values()}:
            raise SageMakerError("ResourceNotFound", f"Workteam {arn} does not exist.")
        summaries = list(self.jobs_for_workteam.get(arn, []))
        if params.get("JobReferenceCodeContains"):
            wanted = params["JobReferenceCodeContains"]
            summaries = [s for s in summaries if wanted in s.get("JobReferenceCode", "")]
        summaries.sort(
            key=lambda s: str(as_utc(s.get("CreationTime"))),
            reverse=params.get("SortOrder") == "Descending",
        )
        return _page(summaries, params, "LabelingJobSummaryList")

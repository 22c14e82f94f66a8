"""Work teams and labeling jobs from SageMaker.

ListWorkteams and DescribeWorkteam give each private team's member definitions (a Cognito user pool
and group, or OIDC groups). ListLabelingJobs and DescribeLabelingJob give each job's status, label
counters and task settings; ListLabelingJobsForWorkteam adds what the team side sees: the pending
human tasks and the ``job_reference_code`` that worker-activity events carry. A job whose input is
an SNS topic (``SnsDataSource``) is a streaming job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from analytics.aws import converting_errors
from analytics.sources._convert import as_int, as_utc, table_from_rows
from analytics.store import schema


def _workteam(response_or_workteam: Mapping[str, Any]) -> Mapping[str, Any]:
    # DescribeWorkteam wraps the team in "Workteam"; ListWorkteams entries are the team itself.
    inner = response_or_workteam.get("Workteam")
    return inner if isinstance(inner, Mapping) else response_or_workteam


# --------------------------------------------------------------------------- transforms
def workteams_from_descriptions(descriptions: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows of the workteams table: one per team and member definition.

    ``descriptions`` are DescribeWorkteam responses or ListWorkteams entries.
    """
    rows = []
    for description in descriptions:
        team = _workteam(description)
        base = {
            "workteam_name": team["WorkteamName"],
            "workteam_arn": team["WorkteamArn"],
            "workforce_arn": team.get("WorkforceArn"),
            "description": team.get("Description"),
            "created": as_utc(team.get("CreateDate")),
            "last_updated": as_utc(team.get("LastUpdatedDate")),
        }
        definitions = team.get("MemberDefinitions") or [{}]
        for definition in definitions:
            cognito = definition.get("CognitoMemberDefinition")
            oidc = definition.get("OidcMemberDefinition")
            if cognito:
                rows.append(
                    {
                        **base,
                        "member_kind": "cognito",
                        "user_pool_id": cognito.get("UserPool"),
                        "user_group": cognito.get("UserGroup"),
                    }
                )
            elif oidc:
                rows.append(
                    {**base, "member_kind": "oidc", "oidc_groups": ",".join(oidc.get("Groups", []))}
                )
            else:
                rows.append(base)
    return table_from_rows(rows, schema.WORKTEAMS)


def cognito_groups(workteams: pa.Table) -> list[tuple[str, str, str, str]]:
    """``(workteam_name, workteam_arn, user_pool_id, user_group)`` of every Cognito member group."""
    return sorted(
        {
            (row["workteam_name"], row["workteam_arn"], row["user_pool_id"], row["user_group"])
            for row in workteams.to_pylist()
            if row["member_kind"] == "cognito" and row["user_pool_id"] and row["user_group"]
        }
    )


def sns_topic_arn(job: Mapping[str, Any]) -> str | None:
    """The input SNS topic of a streaming job (DescribeLabelingJob or a job summary), else None."""
    data_source = (job.get("InputConfig") or {}).get("DataSource") or {}
    topic = (data_source.get("SnsDataSource") or {}).get("SnsTopicArn")
    return str(topic) if topic else None


def job_row(job: Mapping[str, Any]) -> dict[str, Any]:
    """A jobs-table row from a DescribeLabelingJob response (or a ListLabelingJobs summary)."""
    counters = job.get("LabelCounters") or {}
    task = job.get("HumanTaskConfig") or {}
    topic = sns_topic_arn(job)
    return {
        "labeling_job_name": job["LabelingJobName"],
        "labeling_job_arn": job.get("LabelingJobArn"),
        "status": job.get("LabelingJobStatus"),
        "workteam_arn": task.get("WorkteamArn") or job.get("WorkteamArn"),
        "task_title": task.get("TaskTitle"),
        "task_time_limit_seconds": as_int(task.get("TaskTimeLimitInSeconds")),
        "max_concurrent_task_count": as_int(task.get("MaxConcurrentTaskCount")),
        "workers_per_object": as_int(task.get("NumberOfHumanWorkersPerDataObject")),
        "is_streaming": topic is not None,
        "sns_topic_arn": topic,
        "total_labeled": as_int(counters.get("TotalLabeled")),
        "human_labeled": as_int(counters.get("HumanLabeled")),
        "machine_labeled": as_int(counters.get("MachineLabeled")),
        "failed_non_retryable": as_int(counters.get("FailedNonRetryableError")),
        "unlabeled": as_int(counters.get("Unlabeled")),
        "created": as_utc(job.get("CreationTime")),
        "last_modified": as_utc(job.get("LastModifiedTime")),
        "s3_output_path": (job.get("OutputConfig") or {}).get("S3OutputPath"),
    }


def merge_workteam_summaries(
    rows: Mapping[str, Mapping[str, Any]],
    summaries_by_team: Mapping[str, Iterable[Mapping[str, Any]]],
) -> dict[str, dict[str, Any]]:
    """Jobs rows by name, completed with ListLabelingJobsForWorkteam summaries.

    The team side adds ``pending_human``, ``job_reference_code`` and
    ``work_requester_account_id``; a job seen only there (another requester account) gets a row
    of its own.
    """
    merged = {name: dict(row) for name, row in rows.items()}
    for workteam_arn, summaries in summaries_by_team.items():
        for summary in summaries:
            name = summary.get("LabelingJobName")
            if not name:
                continue
            counters = summary.get("LabelCounters") or {}
            row = merged.setdefault(
                name,
                {
                    "labeling_job_name": name,
                    "workteam_arn": workteam_arn,
                    "created": as_utc(summary.get("CreationTime")),
                    "human_labeled": as_int(counters.get("HumanLabeled")),
                    "workers_per_object": as_int(summary.get("NumberOfHumanWorkersPerDataObject")),
                },
            )
            row["pending_human"] = as_int(counters.get("PendingHuman"))
            row["job_reference_code"] = summary.get("JobReferenceCode")
            row["work_requester_account_id"] = summary.get("WorkRequesterAccountId")
    return merged


def jobs_table(rows: Mapping[str, Mapping[str, Any]]) -> pa.Table:
    """The jobs table from rows by job name, sorted by name."""
    return table_from_rows([rows[name] for name in sorted(rows)], schema.JOBS)


def jobs_from_descriptions(
    descriptions: Iterable[Mapping[str, Any]],
    summaries_by_team: Mapping[str, Iterable[Mapping[str, Any]]],
) -> pa.Table:
    """The jobs table from DescribeLabelingJob responses and ListLabelingJobsForWorkteam entries."""
    rows = {row["labeling_job_name"]: row for row in map(job_row, descriptions)}
    return jobs_table(merge_workteam_summaries(rows, summaries_by_team))


# --------------------------------------------------------------------------- fetch
def list_workteams(client: Any) -> list[dict[str, Any]]:
    """Every work team entry of ListWorkteams."""
    with converting_errors(client, "the list of work teams"):
        pages = client.get_paginator("list_workteams").paginate()
        return [team for page in pages for team in page.get("Workteams", [])]


def describe_workteam(client: Any, workteam_name: str) -> dict[str, Any]:
    """The DescribeWorkteam response of ``workteam_name``."""
    with converting_errors(client, f"work team {workteam_name}"):
        response: dict[str, Any] = client.describe_workteam(WorkteamName=workteam_name)
    return response


def list_labeling_jobs(client: Any) -> list[dict[str, Any]]:
    """Every labeling job summary of ListLabelingJobs."""
    with converting_errors(client, "the list of labeling jobs"):
        pages = client.get_paginator("list_labeling_jobs").paginate()
        return [job for page in pages for job in page.get("LabelingJobSummaryList", [])]


def describe_labeling_job(client: Any, job_name: str) -> dict[str, Any]:
    """The DescribeLabelingJob response of ``job_name``."""
    with converting_errors(client, f"labeling job {job_name}"):
        response: dict[str, Any] = client.describe_labeling_job(LabelingJobName=job_name)
    return response


def list_labeling_jobs_for_workteam(client: Any, workteam_arn: str) -> list[dict[str, Any]]:
    """Every ListLabelingJobsForWorkteam summary of team ``workteam_arn``."""
    with converting_errors(client, f"the labeling jobs of work team {workteam_arn}"):
        pages = client.get_paginator("list_labeling_jobs_for_workteam").paginate(
            WorkteamArn=workteam_arn
        )
        return [job for page in pages for job in page.get("LabelingJobSummaryList", [])]

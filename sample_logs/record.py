"""The AWS API answers for the sample account, as recorded exchanges (request and response) that
replay through ``botocore.stub.Stubber``: Cognito, SageMaker, CloudWatch and SQS."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from generate import (
    ACCOUNT,
    BACKLOG_FROM,
    BUCKET,
    COGNITO_CLIENT_ID,
    JOBS,
    LAMBDA_ACCOUNT,
    OLDEST_MESSAGE_SENT,
    OUTCOME_TYPES,
    POOL_ID,
    QUEUE_RETENTION_DAYS,
    RECORDED_AT,
    REGION,
    ROLE_ARN,
    SQS_SNAPSHOT_HOURS,
    TEAMS,
    WINDOW_END,
    WINDOW_START,
    WORKFORCE_ARN,
    WORKFORCE_SUBDOMAIN,
    Backlog,
    Event,
    Job,
    Json,
    MetricTable,
    Team,
    Worker,
    aws_dt,
    from_ms,
    http_date,
    iso_z,
    new_uuid,
    window_days,
)

# --------------------------------------------------------------------------------------------
# Recorded AWS API exchanges
# --------------------------------------------------------------------------------------------


class Recorder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.files: dict[str, Json] = {}

    def record(
        self, path: str, operation: str, request: Json, response: Json, at: datetime
    ) -> None:
        request_id = new_uuid(self.rng)
        body = dict(response)
        body["ResponseMetadata"] = {
            "RequestId": request_id,
            "HTTPStatusCode": 200,
            "HTTPHeaders": {"x-amzn-requestid": request_id, "date": http_date(at)},
            "RetryAttempts": 0,
        }
        self.files[path] = {
            "operation": operation,
            "recorded_at": aws_dt(at),
            "request": request,
            "response": body,
        }

    def token(self, length: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        return "".join(self.rng.choice(alphabet) for _ in range(length)) + "=="


def cognito_user(worker: Worker) -> Json:
    assert worker.sub is not None
    return {
        "Username": worker.username,
        "Attributes": [
            {"Name": "sub", "Value": worker.sub},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "email", "Value": worker.email},
        ],
        "UserCreateDate": aws_dt(worker.created),
        "UserLastModifiedDate": aws_dt(worker.modified),
        "Enabled": True,
        "UserStatus": worker.user_status,
    }


def paged(items: list[Json], size: int) -> list[list[Json]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def record_cognito(rec: Recorder, workers: list[Worker]) -> None:
    listed = sorted((w for w in workers if w.listed), key=lambda w: w.username)
    pages = paged([cognito_user(w) for w in listed], 25)
    token: str | None = None
    for number, page in enumerate(pages, start=1):
        request: Json = {"UserPoolId": POOL_ID, "Limit": 25}
        if token:
            request["PaginationToken"] = token
        response: Json = {"Users": page}
        token = rec.token(180) if number < len(pages) else None
        if token:
            response["PaginationToken"] = token
        rec.record(
            f"aws/cognito-idp/list-users-page{number}.json",
            "cognito-idp:ListUsers",
            request,
            response,
            RECORDED_AT + timedelta(seconds=number),
        )
    for team in TEAMS.values():
        members = [cognito_user(w) for w in listed if team.group in w.groups]
        pages = paged(members, 25)
        token = None
        for number, page in enumerate(pages, start=1):
            request = {"UserPoolId": POOL_ID, "GroupName": team.group, "Limit": 25}
            if token:
                request["NextToken"] = token
            response = {"Users": page}
            token = rec.token(120) if number < len(pages) else None
            if token:
                response["NextToken"] = token
            rec.record(
                f"aws/cognito-idp/list-users-in-group-{team.group}-page{number}.json",
                "cognito-idp:ListUsersInGroup",
                request,
                response,
                RECORDED_AT + timedelta(seconds=5 + number),
            )


def workteam_obj(team: Team) -> Json:
    return {
        "WorkteamName": team.name,
        "MemberDefinitions": [
            {
                "CognitoMemberDefinition": {
                    "UserPool": POOL_ID,
                    "UserGroup": team.group,
                    "ClientId": COGNITO_CLIENT_ID,
                }
            }
        ],
        "WorkteamArn": team.arn,
        "WorkforceArn": WORKFORCE_ARN,
        "Description": team.description,
        "SubDomain": WORKFORCE_SUBDOMAIN,
        "CreateDate": aws_dt(team.created),
        "LastUpdatedDate": aws_dt(team.created + timedelta(days=9, minutes=17)),
        "NotificationConfiguration": {
            "NotificationTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:{team.topic}"
        },
    }


@dataclass
class JobState:
    job: Job
    submitted: int
    human_labeled: int
    unlabeled: int
    last_modified: datetime

    @property
    def total(self) -> int:
        return self.human_labeled + self.unlabeled


def job_states(events: list[Event], backlog: Backlog) -> dict[str, JobState]:
    states: dict[str, JobState] = {}
    recorded = int(RECORDED_AT.timestamp())
    for job in JOBS.values():
        mine = [ev for ev in events if ev.job is job]
        submitted = sum(1 for ev in mine if ev.event_type == "TasksSubmitted")
        last_event = from_ms(max(ev.outcome_ms for ev in mine))
        human = submitted // job.workers_per_object
        if job.streaming:
            unlabeled = backlog.outstanding(recorded)
            last_modified = last_event
        elif job.status == "Completed":
            unlabeled = 0
            last_modified = last_event + timedelta(minutes=41, seconds=7)
        else:
            unlabeled = job.total_objects - human
            last_modified = last_event
        if unlabeled < 0:
            raise RuntimeError(f"{job.name}: more labeled than objects")
        states[job.key] = JobState(job, submitted, human, unlabeled, last_modified)
    return states


def lambda_arn(kind: str, job: Job) -> str:
    return f"arn:aws:lambda:{REGION}:{LAMBDA_ACCOUNT}:function:{kind}-{job.task_type}"


def input_config(job: Job) -> Json:
    if job.streaming:
        source: Json = {
            "SnsDataSource": {"SnsTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:gt-{job.name}-input"}
        }
    else:
        source = {"S3DataSource": {"ManifestS3Uri": f"s3://{BUCKET}/input/{job.name}.manifest"}}
    return {
        "DataSource": source,
        "DataAttributes": {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]},
    }


def label_counters(state: JobState) -> Json:
    return {
        "TotalLabeled": state.human_labeled,
        "HumanLabeled": state.human_labeled,
        "MachineLabeled": 0,
        "FailedNonRetryableError": 0,
        "Unlabeled": state.unlabeled,
    }


def label_attribute(job: Job) -> str:
    return f"{job.name}-ref" if job.task_type == "SemanticSegmentation" else job.name


def describe_job(state: JobState) -> Json:
    job = state.job
    output_config: Json = {"S3OutputPath": f"s3://{BUCKET}/output/"}
    if job.streaming:
        output_config["SnsTopicArn"] = f"arn:aws:sns:{REGION}:{ACCOUNT}:gt-{job.name}-output"
    human: Json = {
        "WorkteamArn": TEAMS[job.team].arn,
        "UiConfig": {"UiTemplateS3Uri": f"s3://{BUCKET}/templates/{job.task_type}.liquid.html"},
        "PreHumanTaskLambdaArn": lambda_arn("PRE", job),
        "TaskKeywords": list(job.keywords),
        "TaskTitle": job.title,
        "TaskDescription": job.description,
        "NumberOfHumanWorkersPerDataObject": job.workers_per_object,
        "TaskTimeLimitInSeconds": job.time_limit,
        "TaskAvailabilityLifetimeInSeconds": 864000,
        "MaxConcurrentTaskCount": job.max_concurrent,
        "AnnotationConsolidationConfig": {
            "AnnotationConsolidationLambdaArn": lambda_arn("ACS", job)
        },
    }
    body: Json = {
        "LabelingJobStatus": job.status,
        "LabelCounters": label_counters(state),
        "CreationTime": aws_dt(job.created),
        "LastModifiedTime": aws_dt(state.last_modified),
        "JobReferenceCode": job.ref_code,
        "LabelingJobName": job.name,
        "LabelingJobArn": job.arn,
        "LabelAttributeName": label_attribute(job),
        "InputConfig": input_config(job),
        "OutputConfig": output_config,
        "RoleArn": ROLE_ARN,
        "LabelCategoryConfigS3Uri": f"s3://{BUCKET}/config/{job.name}-labels.json",
        "HumanTaskConfig": human,
        "Tags": [{"Key": "team", "Value": job.team}, {"Key": "project", "Value": "gt-sample"}],
    }
    if not job.streaming:
        body["StoppingConditions"] = {"MaxPercentageOfInputDatasetLabeled": 100}
    if job.status == "Completed":
        body["LabelingJobOutput"] = {
            "OutputDatasetS3Uri": f"s3://{BUCKET}/output/{job.name}/manifests/output/output.manifest"
        }
    return body


def record_sagemaker(rec: Recorder, states: dict[str, JobState]) -> None:
    at = RECORDED_AT + timedelta(seconds=20)
    rec.record(
        "aws/sagemaker/list-workteams.json",
        "sagemaker:ListWorkteams",
        {"SortBy": "Name", "SortOrder": "Ascending", "MaxResults": 10},
        {"Workteams": [workteam_obj(t) for t in sorted(TEAMS.values(), key=lambda t: t.name)]},
        at,
    )
    for team in TEAMS.values():
        rec.record(
            f"aws/sagemaker/describe-workteam-{team.name}.json",
            "sagemaker:DescribeWorkteam",
            {"WorkteamName": team.name},
            {"Workteam": workteam_obj(team)},
            at + timedelta(seconds=1),
        )
    summaries = []
    for state in sorted(states.values(), key=lambda s: s.job.created, reverse=True):
        job = state.job
        summary: Json = {
            "LabelingJobName": job.name,
            "LabelingJobArn": job.arn,
            "CreationTime": aws_dt(job.created),
            "LastModifiedTime": aws_dt(state.last_modified),
            "LabelingJobStatus": job.status,
            "LabelCounters": label_counters(state),
            "WorkteamArn": TEAMS[job.team].arn,
            "PreHumanTaskLambdaArn": lambda_arn("PRE", job),
            "AnnotationConsolidationLambdaArn": lambda_arn("ACS", job),
            "InputConfig": input_config(job),
        }
        if job.status == "Completed":
            summary["LabelingJobOutput"] = describe_job(state)["LabelingJobOutput"]
        summaries.append(summary)
    rec.record(
        "aws/sagemaker/list-labeling-jobs.json",
        "sagemaker:ListLabelingJobs",
        {"MaxResults": 20, "SortBy": "CreationTime", "SortOrder": "Descending"},
        {"LabelingJobSummaryList": summaries},
        at + timedelta(seconds=2),
    )
    for state in states.values():
        rec.record(
            f"aws/sagemaker/describe-labeling-job-{state.job.name}.json",
            "sagemaker:DescribeLabelingJob",
            {"LabelingJobName": state.job.name},
            describe_job(state),
            at + timedelta(seconds=3),
        )
    for team in TEAMS.values():
        mine = sorted(
            (s for s in states.values() if s.job.team == team.name),
            key=lambda s: s.job.created,
            reverse=True,
        )
        rec.record(
            f"aws/sagemaker/list-labeling-jobs-for-workteam-{team.name}.json",
            "sagemaker:ListLabelingJobsForWorkteam",
            {
                "WorkteamArn": team.arn,
                "MaxResults": 100,
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
            },
            {
                "LabelingJobSummaryList": [
                    {
                        "LabelingJobName": s.job.name,
                        "JobReferenceCode": s.job.ref_code,
                        "WorkRequesterAccountId": ACCOUNT,
                        "CreationTime": aws_dt(s.job.created),
                        "LabelCounters": {
                            "HumanLabeled": s.human_labeled,
                            "PendingHuman": s.unlabeled,
                            "Total": s.total,
                        },
                        "NumberOfHumanWorkersPerDataObject": s.job.workers_per_object,
                    }
                    for s in mine
                ]
            },
            at + timedelta(seconds=4),
        )


WORKTEAM_METRICS = (
    "TasksSubmitted",
    "TasksReturned",
    "TasksDeclined",
    "TasksAccepted",
    "TimeSpent",
    "ActiveWorkers",
)


def metric_dims(job: Job) -> list[Json]:
    return [{"Name": "Workteam", "Value": job.team}, {"Name": "LabelingJob", "Value": job.name}]


def record_cloudwatch(
    rec: Recorder, events: list[Event], table: MetricTable, undercounts: list[Json]
) -> None:
    at = RECORDED_AT + timedelta(seconds=40)
    metrics: list[Json] = []
    for job in JOBS.values():
        for metric in WORKTEAM_METRICS:
            if any(k[0] == job.key and k[1] == metric for k in table.counts):
                metrics.append(
                    {
                        "Namespace": "AWS/SageMaker/Workteam",
                        "MetricName": metric,
                        "Dimensions": metric_dims(job),
                    }
                )
    per_worker: set[tuple[str, str, str]] = set()
    for event in events:
        if event.worker.sub is None:
            continue
        per_worker.add((event.worker.sub, event.job.name, "TasksAccepted"))
        if event.event_type in OUTCOME_TYPES:
            per_worker.add((event.worker.sub, event.job.name, event.event_type))
        if event.event_type == "TasksSubmitted":
            per_worker.add((event.worker.sub, event.job.name, "TimeSpent"))
    for sub, job_name, metric in sorted(per_worker, key=lambda x: (x[1], x[0], x[2])):
        metrics.append(
            {
                "Namespace": "AWS/SageMaker/Workteam",
                "MetricName": metric,
                "Dimensions": [
                    {"Name": "CognitoUserPool", "Value": POOL_ID},
                    {"Name": "LabelingJob", "Value": job_name},
                    {"Name": "WorkerId", "Value": sub},
                ],
            }
        )
    rec.record(
        "aws/cloudwatch/list-metrics-sagemaker-workteam.json",
        "cloudwatch:ListMetrics",
        {"Namespace": "AWS/SageMaker/Workteam"},
        {"Metrics": metrics},
        at,
    )

    lost = {(u["labeling_job"], u["metric"], u["date"]): u for u in undercounts}
    queries: list[Json] = []
    results: list[Json] = []
    for job in JOBS.values():
        for metric in WORKTEAM_METRICS:
            for stat in ("Sum", "SampleCount"):
                query_id = f"{job.key}_{metric.lower()}_{stat.lower()}"
                label = f"{job.name} {metric} {stat}"
                queries.append(
                    {
                        "Id": query_id,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/SageMaker/Workteam",
                                "MetricName": metric,
                                "Dimensions": metric_dims(job),
                            },
                            "Period": 86400,
                            "Stat": stat,
                        },
                        "Label": label,
                        "ReturnData": True,
                    }
                )
                stamps: list[str] = []
                values: list[float] = []
                for day in window_days():
                    key = (job.key, metric, day)
                    if key not in table.counts:
                        continue
                    value = table.counts[key] if stat == "Sum" else table.samples[key]
                    miss = lost.get((job.name, metric, day.isoformat()))
                    if miss:
                        value = miss["metric_sum"] if stat == "Sum" else miss["metric_sample_count"]
                    if value <= 0:
                        continue
                    stamps.append(aws_dt(datetime(day.year, day.month, day.day, tzinfo=UTC)))
                    values.append(float(value))
                results.append(
                    {
                        "Id": query_id,
                        "Label": label,
                        "Timestamps": stamps,
                        "Values": values,
                        "StatusCode": "Complete",
                    }
                )
    rec.record(
        "aws/cloudwatch/get-metric-data-workteam-daily.json",
        "cloudwatch:GetMetricData",
        {
            "MetricDataQueries": queries,
            "StartTime": aws_dt(WINDOW_START),
            "EndTime": aws_dt(WINDOW_END),
            "ScanBy": "TimestampAscending",
        },
        {"MetricDataResults": results, "Messages": []},
        at + timedelta(seconds=2),
    )


def record_sqs(rec: Recorder, backlog: Backlog) -> Json:
    job = next(j for j in JOBS.values() if j.streaming)
    queue_url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{job.queue_name}"
    rec.record(
        "aws/sqs/get-queue-url.json",
        "sqs:GetQueueUrl",
        {"QueueName": job.queue_name},
        {"QueueUrl": queue_url},
        BACKLOG_FROM + timedelta(hours=SQS_SNAPSHOT_HOURS[0], seconds=-1),
    )
    snapshots: list[Json] = []
    for day_index in range(7):
        for hour in SQS_SNAPSHOT_HOURS:
            at = BACKLOG_FROM + timedelta(days=day_index, hours=hour)
            t = int(at.timestamp())
            visible, hidden = backlog.visible(t), backlog.not_visible(t)
            snapshots.append(
                {
                    "time": iso_z(at),
                    "ApproximateNumberOfMessages": visible,
                    "ApproximateNumberOfMessagesNotVisible": hidden,
                    "oldest_message_age_seconds": t - int(OLDEST_MESSAGE_SENT.timestamp()),
                }
            )
            rec.record(
                f"aws/sqs/get-queue-attributes-{at:%Y-%m-%dT%H%M}Z.json",
                "sqs:GetQueueAttributes",
                {
                    "QueueUrl": queue_url,
                    "AttributeNames": [
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                    ],
                },
                {
                    "Attributes": {
                        "ApproximateNumberOfMessages": str(visible),
                        "ApproximateNumberOfMessagesNotVisible": str(hidden),
                    }
                },
                at,
            )
    oldest = int(OLDEST_MESSAGE_SENT.timestamp())
    origin = int(BACKLOG_FROM.timestamp())
    age_stamps, age_values, vis_values = [], [], []
    for hour in range(7 * 24):
        start = origin + hour * 3600
        age_stamps.append(aws_dt(datetime.fromtimestamp(start, tz=UTC)))
        age_values.append(float(start + 3540 - oldest))
        vis_values.append(float(max(backlog.visible(start + 60 * m) for m in range(60))))
    dims = [{"Name": "QueueName", "Value": job.queue_name}]
    visible_metric = "ApproximateNumberOfMessagesVisible"
    queries = [
        {
            "Id": "age",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateAgeOfOldestMessage",
                    "Dimensions": dims,
                },
                "Period": 3600,
                "Stat": "Maximum",
            },
            "Label": "ApproximateAgeOfOldestMessage",
            "ReturnData": True,
        },
        {
            "Id": "visible",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SQS",
                    "MetricName": visible_metric,
                    "Dimensions": dims,
                },
                "Period": 3600,
                "Stat": "Maximum",
            },
            "Label": "ApproximateNumberOfMessagesVisible",
            "ReturnData": True,
        },
    ]
    rec.record(
        "aws/cloudwatch/get-metric-data-sqs-backlog.json",
        "cloudwatch:GetMetricData",
        {
            "MetricDataQueries": queries,
            "StartTime": aws_dt(BACKLOG_FROM),
            "EndTime": aws_dt(BACKLOG_FROM + timedelta(days=7)),
            "ScanBy": "TimestampAscending",
        },
        {
            "MetricDataResults": [
                {
                    "Id": "age",
                    "Label": "ApproximateAgeOfOldestMessage",
                    "Timestamps": age_stamps,
                    "Values": age_values,
                    "StatusCode": "Complete",
                },
                {
                    "Id": "visible",
                    "Label": "ApproximateNumberOfMessagesVisible",
                    "Timestamps": list(age_stamps),
                    "Values": vis_values,
                    "StatusCode": "Complete",
                },
            ],
            "Messages": [],
        },
        RECORDED_AT + timedelta(seconds=50),
    )
    first, last = snapshots[0], snapshots[-1]
    end_age = int((BACKLOG_FROM + timedelta(days=7)).timestamp()) - oldest
    return {
        "labeling_job": job.name,
        "queue_name": job.queue_name,
        "queue_url": queue_url,
        "snapshot_times_utc": [f"{h:02d}:00" for h in SQS_SNAPSHOT_HOURS],
        "snapshots": snapshots,
        "first_snapshot": first,
        "last_snapshot": last,
        "visible_growth": last["ApproximateNumberOfMessages"]
        - first["ApproximateNumberOfMessages"],
        "inflow_messages_per_day_avg": round(sum(backlog.inflow[: 7 * 24]) / 7, 1),
        "oldest_message_sent": iso_z(OLDEST_MESSAGE_SENT),
        "oldest_message_age_seconds_at_window_end": end_age,
        "oldest_message_age_days_at_window_end": round(end_age / 86400, 2),
        "message_expiry_days": QUEUE_RETENTION_DAYS,
        "days_until_oldest_expires": round(QUEUE_RETENTION_DAYS - end_age / 86400, 2),
        "at_risk": True,
    }

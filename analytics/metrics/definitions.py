"""One definition per metric and column, written once: help text, CSV companions, docs/metrics.md.

``docs/metrics.md`` is generated from ``DEFINITIONS`` (``python -m analytics.metrics.definitions``);
a test fails when it is out of date. The dashboard shows ``help_for(column)`` next to every
number, and ``gt-throughput export`` writes ``definitions_frame(columns)`` next to every CSV.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analytics.store.schema import OUTCOME_EVENT_TYPES

#: Where ``main`` writes by default: ``docs/metrics.md`` of the checkout this file is in.
METRICS_DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


@dataclass(frozen=True)
class Definition:
    """What a column means.

    Attributes
    ----------
    name
        The column name (stable: part of the CSV contract).
    label
        A short human label for tables and charts.
    unit
        ``seconds``, ``hours``, ``tasks``, ``ratio`` (0..1), ``UTC time``, ``text``, ...
    text
        The definition, precise enough to recompute the number by hand.
    """

    name: str
    label: str
    unit: str
    text: str


_OUTCOME = (
    f"An outcome is an event of type {', '.join(OUTCOME_EVENT_TYPES[:-1])} or "
    f"{OUTCOME_EVENT_TYPES[-1]} in the window; each distinct event counts once. In the timesheet "
    "an outcome counts on the local day of its outcome time."
)
_WALL = "Wall clock, pauses included (the log has no pause information)."
_SCORED = (
    "A response is scored only when its object was answered by at least two distinct workers "
    "(with one, the consolidated label is that worker's own)."
)
_ACTIVE = (
    "Active time is the worker response's timeSpentInSeconds: the time the worker actively "
    "worked, pauses excluded (Ground Truth's job output, not the activity log)."
)

_ENTRIES: tuple[Definition, ...] = (
    # ------------------------------------------------------------------ identity
    Definition(
        "worker_key",
        "Worker",
        "text",
        "The worker's identity: the event's cognito_sub_id when non-empty, else its worker_id "
        "(OIDC workforces and events without a Cognito identity).",
    ),
    Definition(
        "worker_id",
        "Worker ID",
        "text",
        "The 16-hex Ground Truth worker ID from the log (one per workforce).",
    ),
    Definition(
        "username",
        "Username",
        "text",
        "The Cognito username of the sub (users table, else team membership); empty when "
        "identities were not synced or the user no longer exists.",
    ),
    Definition("email", "Email", "text", "The Cognito email attribute of the sub, when known."),
    Definition(
        "workteams",
        "Work teams",
        "text",
        "Work teams the worker had an outcome on in the window, plus the teams they are a "
        "Cognito member of (when synced), comma-separated.",
    ),
    Definition(
        "jobs",
        "Labeling jobs",
        "text",
        "In the worker table: labeling jobs the worker had an outcome on in the window, "
        "comma-separated. In the team table: the number of such jobs.",
    ),
    Definition("workteam_name", "Work team", "text", "The work team name (end of its ARN)."),
    Definition(
        "labeling_job_name", "Labeling job", "text", "The labeling job name (end of its ARN)."
    ),
    # ------------------------------------------------------------------ counts
    Definition(
        "tasks_submitted",
        "Tasks submitted",
        "tasks",
        f"Outcomes of type TasksSubmitted. {_OUTCOME}",
    ),
    Definition(
        "tasks_returned",
        "Tasks returned",
        "tasks",
        f"Outcomes of type TasksReturned (the worker gave the task back). {_OUTCOME}",
    ),
    Definition(
        "tasks_declined",
        "Tasks declined",
        "tasks",
        f"Outcomes of type TasksDeclined. {_OUTCOME}",
    ),
    Definition(
        "return_rate",
        "Return rate",
        "ratio",
        "tasks_returned / (tasks_submitted + tasks_returned); empty when both are 0. Declined "
        "tasks do not count.",
    ),
    # ------------------------------------------------------------------ times
    Definition(
        "task_seconds",
        "Task seconds",
        "seconds",
        "Of one submitted task: task_submitted_time - task_accepted_time, when both are known and "
        f"the difference is not negative (a negative one is clock skew, see data health). {_WALL}",
    ),
    Definition(
        "mean_task_seconds",
        "Mean task seconds",
        "seconds",
        "Mean of task_seconds over the submitted tasks that have task seconds. " + _WALL,
    ),
    Definition(
        "median_task_seconds",
        "Median task seconds",
        "seconds",
        "Median of task_seconds (linear interpolation between the two middle values). " + _WALL,
    ),
    Definition(
        "p90_task_seconds",
        "90th percentile task seconds",
        "seconds",
        "90th percentile of task_seconds, linear interpolation between sorted values "
        "(position 0.9 * (n - 1)). " + _WALL,
    ),
    Definition(
        "time_spent_metric_seconds",
        "Active seconds per task (TimeSpent metric)",
        "seconds",
        "Sum(TimeSpent) / SampleCount(TimeSpent) of the AWS/SageMaker/Workteam metric over the "
        "window: active time on a completed task, pauses excluded (so usually below the log's "
        "task seconds). Empty when metrics were not synced or lack this dimension.",
    ),
    Definition(
        "seconds_before_return",
        "Seconds before return",
        "seconds",
        "Of one returned task: task_returned_time - task_accepted_time when both are known and "
        "not negative. " + _WALL,
    ),
    Definition(
        "mean_seconds_before_return",
        "Mean seconds before return",
        "seconds",
        "Mean of seconds_before_return over returned tasks that have it. " + _WALL,
    ),
    Definition(
        "median_seconds_before_return",
        "Median seconds before return",
        "seconds",
        "Median of seconds_before_return over returned tasks that have it. " + _WALL,
    ),
    Definition(
        "active_hours",
        "Active hours",
        "hours",
        "Length of the union of the worker's task intervals (task_accepted_time to the outcome "
        "time of every outcome), overlapping tasks merged so that no time counts twice. A task "
        "without a usable accepted time adds nothing. " + _WALL + " In the timesheet: the part "
        "of that union inside the local day (intervals cut at local midnight), so a worker's days "
        "sum to their active_hours in the worker table for the same window.",
    ),
    Definition(
        "tasks_per_active_hour",
        "Tasks per active hour",
        "tasks/hour",
        "tasks_submitted / active_hours; empty when active_hours is 0. In the staffing plan: "
        "tasks_submitted_recently / active_hours_recently on the job, the recent rate of one "
        "worker.",
    ),
    Definition(
        "session_count",
        "Sessions",
        "sessions",
        "Working sessions: runs of the worker's tasks in which the gap from the end of the "
        "tasks so far to the next task's acceptance is at most the session gap (default 30 "
        "minutes). A task without accepted time is an instant at its outcome.",
    ),
    Definition(
        "session_hours",
        "Session hours",
        "hours",
        "Sum over sessions of (last outcome - first acceptance) = active_hours + idle time. In "
        "the timesheet: the part of the worker's sessions inside the local day; sessions are "
        "found over the whole window, then cut at local midnight, so a session running past "
        "midnight counts on both days and the days sum to the worker table's session_hours.",
    ),
    Definition(
        "idle_minutes",
        "Idle minutes between tasks",
        "minutes",
        "Time inside sessions covered by no task: the gaps (each at most the session gap) between "
        "one task's outcome and the next acceptance. Idle time inside a task (pauses) is not "
        "visible in the log.",
    ),
    Definition(
        "first_activity",
        "First activity",
        "UTC time",
        "Earliest outcome time of the worker (or group) in the window; in the timesheet, on "
        "that local day (empty on a day whose only work is a task finished after midnight).",
    ),
    Definition(
        "last_activity",
        "Last activity",
        "UTC time",
        "Latest outcome time of the worker (or group) in the window; in the timesheet, on that "
        "local day.",
    ),
    Definition(
        "hours_since_last_activity",
        "Hours since last activity",
        "hours",
        "Window end (as_of) - last_activity. The window end is --until when given, else the "
        "later of the latest event and the last successful log sync.",
    ),
    Definition(
        "active_days",
        "Active days",
        "days",
        "Distinct UTC calendar days with at least one outcome of the worker.",
    ),
    # ------------------------------------------------------------------ flags
    Definition(
        "slow_flag",
        "Slow",
        "true/false",
        "True when, on any labeling job, the modified z-score 0.6745 * (x - median) / MAD of the "
        "worker's median seconds x is above 3.5. Where the worker has at least 10 worker "
        "responses with active seconds on the job, x is their median active seconds (pauses "
        "excluded: a pause is not slowness); elsewhere x is the median task seconds (wall clock) "
        "of at least 10 submitted tasks. median and MAD (median absolute deviation) are taken over "
        "the job's workers measured the same way (active with active, wall clock with wall "
        "clock). When MAD is 0, the score is (x - median) / (1.253314 * MeanAD) with the mean "
        "absolute deviation; when that is 0 too, everyone is equal and nobody is slow. Both "
        "thresholds are configurable.",
    ),
    Definition(
        "slow_reason",
        "Why slow",
        "text",
        "For each job the worker is slow on: which time was compared (active, pauses excluded, or "
        "wall clock, pauses included), their median, the job's median of worker medians, MAD and "
        "the modified z-score.",
    ),
    Definition(
        "return_flag",
        "Returns many tasks",
        "true/false",
        "True when return_rate is above 0.2 and tasks_submitted + tasks_returned is at least 10 "
        "(both configurable).",
    ),
    Definition("return_reason", "Why flagged for returns", "text", "The counts and the rate."),
    Definition(
        "idle_flag",
        "Idle",
        "true/false",
        "True when the worker had no outcome in the window (team members who never took a task "
        "are listed from Cognito when synced), or when last_activity is more than 72 hours "
        "(configurable; 72 so that a weekend is not idleness) before the window end.",
    ),
    Definition(
        "idle_reason", "Why idle", "text", "Which of the two idle rules applied, with times."
    ),
    # ------------------------------------------------------------------ worker responses
    Definition(
        "responses",
        "Responses",
        "responses",
        "Distinct worker responses (job, object, worker, submission time) submitted in the window, "
        "read from the labeling jobs' worker-response files. Empty when no job output was read.",
    ),
    Definition(
        "median_active_seconds",
        "Median active seconds",
        "seconds",
        "Median of active_seconds over the responses that have it. " + _ACTIVE,
    ),
    Definition(
        "mean_active_seconds",
        "Mean active seconds",
        "seconds",
        "Mean of active_seconds over the responses that have it. " + _ACTIVE,
    ),
    Definition(
        "active_share",
        "Active share of wall time",
        "ratio",
        "Sum of active_seconds / sum of wall seconds (submission minus acceptance) over the same "
        "responses: those with both. 1 means no pauses; empty when the wall seconds sum to 0.",
    ),
    Definition(
        "agreement_rate",
        "Agreement rate",
        "ratio",
        "Mean agreement_score of the scored responses. " + _SCORED,
    ),
    Definition(
        "responses_scored",
        "Responses scored",
        "responses",
        "Responses with an agreement_score. " + _SCORED,
    ),
    Definition(
        "gold_accuracy",
        "Gold accuracy",
        "ratio",
        "Share of the responses on gold objects (gt-throughput gold) whose single label equals "
        "the gold label exactly (case-sensitive).",
    ),
    Definition(
        "gold_scored",
        "Gold answers compared",
        "responses",
        "Responses on gold objects whose answer is a single label (compared with the gold label).",
    ),
    Definition(
        "quality_flag",
        "Low agreement",
        "true/false",
        "True when, on any labeling job, the modified z-score 0.6745 * (x - median) / MAD of the "
        "worker's agreement_rate x is below -3.5, median and MAD taken over the job's workers "
        "with at least 20 scored responses (the worker among them); the MeanAD fallback of "
        "slow_flag applies. Both thresholds are configurable.",
    ),
    Definition(
        "quality_reason",
        "Why low agreement",
        "text",
        "For each job: the worker's agreement rate and scored responses, the job's median rate, "
        "MAD and the modified z-score.",
    ),
    Definition(
        "active_seconds",
        "Active seconds",
        "seconds",
        "Of one response (or the log task matched to it: same worker and job, acceptance and "
        "submission each within one second): timeSpentInSeconds. " + _ACTIVE,
    ),
    Definition(
        "wall_seconds",
        "Wall seconds",
        "seconds",
        "Of one response: submission time minus acceptance time, when both are known and the "
        "difference is not negative. " + _WALL,
    ),
    Definition(
        "agreement_score",
        "Agreement score",
        "score 0..1",
        "Of one response (or the log task matched to it), against the object's consolidated "
        "label: single-label classification 1 when the label equals the consolidated class name "
        "exactly (case-sensitive: a job's label list may hold both Car and car), else 0; "
        "multi-label: Jaccard index of the label sets (both empty: 1); bounding boxes: F1 = 2 * "
        "matches / (worker boxes + consolidated boxes), boxes matched one to one with the same "
        "label, greedily by descending IoU (ties in the boxes' order), a match needing IoU >= "
        "0.5, no boxes on either side 1. Other task types are not scored. " + _SCORED,
    ),
    Definition(
        "agreement_note",
        "Why not scored",
        "text",
        "Empty when the response is scored, else 'not available: ' and the reason (one worker on "
        "the object, a task type that is not scored, no consolidated label read, ...).",
    ),
    Definition("object_index", "Object", "index", "The data object's line in the input manifest."),
    Definition("acceptance_time", "Accepted", "time", "acceptanceTime of the response."),
    Definition("submission_time", "Submitted", "time", "submissionTime of the response."),
    Definition(
        "task_type", "Task type", "text", "The consolidated label's metadata type, when read."
    ),
    Definition(
        "worker_label", "Worker's label", "text", "The response's label (single-label tasks)."
    ),
    Definition("gold_label", "Gold label", "text", "The gold answer of the object."),
    Definition(
        "gold_correct",
        "Gold correct",
        "true/false",
        "The worker's label equals the gold label exactly (case-sensitive).",
    ),
    Definition(
        "objects_compared",
        "Objects compared",
        "objects",
        "Objects with single-label answers from at least two distinct workers in the window.",
    ),
    Definition(
        "unanimous_share",
        "Unanimous objects",
        "ratio",
        "Share of objects_compared on which every worker gave the same label.",
    ),
    Definition(
        "krippendorff_alpha",
        "Krippendorff's alpha",
        "score",
        "Krippendorff's alpha for nominal values over objects_compared (units = objects, values "
        "= the workers' labels): 1 - (n - 1) * D_o / D_e from the coincidence matrix. 1 is "
        "perfect agreement, 0 agreement by chance; empty when only one label occurs.",
    ),
    Definition(
        "quadrant",
        "Speed and agreement",
        "text",
        "Within a job: fast when median_active_seconds is at or below the job's median of "
        "workers' medians, agreeing when agreement_rate is at or above the job's median rate: "
        "fast and agreeing, slow and agreeing, fast and disagreeing, slow and disagreeing.",
    ),
    Definition(
        "measure",
        "Time compared",
        "text",
        "Which time the slow test compared: active (worker responses, pauses excluded) or wall "
        "(log task seconds, pauses included).",
    ),
    # ------------------------------------------------------------------ tasks
    Definition("outcome", "Outcome", "text", "submitted, returned or declined (the event type)."),
    Definition(
        "task_accepted_time", "Accepted", "time", "When the worker accepted the task (log)."
    ),
    Definition(
        "outcome_time",
        "Outcome time",
        "time",
        "The event's filed time: the outcome time (submitted, returned or declined), else the "
        "accepted time, else event_timestamp, else the CloudWatch timestamp. Windows select by it.",
    ),
    Definition(
        "clock_skew_seconds",
        "Clock skew seconds",
        "seconds",
        "The outcome time minus the accepted time when it is negative (the outcome is logged "
        "before the acceptance): the task counts but has no task seconds.",
    ),
    Definition(
        "source",
        "Source",
        "text",
        "The file, S3 object or log group the event (or worker response) was first read from.",
    ),
    # ------------------------------------------------------------------ jobs and teams
    Definition(
        "active_workers",
        "Active workers",
        "workers",
        "Distinct workers with at least one outcome (in the group, or in the period).",
    ),
    Definition(
        "members",
        "Members",
        "workers",
        "Cognito users in the team's user group (ListUsersInGroup); empty when not synced.",
    ),
    Definition(
        "members_without_tasks",
        "Members without tasks",
        "workers",
        "Members of the team with no outcome on the team in the window.",
    ),
    Definition(
        "tasks_per_active_worker",
        "Tasks per active worker",
        "tasks",
        "tasks_submitted / active_workers.",
    ),
    Definition("status", "Job status", "text", "DescribeLabelingJob LabelingJobStatus (sync)."),
    Definition(
        "is_streaming", "Streaming", "true/false", "The job reads from an SNS input topic (sync)."
    ),
    Definition("task_title", "Task title", "text", "HumanTaskConfig TaskTitle (sync)."),
    Definition(
        "task_time_limit_seconds",
        "Task time limit",
        "seconds",
        "HumanTaskConfig TaskTimeLimitInSeconds: a task not submitted by then goes back (sync).",
    ),
    Definition(
        "max_concurrent_task_count",
        "Max concurrent tasks",
        "tasks",
        "HumanTaskConfig MaxConcurrentTaskCount (sync).",
    ),
    Definition(
        "workers_per_object",
        "Workers per object",
        "workers",
        "NumberOfHumanWorkersPerDataObject: tasks needed to label one object (sync).",
    ),
    Definition("total_labeled", "Total labeled", "objects", "LabelCounters TotalLabeled (sync)."),
    Definition("human_labeled", "Human labeled", "objects", "LabelCounters HumanLabeled (sync)."),
    Definition(
        "machine_labeled", "Machine labeled", "objects", "LabelCounters MachineLabeled (sync)."
    ),
    Definition(
        "failed_non_retryable",
        "Failed",
        "objects",
        "LabelCounters FailedNonRetryableError (sync).",
    ),
    Definition("unlabeled", "Unlabeled", "objects", "LabelCounters Unlabeled (sync)."),
    Definition(
        "pending_human",
        "Pending human",
        "objects",
        "ListLabelingJobsForWorkteam LabelCounters PendingHuman (sync).",
    ),
    Definition(
        "backlog_messages",
        "Queued objects",
        "messages",
        "Streaming jobs: SQS ApproximateNumberOfMessages of the job's queue at the latest sync.",
    ),
    Definition(
        "backlog_in_flight",
        "Objects in flight",
        "messages",
        "Streaming jobs: SQS ApproximateNumberOfMessagesNotVisible (held by workers).",
    ),
    Definition(
        "backlog_observed_at", "Backlog observed", "UTC time", "When the SQS snapshot was taken."
    ),
    Definition(
        "eta_days",
        "Days to clear the backlog",
        "days",
        "(queued + in flight objects) / (submitted tasks per day over the last 7 days / workers "
        "per object). Infinite when nothing was submitted but objects wait.",
    ),
    Definition(
        "oldest_message_age_days",
        "Oldest queued object age",
        "days",
        "Age of the oldest queued object (SQS snapshot or the ApproximateAgeOfOldestMessage "
        "metric) carried forward to the window end. Objects expire at 14 days.",
    ),
    Definition(
        "days_idle",
        "Days idle",
        "days",
        "Streaming jobs: days from the later of the last outcome on the job and the last snapshot "
        "with objects waiting, to the window end; 0 while objects wait. An estimate: what is "
        "sent to the input topic is not visible. Ground Truth stops a job idle for 10 days.",
    ),
    Definition(
        "queue_name", "Queue", "text", "The streaming job's SQS queue, GroundTruth-<job name>."
    ),
    Definition("observed_at", "Observed", "UTC time", "When the latest SQS snapshot was taken."),
    Definition(
        "in_flight_messages",
        "Held by workers",
        "messages",
        "Streaming jobs: SQS ApproximateNumberOfMessagesNotVisible at the latest snapshot: objects "
        "handed to workers and not yet done.",
    ),
    Definition(
        "pending_messages",
        "Backlog (queued + in flight)",
        "messages",
        "Queued objects + objects held by workers at the latest SQS snapshot: what must still be "
        "labeled; the ETA divides this.",
    ),
    Definition(
        "rate_window_days",
        "Rate window",
        "days",
        "The days the recent submit rate is measured over: the last 7 days before the window end "
        "(fewer when the window is shorter).",
    ),
    Definition(
        "tasks_submitted_recently",
        "Submitted recently",
        "tasks",
        "TasksSubmitted outcomes on the job in the rate window.",
    ),
    Definition(
        "submit_rate_per_day",
        "Submitted per day (recent)",
        "tasks per day",
        "tasks_submitted_recently / rate_window_days.",
    ),
    Definition(
        "objects_per_day",
        "Objects labeled per day",
        "objects per day",
        "submit_rate_per_day / workers per object (1 when unknown): each object needs that many "
        "submitted tasks.",
    ),
    Definition(
        "days_until_oldest_expires",
        "Days until the oldest object expires",
        "days",
        "14 - oldest_message_age_days: an object not handed to a worker within 14 days expires.",
    ),
    Definition(
        "expiry_warning",
        "Expiry at risk",
        "flag",
        "True for a running streaming job when oldest_message_age_days + eta_days, or the age "
        "alone, reaches 11 days (3 days before the 14-day expiry).",
    ),
    Definition(
        "idle_stop_warning",
        "Idle stop at risk",
        "flag",
        "True for a running streaming job idle for 7 days or more (3 days before Ground Truth's "
        "automatic stop after 10 idle days).",
    ),
    Definition("warnings", "Warnings", "text", "What is at risk on the job, in words."),
    # ------------------------------------------------------------------ staffing
    # The staffing plan's assumptions and formula (analytics/metrics/staffing.py); the Jobs page
    # and the digest show these texts next to the numbers.
    Definition(
        "remaining_source",
        "Backlog read from",
        "text",
        "Where the waiting objects were read: a streaming job's SQS queue (queued + held by "
        "workers), else the batch job's LabelCounters PendingHuman, else its Unlabeled.",
    ),
    Definition(
        "remaining_objects",
        "Objects waiting",
        "objects",
        "A streaming job: queued + in-flight SQS messages at the latest snapshot "
        "(pending_messages). A batch job: ListLabelingJobsForWorkteam LabelCounters PendingHuman "
        "at the latest sync, documented as the data objects that need to be labeled by a human "
        "worker (the facts file, section 3, lists the counter; the meaning is the SageMaker API "
        "reference's); when it is unknown, DescribeLabelingJob LabelCounters Unlabeled (objects "
        "not yet labeled, which may include objects automated labeling will take: an "
        "overestimate). Jobs Completed, Stopped or Failed have no backlog.",
    ),
    Definition(
        "remaining_tasks",
        "Tasks to do",
        "tasks",
        "remaining_objects x workers_per_object (1 assumed when unknown): each object needs that "
        "many submitted tasks. An approximation: an object some workers already answered needs "
        "fewer, and the counters do not say how many answers it has.",
    ),
    Definition(
        "working_days_in_rate_window",
        "Working days in the rate window",
        "days",
        "Working days (working_days, in the team's time zone) inside the rate window, each local "
        "day counted by the share of its own length (23, 24 or 25 hours) inside.",
    ),
    Definition(
        "workers_recently",
        "Workers recently",
        "workers",
        "Distinct workers with an outcome on the job in the rate window.",
    ),
    Definition(
        "active_hours_recently",
        "Active hours recently",
        "hours",
        "The sum over workers of active_hours on the job's tasks with an outcome in the rate "
        "window: each worker's task intervals on the job merged, as for active_hours.",
    ),
    Definition(
        "active_hours_per_worker_day",
        "Active hours per worker-day",
        "hours",
        "The median, over the worker-days with active time on the job in the rate window, of "
        "that worker's active hours on the job that day; a task's merged time counts on the "
        "local day (team time zone) of its outcome. The hours a day one worker usually gives "
        "the job.",
    ),
    Definition(
        "tasks_per_working_day",
        "Tasks per working day (recent)",
        "tasks per day",
        "tasks_submitted_recently / working_days_in_rate_window: the team's recent pace, with "
        "tasks submitted on any day counted.",
    ),
    Definition(
        "clears_on",
        "Clears on",
        "local date",
        "The ceil(remaining_tasks / tasks_per_working_day)-th working day after today (today, "
        "the local date of the window end, not counted): when the backlog clears if the team "
        "keeps its recent pace. Empty when there is no rate (no work on the job in the rate "
        "window) or it would take more than ten years.",
    ),
    Definition(
        "deadline",
        "Deadline",
        "local date",
        "The date the manager wants the backlog cleared by, to the end of that day.",
    ),
    Definition(
        "working_days_left",
        "Working days left",
        "days",
        "Working days after today up to and including the deadline's date. Today does not "
        "count: part of it is gone and its work is already in the rate. 0 when the deadline "
        "is today or has passed.",
    ),
    Definition(
        "workers_needed",
        "Workers needed",
        "workers",
        "ceil(remaining_tasks / (tasks_per_active_hour x active_hours_per_worker_day x "
        "working_days_left)): workers each working active_hours_per_worker_day active hours on "
        "every working day left, at the recent per-worker rate. Empty when there is no rate, "
        "no deadline, or no working day left (the deadline is today or has passed).",
    ),
    Definition(
        "working_days",
        "Working days",
        "text",
        "The weekdays the team works (Monday to Friday unless chosen), in the team's time zone.",
    ),
    Definition(
        "message",
        "Staffing",
        "text",
        "The plan in one sentence: the tasks to do, when they clear at the recent rate, and the "
        "workers and hours a day the deadline needs; or what is missing to say it.",
    ),
    # ------------------------------------------------------------------ sessions
    Definition(
        "session_number",
        "Session",
        "count",
        "Counts a worker's sessions from 1 in time order. A session is a run of tasks where no "
        "gap between one task's outcome and the next task's acceptance exceeds 30 minutes.",
    ),
    Definition("session_start", "Session start", "time", "Acceptance of the session's first task."),
    Definition("session_end", "Session end", "time", "Outcome of the session's last task."),
    # ------------------------------------------------------------------ data health and returns
    Definition("reason", "Reason", "text", "Why a line could not become an event."),
    Definition("lines", "Lines", "lines", "Rejected lines with this reason (each kept once)."),
    Definition("files", "Files", "files", "Distinct sources those lines came from."),
    Definition("example", "Example", "text", "What the parser said about one such line."),
    Definition("day", "Day", "UTC date", "The UTC calendar day compared."),
    Definition(
        "metric", "Metric", "text", "The AWS/SageMaker/Workteam metric compared with the log."
    ),
    Definition(
        "log_count",
        "Log count",
        "events",
        "Distinct log events of the metric's kind for the team, job and day.",
    ),
    Definition(
        "metric_count",
        "Metric count",
        "events",
        "Sum of the metric's Sum statistic for the team, job and day (best-effort delivery).",
    ),
    Definition(
        "difference",
        "Log minus metric",
        "events",
        "log_count - metric_count; positive when the metric undercounts the log.",
    ),
    Definition(
        "skew_seconds",
        "Clock skew",
        "seconds",
        "Outcome time minus accepted time when negative: such a task has no task seconds.",
    ),
    Definition("events", "Events", "events", "Distinct events of that kind."),
    Definition("last_event_time", "Last event", "UTC time", "The latest event_time of the group."),
    Definition(
        "field", "Time field", "text", "A time field present but unparseable or implausible."
    ),
    Definition(
        "workers_returning",
        "Workers returning",
        "workers",
        "Workers with at least one TasksReturned outcome on the job.",
    ),
    Definition(
        "top_returner",
        "Top returner",
        "text",
        "The worker with the most returns on the job (their share is top_returner_share).",
    ),
    Definition(
        "top_returner_share",
        "Top returner's share",
        "ratio",
        "The top returner's returns / all returns on the job.",
    ),
    Definition(
        "share_of_job_returns",
        "Share of the job's returns",
        "ratio",
        "The worker's returns on the job / all returns on the job.",
    ),
    # ------------------------------------------------------------------ timesheet
    Definition(
        "date",
        "Date",
        "local date",
        "The timesheet row's calendar day in the chosen time zone (--timezone, or the "
        "dashboard's view), daylight saving aware: a day of a clock change lasts 23 or 25 hours. "
        "A worker has a row for each day with an outcome, any part of a task or session, or a "
        "worker response.",
    ),
    Definition(
        "active_seconds_reported",
        "Active seconds reported",
        "seconds",
        "Sum of active_seconds over the worker's responses submitted that local day (by "
        "submission time, in the window); empty when there is none with active seconds. " + _ACTIVE,
    ),
    # ------------------------------------------------------------------ KPIs and series
    Definition(
        "tasks",
        "Tasks",
        "tasks",
        "Outcomes counted in the period, group and outcome type (throughput series).",
    ),
    Definition(
        "period_start",
        "Period",
        "time",
        "Start of the hour or calendar day in the chosen time zone (daylight saving aware).",
    ),
    Definition(
        "modified_z",
        "Modified z-score",
        "score",
        "0.6745 * (x - median) / MAD over the job's workers' median seconds (slow_flag) or "
        "agreement rates (quality_flag), or the MeanAD fallback (see slow_flag).",
    ),
)

#: Every definition by column name.
DEFINITIONS: dict[str, Definition] = {entry.name: entry for entry in _ENTRIES}


def help_for(column: str) -> str:
    """The definition text of ``column`` with its unit, for tooltips; ``""`` when unknown."""
    entry = DEFINITIONS.get(column)
    if entry is None:
        return ""
    return f"{entry.text} Unit: {entry.unit}."


def definitions_frame(columns: Iterable[str] | None = None) -> pd.DataFrame:
    """The definitions as a frame (``name``, ``label``, ``unit``, ``definition``), for CSVs.

    Parameters
    ----------
    columns
        Only these columns, in this order (unknown ones get an empty definition); None for all.
    """
    names = list(DEFINITIONS) if columns is None else list(columns)
    rows = []
    for name in names:
        entry = DEFINITIONS.get(name, Definition(name, name, "", ""))
        rows.append(
            {"name": name, "label": entry.label, "unit": entry.unit, "definition": entry.text}
        )
    return pd.DataFrame(rows, columns=["name", "label", "unit", "definition"]).astype("str")


def render_markdown() -> str:
    """``docs/metrics.md``: every definition, in ``DEFINITIONS`` order."""
    lines = [
        "# Metric definitions",
        "",
        "<!-- Generated from analytics/metrics/definitions.py by"
        " `python -m analytics.metrics.definitions`; do not edit by hand. -->",
        "",
        "Every number the dashboard and the CSV exports show is defined here, once. The same text "
        "is the dashboard's help text and ships next to every exported CSV "
        "(`FILE.definitions.csv`).",
        "",
        "Times inside the tool are UTC; the dashboard and exports convert them to the time zone "
        "you choose. Task times from the log are wall-clock times (pauses included); the "
        "`TimeSpent` metric and the worker responses' active seconds exclude pauses. Both are "
        "shown where both exist.",
        "",
        "| Column | Label | Unit | Definition |",
        "| --- | --- | --- | --- |",
    ]
    for entry in DEFINITIONS.values():
        text = entry.text.replace("|", "\\|")
        lines.append(f"| `{entry.name}` | {entry.label} | {entry.unit} | {text} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write ``docs/metrics.md`` (or the path given) from ``DEFINITIONS``."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else METRICS_DOC
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_markdown(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

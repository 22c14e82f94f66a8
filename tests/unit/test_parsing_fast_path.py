"""The compiled scanner's fast path gives exactly what the exact path gives, on tricky input.

``parse_chunk(fast=True)`` scans lines with ``analytics.ingest.fast_scan`` and leaves every line it
cannot read exactly to ``parse_lines``; ``fast=False`` sends every line the exact way. Both must
give the same events (every column, in the same order), the same rejects and the same counts.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from analytics.ingest import fast_scan
from analytics.ingest.parse import ParseResult, line_scanner_limit, parse_chunk
from analytics.ingest.rules import REJECT_REASONS
from analytics.ingest.times import PLAUSIBLE_FROM_MS, PLAUSIBLE_UNTIL_MS
from tests.conftest import make_message
from tests.support.hostile_values import ABSURD_VALUES, ENVELOPE_FIELDS, MESSAGE_FIELDS, absurd_line
from tests.support.tricky_lines import COMPACT, ENVELOPE, REJECTED_AS, TRICKY_LINES, compact


def comparable(result: ParseResult) -> tuple[list[dict], list[dict], int, int]:
    rejected = [{**r, "rejected_at": None} for r in result.rejected.to_pylist()]
    rejected.sort(key=lambda r: (int(r["location"]), r["reason"]))
    return result.events.to_pylist(), rejected, result.records, result.blank_lines


def assert_same_both_ways(data: bytes, first_line_number: int = 1) -> ParseResult:
    assert line_scanner_limit() > 0  # else fast=True would quietly take the exact path too
    fast, fast_lines = parse_chunk(data, "f.jsonl", first_line_number, fast=True)
    exact, exact_lines = parse_chunk(data, "f.jsonl", first_line_number, fast=False)
    assert fast_lines == exact_lines
    assert comparable(fast) == comparable(exact)
    assert fast.records == fast.events.num_rows + fast.rejected.num_rows
    return fast


def status_of(line: str) -> int:
    return int(fast_scan.scan_lines((line + "\n").encode()).status[0])


@pytest.mark.parametrize("name", TRICKY_LINES)
def test_each_tricky_line_gives_the_same_result_both_ways(name: str) -> None:
    line = TRICKY_LINES[name]
    data = (COMPACT + "\n" + line + "\n" + compact(worker_id="w2") + "\n").encode()
    result = assert_same_both_ways(data)
    reason = REJECTED_AS.get(name)
    assert result.rejected.column("reason").to_pylist() == ([reason] if reason else [])
    assert result.events.num_rows == (2 if reason else 3)


def test_all_tricky_lines_together_with_blank_lines_and_crlf() -> None:
    lines = []
    for index, line in enumerate(TRICKY_LINES.values()):
        lines += [line, "", "  \t", compact(job_reference_code=f"ref-{index}")]
    text = "\n".join(lines)
    assert_same_both_ways(text.encode(), first_line_number=41)
    assert_same_both_ways(text.replace("\n", "\r\n").encode())
    assert_same_both_ways((text + "\n\n").encode())


PLAIN = ["compact message", "python json.dumps spacing", "padded with spaces and tabs"]
PLAIN += ["whitespace between every token", "carriage return inside", "unknown string field"]
PLAIN += ["export line", "export line, spaces", "export line, broken time", "ISO times"]
PLAIN += ["unparseable times", "implausible years", "February 30", "OIDC worker"]


@pytest.mark.parametrize("name", PLAIN)
def test_the_scanner_reads_plain_messages_itself(name: str) -> None:
    assert status_of(TRICKY_LINES[name]) == fast_scan.ACCEPTED


REFUSED = ["escaped quote in a value", "raw unicode", "escaped key", "unknown nested field"]
REFUSED += ["duplicate known key, last wins", "number fields", "null field", "no identity"]
REFUSED += ["empty event type", "envelope", "message key in a message", "garbage", "truncated"]
REFUSED += ["tab inside a value", "DEL inside a value", "two objects", "export line, no message"]


@pytest.mark.parametrize("name", REFUSED)
def test_the_scanner_leaves_what_it_cannot_read_exactly_to_the_exact_path(name: str) -> None:
    expected = fast_scan.ACCEPTED if name == "DEL inside a value" else fast_scan.REFUSED
    assert status_of(TRICKY_LINES[name]) == expected


def test_absurd_log_times_are_flagged_and_not_stored() -> None:
    names = ["envelope timestamp 2^63", "envelope timestamp 1e20", "envelope timestamp in 1969"]
    names += ["envelope timestamp as text", "export line in year 9999", "export line at epoch 0"]
    for name in names:
        result = assert_same_both_ways(TRICKY_LINES[name].encode())
        assert result.events.column("log_timestamp").to_pylist() == [None], name
        assert result.events.column("time_issues").to_pylist() == ["log_timestamp"], name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("10,000-deep array", "too_deeply_nested"),
        ("10,000-deep unknown field", "too_deeply_nested"),
        ("1,025-deep unknown field", "too_deeply_nested"),
        ("deep envelope message", "too_deeply_nested"),
        ("1,024-deep unknown field", None),
        ("many brackets, shallow", None),
    ],
    ids=lambda value: str(value),
)
def test_a_line_nested_too_deep_has_its_own_reason_on_every_path(
    name: str, reason: str | None
) -> None:
    line = TRICKY_LINES[name]
    # Alone, and among 300 good lines (where a block reader takes it unless told not to).
    for lines in ([line], [compact(job_reference_code=f"r{i}") for i in range(300)] + [line]):
        result = assert_same_both_ways("\n".join(lines).encode())
        assert result.rejected.column("reason").to_pylist() == ([reason] if reason else [])


HOSTILE_CASES = [
    pytest.param(field, value, id=f"{field}={name}")
    for field in ENVELOPE_FIELDS + MESSAGE_FIELDS
    for name, value in ABSURD_VALUES.items()
]


@pytest.mark.parametrize(("field", "value"), HOSTILE_CASES)
def test_an_absurd_value_in_any_field_affects_only_its_line_the_same_both_ways(
    field: str, value: bytes
) -> None:
    good = [compact(job_reference_code=f"good-{i}").encode() for i in range(3)]
    data = b"\n".join([good[0], absurd_line(field, value), good[1], good[2]]) + b"\n"
    result = assert_same_both_ways(data)
    assert result.records == 4
    kept = set(result.events.column("raw_message").to_pylist())
    assert {line.decode() for line in good} <= kept
    assert set(result.rejected.column("reason").to_pylist()) <= set(REJECT_REASONS)
    assert set(result.rejected.column("location").to_pylist()) <= {"2"}
    for name in result.events.column_names:
        if result.events.schema.field(name).type == pa.timestamp("ms", tz="UTC"):
            epoch_ms = [v for v in result.events.column(name).cast(pa.int64()).to_pylist() if v]
            assert all(PLAUSIBLE_FROM_MS <= v < PLAUSIBLE_UNTIL_MS for v in epoch_ms), name


def test_blank_lines_are_blank_to_the_scanner() -> None:
    scanned = fast_scan.scan_lines(b"\n \t\r\n" + COMPACT.encode())
    assert scanned.status.tolist() == [fast_scan.BLANK, fast_scan.BLANK, 1]


def test_huge_lines() -> None:
    huge_unknown = COMPACT[:-1] + ',"blob":"' + "x" * 3_000_000 + '"}'
    huge_known = compact(job_reference_code="r" * 2_000_000)
    huge_garbage = "{" + "y" * 2_500_000
    data = "\n".join([COMPACT, huge_unknown, huge_known, huge_garbage, compact(worker_id="w")])
    result = assert_same_both_ways(data.encode())
    assert result.events.num_rows == 4
    assert result.rejected.column("raw_text")[0].as_py().endswith("chars]")


def test_duplicate_messages_in_two_shapes_keep_the_first_line() -> None:
    export = "2019-08-14T16:01:21.000Z " + COMPACT
    for lines in ([export, COMPACT], [COMPACT, export], [ENVELOPE, COMPACT, export]):
        result = assert_same_both_ways("\n".join(lines).encode())
        assert result.events.num_rows == len(lines)
        assert len(set(result.events.column("event_key").to_pylist())) == 1


def test_invalid_utf8_among_plain_lines() -> None:
    data = COMPACT.encode() + b"\n\xff\xfe broken\n" + compact(worker_id="w").encode() + b"\n"
    result = assert_same_both_ways(data, first_line_number=10)
    assert [(r["location"], r["reason"]) for r in result.rejected.to_pylist()] == [
        ("11", "invalid_utf8")
    ]


def test_scanning_in_parts_cuts_only_between_lines() -> None:
    lines = [compact(worker_id=f"w{i}", job_reference_code="r" * (i % 97)) for i in range(500)]
    data = ("\n".join(lines) + "\n").encode()
    for parts in (1, 2, 3, 7):
        scanned = fast_scan.scan_lines(data, parts=parts)
        assert scanned.status.tolist() == [fast_scan.ACCEPTED] * 500
        assert scanned.texts.to_pylist() == lines


def mutations(seed: int, count: int) -> list[str]:
    """Lines made by damaging realistic messages at random: every kind of byte, anywhere."""
    rng = random.Random(seed)
    pieces = ['"', "\\", "{", "}", ",", ":", " ", "\t", "\r", "é", "\x00", "1", "null", "[", "]"]
    pieces += ['"worker_id":"x",', '"event_type":"", ', "\\u0041", "\\n", "Aug", "UTC", "9"]
    lines = []
    for index in range(count):
        line = compact(job_reference_code=f"ref-{index}", worker_id=f"{index:016x}")
        for _ in range(rng.randrange(0, 3)):
            at = rng.randrange(len(line) + 1)
            if rng.random() < 0.5:
                line = line[:at] + rng.choice(pieces) + line[at:]
            else:
                line = line[:at] + line[at + rng.randrange(1, 4) :]
        lines.append(line)
    return lines


@pytest.mark.parametrize("seed", range(4))
def test_randomly_damaged_messages_give_the_same_result_both_ways(seed: int) -> None:
    lines = mutations(seed, 1500)
    result = assert_same_both_ways(("\n".join(lines) + "\n").encode())
    statuses = fast_scan.scan_lines(("\n".join(lines) + "\n").encode()).status
    # Both ways were really taken.
    assert (statuses == fast_scan.ACCEPTED).sum() > 300
    assert (statuses == fast_scan.REFUSED).sum() > 100
    assert result.rejected.num_rows > 0


def test_the_java_time_decoder_agrees_with_times_on_every_day_of_four_centuries() -> None:
    import datetime as dt

    import pyarrow as pa

    from analytics.ingest.times import parse_times

    days = [
        dt.datetime(1998, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=d) for d in range(0, 40000, 7)
    ]
    texts = [d.strftime("%a %b %d %H:%M:%S UTC %Y") for d in days]
    texts += ["Mon Feb 29 00:00:00 UTC 2100", "Mon Jan 00 00:00:00 UTC 2019"]
    data = "\n".join(compact(task_accepted_time=t) for t in texts).encode()
    scanned = fast_scan.scan_lines(data)
    expected, issues = parse_times(pa.array(texts))
    t = fast_scan.TIME_FIELDS.index("task_accepted_time")
    state = scanned.time_state[t]
    decoded = state == fast_scan.DECODED
    assert (decoded == np.asarray(expected.is_valid())).all()
    assert (scanned.time_ms[t][decoded] == np.asarray(expected.cast(pa.int64()))[decoded]).all()
    assert ((state == fast_scan.TIME_ISSUE) | (state == fast_scan.UNDECIDED))[issues].all()


def test_keys_in_changing_order_and_look_alike_keys() -> None:
    message = make_message()
    names = list(message)
    rng = random.Random(3)
    lines = []
    for index in range(200):
        rng.shuffle(names)
        shuffled = {name: message[name] for name in names}
        if index % 7 == 0:
            shuffled["worker_idx"] = "look-alike"  # an unknown key that starts like a known one
        if index % 11 == 0:
            shuffled = {"worker_i": "short", **shuffled}
        lines.append(json.dumps(shuffled, separators=(",", ":")))
    data = "\n".join(lines).encode()
    result = assert_same_both_ways(data)
    assert (fast_scan.scan_lines(data).status == fast_scan.ACCEPTED).all()
    assert result.events.num_rows == 200


@pytest.mark.parametrize("special", ["\\\\", "\\u00e9", "é", "\x01", "\t", '\\"'])
def test_a_special_character_at_every_offset_of_a_value(special: str) -> None:
    lines = [
        COMPACT.replace("ref-1", "r" * offset + special + "r" * (20 - offset))
        for offset in range(21)
    ]
    data = "\n".join(lines).encode()
    assert_same_both_ways(data)
    assert (fast_scan.scan_lines(data).status == fast_scan.REFUSED).all()


def test_a_changed_rule_reaches_the_compiled_scanner_despite_numbas_cache(tmp_path: Path) -> None:
    """Numba reuses cached code while fast_scan.py is unchanged; the scanner takes its date
    arithmetic from times.py, so a change there must still be compiled in."""
    import analytics

    package = tmp_path / "code" / "analytics"
    shutil.copytree(
        Path(analytics.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    script = (
        "from analytics.ingest import fast_scan\n"
        f"print(int(fast_scan.scan_lines({(COMPACT + chr(10)).encode()!r}).time_ms[0, 0]))"
    )
    environment = {
        **os.environ,
        "PYTHONPATH": str(tmp_path / "code"),
        "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache"),
    }

    def accepted_time_ms() -> int:
        completed = subprocess.run(
            [sys.executable, "-c", script],
            cwd=tmp_path,  # not the repository, whose analytics/ would come first on sys.path
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        return int(completed.stdout)

    before = accepted_time_ms()
    assert before == 1565798459000  # Wed Aug 14 16:00:59 UTC 2019
    assert accepted_time_ms() == before  # from the cache
    times = package / "ingest" / "times.py"
    source = times.read_text(encoding="utf-8")
    old = "return (days * 86_400 + hour * 3600 + minute * 60 + second) * 1000"
    assert source.count(old) == 1
    times.write_text(source.replace(old, old + " + 7"), encoding="utf-8")
    assert accepted_time_ms() == before + 7

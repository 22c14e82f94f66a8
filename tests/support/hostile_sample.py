"""The bundled sample with hostile names planted in it, for the dashboard's AppTest and browser
tests: markdown, HTML, links, images that would fetch a beacon, and CR/LF, in usernames (and so
emails), a team name and a job name, where the pages show them (alerts, reasons, headings,
chart legends and labels, tables, option labels).

The sample's files are copied and the names replaced in their text, so the store is built by the
same ingest and sync transforms as the sample's: every page has the planted names where it would
have had the originals.
"""

from __future__ import annotations

import gzip
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from analytics import SAMPLE_LOGS_DIR, build_sample_store

#: Text that must never become an element when shown: each is checked on every page.
ATTACKS = ("**", "[t](", "![b](", "<b>", "<img", "www.evil.invalid", "\r\n")


@dataclass(frozen=True)
class HostileNames:
    """The planted names, by the sample name they replace."""

    returner: str  # kavya.nair: the Overview's "Returns" alert, a reason on Workers
    slow: str  # michael.brooks: a "Slow" alert, a reason, a box label on Workers
    team: str  # image-team: a legend on the Overview, an option in the sidebar
    job: str  # support-tickets-intent-stream: the "Backlog" alert, a Jobs card, reasons

    def replacements(self) -> dict[str, str]:
        return {
            "kavya.nair": self.returner,
            "michael.brooks": self.slow,
            "image-team": self.team,
            "support-tickets-intent-stream": self.job,
        }


def hostile_names(beacon: str) -> HostileNames:
    """Names that carry every attack; ``beacon`` is a URL base (``http://host:port``) whose
    fetch would prove an image or link was made from data.

    Team and job names sit at the end of ARNs (no ``/``) and the job's SQS queue name is its
    lower-cased name, so those two are lower case and slash-free.
    """
    return HostileNames(
        returner="kavya **bold** [t](http://evil.invalid/x) <b>b</b>\r\nline2",
        slow=f'michael ![b]({beacon}/beacon.png) <img src="{beacon}/img.png"> www.evil.invalid',
        team="image **team** <b>t [t](https:evil.invalid)",
        job="tickets **job** <b>x ![b](https:evil.invalid) &amp; :smile: www.evil.invalid",
    )


def _replace(text: str, replacements: dict[str, str], *, encode: bool) -> str:
    for old, new in replacements.items():
        # In JSON the new name is written as a JSON string's content (quotes, CR/LF escaped).
        text = text.replace(old, json.dumps(new)[1:-1] if encode else new)
    return text


def build_hostile_sample(target: Path, names: HostileNames) -> Path:
    """The sample store with ``names`` planted, built under ``target``; returns the store root."""
    logs = target / "sample_logs"
    shutil.copytree(SAMPLE_LOGS_DIR, logs)
    replacements = names.replacements()
    for path in logs.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".gz":
            text = gzip.decompress(path.read_bytes()).decode("utf-8")
            path.write_bytes(gzip.compress(_replace(text, replacements, encode=True).encode()))
        elif path.suffix in (".json", ".jsonl", ""):  # "": exported log files, JSON lines
            text = path.read_text(encoding="utf-8")
            path.write_text(_replace(text, replacements, encode=True), encoding="utf-8")
    root = target / "store"
    build_sample_store(root, sample_dir=logs)
    return root

"""The run manifest: what produced a run, so a report can be trusted years later.

``manifest.json`` (schema-versioned) is written when a run starts, with status ``incomplete`` and the pid and host
of the process running it, and rewritten atomically after every stage; only the end of the run sets ``succeeded``
or ``failed``. A run killed half-way therefore stays ``incomplete`` in its manifest (and in the client's index);
readers show an ``incomplete`` run whose process is still alive as ``running``. A run stopped by a signal records
itself before the process exits: the stage it was running ``failed`` with the reason, later stages ``skipped``, the
run ``failed`` with ``interrupted`` naming the signal.

Secrets never reach the manifest: a setting whose key names one is left out, and in every other value a URL's
password, a query or connection-string parameter named like a secret (``sig``, ``token``, ``password``,
``X-Amz-Signature``, ``AccountKey``…) and an AWS access key id (with the secret written after it) are replaced by
``***`` (:func:`redact`).

The manifest's shape is :class:`Manifest` (one :class:`StageEntry` per stage); :class:`digiops.runfolder.RunFolder`
is the one place that reads and writes ``manifest.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import socket
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, model_serializer

from digiops import io, paths

SCHEMA_VERSION = 1
TRACKED_PACKAGES = ("digiops", "papermill", "nbconvert", "pandas", "pyarrow", "duckdb", "splink", "matplotlib",
                    "seaborn", "pyjanitor", "pydantic", "voila", "phonenumbers", "pypinyin", "cpca")
# A key names a secret when it says password, secret, token or credential, or has "key" as a word of its own
# (api_key, access.key, fs.azure.account.key.<account>…) — but not inside a longer word (monkey, keyword).
SECRET_KEY = re.compile(r"(?i)(pass(word|wd)?|secret|token|credential|(^|[._\-\s])key([._\-\s]|$)|api[_-]?key|"
                        r"private[_-]?key|access[_-]?key)")
MASK = "***"
# user:password@ in a URL (spark://, jdbc:mysql://, s3a://, https://…): the password goes; an AWS key id as the
# user goes too (AWS_KEY_ID below).
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/?#@\s:]*):(?P<secret>[^/?#@\s]*)@")
# name=value after ?, &, ; or the start of a value (query strings, JDBC properties, Azure connection strings). The
# name is a secret's when it is one of the words, or ends in one after a separator or a known prefix (AccountKey,
# X-Amz-Signature, client_secret, sas_token), never inside a longer word (monkey=, keyword=).
_SECRET_PARAMETER = re.compile(
    r"(?i)(?P<head>(?:^|[?&;])\s*(?:[\w.\-]*[_.\-]|account|access|api|shared|private|client|auth|session|security|"
    r"sas|x-amz-)?(?:sig|signature|token|password|passwd|pwd|secret|key|credential|sharedaccesssignature)"
    r"\s*=)(?P<secret>[^&;#\s]*)")
AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def redact(text: str) -> str:
    """The text with every secret it carries replaced by ``***``, the rest kept readable.

    >>> redact("spark://etl:s3cret@spark-master:7077")
    'spark://etl:***@spark-master:7077'
    >>> redact("https://acct.blob.core.windows.net/raw?sv=2022-11-02&sp=r&sig=AbC%2Bd")
    'https://acct.blob.core.windows.net/raw?sv=2022-11-02&sp=r&sig=***'
    >>> redact("s3a://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI@bucket/raw")
    's3a://***:***@bucket/raw'
    >>> redact("jdbc:sqlserver://db:1433;databaseName=crm;user=etl;password=p@ss")
    'jdbc:sqlserver://db:1433;databaseName=crm;user=etl;password=***'
    """
    if not isinstance(text, str) or not text:
        return text
    # Parameters first: a password=p@ss property must not be read as the user:password@ of a URL.
    text = _SECRET_PARAMETER.sub(lambda m: m["head"] + (MASK if m["secret"] else ""), text)
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@" if m["secret"] else m[0], text)
    # An access key id, with the secret that follows it after a colon (id:secret), wherever it stands.
    return re.sub(AWS_KEY_ID.pattern + r"(?::(?!\*\*\*@)[^\s@]+)?", MASK, text)


def strip_secrets(value: Any) -> Any:
    """Drop every mapping entry whose key names a secret (password, token, key, …), recursively, and
    :func:`redact` every text value that is left.

    >>> strip_secrets({"spark": {"master": "local[2]", "token": "abc"}, "api_key": "x", "n": 1})
    {'spark': {'master': 'local[2]'}, 'n': 1}
    >>> strip_secrets({"engine": {"master": "spark://etl:pw@head:7077"}})
    {'engine': {'master': 'spark://etl:***@head:7077'}}
    """
    if isinstance(value, dict):
        return {k: strip_secrets(v) for k, v in value.items() if not SECRET_KEY.search(str(k))}
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


def parameter_hash(parameters: dict[str, Any]) -> str:
    canonical = json.dumps(parameters, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def git_commit() -> str:
    root = paths.project_root()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (commit + ("+dirty" if dirty else "")) if commit else "unknown"


class _Record(BaseModel):
    """A part of the manifest: typed on assignment; the keys in ``WRITTEN_WHEN_SET`` are left out while ``None``
    (a stage that has not started has no ``started_at``), every other key is always written."""

    model_config = ConfigDict(validate_assignment=True)
    WRITTEN_WHEN_SET: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _leave_out_unset(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        return {k: v for k, v in data.items() if v is not None or k not in self.WRITTEN_WHEN_SET}

    def to_json(self) -> dict[str, Any]:
        """The JSON form, as ``manifest.json`` holds it."""
        return self.model_dump(mode="json")


class FileEntry(_Record):
    """A file that shaped the run (an input) or that a stage wrote (an output), by content."""

    path: str  # relative to the client folder (inputs) or the run folder (outputs) when inside it
    bytes: int
    sha256: str


class StageFailure(_Record):
    """Why a stage failed: the notebook cell (``None`` when the failure is not a cell's) and the error."""

    cell: int | None = None  # the execution count papermill reports
    cell_index: int | None = None
    ename: str
    evalue: str


StageStatus = Literal["pending", "running", "succeeded", "failed", "skipped"]
RunStatus = Literal["incomplete", "running", "succeeded", "failed"]


class StageEntry(_Record):
    """One stage of a run: ``pending`` until it starts, then ``running``, and finally ``succeeded``, ``failed``
    (with ``error`` or, when the run was stopped, ``reason``) or ``skipped`` (with ``reason``)."""

    WRITTEN_WHEN_SET: ClassVar[frozenset[str]] = frozenset(
        {"started_at", "ended_at", "reason", "error", "report", "outputs", "metrics", "reused_from"})

    name: str
    notebook: str
    status: StageStatus = "pending"
    depends_on: list[str] = []
    duration_s: float | None = None
    started_at: str | None = None
    ended_at: str | None = None
    reason: str | None = None
    error: StageFailure | None = None
    report: str | None = None  # the rendered report, relative to the run folder
    outputs: list[FileEntry] | None = None  # every file under outputs/<stage>/ once the stage ended
    metrics: dict[str, Any] | None = None  # what the stage recorded (outputs/<stage>/metrics.json)
    reused_from: str | None = None  # the run whose outputs this stage took, unchanged (digiops.reuse)


class Manifest(_Record):
    """What produced a run (schema version 1): the engagement, its parameters with secrets stripped, the
    fingerprints of its inputs, the versions and commit of the code, and every stage's entry.

    A manifest needs its identity, status and stages; the provenance fields default to empty, so that a run folder
    made by hand (a test's) reads too.
    """

    WRITTEN_WHEN_SET: ClassVar[frozenset[str]] = frozenset({"interrupted"})

    schema_version: Literal[1] = SCHEMA_VERSION
    client: str
    client_name: dict[str, str] = {}
    engagement: str = ""
    engagement_file: str | None = None
    run_id: str
    status: RunStatus = "incomplete"
    pid: int | None = None
    host: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    previous_run: str | None = None
    parameters: dict[str, Any] = {}
    parameter_hash: str = ""
    inputs: list[FileEntry] = []
    versions: dict[str, str] = {}
    git_commit: str = "unknown"
    stages: list[StageEntry]
    interrupted: str | None = None  # the signal that stopped the run (SIGTERM, …)

    def stage(self, name: str) -> StageEntry | None:
        return next((entry for entry in self.stages if entry.name == name), None)

    @property
    def effective_status(self) -> str:
        """The status a reader should show: an ``incomplete`` run whose process is alive is ``running``."""
        if self.status in ("incomplete", "running") and pid_alive(self.pid, self.host):
            return "running"
        return "incomplete" if self.status == "running" else self.status


def shown_path(path: Path, base: Path) -> str:
    """How the manifest names a file: relative to ``base`` (the client or run folder) when inside it."""
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def file_entry(path: Path, base: Path) -> FileEntry:
    return FileEntry(path=shown_path(path, base), bytes=path.stat().st_size, sha256=io.sha256_file(path))


def pid_alive(pid: int | None, host: str | None) -> bool:
    if not pid or (host and host != socket.gethostname()):
        return host is not None and host != socket.gethostname()  # another machine: cannot tell, trust it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

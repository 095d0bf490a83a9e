"""Helpers shared by the differential scripts: the reference package and the paylock co-process."""

import json
import subprocess
import sys
import time

REFERENCE_VERSION = "0.6.3"


def import_reference():
    """Imports `openpaygo`, refusing any version other than the one paylock is checked against."""
    try:
        import openpaygo
    except ImportError:
        sys.exit(
            "the reference package is missing: "
            f"python3 -m venv .venv && .venv/bin/pip install openpaygo=={REFERENCE_VERSION}"
        )
    from importlib.metadata import version

    found = version("openpaygo")
    if found != REFERENCE_VERSION:
        sys.exit(f"openpaygo {found} is installed; these checks need openpaygo=={REFERENCE_VERSION}")
    return openpaygo


def to_line(request):
    """One request as a compact JSON line (no newline)."""
    return json.dumps(request, separators=(",", ":"))


def run_batch(paylock, lines):
    """Feeds `lines` to one `paylock batch` process; returns (answer lines, wall seconds)."""
    text = "".join(line + "\n" for line in lines)
    start = time.perf_counter()
    done = subprocess.run(
        [paylock, "batch"], input=text, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{paylock} batch exited with {done.returncode}: {done.stderr.strip()}")
    answers = done.stdout.splitlines()
    if len(answers) != len(lines):
        sys.exit(f"{paylock} batch answered {len(answers)} lines for {len(lines)} requests")
    return answers, seconds


class BatchSession:
    """A long-running `paylock batch` process answering one request at a time."""

    def __init__(self, paylock):
        self.process = subprocess.Popen(
            [paylock, "batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def ask(self, request):
        """Sends one request; returns (the request line, the parsed answer)."""
        line = to_line(request)
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            sys.exit(f"paylock batch stopped answering (exit code {self.process.poll()})")
        return line, json.loads(answer)

    def close(self):
        self.process.stdin.close()
        self.process.wait()

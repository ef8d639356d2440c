"""Bench processes in Resolwe's Python language (``bench/python_process.py`` runs them).

``bench-trivial-python`` is the Python twin of ``bench-trivial`` (bench/processes/trivial.yml):
one integer in, the same integer out. ``bench-python-profile`` measures, from inside the
program, where a Python process's own time goes: from the interpreter's start to ``run()``
(interpreter start, the runtime's imports, reading run.json and the module) and the channel
round trip of one object API request.
"""

import os
import statistics
import time

from resolwe.process import FloatField, IntegerField, Process
from resolwe.process.models import Data


def _seconds_since_start():
    """Seconds since this process was started, from /proc (clock ticks, 10 ms)."""
    with open("/proc/self/stat") as stat:
        start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as uptime:
        now = float(uptime.read().split()[0])
    return now - start_ticks / os.sysconf("SC_CLK_TCK")


class BenchTrivialPython(Process):
    """One integer in, the same integer out."""

    slug = "bench-trivial-python"
    name = "Trivial (Python)"
    process_type = "data:bench:trivialpython"
    version = "1.0.0"
    requirements = {"expression-engine": "jinja"}

    class Input:
        n = IntegerField(label="Number", default=0)

    class Output:
        n = IntegerField(label="Number")

    def run(self, inputs, outputs):
        outputs.n = inputs.n


class BenchPythonProfile(Process):
    """Where a Python process's time goes, measured from inside it."""

    slug = "bench-python-profile"
    name = "Python process profile"
    process_type = "data:bench:pythonprofile"
    version = "1.0.0"
    requirements = {"expression-engine": "jinja"}

    class Input:
        requests = IntegerField(label="Channel requests", default=50)

    class Output:
        to_run = FloatField(label="Process start to run(), seconds")
        first_request = FloatField(label="First channel request, seconds")
        round_trip = FloatField(label="Median channel round trip, seconds")

    def run(self, inputs, outputs):
        to_run = _seconds_since_start()
        started = time.perf_counter()
        Data.get(id=self.data.id)
        first = time.perf_counter() - started
        trips = []
        for _ in range(inputs.requests):
            started = time.perf_counter()
            Data.get(id=self.data.id)
            trips.append(time.perf_counter() - started)
        outputs.to_run = round(to_run, 4)
        outputs.first_request = round(first, 5)
        outputs.round_trip = round(statistics.median(trips), 5)

"""Split GET /api/data?limit=100 into its parts, on the database ``bench/api.py`` seeded.

    python bench/api_breakdown.py [--database-url postgres://postgres@127.0.0.1:5432/bench_api] [--repeat 15]

The issue names two costs of the list: the permission-filtered COUNT that
pagination runs, and building serializers per row. This times, as the
seeded non-superuser, the COUNT alone, the page's rows alone (the same
queryset the view uses, sliced), and serializing the page, so the doc can
say which of them is left. Run ``bench/api.py`` first (it seeds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import api  # noqa: E402  bench/api.py: its settings, seed names and reader


def timed(function, repeat: int) -> tuple[float, float, float]:
    function()
    values = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        values.append((time.perf_counter() - started) * 1000)
    return statistics.median(values), min(values), max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_api")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    api.setup_django(args.database_url)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from resolwe_prefect.data.models import Data
    from resolwe_prefect.data.serializers import DataSerializer
    from resolwe_prefect.permissions.services import filter_for_user

    reader = get_user_model().objects.get(username=api.READER)
    client = Client()
    client.force_login(reader)
    response = client.get("/api/data", {"limit": 100})
    view_queryset = response.renderer_context["view"].get_queryset() if hasattr(response, "renderer_context") else None
    visible = filter_for_user(Data.objects.all(), reader)
    queryset = view_queryset if view_queryset is not None else visible
    page = list(queryset[:100])
    request = response.renderer_context["request"] if hasattr(response, "renderer_context") else None

    rows = [
        ("whole request (test Client)", timed(lambda: client.get("/api/data", {"limit": 100}), args.repeat)),
        ("permission-filtered COUNT(*)", timed(lambda: visible.count(), args.repeat)),
        ("page query: 100 rows + prefetches", timed(lambda: list(queryset[:100]), args.repeat)),
        ("serialize 100 rows (DataSerializer many=True)",
         timed(lambda: DataSerializer(page, many=True, context={"request": request}).data, args.repeat)),
    ]  # fmt: skip
    with connection.cursor() as cursor:
        sql, params = visible.only("pk").query.sql_with_params()
        cursor.execute(f"EXPLAIN ANALYZE SELECT COUNT(*) FROM ({sql}) AS visible", params)
        plan = [r[0] for r in cursor.fetchall()]
    print(f"GET /api/data?limit=100 as {api.READER}, {visible.count()} visible Data; median (min–max) of {args.repeat}")
    for name, (median, low, high) in rows:
        print(f"  {name:<48} {median:7.1f} ms ({low:.1f}–{high:.1f})")
    print(
        "  COUNT plan: " + "; ".join(line.strip() for line in plan if "Execution Time" in line or "Join" in line)[:400]
    )


if __name__ == "__main__":
    main()

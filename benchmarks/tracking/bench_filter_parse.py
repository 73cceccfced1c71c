"""Workload ``filter_parse``: parsing search filters (mltrail only: MLflow's grammar rejects OR).

Times, in this process after one warm-up, the best of 5 rounds of 200 parses of a typical
filter with parentheses and OR plus a two-key ``order_by`` (``typical_us``, per parse), one
parse of an OR filter at the grammar's limit of comparisons (``long_or_ms``, median of 3), and
the refusal of a 100,000-term OR filter, which must not read past the limit (``refused_ms``).
These were once wall-clock assertions in tests/search/test_public_api.py; the tests now count
the parser's work instead.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.tracking._common import NotAvailable, Result, check, main, median, parser

TYPICAL = (
    "metrics.acc > 0.9 AND (params.model = 'rf' OR tags.team ILIKE 'r%') "
    "AND status IN ('RUNNING', 'FINISHED') AND start_time >= 1700000000000"
)
ORDER_BY = ["max(metrics.acc) DESC", "start_time"]


def run(args: argparse.Namespace) -> Result:
    if args.tool != "mltrail":
        raise NotAvailable("MLflow's filter grammar has no OR")
    from mltrail._exceptions import InvalidArgument
    from mltrail.search import MAX_FILTER_TERMS, Or, parse_filter, parse_order_by

    terms = MAX_FILTER_TERMS
    long_or = " OR ".join(f"params.p{i} = 'v{i}'" for i in range(terms))
    parse_filter(TYPICAL)
    parse_order_by(ORDER_BY)
    rounds, best = 200, float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            parse_filter(TYPICAL)
            parse_order_by(ORDER_BY)
        best = min(best, (time.perf_counter() - start) / rounds)
    long_times = []
    for _ in range(3):
        start = time.perf_counter()
        expr = parse_filter(long_or)
        long_times.append(time.perf_counter() - start)
        check(isinstance(expr, Or) and len(expr.items) == terms, "the long OR filter")
    huge = " OR ".join(f"params.p{i} = 'v{i}'" for i in range(100_000))
    refused_times = []
    for _ in range(3):
        start = time.perf_counter()
        try:
            parse_filter(huge)
        except InvalidArgument:
            refused_times.append(time.perf_counter() - start)
        check(len(refused_times) > 0, "the 100,000-term filter is refused")
    return {
        "typical_us": best * 1e6,
        "long_or_ms": median(long_times) * 1000,
        "refused_ms": median(refused_times) * 1000,
        "terms": terms,
    }


if __name__ == "__main__":
    main("filter_parse", run, parser(__doc__ or ""))

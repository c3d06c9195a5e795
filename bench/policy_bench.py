"""Policy extractor bench: field-level precision / recall on the corpus, and compile time against a baseline.

    .venv/bin/python bench/policy_bench.py [--repeat 15]

Precision and recall are counted per value: a contact's phone is one value, each named right is one value,
each retention row (item, period, basis) is one value. The baseline, measured in the same run, is reading the
file and splitting it into lines, so the ratio shows what the extraction itself costs on this machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dsar.policy import compile_policy, read_policy_file
from dsar.policy.text import split_lines

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "policies"
SEEDS = ROOT / "samples" / "policies"
TARGETS = {"contacts.name": 0.95, "contacts.phone": 0.95, "contacts.email": 0.95, "rights": 0.95}
MAX_MS = 100.0

Values = Callable[[dict[str, Any]], Iterable[object]]
GROUPS: dict[str, Values] = {
    "contacts.name": lambda d: [(c["role"], c["name"]) for c in d["contacts"] if c["name"]],
    "contacts.phone": lambda d: [(c["role"], c["phone"]) for c in d["contacts"] if c["phone"]],
    "contacts.email": lambda d: [(c["role"], c["email"]) for c in d["contacts"] if c["email"]],
    "contacts.title/dept": lambda d: [
        (c["role"], k, c[k]) for c in d["contacts"] for k in ("title", "department") if c[k]
    ],
    "rights": lambda d: d["rights"],
    "channels": lambda d: d["channels"],
    "verification": lambda d: d["verification"],
    "retention": lambda d: [(r["item"], r["period"], r["basis"]) for r in d["retention"]],
    "complaint_bodies": lambda d: [(b["name"], b["url"], b["phone"]) for b in d["complaint_bodies"]],
    "org/slug": lambda d: [("org", d["org"]), ("slug", d["slug"])],
    "dates": lambda d: [(k, v) for k, v in d["dates"].items() if v],
}


def corpus() -> list[tuple[str, Path, dict[str, Any]]]:
    out = []
    for expected in sorted(CORPUS.glob("*.expected.json")):
        stem = expected.name.removesuffix(".expected.json")
        source = next(
            (
                f / f"{stem}{s}"
                for f in (CORPUS, SEEDS)
                for s in (".txt", ".html")
                if (f / f"{stem}{s}").exists()
            ),
            None,
        )
        if source is None:
            raise SystemExit(f"no policy text for {expected.name}")
        out.append((stem, source, json.loads(expected.read_text(encoding="utf-8"))))
    return out


def score(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, tuple[float, float, int]]:
    """Precision, recall and the number of expected values, per field group (multiset matching)."""
    out = {}
    for group, values in GROUPS.items():
        tp = got_n = want_n = 0
        for got, want in pairs:
            g, w = Counter(values(got)), Counter(values(want))
            tp += sum((g & w).values())
            got_n += sum(g.values())
            want_n += sum(w.values())
        out[group] = (tp / got_n if got_n else 1.0, tp / want_n if want_n else 1.0, want_n)
    return out


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of `fn` in milliseconds."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per policy (median is reported)")
    args = parser.parse_args(argv)

    items = corpus()
    pairs, compile_ms, baseline_ms, misses = [], [], [], []
    for stem, source, want in items:
        got = compile_policy(read_policy_file(source), source=str(source)).to_json()
        pairs.append((got, want))
        misses.extend(f"{stem}: {k}" for k in want if got[k] != want[k])
        baseline_ms.append(timed(lambda s=source: split_lines(read_policy_file(s)), args.repeat))
        compile_ms.append(
            timed(lambda s=source: compile_policy(read_policy_file(s), source=str(s)), args.repeat)
        )

    print(f"policies: {len(items)} (corpus {CORPUS.relative_to(ROOT)}, seeds {SEEDS.relative_to(ROOT)})\n")
    print(f"{'field group':<22}{'precision':>10}{'recall':>9}{'values':>8}  target")
    ok = True
    for group, (p, r, n) in score(pairs).items():
        target = TARGETS.get(group)
        mark = ""
        if target is not None:
            passed = p >= target and r >= target
            ok &= passed
            mark = f">= {target:.2f} {'ok' if passed else 'MISSED'}"
        print(f"{group:<22}{p:>10.3f}{r:>9.3f}{n:>8}  {mark}")

    med_compile, med_base = statistics.median(compile_ms), statistics.median(baseline_ms)
    slowest = max(zip(compile_ms, (s for s, _, _ in items), strict=True))
    print(
        f"\nmedian compile time per policy : {med_compile:8.2f} ms"
        f"  (read + extract; target < {MAX_MS:.0f} ms)"
    )
    print(f"median baseline (read + split) : {med_base:8.2f} ms")
    print(f"ratio compile / baseline       : {med_compile / med_base:8.1f}x")
    print(f"slowest policy                 : {slowest[0]:8.2f} ms  ({slowest[1]})")
    ok &= med_compile < MAX_MS
    if misses:
        print("\nfields that differ from the expected answer:")
        for miss in misses:
            print(f"  {miss}")
    print(f"\nresult: {'all targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""How fast notices render, next to the floor of the libraries doing the work.

    .venv/bin/python bench/letters_bench.py [--seconds 3] [--no-pdf]

HTML: render_notice() (context check, text + HTML, hashing, canonical JSON) against a bare Jinja2 render of
the same two templates with the same values: the ratio is what the helper costs on top of Jinja.
PDF: render_pdf() against a bare WeasyPrint HTML(string=...).write_pdf() of the same HTML in the same font
(one user-stylesheet rule naming dsar.letters.pdf.FONT_FAMILIES), so the ratio is what the helper adds (page
header and footer, word joiners), not the choice of font.
Both run on one core (the process is pinned to one CPU where the OS allows it), over every notice kind in
turn, in alternating rounds; the best round of each is reported, so load from other processes disturbs little.
On a machine with more runnable processes than CPUs (the load average is printed) the wall-clock figures
fall with it; the CPU-time figure beside ours does not, much, and the target is judged on the wall clock.
Targets: 1,000 HTML notices/s and 10 PDF/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

from dsar.letters import NOTICE_KINDS, render_notice
from dsar.letters.render import environment, template_vars
from dsar.letters.samples import sample_context

HTML_TARGET = 1000.0
PDF_TARGET = 10.0
ORG_NAME = "주식회사 한빛마켓"


def _rates(
    floor: Callable[[int], object], ours: Callable[[int], object], seconds: float
) -> tuple[float, float, float]:
    """Calls per second of floor(i) and ours(i) over every kind, measured in alternating rounds so that both
    see the same machine; the best round of each counts (other load only ever slows a round down). The third
    figure is ours by CPU time: what one core would do if it were ours alone."""
    n = len(NOTICE_KINDS)
    for i in range(n):  # warm-up: templates compiled, fonts loaded
        floor(i), ours(i)
    best = {"floor": 0.0, "ours": 0.0, "ours_cpu": 0.0}
    deadline, rounds = time.perf_counter() + 2 * seconds, 0
    while time.perf_counter() < deadline or rounds < 3:
        rounds += 1
        for name, step in (("floor", floor), ("ours", ours)):
            count, start, cpu_start = 0, time.perf_counter(), time.process_time()
            while (elapsed := time.perf_counter() - start) < seconds / 10:
                for i in range(n):
                    step(i)
                count += n
            best[name] = max(best[name], count / elapsed)
            if name == "ours":
                best["ours_cpu"] = max(best["ours_cpu"], count / (time.process_time() - cpu_start))
    return best["floor"], best["ours"], best["ours_cpu"]


def _report(label: str, rates: tuple[float, float, float], target: float) -> bool:
    floor, rate, cpu_rate = rates
    ok = rate >= target
    print(
        f"{label:5} {rate:8.1f}/s (CPU time {cpu_rate:8.1f}/s)   floor {floor:8.1f}/s   "
        f"{floor / rate:4.2f}x the floor's time per notice   target {target:,.0f}/s: {'met' if ok else 'NOT MET'}"
    )
    return ok


def bench_html(seconds: float) -> bool:
    kinds = sorted(NOTICE_KINDS)
    contexts = [sample_context(k) for k in kinds]
    env = environment()
    pairs = [
        (
            env.get_template(f"{NOTICE_KINDS[k].template}.txt.j2"),
            env.get_template(f"{NOTICE_KINDS[k].template}.html.j2"),
        )
        for k in kinds
    ]
    values = [template_vars(NOTICE_KINDS[k], c) for k, c in zip(kinds, contexts, strict=True)]
    subjects = [render_notice(k, c).subject for k, c in zip(kinds, contexts, strict=True)]

    def floor(i: int) -> object:
        txt, html = pairs[i]
        return txt.render(values[i]), html.render(values[i], subject=subjects[i])

    def ours(i: int) -> object:
        return render_notice(kinds[i], contexts[i])

    return _report("HTML", _rates(floor, ours, seconds), HTML_TARGET)


def bench_pdf(seconds: float) -> bool:
    try:
        import weasyprint
        from weasyprint.text import ffi
    except (ImportError, OSError):
        print("PDF   skipped: WeasyPrint is not installed (pip install 'dsar[pdf]')")
        return True
    from dsar.letters.pdf import FONT_FAMILIES, pdf_document, render_pdf

    if getattr(ffi, "harfbuzz_subset", None) is None:
        print(
            "PDF   note: HarfBuzz-Subset not found; WeasyPrint falls back to fontTools (seconds per PDF). "
            "Install libharfbuzz-subset0."
        )
    kinds = sorted(NOTICE_KINDS)
    rendered = [render_notice(k, sample_context(k)) for k in kinds]
    document = pdf_document(rendered[0], org_name=ORG_NAME)
    document.write_pdf()  # fills document.fonts
    print(f"PDF   fonts used: {', '.join(sorted({font.family for font in document.fonts.values()}))}")
    font_rule = weasyprint.CSS(string=f"body {{ font-family: {FONT_FAMILIES} !important; }}")

    def floor(i: int) -> object:
        return weasyprint.HTML(string=rendered[i].html).write_pdf(stylesheets=[font_rule])

    def ours(i: int) -> object:
        return render_pdf(rendered[i], org_name=ORG_NAME)

    return _report("PDF", _rates(floor, ours, seconds), PDF_TARGET)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per figure")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF figures")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"{len(NOTICE_KINDS)} notice kinds, sample contexts, Python {sys.version.split()[0]}, one core")
    if hasattr(os, "getloadavg"):  # a shared machine: more runnable processes than CPUs slows every figure
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    ok = bench_html(args.seconds)
    if not args.no_pdf:
        ok = bench_pdf(args.seconds) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Choose the QA thresholds on the calibration part of the evaluation set, by the rule stated in
:mod:`jobs.imaging.calibration` (no bad cut-out published, as few good ones held as that allows).

    .venv/bin/python bench/qa_calibrate.py [--quick] [--model u2netp]

Prints the chosen limits (``--write`` puts them into ``Thresholds`` in ``jobs/imaging/settings.py``)
and what they do on the calibration part (the model's cut-outs plus typical defects applied to true
masks of a few calibration scenes: a band of backdrop kept, the rim cut away, half missing, a hole).
The held-out part is never looked at here.  Limits start
from the current ones, so run it on the committed defaults to reproduce them.
"""

from __future__ import annotations

import argparse
import re

from qa_set import LIMIT_LINE, ROOT, measure, measure_defects, parts, print_outcome

from jobs.imaging import Thresholds
from jobs.imaging.calibration import CALIBRATED_GATES, propose, replay

SETTINGS = ROOT / "jobs" / "imaging" / "settings.py"


def write_limits(limits: dict[str, tuple[float, float]]) -> None:
    """Replace the limits of ``limits``' gates in ``Thresholds`` (jobs/imaging/settings.py)."""
    text = SETTINGS.read_text()

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in limits:
            return match.group(0)
        pass_at, review_at = limits[name]
        return f"    {name}: Limit = ({pass_at:g}, {review_at:g})"

    SETTINGS.write_text(LIMIT_LINE.sub(swap, text))


def main() -> None:
    """Measure the calibration part, propose thresholds and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one seed a kind")
    parser.add_argument("--model", default="u2netp")
    parser.add_argument("--write", action="store_true", help="write the limits into jobs/imaging/settings.py")
    args = parser.parse_args()
    calibration, _held_out = parts(args.quick)
    measured = measure(calibration, args.model) + measure_defects(args.quick)
    samples = [m.sample() for m in measured]
    base = Thresholds()
    chosen = propose(samples, base)
    print(f"calibration part: {len(samples)} cut-outs by {args.model}")
    print("\n# chosen by bench/qa_calibrate.py on the calibration part (rule: jobs/imaging/calibration.py)")
    for name in CALIBRATED_GATES:
        pass_at, review_at = getattr(chosen, name)
        print(f"    {name}: Limit = ({pass_at:g}, {review_at:g})")
    if args.write:
        write_limits({name: getattr(chosen, name) for name in CALIBRATED_GATES})
        print(f"written into {SETTINGS}")
    print()
    print_outcome(measured, replay(samples, chosen), "calibration part, chosen thresholds")


if __name__ == "__main__":
    main()

"""How the QA gates do on the held-out part of the evaluation set: per gate and overall, bad
cut-outs published, good ones published and good ones sent to review, with every cut-out's IoU.

    .venv/bin/python bench/qa_eval.py [--quick] [--model u2netp] [--part held-out|calibration]

The held-out part shares no scene kind and no seed with the calibration part the thresholds were
chosen on (``bench/qa_calibrate.py``).  Judged with the default ``Thresholds``; prints figures and
asserts nothing.
"""

from __future__ import annotations

import argparse

from qa_set import measure, parts, print_outcome

from jobs.imaging import Thresholds
from jobs.imaging.calibration import replay


def main() -> None:
    """Measure a part and print how the default thresholds judge it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one seed a kind")
    parser.add_argument("--model", default="u2netp", help="rembg model (its file must be in U2NET_HOME)")
    parser.add_argument("--part", choices=("held-out", "calibration"), default="held-out")
    args = parser.parse_args()
    calibration, held_out = parts(args.quick)
    scenes = held_out if args.part == "held-out" else calibration
    measured = measure(scenes, args.model)
    print(f"{args.part} part: {len(measured)} cut-outs by {args.model}")
    print_outcome(measured, replay([m.sample() for m in measured], Thresholds()), args.part)


if __name__ == "__main__":
    main()

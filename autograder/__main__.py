"""Command line: `python -m autograder VERB [options]`.

Each verb is a module with plain functions plus `add_arguments(parser)` and
`command(args) -> exit code`; this file only lists the verbs and dispatches.
"""
from __future__ import annotations

import argparse
import importlib
import sys

VERBS = ("release", "validate", "grade", "export", "feedback", "report", "demo", "adequacy", "gradescope",
         "course-init", "exchange-feedback", "lab")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for name in VERBS:
        module = importlib.import_module(f"autograder.{name.replace('-', '_')}")
        summary = module.__doc__.strip().splitlines()[0].split(": ", 1)[-1]
        sub = verbs.add_parser(name, help=summary, description=module.__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(command=module.command)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.command(args)


if __name__ == "__main__":
    sys.exit(main())

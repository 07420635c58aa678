"""Command line: `python -m autograder VERB [options]`; each verb's options come from its function."""
from __future__ import annotations

import argparse
import sys

from . import release as release_verb
from . import validate as validate_verb


def cmd_release(args) -> int:
    if args.check:
        differences = release_verb.check_release()
        for line in differences:
            print(f"  {line}")
        print("assignment/ matches a fresh generation from solutions/." if not differences else
              "assignment/ is out of date: run `make release` and commit the result.")
        return 1 if differences else 0
    changed = release_verb.release()
    print("Regenerated assignment/ from solutions/." + (f" Changed: {', '.join(changed)}" if changed else " No changes."))
    return 0


def cmd_validate(args) -> int:
    verdicts = validate_verb.validate()
    expectations = {"solutions": "full marks", "release": "every test cell failing"}
    failed = False
    for group, results in verdicts.items():
        print(f"{group} ({expectations[group]}):")
        for result in results:
            print(f"  {'ok  ' if result.ok else 'FAIL'} {result.notebook}")
            for problem in result.problems:
                print(f"         {problem}")
            failed |= not result.ok
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    release = verbs.add_parser("release", help="regenerate assignment/ from solutions/ with nbgrader",
                               description=release_verb.__doc__)
    release.add_argument("--check", action="store_true",
                         help="only compare the committed release with a fresh generation; exit 1 on drift")
    release.set_defaults(run=cmd_release)
    validate = verbs.add_parser("validate", help="solutions pass every test; the untouched release fails every test",
                                description=validate_verb.__doc__)
    validate.set_defaults(run=cmd_validate)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bench NAME [options]`: run one benchmark; `python -m bench --list` names them all."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import bench

# modules of the package that are not benchmarks
HELPERS = {"common"}


def available() -> list[str]:
    """Every module bench/NAME.py that is a benchmark."""
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__)
                  if not m.name.startswith("_") and m.name not in HELPERS and not m.ispkg)


def summary(name: str) -> str:
    doc = importlib.import_module(f"bench.{name}").__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     epilog="Options after NAME go to the benchmark: python -m bench NAME --help")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("name", nargs="?", help="the benchmark to run")
    parser.add_argument("options", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.list:
        for name in available():
            print(f"{name}\t{summary(name)}")
        return 0
    if args.name is None:
        parser.error("name a benchmark (python -m bench --list shows them)")
    if args.name not in available():
        parser.error(f"unknown benchmark {args.name!r}; available: {', '.join(available()) or 'none'}")
    return importlib.import_module(f"bench.{args.name}").main(args.options)


if __name__ == "__main__":
    sys.exit(main())

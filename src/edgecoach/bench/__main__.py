"""`python -m edgecoach.bench NAME [ARGS]` runs edgecoach.bench.NAME.main(ARGS)."""

import importlib
import sys

NAMES = ("voice", "model", "judge", "e2e", "outbox", "report", "contention", "preemption",
         "int8")


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in NAMES:
        print(f"usage: python -m edgecoach.bench {{{','.join(NAMES)}}} [ARGS]", file=sys.stderr)
        return 2
    module = importlib.import_module(f"edgecoach.bench.{sys.argv[1]}")
    module.main(sys.argv[2:])
    return 0


sys.exit(main())

#!/usr/bin/env python3
"""Prints the functions that callgrind saw run, by the instructions they ran, most first.

    python3 scripts/hot-functions.py callgrind.out.* > hot-functions.txt

The input is callgrind's output written with `--compress-strings=no --demangle=no`, so that
every name is the symbol the linker knows. scripts/build-release.sh gives the list to the
linker (`--symbol-ordering-file`), which lays those functions out first and side by side: a run
then faults in a few dense pages of code instead of pages all over the executable.
"""

import collections
import sys


def self_costs(path, costs):
    """Adds each function's own instructions (not those of its calls) in `path` to `costs`."""
    function = None
    after_calls = False
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.startswith("fn="):
                function = line[3:].strip()
            elif line.startswith("calls="):
                # The cost line after `calls=` is the call's inclusive cost.
                after_calls = True
            elif function and line[:1] in "0123456789+-*":
                fields = line.split()
                if after_calls:
                    after_calls = False
                elif len(fields) >= 2 and fields[1].isdigit():
                    costs[function] += int(fields[1])


def main(paths):
    if not paths:
        sys.exit("usage: hot-functions.py CALLGRIND_OUT...")
    costs = collections.Counter()
    for path in paths:
        self_costs(path, costs)
    for function, cost in costs.most_common():
        # Addresses stand for code without a symbol, which the linker cannot place.
        if cost > 0 and not function.startswith("0x"):
            print(function)


if __name__ == "__main__":
    main(sys.argv[1:])

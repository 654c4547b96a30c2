#!/usr/bin/env python3
"""CPU time (user + sys) of commands and their children, per run, with the runs of all commands
interleaved so that a change in the machine's load hits every command alike.

Usage: cpu-bench.py [--runs N] [--warmup N] [--output pipe|null] NAME=COMMAND ...

Each COMMAND is split like a shell word list (no shell runs it). With --output pipe (the
default) its stdout is a pipe that this script reads and discards, as a runner does; with
--output null it is /dev/null. The CPU time of a run comes from wait4(2)'s rusage of the
command, so it covers the command and every child it waited for, and not this script.

Prints one JSON object: {NAME: {"median_ms", "mean_ms", "min_ms", "user_median_ms",
"sys_median_ms", "runs"}, ...}, CPU times (user + sys unless named) in milliseconds.
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys


def one_run(argv, output):
    """Runs argv once; returns its user and system CPU time in ms."""
    stdout = subprocess.PIPE if output == "pipe" else subprocess.DEVNULL
    proc = subprocess.Popen(argv, stdout=stdout, stdin=subprocess.DEVNULL)
    if proc.stdout is not None:
        while proc.stdout.read(1 << 16):
            pass
        proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"cpu-bench: {shlex.join(argv)} exited with {proc.returncode}")
    return usage.ru_utime * 1000, usage.ru_stime * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--output", choices=["pipe", "null"], default="pipe")
    parser.add_argument("commands", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args()
    commands = []
    for spec in args.commands:
        name, sep, command = spec.partition("=")
        if not sep or not name or not command:
            sys.exit(f"cpu-bench: expected NAME=COMMAND, got {spec!r}")
        commands.append((name, shlex.split(command)))
    times = {name: [] for name, _ in commands}
    for round_number in range(args.warmup + args.runs):
        for name, argv in commands:
            user, system = one_run(argv, args.output)
            if round_number >= args.warmup:
                times[name].append((user, system))
    result = {}
    for name, runs in times.items():
        total = [user + system for user, system in runs]
        result[name] = {
            "median_ms": statistics.median(total),
            "mean_ms": statistics.fmean(total),
            "min_ms": min(total),
            "user_median_ms": statistics.median(user for user, _ in runs),
            "sys_median_ms": statistics.median(system for _, system in runs),
            "runs": len(runs),
        }
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

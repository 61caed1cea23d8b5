#!/usr/bin/env python3
"""Runs a command and writes its peak resident set size (kB, from getrusage) to a file.

    peak_rss.py OUT COMMAND...

Standard output and error pass through; the exit status is the command's.
"""
import resource
import subprocess
import sys

completed = subprocess.run(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(completed.returncode)

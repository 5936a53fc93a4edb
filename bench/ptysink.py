#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""ptysink: run a program on a pseudo-terminal of its own and discard what
it prints there, as a terminal that keeps up would.

Usage: ptysink.py ERRFILE PROGRAM [ARGS...]

PROGRAM's stdin, stdout and controlling terminal are the pty; its stderr
goes to ERRFILE.  SIGINT, SIGTERM and SIGHUP sent to ptysink are passed on
to PROGRAM; ptysink reads the pty until PROGRAM has closed it and exits
with PROGRAM's status (128 + N for a signal N).
"""

import os
import pty
import signal
import sys


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    err, argv = sys.argv[1], sys.argv[2:]
    pid, master = pty.fork()
    if pid == 0:
        try:
            fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 2)
            os.execvp(argv[0], argv)
        except OSError as e:
            os.write(2, ("ptysink: %s: %s\n" % (argv[0], e.strerror)).encode())
        os._exit(127)

    def forward(sig, _frame):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    while True:
        try:
            if not os.read(master, 1 << 16):
                break
        except OSError:
            break  # EIO: the program's side is closed
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""ptydrive: run a program on a pseudo-terminal and drive it with a script.

Usage: ptydrive.py [--timeout SEC] [--log FILE] [--cols N] -- PROGRAM [ARGS...]

The script comes on stdin, one step a line (blank lines and lines starting
with '#' are skipped):

    send TEXT        write TEXT to the terminal; backslash escapes work
                     (\\t Tab, \\r Enter, \\n, \\x03 Ctrl-C, \\x04 Ctrl-D, \\\\)
    expect REGEX     wait until REGEX (Python syntax) matches the output
                     seen since the last successful expect; the match
                     consumes the output up to its end
    reject REGEX     fail if REGEX matches the output not consumed yet
    mark             start a stopwatch
    within SEC       fail if more than SEC seconds passed since `mark`
    sleep SEC        read (and keep) output for SEC seconds
    resize ROWS COLS set the terminal's size (the program gets SIGWINCH)
    rawexpect REGEX  like expect, on the raw output (escape sequences
                     kept, latin-1), from the last rawexpect on
    eof              wait for the program to end; print `exit=N`
                     (or `signal=N`) on stdout

Matching is done on the output with terminal escape sequences removed and
\\r\\n turned into \\n.  Every step has --timeout seconds (default 10).
On a failed step the program is killed, the step and the unconsumed output
are reported on stderr, and ptydrive exits 1.  When the script ends
without `eof` the program is killed.  --log FILE keeps the raw output.
The program never outlives ptydrive.
"""

import codecs
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

ANSI = re.compile(rb"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78DEHMcNO])")


class Failure(Exception):
    pass


class Driver:
    def __init__(self, argv, timeout, log, cols):
        self.timeout = timeout
        self.log = open(log, "wb") if log else None
        self.raw = b""        # everything the program wrote
        self.text = ""        # the same, cleaned
        self.pos = 0          # how much of text the expects consumed
        self.rawpos = 0       # how much of raw the rawexpects consumed
        self.status = None
        self.mark = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:
            try:
                # the size is set before the program starts, so that no
                # SIGWINCH makes it redraw the line later
                fcntl.ioctl(0, termios.TIOCSWINSZ,
                            struct.pack("HHHH", 24, cols, 0, 0))
                os.execvp(argv[0], argv)
            except OSError as e:
                os.write(2, f"ptydrive: cannot run {argv[0]}: {e}\n".encode())
            os._exit(127)
        self.pid, self.fd = pid, fd

    def _clean(self, data):
        data = ANSI.sub(b"", data)
        text = data.decode("utf-8", "replace")
        return text.replace("\r\n", "\n")

    def _read(self, until):
        """Read output until the deadline; False once the pty is closed."""
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return True
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                return True
            try:
                data = os.read(self.fd, 65536)
            except OSError:     # EIO: the child closed the terminal
                data = b""
            if not data:
                return False
            if self.log:
                self.log.write(data)
                self.log.flush()
            self.raw += data
            self.text = self._clean(self.raw)
            return True

    @property
    def seen(self):
        """Cleaned output not consumed by an expect yet."""
        return self.text[self.pos:]

    def _consume(self, upto):
        self.pos += upto

    def send(self, text):
        data = codecs.decode(text, "unicode_escape").encode("latin-1")
        os.write(self.fd, data)

    def expect(self, pattern):
        rx = re.compile(pattern, re.S)
        deadline = time.monotonic() + self.timeout
        while True:
            m = rx.search(self.seen)
            if m:
                self._consume(m.end())
                return
            if time.monotonic() >= deadline:
                raise Failure(f"timed out ({self.timeout}s) waiting for {pattern!r}")
            if not self._read(min(deadline, time.monotonic() + 0.2)):
                m = rx.search(self.seen)
                if m:
                    self._consume(m.end())
                    return
                raise Failure(f"program ended while waiting for {pattern!r}")

    def rawexpect(self, pattern):
        rx = re.compile(pattern, re.S)
        deadline = time.monotonic() + self.timeout
        while True:
            m = rx.search(self.raw.decode("latin-1"), self.rawpos)
            if m:
                self.rawpos = m.end()
                return
            if time.monotonic() >= deadline:
                raise Failure(f"timed out ({self.timeout}s) waiting for raw {pattern!r}")
            if not self._read(min(deadline, time.monotonic() + 0.2)):
                m = rx.search(self.raw.decode("latin-1"), self.rawpos)
                if m:
                    self.rawpos = m.end()
                    return
                raise Failure(f"program ended while waiting for raw {pattern!r}")

    def reject(self, pattern):
        if re.search(pattern, self.seen, re.S):
            raise Failure(f"unwanted output matching {pattern!r}")

    def sleep(self, sec):
        end = time.monotonic() + sec
        while time.monotonic() < end:
            if not self._read(end):
                time.sleep(max(0.0, end - time.monotonic()))
                break

    def wait_exit(self):
        deadline = time.monotonic() + self.timeout
        while True:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = st
                break
            if time.monotonic() >= deadline:
                raise Failure(f"program still running after {self.timeout}s")
            if not self._read(min(deadline, time.monotonic() + 0.1)):
                time.sleep(0.02)
        # drain what is left
        while self._read(time.monotonic() + 0.05):
            r, _, _ = select.select([self.fd], [], [], 0)
            if not r:
                break
        if os.WIFEXITED(self.status):
            return f"exit={os.WEXITSTATUS(self.status)}"
        return f"signal={os.WTERMSIG(self.status)}"

    def kill(self):
        if self.status is not None:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self.status = -1


def main():
    args = sys.argv[1:]
    timeout, log, cols = 10.0, None, 200
    while args and args[0] != "--":
        opt = args.pop(0)
        if opt == "--timeout":
            timeout = float(args.pop(0))
        elif opt == "--log":
            log = args.pop(0)
        elif opt == "--cols":
            cols = int(args.pop(0))
        else:
            sys.exit(f"ptydrive: unknown option {opt}")
    if not args or len(args) < 2:
        sys.exit(__doc__)
    argv = args[1:]
    steps = sys.stdin.read().splitlines()
    d = Driver(argv, timeout, log, cols)
    step, lineno = None, 0

    def on_signal(sig, frame):
        raise Failure(f"ptydrive got signal {sig}")
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        for lineno, step in enumerate(steps, 1):
            s = step.lstrip()
            if not s or s.startswith("#"):
                continue
            verb, _, arg = s.partition(" ")
            if verb == "send":
                d.send(arg)
            elif verb == "expect":
                d.expect(arg)
            elif verb == "reject":
                d.reject(arg)
            elif verb == "mark":
                d.mark = time.monotonic()
            elif verb == "within":
                took = time.monotonic() - d.mark
                if took > float(arg):
                    raise Failure(f"took {took:.2f}s, more than {arg}s")
            elif verb == "sleep":
                d.sleep(float(arg))
            elif verb == "resize":
                rows, cols = (int(x) for x in arg.split())
                fcntl.ioctl(d.fd, termios.TIOCSWINSZ,
                            struct.pack("HHHH", rows, cols, 0, 0))
            elif verb == "rawexpect":
                d.rawexpect(arg)
            elif verb == "eof":
                print(d.wait_exit())
            else:
                raise Failure(f"unknown step {verb!r}")
    except Failure as e:
        d.kill()
        sys.stderr.write(f"ptydrive: step {lineno} `{step}`: {e}\n")
        sys.stderr.write(f"ptydrive: output not consumed: {d.seen!r}\n")
        sys.exit(1)
    finally:
        d.kill()
    sys.exit(0)


if __name__ == "__main__":
    main()

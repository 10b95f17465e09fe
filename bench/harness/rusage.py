"""Runs a command and reports its exact resource usage, which Node's child_process cannot see.

Usage: python3 rusage.py REPORT_FD -- COMMAND [ARGS...]

The command inherits stdin/stdout/stderr unchanged (so the benchmark still reads the real stdout
pipe); after it exits, one JSON line goes to file descriptor REPORT_FD:
{"exit": int, "signal": int|null, "maxrss_kb": int, "user_s": float, "sys_s": float}.
maxrss_kb is the kernel's peak resident set of the process (what VmHWM shows while it runs), so a
short spike between two polls is never missed.
"""

import json
import os
import sys


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: rusage.py REPORT_FD -- COMMAND [ARGS...]\n")
        return 2
    report_fd = int(argv[1])
    command = argv[3:]
    pid = os.fork()
    if pid == 0:
        os.close(report_fd)
        try:
            os.execvp(command[0], command)
        except OSError as error:
            sys.stderr.write(f"rusage.py: cannot run {command[0]}: {error}\n")
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    report = {
        "exit": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "maxrss_kb": usage.ru_maxrss,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
    }
    with os.fdopen(report_fd, "w") as out:
        out.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

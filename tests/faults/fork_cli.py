"""A fork server for the crash-safety runs: `okrbridge` commands without an interpreter start each.

Run as `python -m tests.faults.fork_cli`. It imports the CLI once, then reads commands on stdin, one
JSON line each, and answers one JSON line each:

- `{"run": [args...], "env": {...}}`: fork a child that runs `okrbridge ARGS` exactly as the console
  script does (its own process, killed by whoever holds its pid); answers `{"pid": n}`.
- `{"wait": pid}`: reap the child; answers `{"exit": code}` (negative: killed by that signal).

The child's output goes to /dev/null: the crash-safety tests judge by the database, not the text.
"""

from __future__ import annotations

import json
import os
import sys

from okrbridge.cli import main


def _child(args: list[str], env: dict[str, str]) -> None:
    """In the forked child: run the command, then leave without running the parent's cleanup."""
    code = 1
    try:
        os.environ.update(env)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.argv = ["okrbridge", *args]
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os._exit(code)


def serve() -> None:
    """Answer commands until stdin closes."""
    for line in sys.stdin:
        command = json.loads(line)
        if "run" in command:
            pid = os.fork()
            if pid == 0:
                _child([str(a) for a in command["run"]], dict(command.get("env", {})))
            answer = {"pid": pid}
        else:
            _, status = os.waitpid(int(command["wait"]), 0)
            answer = {"exit": os.waitstatus_to_exitcode(status)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()

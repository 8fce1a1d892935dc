"""The `ainews` command line: main, its exit codes and the stop signals; what it accepts
is bot/cli_parser.py's. Sub-commands are thin: the work lives in bot/ and feeds/.

Imports are lazy (inside the handlers) so `ainews --help` starts fast and the chat
libraries load only when an adapter starts."""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

from bot import stopping
from bot.cli_parser import (build_parser, db_option_first, menu_of, refuse_extra_words,
                            search_words_last)


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP), ending a command the way Ctrl-C does."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__()
        self.signum = signum


def _on_stop_signal(signum, frame) -> None:
    stopping.request(signum)    # in case the exception is dropped (bot/stopping.py)
    raise Terminated(signum)


def _stop_signals() -> list[int]:
    """SIGTERM, and SIGHUP unless it is ignored: `nohup ainews run` means to outlive the
    hang-up."""
    hup = getattr(signal, "SIGHUP", None)
    return [signal.SIGTERM] + ([hup] if hup and signal.getsignal(hup) == signal.SIG_DFL
                               else [])


@contextlib.contextmanager
def _stop_signals_as_interrupt():
    """As PID 1 in a container (`docker run ... poll --once`) SIGTERM has no default
    action: `docker stop` waited 10 s, then killed. SIGHUP's default (a dropped ssh
    session at `ainews run`'s start) killed without a word. `run` installs its own
    handlers. Only the main thread may set one (tests call main() from threads too)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _on_stop_signal) for sig in _stop_signals()}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stopping.forget()


def main(argv: list[str] | None = None) -> int:
    argv = db_option_first(sys.argv[1:] if argv is None else list(argv))
    argv = search_words_last(argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        refuse_extra_words(parser, args.cmd, extra)
    if (menu := menu_of(args)) is not None:
        menu.print_help(sys.stderr)
        return 2
    with _stop_signals_as_interrupt():
        return _run(args)


def _run(args) -> int:
    from bot.errors import UserError    # no imports of its own: done before a signal counts

    try:
        # Inside the try: the imports take a while, and a SIGTERM meanwhile ended the
        # command with a traceback and exit 1 (a bug's exit) instead of 143.
        from bot import cli_commands
        code = cli_commands.dispatch(args)
        sys.stdout.flush()      # here, so a closed pipe is caught below, not at exit
        return code
    except UserError as e:
        print(f"ainews: {e}", file=sys.stderr)
        return 2
    except Terminated as e:
        print(f"ainews: stopped ({signal.Signals(e.signum).name})", file=sys.stderr)
        return 128 + e.signum   # what a shell shows for a command ended by the signal
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader left early (`ainews latest --json | head -1`): nothing to report.
        # Point stdout at /dev/null so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141      # what a shell shows for a command ended by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())

"""A SIGTERM that came before `ainews run` took signals over, for the service to honour.

Until the service installs its own handlers, bot/cli.py turns SIGTERM into an exception
(Terminated) wherever the main thread is. Raised inside a finalizer or a weakref
callback it is printed and dropped ("Exception ignored in ..."): about one SIGTERM in
fifteen in the first 0.2 s of start-up, and the bot then ran until killed. The handler
also records it here, and the service stops at once if one was recorded."""
from __future__ import annotations

import threading

_requested = threading.Event()

request = _requested.set
requested = _requested.is_set
forget = _requested.clear

"""The names Kubernetes' service links and Docker's legacy links put in the environment:
no settings of ours, so neither warned of as misspelt nor read as a setting's value
(bot/config.py asks, for environment_warnings and load_settings)."""
from __future__ import annotations

import re

# What Kubernetes puts in every pod for a Service named ainews (or ainews-web: AINEWS_WEB_),
# as Docker's links did: AINEWS_SERVICE_HOST, AINEWS_SERVICE_PORT[_NAME],
# AINEWS_PORT_3000_TCP[_PROTO|_PORT|_ADDR], and AINEWS_PORT=tcp://10.0.0.7:3000.
_LINK = re.compile(r"AINEWS(?:_\w+?)?_(?:SERVICE_HOST|SERVICE_PORT(?:_\w+)?"
                   r"|PORT_\d+_(?:TCP|UDP|SCTP)(?:_PROTO|_PORT|_ADDR)?)")
_LINK_PORT = re.compile(r"AINEWS(?:_\w+)?_PORT")
LINK_ADDRESS = re.compile(r"(?:tcp|udp|sctp)://\S+")
# Docker's legacy links (docker run --link db:ainews) add the linked container's name,
# AINEWS_NAME=/bot/ainews, and each variable of its environment as AINEWS_ENV_<VAR>
# (a linked ainews's own settings among them), at every start.
_DOCKER_ENV = re.compile(r"AINEWS(?:_\w+?)?_ENV_\w+")
_DOCKER_NAME = re.compile(r"AINEWS(?:_\w+)?_NAME")
_CONTAINER_PATH = re.compile(r"(?:/[\w.-]+)+")


def service_link(name: str, value: str | None) -> bool:
    """A name Kubernetes' service links or Docker's legacy links put there, not ours."""
    value = value or ""
    return bool(_LINK.fullmatch(name) or _DOCKER_ENV.fullmatch(name)
                or (_LINK_PORT.fullmatch(name) and LINK_ADDRESS.fullmatch(value))
                or (_DOCKER_NAME.fullmatch(name) and _CONTAINER_PATH.fullmatch(value)))

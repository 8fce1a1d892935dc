"""Redirects as the fetcher follows them (feeds/fetcher.py): the statuses that redirect,
whether a hop keeps the feed's user:password@ (the same site only, never downgraded to
plain http), and what a fetch's hops say of the address (FetchResult.redirect)."""
from __future__ import annotations

from yarl import URL

REDIRECTS = (301, 302, 303, 307, 308)
PERMANENT = (301, 308)


def with_credentials(current: URL, target: URL) -> URL:
    """`target` with `current`'s user:password@ when it is the same site (a path, or the
    feed's own address written out in full, as many servers write every Location): a
    private feed answered 401 after such a hop. Never to another host or port, and over
    plain http only if the feed itself was (curl's and requests' rule)."""
    if current.user is None or target.user is not None or not _same_site(current, target):
        return target
    return target.with_user(current.user).with_password(current.password)


def _same_site(current: URL, target: URL) -> bool:
    # By port, not origin(): https://host:443/ is the same site as https://host/.
    if _site(current) == _site(target):
        return True
    return (current.scheme, target.scheme) == ("http", "https") and \
        current.host == target.host and current.is_default_port() and target.is_default_port()


def _site(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme or "").lower(), (url.host or "").lower(), url.port


def redirect_kind(statuses: list[int]) -> str:
    """A fetch's redirects in one word (FetchResult.redirect): one temporary hop makes
    the whole move temporary, as the first URL may be asked for again tomorrow."""
    if not statuses:
        return ""
    return "permanent" if all(s in PERMANENT for s in statuses) else "temporary"

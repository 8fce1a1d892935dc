"""Subscriptions, digest settings and the delivery outbox (owned by the chat core).

A mixin of Store: kept in its own module so the store stays readable."""
from __future__ import annotations

# (version, name, sql): applied after the core migrations, versions from 100 up.
DELIVERY_MIGRATIONS: list[tuple[int, str, str]] = []


class DeliveryStore:
    """Mixed into storage.store.Store; uses self.db (sqlite_utils.Database)."""

"""The chat core's part of the Store: subscriptions, digest settings, the delivery
outbox and the dispatch mark, one mixin each, composed here into DeliveryStore.

  storage.delivery_schema  the tables (migrations 100 up) and their timestamp text
  storage.subscriptions    subscriptions and digest settings
  storage.outbox           the queue: what is waiting, claims, holds, cancels, roundups
  storage.outbox_dispatch  the queue as dispatch writes it: enqueue, revise, revive
  storage.outbox_status    what `ainews status` reads of it: counts, retries, failures
  storage.receipts         what came of a claimed row: sent, retried, failed, recovered
  storage.post_edits       edits of a post already out: one an hour, MAX_EDITS in all
  storage.dispatch_mark    stored-but-unrouted stories survive a crash
  storage.delivery_clock   stored times moved back after the wall clock went back
"""
from __future__ import annotations

from storage.delivery_clock import DeliveryClockStore
from storage.delivery_schema import DELIVERY_MIGRATIONS, from_ts, ts
from storage.dispatch_mark import DispatchMarkStore
from storage.outbox import OutboxRow, OutboxStore
from storage.outbox_dispatch import OutboxDispatchStore
from storage.outbox_status import OutboxStatusStore
from storage.post_edits import PostEditStore
from storage.receipts import ReceiptStore
from storage.subscriptions import DigestSetting, SubscriptionStore

__all__ = ["DELIVERY_MIGRATIONS", "DeliveryStore", "DigestSetting", "OutboxRow",
           "from_ts", "ts"]


class DeliveryStore(SubscriptionStore, OutboxStore, OutboxDispatchStore, OutboxStatusStore,
                    ReceiptStore, PostEditStore, DispatchMarkStore, DeliveryClockStore):
    """Mixed into storage.store.Store; uses self.db (sqlite_utils.Database)."""

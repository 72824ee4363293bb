"""Pieces shared by the sandbox stores: fault injection, a webhook outbox, serving on loopback."""

from sandbox.common.faults import FaultConfig, FaultInjector
from sandbox.common.outbox import Delivery, DeliveryCancelled, Outbox
from sandbox.common.serve import Served, serve

__all__ = [
    "Delivery",
    "DeliveryCancelled",
    "FaultConfig",
    "FaultInjector",
    "Outbox",
    "Served",
    "serve",
]

"""Upstream sync: the outbox delivered to the Convex deployment (docs/upstream.md)."""

from edgecoach.sync.convex import ConvexClient, parse_retry_after
from edgecoach.sync.payloads import Prepared, prepare
from edgecoach.sync.upstream import INGEST_PATH, PROTOCOL_VERSION, SyncReport, UpstreamSync

__all__ = [
    "INGEST_PATH",
    "PROTOCOL_VERSION",
    "ConvexClient",
    "Prepared",
    "SyncReport",
    "UpstreamSync",
    "parse_retry_after",
    "prepare",
]

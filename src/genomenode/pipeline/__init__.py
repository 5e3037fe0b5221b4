"""Orchestration across ingest, store, catalog and access: the node's write paths."""

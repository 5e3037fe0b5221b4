"""genomenode: a national genome node (ingest, store, interpret, share)."""

__version__ = "0.1.0"

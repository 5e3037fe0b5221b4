"""The node's catalog: what the national database holds, and which Parquet files are live.

The catalog is the store's commit log. An ingest writes its Parquet parts first, then inserts its
catalog rows and the `store_files` rows naming those parts in one SQL transaction; until that
transaction commits the parts are invisible orphans, which garbage collection later removes.
"""

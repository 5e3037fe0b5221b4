"""The national variant store: Parquet files on disk, their schema, layout and commits."""

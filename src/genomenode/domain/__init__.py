"""Pure domain types and rules: no I/O, nothing else of genomenode imported."""

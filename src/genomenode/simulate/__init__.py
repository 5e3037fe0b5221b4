"""Synthetic cohorts for demos and tests: msprime haplotypes over real gene regions."""

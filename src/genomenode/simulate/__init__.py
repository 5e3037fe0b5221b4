"""Synthetic cohorts for demos and tests: msprime haplotypes over real gene regions, as regional centres send them."""

from genomenode.simulate.cohort import CohortFiles, generate_cohort

__all__ = ["CohortFiles", "generate_cohort"]

"""Helpers of benchmarks/raredisease.py: simulated rare-disease cases and the analyser runs over them.

genome      exome targets, a seeded pseudo-reference (there is no FASTA), alleles and VEP-style CSQ
pool        msprime founder haplotypes over the exome (cached), and the synthetic WGS trio
phenotypes  diseases from HPO's annotations, and a patient's noisy HPO terms
family      a trio's genotypes: Mendelian transmission, planted causal alleles, noise, the VCF
analysers   `genomenode case analyse` (or the stand-in), its output, the causal variant's rank
report      the "## Rare-disease diagnostics" section of docs/benchmarks.md
"""

"""Reading submitted VCFs: parse (vcf.py, the only cyvcf2 import) → normalise → build per-file tables."""

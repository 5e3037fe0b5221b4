"""Rare-disease diagnostics: from a family's genotypes and the patient's HPO terms to ranked candidates."""

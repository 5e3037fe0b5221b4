"""Pharmacogenomics on the national database and on one VCF (issue 6).

`knowledge` loads PharmCAT's definitions and phenotypes and CPIC's recommendation table once per
process; `calling` turns one sample's genotypes into the report (diplotypes, phenotypes, missing
positions, warnings, recommendations); `oneshot` reads a VCF; `service` reads a stored sample
after policy and audit; `summary` counts phenotypes per region and population for everyone.
"""

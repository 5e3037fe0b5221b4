"""Pharmacogenomics: star-allele diplotypes, phenotypes and recommendations (issue 6).

Follows PharmCAT's published method (pharmcat.org, "Named Allele Matcher"); every rule cites the
part of that method it implements. Pure: the allele definitions, phenotype maps and CPIC tables
arrive as parsed data (`genomenode.store.pgx_reference` reads the files), genotypes as
`domain.observed.ObservedGenotype`.
"""

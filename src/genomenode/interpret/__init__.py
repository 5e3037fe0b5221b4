"""Clinical interpretation as pure functions over domain types and arrays.

`raredisease/` ranks a family's variants (inheritance, phenotype, evidence); `pgx/` will call
star alleles. Nothing here reads files, stores or the catalog: `genomenode.cases` hands it what the
node or a VCF holds, so every rule can be tested on small hand-made arrays.
"""

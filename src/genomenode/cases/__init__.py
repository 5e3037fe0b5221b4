"""Rare-disease cases: read a family's variants (a VCF or the national database), run
`genomenode.interpret.raredisease`, keep the case and its report in the catalog."""

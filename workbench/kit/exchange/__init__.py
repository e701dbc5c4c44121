"""TSV primitives (PRODUCT.md section 6): the dialect (`tsv`), streaming export resources
(`exporting`), all-or-nothing import resources (`importing`) and the download response (`http`)."""

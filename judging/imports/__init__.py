"""Excel in: reading uploaded workbooks safely, and importing a contest, entries, judges and
score sheets from them — the whole file validated first, then written in one transaction."""

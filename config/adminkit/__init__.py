"""Admin helpers both apps use: counts that cost the same at any table size, prefix search an
index answers, filters without a DISTINCT, read-only display helpers and the lists' styles."""

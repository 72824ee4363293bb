"""Seeds of the emulated stores: deterministic synthetic product photos, the real example photos, and
seeded catalogs built from them."""

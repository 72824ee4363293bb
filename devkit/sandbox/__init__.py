"""Local stand-ins for the outside world: synthetic product photos, seeded catalogs and store emulators."""

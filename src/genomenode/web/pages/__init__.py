"""One module per portal page family; each exposes `router`."""

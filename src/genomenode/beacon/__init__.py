"""GA4GH Beacon v2: request and response models, granularity, filters, and handlers over `query`.

Imports point down only: beacon uses query, access, catalog, store and domain; the API shell
(`api/beacon.py`) turns it into routes.
"""

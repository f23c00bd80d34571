"""Plain-Python X12 5010 writers and readers. No Django imports in this package."""

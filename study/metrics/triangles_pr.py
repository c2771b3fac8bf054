"""Precision/recall/F1 on Triangles (owned by the Triangles helper)."""

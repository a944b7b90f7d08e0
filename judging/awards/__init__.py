"""Advancement and awards decided from standings, and frozen results snapshots."""

"""Promised payments (BI-9): a temporary credit, taken back when it falls due."""

"""The forms library (TK-3): application forms filled in as PDFs."""

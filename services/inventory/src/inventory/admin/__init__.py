"""The back-office: stock and lines brought in by the operator."""

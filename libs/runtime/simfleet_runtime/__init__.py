"""What every SIMfleet service runs on.

Nothing here does work at import time: services build what they need in their
composition root (``main.py``) from these parts.
"""

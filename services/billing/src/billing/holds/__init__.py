"""Financial holds: a personal account below its floor has its lines blocked, and unblocked when it is back."""

"""The simulated card acquirer: the payment provider billing tops personal accounts up through (BI-14)."""

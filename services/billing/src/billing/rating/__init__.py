"""Rating: each usage record priced once against its line's tariff and charged to its personal account."""

"""The catalogue (SIM-6): tariff plans with their fees, allowances and prices, versioned by the date they apply from."""

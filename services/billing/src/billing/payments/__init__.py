"""Payments onto personal accounts (BI-14): top-ups by card through the payment provider, and automatic payments."""

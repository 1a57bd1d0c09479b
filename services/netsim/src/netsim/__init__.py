"""netsim: the network simulator (first part).

It stands where the operator's network and mail relay stand: an SMSC that
delivers submitted SMS to simulated handsets (each number has an inbox) and
publishes delivery receipts, an SMTP sink that keeps a mailbox per address, and
a small HTTP console (plus a gRPC ``HandsetService``) to read both.

The composition root is :mod:`netsim.main`; nothing is built at import time.
"""

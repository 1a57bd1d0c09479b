"""netsim: the network simulator (first part).

It stands where the operator's network and mail relay stand: an SMSC that
delivers submitted SMS to simulated handsets (each number has an inbox) and
publishes delivery receipts, an HLR provisioned by commands (subscribers,
barring, APNs, forwarding, with fault injection and handset locations), an
SMTP sink that keeps a mailbox per address, and a small HTTP console (plus the
gRPC ``HandsetService`` and ``HlrService``) to read them.

The composition root is :mod:`netsim.main`; nothing is built at import time.
"""

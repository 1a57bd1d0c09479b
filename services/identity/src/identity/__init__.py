"""identity: users, credentials, one-time codes, sessions, and sign-in history.

Domain packages: ``users`` (users and passwords), ``otp`` (one-time codes),
``sessions`` (signing keys, access and refresh tokens), ``signins`` (the
history of attempts), ``notifications`` (SMS through netsim, email through
SMTP). ``auth``, ``profile`` and ``admin`` are the gRPC adapters;
``main.py`` is the composition root.
"""

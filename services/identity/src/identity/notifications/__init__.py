"""Messages to users: SMS through the network's SMSC (netsim), email through SMTP."""

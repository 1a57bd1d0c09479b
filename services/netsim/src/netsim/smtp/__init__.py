"""The SMTP sink: mail sent to netsim's relay lands in a mailbox per recipient address."""

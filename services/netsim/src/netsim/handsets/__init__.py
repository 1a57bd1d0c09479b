"""Reading simulated handsets and mailboxes over gRPC (``simfleet.netsim.v1.HandsetService``)."""

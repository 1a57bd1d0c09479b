"""The simulated HLR: subscribers (number, SIM, barring, APNs, forwarding), provisioned over NATS.

Other services change it only by ``ProvisionCommand`` on
``simfleet.netsim.cmd.hlr.provision`` (the NETSIM_CMD work queue); the results of
each command come back as one ``ProvisioningResult`` on
``simfleet.netsim.hlr.result``. Each item is applied at most once, by its
``item_id``. ``HlrService`` (gRPC) and the console read subscribers and steer the
fault injection (latency, failure rate, failing numbers, outage).
"""

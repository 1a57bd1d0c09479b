"""The simulated network's mediation: usage records (calls, SMS, data sessions) for the HLR's subscribers.

See :mod:`netsim.usage.generator` for how records are made and published, :mod:`netsim.usage.models`
for the settings every replica applies and the lease that lets one replica generate at a time.
"""

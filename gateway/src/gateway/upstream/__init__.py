"""The services the gateway calls over gRPC, and how their errors become problems."""

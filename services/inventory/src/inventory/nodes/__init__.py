"""What inventory holds under a customer's node: asked by accounts before it deletes the node."""

"""Operations: every change to lines, one item per line, carried to the network as a saga."""

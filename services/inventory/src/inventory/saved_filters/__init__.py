"""A user's own named filters of lines (AC-5): to list lines by again, or to select an operation's lines."""

"""Spending limits (BI-10): a line, a group or the company warned or blocked when its month's spend reaches one."""

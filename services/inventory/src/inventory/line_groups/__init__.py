"""Groups of employees' lines (AC-5): a name, an icon and a colour kept at a node, which lines are put in."""
